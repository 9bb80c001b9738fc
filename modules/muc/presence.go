package muc

import (
	"context"
	"strings"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// errRegistrationRequired is returned to a non-member entering a
// members-only room (XEP-0045 §7.2.5).
var errRegistrationRequired = &stanza.Error{Type: stanza.ErrAuth, Condition: "registration-required"}

// Errors of entering a room (XEP-0045 §7.2.19 lists them).
var (
	errNoNick       = stanza.JIDMalformed.WithText("a nickname is required to enter a room")
	errNickInUse    = stanza.Conflict.WithText("this nickname is in use or reserved by another user")
	errBanned       = stanza.Forbidden.WithText("you are banned from this room")
	errLocked       = stanza.ItemNotFound.WithText("this room is being configured by its owner")
	errBadPassword  = stanza.NotAuthorized.WithText("a password is required to enter this room")
	errRoomFull     = &stanza.Error{Type: stanza.ErrWait, Condition: "service-unavailable", Text: "this room is full"}
	errCreateDenied = stanza.NotAllowed.WithText("you may not create rooms on this service")
	errTooManyRooms = stanza.NotAllowed.WithText("you own the maximum number of rooms on this service")
)

// adminHeadroom is how many admins and owners may enter a full room
// beyond its maximum (XEP-0045 §7.2.9).
const adminHeadroom = 10

// handlePresence handles presence to the room or to an occupant JID.
func (r *room) handlePresence(ctx context.Context, p *stanza.Stanza) {
	o := r.occupantBySession(p.From)
	switch p.Type {
	case "":
	case "unavailable":
		if o != nil {
			r.leave(ctx, o, p.From, p)
		}
		return
	case "error":
		if o != nil {
			r.removeUnreachable(ctx, o, p)
		}
		return
	default:
		return // subscriptions and probes mean nothing to a room
	}
	nick, modified, err := requestedNick(p)
	if err != nil {
		r.sendError(ctx, p, err)
		return
	}
	switch {
	case o == nil:
		r.enter(ctx, p, nick, modified)
	case o.nick != nick:
		r.changeNick(ctx, o, p, nick, modified)
	default:
		r.updatePresence(ctx, o, p)
	}
}

// requestedNick returns the nick that a presence requests, with surrounding
// white space removed, and whether that changed it (status code 210).
func requestedNick(p *stanza.Stanza) (nick string, modified bool, err error) {
	raw := p.To.Resourcepart()
	if i := strings.IndexByte(p.RawTo, '/'); i >= 0 {
		raw = p.RawTo[i+1:]
	}
	nick = strings.TrimSpace(p.To.Resourcepart())
	if nick == "" {
		return "", false, errNoNick
	}
	return nick, nick != raw, nil
}

// enter handles available presence from a session that is not in the
// room: it creates the room when needed, checks the rules of entering
// (XEP-0045 §7.2), and adds the occupant.
func (r *room) enter(ctx context.Context, p *stanza.Stanza, nick string, modified bool) {
	x := p.Child(NS, "x")
	if x == nil {
		// XEP-0045 §7.2.1: presence without <x/> from a non-occupant
		// is a client that lost track of the room; tell it so.
		r.kickDesynced(ctx, p)
		return
	}

	created := false
	if !r.exists {
		if err := r.create(ctx, p.From); err != nil {
			r.sendError(ctx, p, err)
			return
		}
		created = true
	}

	aff := r.affiliationOf(p.From)
	if err := r.checkEntry(p.From, aff, nick, x); err != nil {
		r.sendError(ctx, p, err)
		return
	}

	if o := r.occupants[nick]; o != nil {
		// Another session of the same user takes the same nick.
		o.sessions = append(o.sessions, p.From)
		r.addSession(o, p.From)
		r.sendJoinState(ctx, o, p.From, x, nil, p.ID)
		return
	}

	o := &occupant{
		nick:     nick,
		real:     p.From.Bare(),
		sessions: []jid.JID{p.From},
		role:     defaultRole(aff, r.config.Moderated),
		id:       r.svc.occupantID(r.jid.String(), p.From.Bare().String()),
		presence: presencePayload(p),
	}
	r.addOccupant(o)

	codes := r.entryCodes(created, modified)
	r.sendRoster(ctx, o, p.From)
	r.broadcastPresence(ctx, o, presenceChange{selfCodes: codes, id: p.ID})
	r.sendHistory(ctx, o, p.From, x.Child(NS, "history"))
	r.sendSubject(ctx, p.From)
}

// entryCodes returns the status codes of an entering occupant's own
// presence besides 110.
func (r *room) entryCodes(created, modified bool) []int {
	var codes []int
	if r.config.WhoIs == whoisAnyone {
		codes = append(codes, 100)
	}
	if r.config.Logging {
		codes = append(codes, 170)
	}
	if created {
		codes = append(codes, 201)
	}
	if modified {
		codes = append(codes, 210)
	}
	return codes
}

// sendJoinState sends a session everything an entering occupant gets
// after its own presence is known: the roster, its own presence, the
// history and the subject. It serves a second session under the same
// nick and a client that sent its join presence again (XEP-0045 §7.2.1).
func (r *room) sendJoinState(ctx context.Context, o *occupant, to jid.JID, x *stanza.Element, codes []int, id string) {
	r.sendRoster(ctx, o, to)
	self := r.occupantPresence(o, presenceChange{selfCodes: codes, id: id}, to, true)
	r.sendTo(ctx, self, []jid.JID{to})
	r.sendHistory(ctx, o, to, x.Child(NS, "history"))
	r.sendSubject(ctx, to)
}

// checkEntry applies the rules of XEP-0045 §7.2 to a user entering the
// room with the given affiliation and nick.
func (r *room) checkEntry(real jid.JID, aff affiliation, nick string, x *stanza.Element) error {
	switch {
	case r.locked && aff != affOwner:
		return errLocked
	case aff == affOutcast:
		return errBanned
	case r.config.MembersOnly && aff < affMember:
		return errRegistrationRequired
	}
	if err := r.checkNick(real, nick); err != nil {
		return err
	}
	if r.config.PasswordProtected && aff < affAdmin && x.Child(NS, "password").Text() != r.config.Password {
		return errBadPassword
	}
	if o := r.occupants[nick]; o != nil {
		return nil // another session of the same user; no new occupant
	}
	if max := r.config.MaxUsers; max > 0 {
		n := len(r.occupants)
		if n >= max && (aff < affAdmin || n >= max+adminHeadroom) {
			return errRoomFull
		}
	}
	return nil
}

// checkNick reports a conflict when nick is used by another user in the
// room or reserved by another affiliated JID (XEP-0045 §7.2.9).
func (r *room) checkNick(real jid.JID, nick string) error {
	bare := real.Bare()
	if o := r.occupants[nick]; o != nil && !o.real.Equal(bare) {
		return errNickInUse
	}
	for j, rec := range r.affiliations {
		if rec.nick == nick && j != bare.String() {
			return errNickInUse
		}
	}
	return nil
}

// kickDesynced responds to presence without <x/> from a non-occupant with
// an unavailable self-presence carrying 110, 307 and 333 (XEP-0045
// §7.2.1).
func (r *room) kickDesynced(ctx context.Context, p *stanza.Stanza) {
	x := stanza.NewElement(NSUser, "x").Add(stanza.NewElement(NSUser, "item", "affiliation", r.affiliationOf(p.From).String(), "role", "none"))
	for _, c := range []string{"110", "307", "333"} {
		x.Add(stanza.NewElement(NSUser, "status", "code", c))
	}
	out := stanza.New(stanza.Presence, "unavailable", p.From, p.To,
		stanza.NewElement(stanza.NSClient, "status").AddText("You are not in the room."), x)
	r.route(ctx, out)
}

// presencePayload returns the children of a client's presence that the
// room passes on: everything but MUC elements and occupant ids, which
// only the room may set (XEP-0045 §17.3, XEP-0421 §4).
func presencePayload(p *stanza.Stanza) []*stanza.Element {
	var out []*stanza.Element
	for _, c := range p.Children() {
		switch c.Name.Space {
		case NS, NSUser, nsOccupantID:
			continue
		}
		out = append(out, c)
	}
	return out
}

// updatePresence broadcasts a changed availability of an occupant, or
// resends the room state to a client that sent its join presence again.
func (r *room) updatePresence(ctx context.Context, o *occupant, p *stanza.Stanza) {
	if x := p.Child(NS, "x"); x != nil {
		r.sendJoinState(ctx, o, p.From, x, r.entryCodes(false, false), p.ID)
		return
	}
	o.presence = presencePayload(p)
	r.broadcastPresence(ctx, o, presenceChange{id: p.ID})
}

// changeNick renames an occupant (XEP-0045 §7.6): unavailable presence
// with 303 and the new nick from the old occupant JID, then available
// presence from the new one.
func (r *room) changeNick(ctx context.Context, o *occupant, p *stanza.Stanza, nick string, modified bool) {
	if err := r.checkNick(o.real, nick); err != nil {
		r.sendError(ctx, p, err)
		return
	}
	if other := r.occupants[nick]; other != nil {
		// The same user's other occupant already has that nick.
		r.sendError(ctx, p, stanza.NotAcceptable.WithText("you are already in the room with that nickname from another session"))
		return
	}
	r.broadcastPresence(ctx, o, presenceChange{typ: "unavailable", codes: []int{303}, newNick: nick})
	delete(r.occupants, o.nick)
	o.nick = nick
	o.presence = presencePayload(p)
	r.occupants[nick] = o
	var selfCodes []int
	if modified {
		selfCodes = []int{210}
	}
	r.broadcastPresence(ctx, o, presenceChange{selfCodes: selfCodes, id: p.ID})
}

// leave handles unavailable presence from one of an occupant's sessions
// (XEP-0045 §7.14). The occupant leaves once its last session does.
func (r *room) leave(ctx context.Context, o *occupant, full jid.JID, p *stanza.Stanza) {
	o.presence = presencePayload(p)
	if len(o.sessions) > 1 {
		o.removeSession(full)
		r.dropSession(full)
		self := r.occupantPresence(o, presenceChange{typ: "unavailable"}, full, true)
		r.sendTo(ctx, self, []jid.JID{full})
		return
	}
	r.removeOccupant(ctx, o, presenceChange{})
	r.afterLeave(ctx)
}

// sessionGone removes a session whose stream ended without unavailable
// presence reaching the room.
func (r *room) sessionGone(ctx context.Context, full jid.JID) {
	if o := r.occupantBySession(full); o != nil {
		r.leave(ctx, o, full, stanza.New(stanza.Presence, "unavailable", r.jid, full))
	}
}

// removeUnreachable removes an occupant whose session returned an error
// to the room, with status code 333 (XEP-0045 §7.2.23).
func (r *room) removeUnreachable(ctx context.Context, o *occupant, s *stanza.Stanza) {
	e := stanza.ErrorOf(s)
	if e == nil || !gone(e.Condition) {
		return
	}
	if len(o.sessions) > 1 {
		o.removeSession(s.From)
		r.dropSession(s.From)
		return
	}
	r.removeOccupant(ctx, o, presenceChange{codes: []int{333}})
	r.afterLeave(ctx)
}

// gone reports whether an error condition means that the session will
// not receive more stanzas.
func gone(condition string) bool {
	switch condition {
	case "gone", "item-not-found", "recipient-unavailable", "redirect",
		"remote-server-not-found", "remote-server-timeout",
		"service-unavailable", "jid-malformed":
		return true
	}
	return false
}
