package muc

import (
	"context"

	"tern/modules/mam"
	"tern/stanza"
	"tern/storage"
)

// recordMessage archives a message the room broadcasts, when the room
// archives and the message is worth keeping, and keeps messages with a
// body for the join history. It returns the message's stanza id: the
// archive id, or a random id for a message that is not archived.
func (r *room) recordMessage(ctx context.Context, stored *stanza.Stanza) string {
	now := r.svc.mod.now().UTC()
	data := stored.AppendXML(nil, stanza.NSClient)
	id := ""
	if r.archiving() && archivable(stored) {
		var err error
		id, err = r.svc.mod.archive.AppendArchive(ctx, r.owner(), storage.ArchivedMessage{
			With: stored.From.String(), Time: now, Stanza: data,
		})
		if err != nil {
			r.svc.mod.log.Error("archive room message", "room", r.jid.String(), "err", err)
			id = ""
		}
	}
	if id == "" {
		id = randomID()
	}
	if replayable(stored) {
		r.ensureHistory(ctx)
		r.history.add(historyEntry{id: id, at: now, occupantID: occupantIDOf(stored), stored: data}, r.config.HistoryLength)
	}
	return id
}

// archivable reports whether a room message goes to the archive: messages
// with a body, subject changes and retractions (XEP-0313 §5.1.2,
// XEP-0424 §6).
func archivable(s *stanza.Stanza) bool {
	return s.Child(stanza.NSClient, "body") != nil ||
		s.Child(stanza.NSClient, "subject") != nil ||
		s.Child(nsRetract, "retract") != nil
}

// mayReadArchive applies XEP-0313 §5.1.2: outcasts never read a room's
// archive, and a members-only room's archive is for its members. A
// password-protected room's archive is for occupants and members.
func (r *room) mayReadArchive(iq *stanza.Stanza) bool {
	aff := r.affiliationOf(iq.From)
	switch {
	case aff == affOutcast:
		return false
	case r.config.MembersOnly, r.config.PasswordProtected:
		return aff >= affMember || (!r.config.MembersOnly && r.occupantBySession(iq.From) != nil)
	}
	return true
}

// mamIQ serves archive queries on the room (XEP-0313 §4) with the
// query and paging code of the account archive.
func (r *room) mamIQ(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if !r.exists || !r.archiving() {
		return nil, stanza.ServiceUnavailable.WithText("this room has no archive")
	}
	if !r.mayReadArchive(iq) {
		return nil, stanza.Forbidden.WithText("you may not read this room's archive")
	}
	if iq.Type == "get" {
		return stanza.Result(iq, mam.QueryForm()), nil
	}
	query, err := mam.ParseQuery(q)
	if err != nil {
		return nil, err
	}
	page, err := mam.Run(ctx, r.svc.mod.archive, r.owner(), query, r.svc.mod.maxPage)
	if err != nil {
		return nil, err
	}
	page.Messages = r.visibleArchived(page.Messages, r.canSeeJIDs(r.occupantBySession(iq.From)))
	mam.SendResults(func(s *stanza.Stanza) { r.route(ctx, s) }, iq.From, r.jid, query.ID, page)
	return stanza.Result(iq, page.Fin()), nil
}

// visibleArchived returns archived messages as a requester may see them:
// without the senders' real JIDs unless showJID is set (XEP-0313 §5.1.2).
func (r *room) visibleArchived(msgs []storage.ArchivedMessage, showJID bool) []storage.ArchivedMessage {
	if showJID {
		return msgs
	}
	out := make([]storage.ArchivedMessage, 0, len(msgs))
	for _, m := range msgs {
		s, err := r.renderArchived(m.Stanza, false)
		if err != nil {
			r.svc.mod.log.Error("render archived room message", "room", r.jid.String(), "id", m.ID, "err", err)
			continue
		}
		m.Stanza = s.AppendXML(nil, stanza.NSClient)
		out = append(out, m)
	}
	return out
}
