package muc

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

// historyEntry is a message kept for the discussion history sent to
// entering occupants (XEP-0045 §7.2.15).
type historyEntry struct {
	id         string // the room's stanza id
	at         time.Time
	occupantID string
	// stored is the message as archived: from the occupant JID, with the
	// occupant id and the muc#user element with the sender's real JID.
	stored []byte
}

// history is the recent messages of a room, oldest first. A persistent
// room fills it from its archive on first use, so it survives a restart.
type history struct {
	entries []historyEntry
	loaded  bool
}

// add appends an entry and drops the oldest beyond max.
func (h *history) add(e historyEntry, max int) {
	h.entries = append(h.entries, e)
	h.trim(max)
}

// trim drops the oldest entries beyond max.
func (h *history) trim(max int) {
	if n := len(h.entries) - max; n > 0 {
		h.entries = append([]historyEntry(nil), h.entries[n:]...)
	}
}

// find returns the entry with a stanza id.
func (h *history) find(id string) (historyEntry, bool) {
	for _, e := range h.entries {
		if e.id == id {
			return e, true
		}
	}
	return historyEntry{}, false
}

// remove drops the entry with a stanza id, as for a retracted message
// that must not be replayed (XEP-0424 §6).
func (h *history) remove(id string) {
	for i, e := range h.entries {
		if e.id == id {
			h.entries = append(h.entries[:i:i], h.entries[i+1:]...)
			return
		}
	}
}

// historyLoadPages bounds how many archive pages loading the history reads
// when retractions and subject changes fill the newest pages.
const historyLoadPages = 4

// ensureHistory fills the history of a room from its archive once.
func (r *room) ensureHistory(ctx context.Context) {
	if r.history.loaded {
		return
	}
	r.history.loaded = true
	want := r.config.HistoryLength
	if !r.archiving() || want == 0 {
		return
	}
	var found []historyEntry
	q := storage.ArchiveQuery{Max: want, Last: true}
	for range historyLoadPages {
		page, err := r.svc.mod.archive.QueryArchive(ctx, r.owner(), q)
		if err != nil {
			r.svc.mod.log.Error("load room history", "room", r.jid.String(), "err", err)
			return
		}
		var batch []historyEntry
		for _, m := range page.Messages {
			if e, ok := historyFromArchive(m); ok {
				batch = append(batch, e)
			}
		}
		found = append(batch, found...)
		if len(found) >= want || page.Complete || len(page.Messages) == 0 {
			break
		}
		q.BeforeID = page.Messages[0].ID
	}
	r.history.entries = found
	r.history.trim(want)
}

// historyFromArchive returns the history entry of an archived message, or
// false for messages that are not replayed: subject changes, retractions
// and tombstones.
func historyFromArchive(m storage.ArchivedMessage) (historyEntry, bool) {
	s, err := stream.ParseStanza(m.Stanza)
	if err != nil || !replayable(s) {
		return historyEntry{}, false
	}
	return historyEntry{id: m.ID, at: m.Time, stored: m.Stanza, occupantID: occupantIDOf(s)}, true
}

// replayable reports whether a message belongs in the join history.
func replayable(s *stanza.Stanza) bool {
	return s.Child(stanza.NSClient, "body") != nil &&
		s.Child(nsRetract, "retract") == nil &&
		s.Child(nsRetract, "retracted") == nil
}

// occupantIDOf returns the occupant id a message of the room carries.
func occupantIDOf(s *stanza.Stanza) string {
	return s.Child(nsOccupantID, "occupant-id").AttrValue("id")
}

// historyLimits is the set of limits a <history/> element requests
// (XEP-0045 §7.2.15).
type historyLimits struct {
	maxStanzas int // -1: no limit
	maxChars   int // -1: no limit
	since      time.Time
}

// parseHistoryLimits reads a <history/> element; attributes that do not
// parse are ignored.
func parseHistoryLimits(h *stanza.Element, now time.Time) historyLimits {
	l := historyLimits{maxStanzas: -1, maxChars: -1}
	if h == nil {
		return l
	}
	if n, err := strconv.Atoi(h.AttrValue("maxstanzas")); err == nil && n >= 0 {
		l.maxStanzas = n
	}
	if n, err := strconv.Atoi(h.AttrValue("maxchars")); err == nil && n >= 0 {
		l.maxChars = n
	}
	if n, err := strconv.Atoi(h.AttrValue("seconds")); err == nil && n >= 0 {
		l.since = now.Add(-time.Duration(n) * time.Second)
	}
	if t, err := time.Parse(time.RFC3339, h.AttrValue("since")); err == nil && t.After(l.since) {
		l.since = t
	}
	return l
}

// sendHistory sends an entering session the newest history messages that
// meet every limit it asked for and the room's history length, oldest
// first, each with a delay stamp from the room (XEP-0203).
func (r *room) sendHistory(ctx context.Context, viewer *occupant, to jid.JID, h *stanza.Element) {
	r.ensureHistory(ctx)
	l := parseHistoryLimits(h, r.svc.mod.now())
	showJID := r.canSeeJIDs(viewer)
	var picked []*stanza.Stanza
	chars := 0
	for i := len(r.history.entries) - 1; i >= 0; i-- {
		e := r.history.entries[i]
		if len(picked) >= r.config.HistoryLength || (l.maxStanzas >= 0 && len(picked) >= l.maxStanzas) {
			break
		}
		if e.at.Before(l.since) {
			break
		}
		msg, err := r.renderArchived(e.stored, showJID)
		if err != nil {
			r.svc.mod.log.Error("render room history", "room", r.jid.String(), "err", err)
			continue
		}
		msg = withElement(r.withStanzaID(msg, e.id), delayElement(r.jid, e.at))
		msg.To = to
		n := utf8.RuneCount(msg.AppendXML(nil, stanza.NSClient))
		if l.maxChars >= 0 && chars+n > l.maxChars {
			break
		}
		chars += n
		picked = append(picked, msg)
	}
	for i := len(picked) - 1; i >= 0; i-- {
		r.route(ctx, picked[i])
	}
}

// renderArchived parses a stored message, removing the sender's real JID
// unless the recipient may see it.
func (r *room) renderArchived(stored []byte, showJID bool) (*stanza.Stanza, error) {
	s, err := stream.ParseStanza(stored)
	if err != nil {
		return nil, err
	}
	if !showJID {
		p, err := s.Payload()
		if err != nil {
			return nil, err
		}
		p.RemoveChildren(NSUser, "x")
		s.SetPayload(p)
	}
	return s, nil
}

// delayElement returns an XEP-0203 delay stamp.
func delayElement(from jid.JID, at time.Time) *stanza.Element {
	return stanza.NewElement(nsDelay, "delay", "from", from.String(), "stamp", stamp(at))
}

// stamp formats a time as an XEP-0082 date-time in UTC.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// sendSubject sends the current subject to an entering session, after the
// history (XEP-0045 §7.2.16): an empty <subject/> when none is set, and a
// delay stamp with the time it was set.
func (r *room) sendSubject(ctx context.Context, to jid.JID) {
	from := r.jid
	if r.subject.by != "" {
		from = r.occupantJID(r.subject.by)
	}
	children := []*stanza.Element{stanza.NewElement(stanza.NSClient, "subject").AddText(r.subject.text)}
	if !r.subject.at.IsZero() {
		children = append(children, delayElement(r.jid, r.subject.at))
	}
	m := stanza.New(stanza.Message, "groupchat", to, from, children...)
	m.ID = randomID()
	r.route(ctx, m)
}
