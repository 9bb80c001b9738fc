package muc

import (
	"context"
	"errors"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

var (
	errNotAuthor    = stanza.Forbidden.WithText("you can only retract your own messages")
	errNotModerates = stanza.Forbidden.WithText("only moderators may moderate messages")
	errNoMessage    = stanza.ItemNotFound.WithText("no message of this room has that stanza id")
)

// findMessage returns a message of the room by its stanza id, from the
// history or the archive.
func (r *room) findMessage(ctx context.Context, id string) (*stanza.Stanza, bool, error) {
	var stored []byte
	if e, ok := r.history.find(id); ok {
		stored = e.stored
	} else if r.archiving() {
		page, err := r.svc.mod.archive.QueryArchive(ctx, r.owner(), storage.ArchiveQuery{IDs: []string{id}, Max: 1})
		if err != nil {
			return nil, false, err
		}
		if len(page.Messages) == 0 {
			return nil, false, nil
		}
		stored = page.Messages[0].Stanza
	} else {
		return nil, false, nil
	}
	s, err := stream.ParseStanza(stored)
	if err != nil {
		return nil, false, err
	}
	return s, true, nil
}

// retractOwn handles an occupant retracting one of its messages
// (XEP-0424): the message must carry the occupant's own occupant id, and
// it becomes a tombstone in the archive and leaves the history. The
// retraction itself is then broadcast like any message. A retraction of a
// message the room no longer has is broadcast as it is, because clients
// check the author themselves.
func (r *room) retractOwn(ctx context.Context, o *occupant, m *stanza.Stanza, id string) error {
	if id == "" {
		return stanza.BadRequest.WithText("<retract/> needs the stanza id of the message")
	}
	s, found, err := r.findMessage(ctx, id)
	if err != nil || !found {
		return err
	}
	if occupantIDOf(s) != o.id {
		return errNotAuthor
	}
	tomb := stanza.NewElement(nsRetract, "retracted", "stamp", stamp(r.svc.mod.now()), "id", m.ID)
	r.tombstone(ctx, id, s, tomb)
	return nil
}

// moderateIQ handles a moderator's request to retract a message
// (XEP-0425): the message becomes a tombstone, and every occupant gets a
// retraction from the room naming the moderator. q is the <moderate/>
// element, in the namespace of version 1 or of version 0, and id the
// stanza id of the message, from <moderate/> in version 1 and from the
// enclosing <apply-to/> in version 0.
func (r *room) moderateIQ(ctx context.Context, iq *stanza.Stanza, q *stanza.Element, id string) (*stanza.Stanza, error) {
	if iq.Type != "set" {
		return nil, stanza.BadRequest.WithText("moderation requests are of type set")
	}
	if !r.exists {
		return nil, stanza.ItemNotFound
	}

	mod := r.occupantBySession(iq.From)
	if mod == nil || mod.role != roleModerator {
		return nil, errNotModerates
	}
	if q.Child(nsRetract, "retract") == nil && q.Child(nsRetract0, "retract") == nil {
		return nil, stanza.FeatureNotImplemented.WithText("only retraction is supported")
	}
	if id == "" {
		return nil, stanza.BadRequest.WithText("<moderate/> needs the stanza id of the message")
	}

	s, found, err := r.findMessage(ctx, id)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNoMessage
	}

	reason := q.Child(q.Name.Space, "reason").Text()
	tomb := stanza.NewElement(nsRetract, "retracted", "stamp", stamp(r.svc.mod.now()))
	r.tombstone(ctx, id, s, addReason(tomb.Add(r.moderatedBy(mod)), reason))
	// The notice carries both versions, so that clients of either learn
	// of the moderation.
	notice := addReason(stanza.NewElement(nsRetract, "retract", "id", id).Add(r.moderatedBy(mod)), reason)
	moderated0 := stanza.NewElement(nsModerate0, "moderated", "by", r.occupantJID(mod.nick).String()).
		Add(stanza.NewElement(nsRetract0, "retract"))
	if reason != "" {
		moderated0.Add(stanza.NewElement(nsModerate0, "reason").AddText(reason))
	}
	notice0 := stanza.NewElement(nsFasten, "apply-to", "id", id).Add(moderated0)
	msg := stanza.New(stanza.Message, "groupchat", jid.JID{}, r.jid, notice, notice0)
	msg.ID = randomID()
	sid := r.recordMessage(ctx, msg)
	r.broadcastMessage(ctx, r.withStanzaID(msg, sid))
	return stanza.Result(iq), nil
}

// moderatedBy returns the <moderated/> element naming a moderator by
// occupant JID and occupant id.
func (r *room) moderatedBy(mod *occupant) *stanza.Element {
	return stanza.NewElement(nsModerate, "moderated", "by", r.occupantJID(mod.nick).String()).
		Add(stanza.NewElement(nsOccupantID, "occupant-id", "id", mod.id))
}

func addReason(el *stanza.Element, reason string) *stanza.Element {
	if reason != "" {
		el.Add(stanza.NewElement(nsRetract, "reason").AddText(reason))
	}
	return el
}

// tombstone replaces a message's content with a <retracted/> element,
// keeping its addresses, id and author's occupant id (XEP-0424 §5,
// XEP-0425 §5), and drops it from the history.
func (r *room) tombstone(ctx context.Context, id string, s *stanza.Stanza, retracted *stanza.Element) {
	r.history.remove(id)
	if !r.archiving() {
		return
	}
	var children []*stanza.Element
	if author := s.Child(nsOccupantID, "occupant-id"); author != nil {
		children = append(children, author)
	}
	t := stanza.New(stanza.Message, s.Type, jid.JID{}, s.From, append(children, retracted)...)
	t.ID, t.Lang = s.ID, s.Lang
	err := r.svc.mod.archive.ReplaceArchived(ctx, r.owner(), id, t.AppendXML(nil, stanza.NSClient))
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		r.svc.mod.log.Error("replace retracted room message", "room", r.jid.String(), "id", id, "err", err)
	}
}
