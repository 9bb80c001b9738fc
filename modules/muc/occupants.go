package muc

import (
	"context"
	"strconv"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// occupant is a nick in the room. One user may be in the room with
// several sessions under the same nick (XEP-0045 §7.2.8). Each session is
// a real full JID that receives the room's traffic.
type occupant struct {
	nick     string
	real     jid.JID   // the user's real bare JID
	sessions []jid.JID // real full JIDs; the first is shown to others
	role     role
	id       string // occupant identifier (XEP-0421)
	// presence is the payload of the occupant's last presence (show,
	// status, caps and the like) without any MUC element.
	presence []*stanza.Element
	limiter  tokenBucket
}

// removeSession drops a session and reports how many remain.
func (o *occupant) removeSession(full jid.JID) int {
	out := o.sessions[:0]
	for _, s := range o.sessions {
		if !s.Equal(full) {
			out = append(out, s)
		}
	}
	o.sessions = out
	return len(out)
}

// presenceChange describes a presence the room sends about an occupant.
type presenceChange struct {
	typ       string // "" for available, or "unavailable"
	codes     []int  // status codes for every recipient
	selfCodes []int  // status codes only the occupant's own sessions get, besides 110
	actor     string // nick of the moderator or admin who caused the change
	reason    string
	newNick   string          // the new nick, with status code 303
	destroy   *stanza.Element // the <destroy/> of a destroyed room
	id        string          // id of the presence that caused the change
}

// canSeeJIDs reports whether viewer may see the real JIDs of occupants:
// everyone in a non-anonymous room, moderators in a semi-anonymous one
// (XEP-0045 §7.2.3 and §7.2.4).
func (r *room) canSeeJIDs(viewer *occupant) bool {
	return r.config.WhoIs == whoisAnyone || (viewer != nil && viewer.role == roleModerator)
}

// occupantPresence builds the presence of o as the room sends it, with
// no 'to'. showJID is the real JID to reveal, or the zero JID.
func (r *room) occupantPresence(o *occupant, ch presenceChange, showJID jid.JID, self bool) *stanza.Stanza {
	item := stanza.NewElement(NSUser, "item",
		"affiliation", r.affiliationOf(o.real).String(),
		"role", o.role.String())
	if ch.typ == "unavailable" && ch.newNick == "" {
		item.SetAttr("role", roleNone.String())
	}
	if ch.destroy != nil {
		item.SetAttr("affiliation", affNone.String())
	}
	if !stanza.IsZero(showJID) {
		item.SetAttr("jid", showJID.String())
	}
	if ch.newNick != "" {
		item.SetAttr("nick", ch.newNick)
	}
	if ch.actor != "" {
		item.Add(stanza.NewElement(NSUser, "actor", "nick", ch.actor))
	}
	if ch.reason != "" {
		item.Add(stanza.NewElement(NSUser, "reason").AddText(ch.reason))
	}

	x := stanza.NewElement(NSUser, "x").Add(item)
	if ch.destroy != nil {
		x.Add(ch.destroy)
	}
	codes := ch.codes
	if self {
		codes = append(append([]int{110}, ch.selfCodes...), codes...)
	}
	for _, c := range codes {
		x.Add(stanza.NewElement(NSUser, "status", "code", strconv.Itoa(c)))
	}

	children := make([]*stanza.Element, 0, len(o.presence)+2)
	children = append(children, o.presence...)
	children = append(children, x, stanza.NewElement(nsOccupantID, "occupant-id", "id", o.id))
	p := stanza.New(stanza.Presence, ch.typ, jid.JID{}, r.occupantJID(o.nick), children...)
	if self {
		p.ID = ch.id
	}
	return p
}

// broadcastPresence sends o's presence to every occupant: the others
// first, each with the real JID if it may see it, then o's own sessions
// with status code 110. o may already be out of the room.
func (r *room) broadcastPresence(ctx context.Context, o *occupant, ch presenceChange) {
	var plain, revealed *stanza.Stanza
	for _, other := range r.occupants {
		if other == o {
			continue
		}
		var p *stanza.Stanza
		if r.canSeeJIDs(other) {
			if revealed == nil {
				revealed = r.occupantPresence(o, ch, o.sessions[0], false)
			}
			p = revealed
		} else {
			if plain == nil {
				plain = r.occupantPresence(o, ch, jid.JID{}, false)
			}
			p = plain
		}
		r.sendTo(ctx, p, other.sessions)
	}
	for _, s := range o.sessions {
		r.sendTo(ctx, r.occupantPresence(o, ch, s, true), []jid.JID{s})
	}
}

// sendRoster sends the presence of every other occupant to a session
// that is entering the room (XEP-0045 §7.2.3).
func (r *room) sendRoster(ctx context.Context, viewer *occupant, to jid.JID) {
	see := r.canSeeJIDs(viewer)
	for _, o := range r.occupants {
		if o == viewer {
			continue
		}
		var show jid.JID
		if see {
			show = o.sessions[0]
		}
		r.sendTo(ctx, r.occupantPresence(o, presenceChange{}, show, false), []jid.JID{to})
	}
}

// sendTo routes a copy of s to each of the given real JIDs.
func (r *room) sendTo(ctx context.Context, s *stanza.Stanza, to []jid.JID) {
	for _, t := range to {
		c := s.Copy()
		c.To = t
		r.route(ctx, c)
	}
}

// addOccupant puts a new occupant in the room's indexes.
func (r *room) addOccupant(o *occupant) {
	r.occupants[o.nick] = o
	for _, s := range o.sessions {
		r.addSession(o, s)
	}
}

// addSession indexes one more session of an occupant.
func (r *room) addSession(o *occupant, full jid.JID) {
	r.sessions[full.String()] = o
	r.svc.trackSession(full, r.name, true)
}

// dropSession removes one session from the indexes.
func (r *room) dropSession(full jid.JID) {
	delete(r.sessions, full.String())
	r.svc.trackSession(full, r.name, false)
	r.iqs.forget(full)
}

// removeOccupant takes o and all its sessions out of the room and sends
// everyone, o included, its unavailable presence with ch.
func (r *room) removeOccupant(ctx context.Context, o *occupant, ch presenceChange) {
	delete(r.occupants, o.nick)
	for _, s := range o.sessions {
		r.dropSession(s)
	}
	ch.typ = "unavailable"
	r.broadcastPresence(ctx, o, ch)
}

// occupantBySession returns the occupant a real full JID is in the room
// as, or nil.
func (r *room) occupantBySession(full jid.JID) *occupant {
	return r.sessions[full.String()]
}

// occupantsOf returns the occupants whose real JID matches an affiliation
// key: a bare JID, or a domain for every user of that domain.
func (r *room) occupantsOf(key string) []*occupant {
	var out []*occupant
	for _, o := range r.occupants {
		if o.real.String() == key || (isDomainKey(key) && o.real.Domainpart() == key) {
			out = append(out, o)
		}
	}
	return out
}

// afterLeave destroys a room that the last occupant left, unless it is
// persistent and configured (XEP-0045 §10.1.1: temporary rooms vanish).
func (r *room) afterLeave(ctx context.Context) {
	if len(r.occupants) > 0 || !r.exists {
		return
	}
	if r.config.Persistent && !r.locked {
		return
	}
	r.destroy(ctx)
}
