package muc

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// Errors of sending messages (XEP-0045 §7.4, §7.5, §8.1).
var (
	errNotOccupant  = stanza.NotAcceptable.WithText("you are not in this room")
	errNoVoice      = stanza.Forbidden.WithText("you have no voice in this room")
	errNoSubject    = stanza.Forbidden.WithText("you may not change the subject of this room")
	errNoPM         = stanza.Forbidden.WithText("private messages are not allowed for you in this room")
	errPMGroupchat  = stanza.BadRequest.WithText("a private message must not be of type groupchat")
	errNoSuchNick   = stanza.ItemNotFound.WithText("no occupant has this nickname")
	errNotGroupchat = stanza.BadRequest.WithText("messages to the room must be of type groupchat")
)

// handleMessage handles messages to the room or to an occupant JID.
func (r *room) handleMessage(ctx context.Context, m *stanza.Stanza) {
	sender := r.occupantBySession(m.From)
	if m.Type == "error" {
		if sender != nil {
			r.removeUnreachable(ctx, sender, m)
		}
		return
	}
	if !r.exists {
		r.sendError(ctx, m, stanza.ItemNotFound.WithText("no such room"))
		return
	}
	if m.To.Resourcepart() != "" {
		r.privateMessage(ctx, sender, m)
		return
	}
	var err error
	switch m.Type {
	case "groupchat":
		err = r.groupchat(ctx, sender, m)
	case "", "normal":
		err = r.normalMessage(ctx, sender, m)
	default:
		err = errNotGroupchat
	}
	if err != nil {
		r.sendError(ctx, m, err)
	}
}

// groupchat handles a message to all occupants (XEP-0045 §7.4), a
// subject change (§8.1) or a retraction of one's own message (XEP-0424).
func (r *room) groupchat(ctx context.Context, o *occupant, m *stanza.Stanza) error {
	if o == nil {
		return errNotOccupant
	}
	mod := r.svc.mod
	if !o.limiter.allow(mod.now(), mod.cfg.MaxMessagesPerSecond) {
		return errRateLimited
	}
	if isSubjectChange(m) {
		return r.changeSubject(ctx, o, m)
	}
	if o.role < roleParticipant {
		return errNoVoice
	}
	if rt := m.Child(nsRetract, "retract"); rt != nil {
		if err := r.retractOwn(ctx, o, m, rt.AttrValue("id")); err != nil {
			return err
		}
	}
	r.publishGroupchat(ctx, o, m)
	return nil
}

// isSubjectChange reports whether a groupchat message changes the subject:
// it has a <subject/> and neither <body/> nor <thread/> (XEP-0045 §8.1).
func isSubjectChange(m *stanza.Stanza) bool {
	return m.Child(stanza.NSClient, "subject") != nil &&
		m.Child(stanza.NSClient, "body") == nil &&
		m.Child(stanza.NSClient, "thread") == nil
}

// changeSubject sets the subject and broadcasts the change. Moderators
// may always change it, participants when the room allows it.
func (r *room) changeSubject(ctx context.Context, o *occupant, m *stanza.Stanza) error {
	if o.role != roleModerator && (!r.config.ChangeSubject || o.role < roleParticipant) {
		return errNoSubject
	}
	next := subject{text: m.Child(stanza.NSClient, "subject").Text(), by: o.nick, at: r.svc.mod.now().UTC()}
	if err := r.persistSubject(ctx, next); err != nil {
		return err
	}
	r.subject = next
	r.publishGroupchat(ctx, o, m)
	return nil
}

// publishGroupchat reflects an occupant's groupchat message to every
// occupant, from its occupant JID, with its occupant id and the stanza id
// the room assigns (XEP-0421, XEP-0359). It also archives the message and
// keeps it for the history of entering occupants when it has a body.
func (r *room) publishGroupchat(ctx context.Context, o *occupant, m *stanza.Stanza) {
	children := r.cleanPayload(m)
	children = append(children, stanza.NewElement(nsOccupantID, "occupant-id", "id", o.id))
	out := stanza.New(stanza.Message, "groupchat", jid.JID{}, r.occupantJID(o.nick), children...)
	out.ID, out.Lang = m.ID, m.Lang
	if out.ID == "" {
		out.ID = randomID()
	}
	stored := withElement(out, realJIDElement(m.From))
	id := r.recordMessage(ctx, stored)
	r.broadcastMessage(ctx, r.withStanzaID(out, id))
}

