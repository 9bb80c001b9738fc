package muc

import (
	"context"
	"sort"
	"strconv"

	"tern/modules/mam"
	"tern/stanza"
)

// roomUserItemNode is the disco node that returns a user's reserved nick
// (XEP-0045 §7.12).
const roomUserItemNode = "x-roomuser-item"

// serviceFeatures are the disco features of the service domain. Every
// room sends occupant ids, so the service advertises them (XEP-0421 §5).
var serviceFeatures = []string{nsDiscoInfo, nsDiscoItems, NS, nsStableID, nsOccupantID, nsPing}

// handleServiceStanza handles stanzas to the service domain itself: disco
// and ping. For other iq requests and messages it returns an error, which
// the router sends back.
func (svc *service) handleServiceStanza(ctx context.Context, s *stanza.Stanza) error {
	if s.Name == stanza.Presence || s.Type == "error" || s.Type == "result" {
		return nil
	}
	if s.Name != stanza.IQ {
		return stanza.ServiceUnavailable
	}
	children := s.Children()
	if len(children) != 1 {
		return stanza.BadRequest.WithText("an iq request has exactly one child element")
	}
	q := children[0]
	if s.Type != "get" {
		return stanza.ServiceUnavailable
	}
	var resp *stanza.Stanza
	switch q.Name.Space {
	case nsDiscoInfo:
		if q.AttrValue("node") != "" {
			return stanza.ItemNotFound
		}
		info := stanza.NewElement(nsDiscoInfo, "query").
			Add(stanza.NewElement(nsDiscoInfo, "identity", "category", "conference", "type", "text", "name", serviceItemName))
		for _, f := range serviceFeatures {
			info.Add(stanza.NewElement(nsDiscoInfo, "feature", "var", f))
		}
		resp = stanza.Result(s, info)
	case nsDiscoItems:
		items, err := svc.publicRooms(ctx)
		if err != nil {
			return err
		}
		resp = stanza.Result(s, items)
	case nsPing:
		resp = stanza.Result(s)
	default:
		return stanza.ServiceUnavailable
	}
	svc.mod.host.Route(ctx, resp)
	return nil
}

// publicRooms lists the public rooms of the service (XEP-0045 §6.3): the
// stored ones and the temporary ones in memory, without rooms waiting for
// their first configuration.
func (svc *service) publicRooms(ctx context.Context) (*stanza.Element, error) {
	titles := map[string]string{}
	stored, err := svc.mod.rooms.ListRooms(ctx, svc.domain)
	if err != nil {
		return nil, err
	}
	for _, rec := range stored {
		cfg, err := decodeConfig(rec.Config)
		if err == nil && cfg.Public {
			titles[rec.Owner.Local] = cfg.Name
		}
	}

	// Loaded rooms know their current state better than storage.
	for name, s := range svc.summaries() {
		if s.exists && s.public && !s.locked {
			titles[name] = s.title
		} else {
			delete(titles, name)
		}
	}

	names := make([]string, 0, len(titles))
	for name := range titles {
		names = append(names, name)
	}
	sort.Strings(names)
	q := stanza.NewElement(nsDiscoItems, "query")
	for _, name := range names {
		title := titles[name]
		if title == "" {
			title = name
		}
		q.Add(stanza.NewElement(nsDiscoItems, "item", "jid", name+"@"+svc.domain, "name", title))
	}
	return q, nil
}

// discoInfo describes the room (XEP-0045 §6.4): its identity, its muc_*
// features and the muc#roominfo form. A room waiting for its first
// configuration is visible to its owner only.
func (r *room) discoInfo(iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if !r.exists || (r.locked && r.affiliationOf(iq.From) != affOwner) {
		return nil, stanza.ItemNotFound
	}
	switch q.AttrValue("node") {
	case "":
	case roomUserItemNode:
		return r.reservedNick(iq), nil
	default:
		return nil, stanza.ItemNotFound
	}
	name := r.config.Name
	if name == "" {
		name = r.name
	}
	info := stanza.NewElement(nsDiscoInfo, "query").
		Add(stanza.NewElement(nsDiscoInfo, "identity", "category", "conference", "type", "text", "name", name))
	for _, f := range r.features() {
		info.Add(stanza.NewElement(nsDiscoInfo, "feature", "var", f))
	}
	return stanza.Result(iq, info.Add(r.roomInfoForm())), nil
}

// features returns the room's disco features.
func (r *room) features() []string {
	c := r.config
	pick := func(b bool, yes, no string) string {
		if b {
			return yes
		}
		return no
	}
	f := []string{
		nsDiscoInfo, NS, nsStableID, nsSelfPing, nsOccupantID, nsStanzaID,
		nsRetract, nsModerate, nsModerate0,
		pick(c.Persistent, "muc_persistent", "muc_temporary"),
		pick(c.Public, "muc_public", "muc_hidden"),
		pick(c.MembersOnly, "muc_membersonly", "muc_open"),
		pick(c.Moderated, "muc_moderated", "muc_unmoderated"),
		pick(c.PasswordProtected, "muc_passwordprotected", "muc_unsecured"),
		pick(c.WhoIs == whoisAnyone, "muc_nonanonymous", "muc_semianonymous"),
	}
	if r.archiving() {
		f = append(f, mam.NS, mam.NSExtended, nsRetract+"#tombstone")
	}
	return f
}

// roomInfoForm is the muc#roominfo form of XEP-0045 §15.5.4.
func (r *room) roomInfoForm() *stanza.Element {
	x := stanza.NewElement(nsDataForm, "x", "type", "result")
	formField(x, "hidden", "FORM_TYPE", "", nsRoomInfo)
	formField(x, "text-single", "muc#roominfo_description", "Description", r.config.Description)
	formField(x, "text-single", "muc#roominfo_subject", "Subject", r.subject.text)
	formField(x, "text-single", "muc#roominfo_occupants", "Number of occupants", strconv.Itoa(len(r.occupants)))
	formField(x, "boolean", "muc#roomconfig_changesubject", "Occupants may change the subject", boolValue(r.config.ChangeSubject))
	if r.config.Lang != "" {
		formField(x, "text-single", "muc#roominfo_lang", "Language", r.config.Lang)
	}
	return x
}

// reservedNick returns the result for the x-roomuser-item node: the
// requester's reserved nick, or no identity when it has none.
func (r *room) reservedNick(iq *stanza.Stanza) *stanza.Stanza {
	q := stanza.NewElement(nsDiscoInfo, "query", "node", roomUserItemNode)
	if rec, ok := r.affiliations[iq.From.Bare().String()]; ok && rec.nick != "" {
		q.Add(stanza.NewElement(nsDiscoInfo, "identity", "category", "conference", "type", "text", "name", rec.nick))
	}
	return stanza.Result(iq, q)
}

// discoItems returns no items, because a list of occupants would reveal
// them to anyone (XEP-0045 §6.5 allows an empty list).
func (r *room) discoItems(iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if !r.exists || (r.locked && r.affiliationOf(iq.From) != affOwner) {
		return nil, stanza.ItemNotFound
	}
	return stanza.Result(iq, stanza.NewElement(nsDiscoItems, "query")), nil
}
