package c2s

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// session is a bound client stream. It implements router.Session. With
// stream management (XEP-0198) a session can outlive its connection: it
// is detached when the connection breaks and attached to the connection
// that resumes it.
type session struct {
	srv *Server
	jid jid.JID
	id  string
	log *slog.Logger

	presence        atomic.Pointer[stanza.Stanza]
	priority        atomic.Int32 // of presence
	rosterRequested atomic.Bool
	values          sessionValues

	endOnce sync.Once

	mu       sync.Mutex
	c        *conn            // current connection, nil while detached; guarded by mu
	w        *stream.Writer   // writer of c; guarded by mu
	closing  bool             // the server is ending the session; guarded by mu
	ended    bool             // guarded by mu
	overflow []*stanza.Stanza // messages that could not be queued; guarded by mu
	sm       *smState         // stream management, nil until enabled; guarded by mu
	csi      csiState         // guarded by mu
}

func (c *conn) newSession(full jid.JID) *session {
	s := &session{srv: c.srv, jid: full, id: c.id, c: c, log: c.log.With("resource", full.Resourcepart())}
	s.w = c.newWriter()
	return s
}

// newWriter returns the writer of a bound connection. It writes from a
// goroutine that runs only while stanzas are pending, so an idle session
// holds none.
func (c *conn) newWriter() *stream.Writer {
	ns := ""
	if c.ws {
		ns = stanza.NSClient
	}
	w := stream.NewWriter(c.nc, stream.WriterConfig{
		NS:           ns,
		Framed:       c.ws,
		MaxQueue:     c.srv.cfg.C2S.SendQueue,
		WriteTimeout: 30 * time.Second,
		SetDeadline:  c.nc.SetWriteDeadline,
		TryWrite:     tryWriter(c),
		OnFail:       c.writeFailed,
	})
	w.Start()
	return w
}

// writeFailed closes the connection after its session writer failed, as
// at the write timeout of a client that stopped reading. The reader then
// ends the session, and its undelivered messages are routed again.
func (c *conn) writeFailed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.log.Info("write timed out; closing the connection", "err", err)
	} else {
		c.log.Debug("write failed; closing the connection", "err", err)
	}
	c.raw.Close()
}

func (s *session) ID() string               { return s.id }
func (s *session) JID() jid.JID             { return s.jid }
func (s *session) Presence() *stanza.Stanza { return s.presence.Load() }
func (s *session) RosterRequested() bool    { return s.rosterRequested.Load() }
func (s *session) Value(key any) any        { return s.values.load(key) }
func (s *session) SetValue(key, value any)  { s.values.store(key, value) }
func (s *session) Close(err *stream.Error)  { s.closeWith(err) }
func (s *session) String() string           { return s.jid.String() }

// SetPresence stores the session's current presence. Routing reads the
// priority for every message to the bare JID, so it is kept as a number.
// The presence is stored as a copy without the parsed payload that
// reading the priority leaves on p, because an idle session would hold
// that tree for its lifetime.
func (s *session) SetPresence(p *stanza.Stanza) {
	var priority int
	if p != nil {
		priority = p.Priority()
		p = p.Copy()
	}
	s.priority.Store(int32(priority))
	s.presence.Store(p)
}

// Priority returns the priority of the current presence, 0 when there is
// none. router.Priority uses it through an optional interface.
func (s *session) Priority() int { return int(s.priority.Load()) }

// MarkRosterRequested records that the client fetched its roster; the
// roster module calls it through this optional interface.
func (s *session) MarkRosterRequested() { s.rosterRequested.Store(true) }

// Detached reports whether the session waits for resumption with no
// connection; push notifications use it through an optional interface.
func (s *session) Detached() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c == nil && !s.ended
}

// owns reports whether c is the session's current connection.
func (s *session) owns(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c == c
}