// cleanPayload returns the children of a message that the room passes
// on: MUC user data, occupant ids and stanza ids claiming to be the
// room's are dropped, because only the room may set them (XEP-0045
// §17.3, XEP-0421 §4, XEP-0359 §5).
func (r *room) cleanPayload(m *stanza.Stanza) []*stanza.Element {
	var out []*stanza.Element
	for _, c := range m.Children() {
		switch {
		case c.Name.Space == NSUser, c.Name.Space == nsOccupantID:
			continue
		case c.Name.Space == nsStanzaID && c.Name.Local == "stanza-id" && c.AttrValue("by") == r.jid.String():
			continue
		}
		out = append(out, c)
	}
	return out
}

// realJIDElement returns the muc#user element that archived messages
// carry with the sender's real JID; it is removed before the message goes
// to anyone who may not see real JIDs (XEP-0313 §5.1.2).
func realJIDElement(real jid.JID) *stanza.Element {
	return stanza.NewElement(NSUser, "x").Add(stanza.NewElement(NSUser, "item", "jid", real.String()))
}

// withElement returns a copy of s with el appended to its content.
func withElement(s *stanza.Stanza, el *stanza.Element) *stanza.Stanza {
	c := s.Copy()
	c.Inner = el.AppendXML(append([]byte(nil), s.Inner...), stanza.NSClient)
	return c
}

// withStanzaID returns a copy of s with the room's stanza id.
func (r *room) withStanzaID(s *stanza.Stanza, id string) *stanza.Stanza {
	return withElement(s, stanza.NewElement(nsStanzaID, "stanza-id", "id", id, "by", r.jid.String()))
}

// broadcastMessage sends a copy of a message to every occupant session.
func (r *room) broadcastMessage(ctx context.Context, m *stanza.Stanza) {
	for _, o := range r.occupants {
		r.sendTo(ctx, m, o.sessions)
	}
}

// privateMessage relays a message from one occupant to another
// (XEP-0045 §7.5), as allowed by muc#roomconfig_allowpm.
func (r *room) privateMessage(ctx context.Context, o *occupant, m *stanza.Stanza) {
	err := r.checkPrivateMessage(o, m)
	if err != nil {
		r.sendError(ctx, m, err)
		return
	}
	target := r.occupants[m.To.Resourcepart()]
	children := r.cleanPayload(m)
	children = append(children,
		stanza.NewElement(NSUser, "x"),
		stanza.NewElement(nsOccupantID, "occupant-id", "id", o.id))
	out := stanza.New(stanza.Message, m.Type, jid.JID{}, r.occupantJID(o.nick), children...)
	out.ID, out.Lang = m.ID, m.Lang
	r.sendTo(ctx, out, target.sessions)
}

func (r *room) checkPrivateMessage(o *occupant, m *stanza.Stanza) error {
	switch {
	case o == nil:
		return errNotOccupant
	case m.Type == "groupchat":
		return errPMGroupchat
	case r.occupants[m.To.Resourcepart()] == nil:
		return errNoSuchNick
	case !r.mayPrivateMessage(o):
		return errNoPM
	case !o.limiter.allow(r.svc.mod.now(), r.svc.mod.cfg.MaxMessagesPerSecond):
		return errRateLimited
	}
	return nil
}

// mayPrivateMessage applies muc#roomconfig_allowpm to a sender.
func (r *room) mayPrivateMessage(o *occupant) bool {
	switch r.config.AllowPM {
	case pmNone:
		return false
	case pmModerators:
		return o.role == roleModerator
	case pmParticipants:
		return o.role >= roleParticipant
	}
	return true
}

// normalMessage handles messages of type normal to the room, which carry
// mediated invitations and declines (XEP-0045 §7.8.2).
func (r *room) normalMessage(ctx context.Context, o *occupant, m *stanza.Stanza) error {
	x := m.Child(NSUser, "x")
	if x == nil {
		return errNotGroupchat
	}
	if invites := x.ChildrenNamed(NSUser, "invite"); len(invites) > 0 {
		return r.invite(ctx, o, m, invites)
	}
	if d := x.Child(NSUser, "decline"); d != nil {
		r.decline(ctx, m, d)
		return nil
	}
	return errNotGroupchat
}

// randomID returns a random identifier for stanzas the room creates.
func randomID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
