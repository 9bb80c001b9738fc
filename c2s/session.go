package c2s

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// session is a bound client stream. It implements router.Session.
type session struct {
	c   *conn
	jid jid.JID
	w   *stream.Writer
	log *slog.Logger

	presence        atomic.Pointer[stanza.Stanza]
	rosterRequested atomic.Bool
	values          sync.Map

	closeOnce sync.Once
	endOnce   sync.Once

	mu       sync.Mutex
	overflow []*stanza.Stanza // messages that did not fit the queue; guarded by mu
}

func (c *conn) newSession(full jid.JID) *session {
	s := &session{c: c, jid: full, log: c.log.With("resource", full.Resourcepart())}
	ns := ""
	if c.ws {
		ns = stanza.NSClient
	}
	s.w = stream.NewWriter(c.nc, stream.WriterConfig{
		NS:           ns,
		Framed:       c.ws,
		MaxQueue:     c.srv.cfg.C2S.SendQueue,
		WriteTimeout: 30 * time.Second,
		SetDeadline:  c.nc.SetWriteDeadline,
	})
	go s.w.Run()
	return s
}

func (s *session) ID() string                   { return s.c.id }
func (s *session) JID() jid.JID                 { return s.jid }
func (s *session) Presence() *stanza.Stanza     { return s.presence.Load() }
func (s *session) SetPresence(p *stanza.Stanza) { s.presence.Store(p) }
func (s *session) RosterRequested() bool        { return s.rosterRequested.Load() }
func (s *session) Value(key any) any            { v, _ := s.values.Load(key); return v }
func (s *session) SetValue(key, value any)      { s.values.Store(key, value) }
func (s *session) Close(err *stream.Error)      { s.closeWith(err) }
func (s *session) setRosterRequested()          { s.rosterRequested.Store(true) }
func (s *session) sendRaw(b []byte) error       { return s.w.SendRaw(b) }
func (s *session) String() string               { return s.jid.String() }

// MarkRosterRequested records that the client fetched its roster; the
// roster module calls it through this optional interface.
func (s *session) MarkRosterRequested() { s.setRosterRequested() }

// Deliver queues a stanza for the client. When the queue is full the
// client is a slow consumer: the stream is closed with policy-violation
// and messages that did not fit are routed again once the session is gone,
// to another resource or to offline storage.
func (s *session) Deliver(st *stanza.Stanza) {
	err := s.w.SendStanza(st)
	if err == nil {
		return
	}
	if st.Name == stanza.Message {
		s.mu.Lock()
		s.overflow = append(s.overflow, st)
		s.mu.Unlock()
	}
	if errors.Is(err, stream.ErrQueueFull) {
		s.log.Warn("slow consumer; closing stream", "queue", s.c.srv.cfg.C2S.SendQueue)
		s.closeWith(stream.PolicyViolation.WithText("too many unread stanzas"))
	}
}

// closeWith writes what is queued, then err and the closing tag, and
// closes the connection once written (or after a timeout). It is called
// from other goroutines than the reader, which then sees the connection
// end.
func (s *session) closeWith(err *stream.Error) {
	if s.writeFinal(err) {
		go func() {
			s.waitWriter()
			s.c.closed.Store(true)
			s.c.raw.Close()
		}()
	}
}

// writeFinal queues err and the closing tag once; it reports whether this
// call queued them.
func (s *session) writeFinal(err *stream.Error) bool {
	first := false
	s.closeOnce.Do(func() {
		first = true
		s.w.Close(s.c.finalBytes(err)...)
	})
	return first
}

func (s *session) waitWriter() {
	select {
	case <-s.w.Done():
	case <-time.After(10 * time.Second):
	}
}

// end removes the session after its stream ended, sending unavailable
// presence for it and routing undelivered messages again.
func (s *session) end(se *stream.Error) {
	s.endOnce.Do(func() {
		if s.writeFinal(se) {
			s.waitWriter()
			s.c.linger()
		}
		s.c.closed.Store(true)
		s.c.raw.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.c.srv.router.Unbind(ctx, s)
		s.mu.Lock()
		lost := s.overflow
		s.overflow = nil
		s.mu.Unlock()
		for _, m := range lost {
			s.c.srv.router.Deliver(ctx, m)
		}
		s.log.Debug("session ended")
	})
}

// handle processes one element the client sent after bind.
func (s *session) handle(el *stanza.Stanza) error {
	ctx := context.Background()
	if el.Space != stanza.NSClient {
		h := s.c.srv.nonzas[el.Space]
		if h == nil {
			return stream.UnsupportedStanzaType
		}
		return h(ctx, s, el)
	}
	switch el.Name {
	case stanza.Message, stanza.Presence, stanza.IQ:
	default:
		return stream.UnsupportedStanzaType
	}
	if err := s.stampFrom(el); err != nil {
		return err
	}
	if el.RawTo != "" {
		to, err := stanza.ParseJID(el.RawTo)
		if err != nil {
			s.reply(el, stanza.JIDMalformed)
			return nil
		}
		el.To = to
	}
	if se := checkStanza(el); se != nil {
		s.reply(el, se)
		return nil
	}
	s.c.srv.router.RouteFromSession(ctx, s, el)
	return nil
}

// stampFrom enforces RFC 6120 §8.1.2.1: a 'from' the client sets must be
// its full or bare JID; the server always stamps the full JID.
func (s *session) stampFrom(el *stanza.Stanza) error {
	if el.RawFrom != "" {
		from, err := stanza.ParseJID(el.RawFrom)
		if err != nil || !(from.Equal(s.jid) || from.Equal(s.jid.Bare())) {
			return stream.InvalidFrom
		}
	}
	el.From = s.jid
	return nil
}

// reply sends an error for el straight back to this session.
func (s *session) reply(el *stanza.Stanza, se *stanza.Error) {
	if el.Type == "error" {
		return
	}
	from := jid.MustParse(s.jid.Domainpart())
	r := stanza.ErrorReply(el, se, from)
	r.To = s.jid
	if el.RawTo != "" {
		r.From = jid.JID{}
		// The address was invalid, so the error cannot carry it; it comes
		// from the server instead.
		r.From = from
	}
	s.Deliver(r)
}

var validTypes = map[string]map[string]bool{
	stanza.Message:  {"": true, "normal": true, "chat": true, "groupchat": true, "headline": true, "error": true},
	stanza.Presence: {"": true, "unavailable": true, "subscribe": true, "subscribed": true, "unsubscribe": true, "unsubscribed": true, "probe": true, "error": true},
	stanza.IQ:       {"get": true, "set": true, "result": true, "error": true},
}

// checkStanza validates the type and id rules of RFC 6120 §8.2.
func checkStanza(el *stanza.Stanza) *stanza.Error {
	if !validTypes[el.Name][el.Type] {
		return stanza.BadRequest.WithText("invalid type")
	}
	if el.Name == stanza.IQ && el.ID == "" {
		return stanza.BadRequest.WithText("an iq needs an id")
	}
	return nil
}