// Deliver queues a stanza for the client. It never blocks. While the
// client is inactive (XEP-0352) presence and chat states are held back.
// With stream management every stanza is kept until acknowledged. When
// the write queue is full the client is a slow consumer: its connection
// is closed; with resumable stream management the stanzas wait for
// resumption, otherwise the messages that did not fit are routed again
// (to another resource or offline storage) once the session has ended.
//
// TODO: without stream management, the messages already serialized into
// the writer's queue are lost when the connection closes unread.
func (s *session) Deliver(st *stanza.Stanza) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		s.reroute(st)
		return
	}
	if s.csi.hold(st) {
		s.mu.Unlock()
		return
	}
	var err error
	for _, held := range s.csi.flushFor(st) {
		if err = s.deliverLocked(held); err != nil {
			break
		}
	}
	if err == nil {
		err = s.deliverLocked(st)
	}
	c := s.c
	s.mu.Unlock()
	if err == nil || c == nil {
		return
	}
	if errors.Is(err, stream.ErrQueueFull) {
		s.log.Warn("slow consumer; closing stream", "queue", s.srv.cfg.C2S.SendQueue)
		s.dropConnection(c, stream.PolicyViolation.WithText("too many unread stanzas"))
	}
}

// deliverLocked writes st, recording it for stream management; s.mu is
// held.
func (s *session) deliverLocked(st *stanza.Stanza) error {
	if s.sm != nil {
		if err := s.sm.track(st, s.srv.cfg.C2S.MaxUnacked); err != nil {
			s.overflow = append(s.overflow, st)
			go s.closeWith(stream.PolicyViolation.WithText("too many unacknowledged stanzas"))
			return nil
		}
		if s.c == nil {
			return nil // detached: kept for resumption
		}
		err := s.w.SendStanza(st)
		if err == nil && s.sm.wantAck() {
			s.w.SendRaw(smRequest)
		}
		if errors.Is(err, stream.ErrWriterClosed) {
			return nil // the connection is going; the stanza waits in the queue
		}
		return err
	}
	if s.c == nil {
		s.overflow = append(s.overflow, st)
		return nil
	}
	err := s.w.SendStanza(st)
	if err != nil && st.Name == stanza.Message {
		s.overflow = append(s.overflow, st)
	}
	return err
}

// closeWith ends the session from any goroutine: it writes what is
// queued, then err and the closing tag, and closes the connection. A
// stream-management session closed this way is not resumable.
func (s *session) closeWith(err *stream.Error) {
	s.mu.Lock()
	s.closing = true
	c, w := s.c, s.w
	s.mu.Unlock()
	if c == nil {
		s.end(err) // detached: nothing to write to
		return
	}
	if c.writeFinal(w, err) {
		go func() {
			waitWriter(w)
			c.closed.Store(true)
			c.raw.Close()
		}()
	}
}

// dropConnection closes the connection without ending the session, as
// for a dead or slow connection: with resumable stream management the
// session then waits for resumption.
func (s *session) dropConnection(c *conn, err *stream.Error) {
	if c.writeFinal(s.writerOf(c), err) {
		go func() {
			waitWriter(s.writerOf(c))
			c.raw.Close()
		}()
	}
}

func (s *session) writerOf(c *conn) *stream.Writer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == c {
		return s.w
	}
	return nil
}

// writeFinal queues err and the closing tag once per connection; it
// reports whether this call queued them.
func (c *conn) writeFinal(w *stream.Writer, err *stream.Error) bool {
	if w == nil || !c.finalSent.CompareAndSwap(false, true) {
		return false
	}
	w.Close(c.finalBytes(err)...)
	return true
}

func waitWriter(w *stream.Writer) {
	if w == nil {
		return
	}
	select {
	case <-w.Done():
	case <-time.After(10 * time.Second):
	}
}

