// Package roster implements rosters and presence subscriptions (RFC 6121
// §2, §3): roster get and set with versioning (§2.6), pushes to every
// interested resource, the subscription state machine of Appendix A with
// pre-approval (§3.4), and presence broadcast, probes and directed
// presence (§4).
package roster

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// Namespaces and stream features of RFC 6121.
const (
	NS            = "jabber:iq:roster"
	NSVersioning  = "urn:xmpp:features:rosterver"
	NSPreApproval = "urn:xmpp:features:pre-approval"
)

func init() {
	modules.Register(modules.Module{Name: "roster", Order: 10, New: start})
}

// Store is the storage the roster module needs.
type Store interface {
	storage.Roster
}

type module struct {
	host  router.Host
	store Store
	log   *slog.Logger
}

func start(env *modules.Env) error {
	m := &module{host: env.Host, store: env.Store, log: env.Host.Logger("roster")}
	h := env.Host
	h.HandleIQ(router.ScopeAccount, NS, m.handleIQ)
	h.AddStreamFeature(router.Feature{Element: stanza.NewElement(NSVersioning, "ver")})
	h.AddStreamFeature(router.Feature{Element: stanza.NewElement(NSPreApproval, "sub")})
	h.Hook(router.Outbound, stanza.Presence, router.OrderRoster, m.outboundPresence)
	h.Hook(router.Inbound, stanza.Presence, router.OrderRoster, m.inboundPresence)
	h.OnSession(router.SessionUnavailable, m.broadcastUnavailable)
	h.Provide("roster", &Service{m})
	return nil
}

func owner(j jid.JID) storage.Owner {
	return storage.Owner{Domain: j.Domainpart(), Local: j.Localpart()}
}

// rosterMarker is implemented by sessions that track whether the client
// fetched its roster.
type rosterMarker interface{ MarkRosterRequested() }

func (m *module) handleIQ(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	// RFC 6121 §2.1.5, §2.1.6: only the account itself reads or changes
	// its roster; nobody acts on another account's behalf.
	if !stanza.IsZero(iq.To) && !iq.To.Equal(iq.From.Bare()) {
		return nil, stanza.Forbidden
	}
	if iq.Type == "get" {
		return m.get(ctx, iq, q)
	}
	return m.set(ctx, iq, q)
}

func (m *module) get(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if len(q.Elements()) > 0 {
		return nil, stanza.BadRequest
	}
	items, ver, err := m.store.GetRoster(ctx, owner(iq.From))
	if err != nil {
		return nil, err
	}
	if s, ok := m.host.Session(iq.From).(rosterMarker); ok {
		s.MarkRosterRequested()
	}
	verStr := strconv.FormatInt(ver, 10)
	if q.HasAttr("ver") && q.AttrValue("ver") == verStr {
		// §2.6.3: the client's copy is current; an empty result, and
		// later changes arrive as pushes.
		return stanza.Result(iq), nil
	}
	res := stanza.NewElement(NS, "query", "ver", verStr)
	for _, it := range items {
		if it.Listed {
			res.Add(itemElement(it))
		}
	}
	return stanza.Result(iq, res), nil
}

func (m *module) set(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	items := q.Elements()
	if len(items) != 1 || items[0].Name.Local != "item" || items[0].Name.Space != NS {
		return nil, stanza.BadRequest.WithText("a roster set has exactly one item")
	}
	el := items[0]
	contact, err := jid.Parse(el.AttrValue("jid"))
	if err != nil {
		return nil, stanza.JIDMalformed
	}
	contact = contact.Bare()
	if el.AttrValue("subscription") == "remove" {
		return stanza.Result(iq), m.remove(ctx, iq.From.Bare(), contact)
	}
	groups, err := groupsOf(el)
	if err != nil {
		return nil, err
	}
	o := owner(iq.From)
	it, err := m.store.GetRosterItem(ctx, o, contact.String())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		it = storage.RosterItem{JID: contact.String(), Subscription: storage.SubNone}
	case err != nil:
		return nil, err
	}
	it.Name = el.AttrValue("name")
	it.Groups = groups
	it.Listed = true
	if err := m.put(ctx, iq.From.Bare(), it); err != nil {
		return nil, err
	}
	return stanza.Result(iq), nil
}