// connectionEnded is called by a connection's reader when its stream
// ended with err. The session detaches when stream management allows
// resumption and the connection broke; otherwise it ends.
func (s *session) connectionEnded(c *conn, se *stream.Error, clean bool) {
	s.mu.Lock()
	if s.c != c {
		s.mu.Unlock()
		return // resumed on another connection meanwhile
	}
	resumable := s.sm != nil && s.sm.resumable && !s.closing && !clean &&
		(se == nil || se.Condition == stream.ConnectionTimeout.Condition || se.Condition == stream.PolicyViolation.Condition)
	w := s.w
	s.mu.Unlock()
	switch {
	case resumable && se == nil:
		// The connection broke: nothing more can be written to it.
		if c.finalSent.CompareAndSwap(false, true) {
			w.Close()
		}
	case c.writeFinal(w, se):
		waitWriter(w)
		c.linger()
	}
	c.closed.Store(true)
	c.raw.Close()
	if resumable {
		s.detach(c)
		return
	}
	s.end(se)
}

// end removes the session for good: it leaves the session table (which
// broadcasts unavailable presence), and routes again the messages it
// could not deliver or that the client never acknowledged.
func (s *session) end(se *stream.Error) {
	s.endOnce.Do(func() {
		s.mu.Lock()
		s.ended = true
		lost := s.overflow
		s.overflow = nil
		if s.sm != nil {
			lost = append(lost, s.sm.takeUnacked()...)
			s.sm.stopTimer()
			s.srv.sm.remove(s.sm.id, s)
		}
		lost = append(lost, s.csi.takeHeld()...)
		s.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.srv.router.Unbind(ctx, s)
		for _, m := range lost {
			s.reroute(m)
		}
		s.log.Debug("session ended")
	})
}

// reroute passes a stanza the client never received back to the router:
// messages go to the account's other resources or offline storage, iq
// requests get an error reply, presence is dropped.
func (s *session) reroute(st *stanza.Stanza) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	switch st.Name {
	case stanza.Message:
		if st.Type == "error" || st.Type == "groupchat" || st.Type == "headline" {
			return
		}
		m := st.Copy()
		m.To = s.jid.Bare()
		s.srv.router.Deliver(ctx, m)
	case stanza.IQ:
		if st.Type == "get" || st.Type == "set" {
			s.srv.router.Bounce(ctx, st, stanza.ServiceUnavailable)
		}
	}
}

// handle processes one element the client sent after bind.
func (s *session) handle(el *stanza.Stanza) error {
	ctx := context.Background()
	if el.Space != stanza.NSClient {
		return s.handleNonza(ctx, el)
	}
	switch el.Name {
	case stanza.Message, stanza.Presence, stanza.IQ:
	default:
		return stream.UnsupportedStanzaType
	}
	s.countInbound()
	if err := s.stampFrom(el); err != nil {
		return err
	}
	if el.RawTo != "" {
		to, err := parseAddress(el.RawTo)
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
	s.srv.router.RouteFromSession(ctx, s, el)
	return nil
}

func (s *session) handleNonza(ctx context.Context, el *stanza.Stanza) error {
	switch el.Space {
	case nsSM:
		return s.handleSM(el)
	case nsCSI:
		return s.handleCSI(el)
	}
	if h := s.srv.nonzas[el.Space]; h != nil {
		return h(ctx, s, el)
	}
	return stream.UnsupportedStanzaType
}

// stampFrom enforces RFC 6120 §8.1.2.1: a 'from' the client sets must be
// its full or bare JID; the server always stamps the full JID.
func (s *session) stampFrom(el *stanza.Stanza) error {
	if el.RawFrom != "" {
		from, err := parseAddress(el.RawFrom)
		if err != nil || !(from.Equal(s.jid) || from.Equal(s.jid.Bare())) {
			return stream.InvalidFrom
		}
	}
	el.From = s.jid
	return nil
}

// reply sends an error for el straight back to this session. The error
// comes from the server's domain because the address in question may be
// invalid.
func (s *session) reply(el *stanza.Stanza, se *stanza.Error) {
	if el.Type == "error" {
		return
	}
	r := stanza.ErrorReply(el, se, jid.MustParse(s.jid.Domainpart()))
	r.To = s.jid
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