// groupsOf validates the groups of a roster set (RFC 6121 §2.3.3).
func groupsOf(el *stanza.Element) ([]string, error) {
	var groups []string
	seen := map[string]bool{}
	for _, g := range el.ChildrenNamed(NS, "group") {
		name := g.Text()
		if name == "" {
			return nil, stanza.NotAcceptable.WithText("empty group name")
		}
		if seen[name] {
			return nil, stanza.BadRequest.WithText("duplicate group")
		}
		seen[name] = true
		groups = append(groups, name)
	}
	if len(el.AttrValue("name")) > 1023 {
		return nil, stanza.NotAcceptable.WithText("name too long")
	}
	return groups, nil
}

// remove deletes a contact, cancelling subscriptions both ways first
// (RFC 6121 §2.5.2).
func (m *module) remove(ctx context.Context, user, contact jid.JID) error {
	o := owner(user)
	it, err := m.store.GetRosterItem(ctx, o, contact.String())
	if errors.Is(err, storage.ErrNotFound) {
		return stanza.ItemNotFound
	}
	if err != nil {
		return err
	}
	if hasTo(it.Subscription) || it.AskOut {
		m.host.Route(ctx, stanza.New(stanza.Presence, "unsubscribe", contact, user))
	}
	if hasFrom(it.Subscription) || it.PendingIn {
		m.sendUnavailableTo(ctx, user, contact)
		m.host.Route(ctx, stanza.New(stanza.Presence, "unsubscribed", contact, user))
	}
	ver, err := m.store.DeleteRosterItem(ctx, o, contact.String())
	if err != nil {
		return err
	}
	m.push(user, storage.RosterItem{JID: contact.String(), Subscription: "remove"}, ver)
	return nil
}

// put stores an item and pushes it when it is listed.
func (m *module) put(ctx context.Context, user jid.JID, it storage.RosterItem) error {
	ver, err := m.store.PutRosterItem(ctx, owner(user), it)
	if err != nil {
		return err
	}
	if it.Listed {
		m.push(user, it, ver)
	}
	return nil
}

// push sends a roster push to every interested resource of user
// (RFC 6121 §2.1.6). The push carries no 'from', which clients read as
// coming from their own account.
func (m *module) push(user jid.JID, it storage.RosterItem, ver int64) {
	q := stanza.NewElement(NS, "query", "ver", strconv.FormatInt(ver, 10)).Add(itemElement(it))
	for _, s := range m.host.Sessions(user) {
		if !s.RosterRequested() {
			continue
		}
		iq := stanza.New(stanza.IQ, "set", s.JID(), jid.JID{}, q)
		iq.ID = "push" + strconv.FormatInt(ver, 10)
		s.Deliver(iq)
	}
}

// itemElement serializes a roster item; 'subscription' is always written
// because some clients treat its absence as an error.
func itemElement(it storage.RosterItem) *stanza.Element {
	el := stanza.NewElement(NS, "item", "jid", it.JID, "subscription", it.Subscription)
	if it.Name != "" {
		el.SetAttr("name", it.Name)
	}
	if it.AskOut {
		el.SetAttr("ask", "subscribe")
	}
	if it.PreApproved {
		el.SetAttr("approved", "true")
	}
	for _, g := range it.Groups {
		el.Add(stanza.NewElement(NS, "group").AddText(g))
	}
	return el
}

// Service is the roster module's interface for server-side changes, such
// as an administrator's, registered with the host as "roster".
type Service struct{ m *module }

// SetItem adds or updates a contact in user's roster as a client's roster
// set would, and pushes the change to user's interested resources.
func (s *Service) SetItem(ctx context.Context, user, contact jid.JID, name string, groups []string) error {
	user, contact = user.Bare(), contact.Bare()
	it, err := s.m.store.GetRosterItem(ctx, owner(user), contact.String())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		it = storage.RosterItem{JID: contact.String(), Subscription: storage.SubNone}
	case err != nil:
		return err
	}
	it.Name = name
	it.Groups = groups
	it.Listed = true
	return s.m.put(ctx, user, it)
}

// RemoveItem removes a contact from user's roster, cancelling the
// subscriptions both ways, and pushes the removal.
func (s *Service) RemoveItem(ctx context.Context, user, contact jid.JID) error {
	return s.m.remove(ctx, user.Bare(), contact.Bare())
}
