package c2s

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strconv"
	"sync"
	"time"

	"tern/stanza"
	"tern/stream"
)

// nsSM is the namespace of XEP-0198 Stream Management.
const nsSM = "urn:xmpp:sm:3"

var (
	smRequest           = []byte("<r xmlns='" + nsSM + "'/>")
	errTooManyUnacked   = errors.New("c2s: too many unacknowledged stanzas")
	handledCountTooHigh = &stream.Error{
		Condition: "undefined-condition",
		Text:      "the acknowledged count is higher than the number of stanzas sent",
		App:       stanza.NewElement(nsSM, "handled-count-too-high"),
	}
)

// smState is the stream management state of a session; the session's mu
// guards it.
type smState struct {
	id        string
	resumable bool
	// sent counts stanzas handed to the client since enable, modulo 2^32;
	// acked is the client's last acknowledged count. unacked holds the
	// stanzas numbered acked+1 … sent.
	sent, acked uint32
	unacked     []*stanza.Stanza
	received    uint32 // stanzas received from the client
	lastRequest uint32 // value of sent when <r/> was last sent
	timer       *time.Timer
}

// ackEvery is how many unacknowledged stanzas make the server ask the
// client for an acknowledgement.
const ackEvery = 5

func (m *smState) track(st *stanza.Stanza, max int) error {
	if len(m.unacked) >= max {
		return errTooManyUnacked
	}
	m.unacked = append(m.unacked, st)
	m.sent++
	return nil
}

func (m *smState) wantAck() bool {
	if m.sent-m.lastRequest >= ackEvery {
		m.lastRequest = m.sent
		return true
	}
	return false
}

// ack drops the stanzas the client acknowledged with count h. It fails
// when h acknowledges more than was sent (XEP-0198 §4).
func (m *smState) ack(h uint32) error {
	n := h - m.acked // wraps like the counter itself
	if n > uint32(len(m.unacked)) {
		return handledCountTooHigh
	}
	m.unacked = m.unacked[n:]
	m.acked = h
	return nil
}

func (m *smState) takeUnacked() []*stanza.Stanza {
	out := m.unacked
	m.unacked = nil
	return out
}

func (m *smState) stopTimer() {
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
}

// smRegistry maps resumption ids to sessions.
type smRegistry struct {
	mu sync.Mutex
	m  map[string]*session
}

func (r *smRegistry) add(id string, s *session) {
	r.mu.Lock()
	if r.m == nil {
		r.m = make(map[string]*session)
	}
	r.m[id] = s
	r.mu.Unlock()
}

func (r *smRegistry) get(id string) *session {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[id]
}

func (r *smRegistry) remove(id string, s *session) {
	r.mu.Lock()
	if r.m[id] == s {
		delete(r.m, id)
	}
	r.mu.Unlock()
}

func smFailed(cond string, h *uint32) []byte {
	el := stanza.NewElement(nsSM, "failed")
	if h != nil {
		el.SetAttr("h", strconv.FormatUint(uint64(*h), 10))
	}
	el.Add(stanza.NewElement(stanza.NSStanzas, cond))
	return el.AppendXML(nil, "")
}

func parseH(el *stanza.Stanza) (uint32, bool) {
	p, err := el.Payload()
	if err != nil {
		return 0, false
	}
	h, err := strconv.ParseUint(p.AttrValue("h"), 10, 32)
	return uint32(h), err == nil
}

// handleSM handles stream management elements after bind.
func (s *session) handleSM(el *stanza.Stanza) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch el.Name {
	case "enable":
		if s.sm != nil {
			return s.w.SendRaw(smFailed("unexpected-request", nil))
		}
		return s.enableLocked(el)
	case "r":
		if s.sm == nil {
			return s.w.SendRaw(smFailed("unexpected-request", nil))
		}
		return s.w.SendRaw([]byte("<a xmlns='" + nsSM + "' h='" + strconv.FormatUint(uint64(s.sm.received), 10) + "'/>"))
	case "a":
		if s.sm == nil {
			return nil
		}
		h, ok := parseH(el)
		if !ok {
			return stream.BadFormat.WithText("invalid h")
		}
		if err := s.sm.ack(h); err != nil {
			return err
		}
		return nil
	}
	return stream.UnsupportedStanzaType
}

func (s *session) enableLocked(el *stanza.Stanza) error {
	p, _ := el.Payload()
	var b [18]byte
	rand.Read(b[:])
	s.sm = &smState{id: base64.RawURLEncoding.EncodeToString(b[:])}
	timeout := s.srv.cfg.C2S.ResumeTimeout
	want := p != nil && (p.AttrValue("resume") == "true" || p.AttrValue("resume") == "1")
	enabled := stanza.NewElement(nsSM, "enabled")
	if want && timeout > 0 {
		s.sm.resumable = true
		s.srv.sm.add(s.sm.id, s)
		enabled.SetAttr("id", s.sm.id)
		enabled.SetAttr("resume", "true")
		enabled.SetAttr("max", strconv.Itoa(int(timeout/time.Second)))
	}
	return s.w.SendRaw(enabled.AppendXML(nil, ""))
}

// countInbound counts a stanza received from the client.
func (s *session) countInbound() {
	s.mu.Lock()
	if s.sm != nil {
		s.sm.received++
	}
	s.mu.Unlock()
}

// detach keeps a resumable session after its connection c broke, until
// it is resumed or the resumption window passes.
func (s *session) detach(c *conn) {
	s.mu.Lock()
	if s.c != c || s.ended {
		s.mu.Unlock()
		return
	}
	s.c, s.w = nil, nil
	s.sm.timer = time.AfterFunc(s.srv.cfg.C2S.ResumeTimeout, s.expire)
	s.mu.Unlock()
	s.log.Debug("session detached; waiting for resumption")
}

// expire ends a detached session whose resumption window passed.
func (s *session) expire() {
	s.mu.Lock()
	detached := s.c == nil
	s.mu.Unlock()
	if detached {
		s.log.Debug("resumption window passed")
		s.end(nil)
	}
}

// smPreBind handles stream management before bind: resumption, and
// enable, which needs a bound resource (XEP-0198 §3).
func (c *conn) smPreBind(el *stanza.Stanza) error {
	switch el.Name {
	case "resume":
		return c.resume(el)
	case "enable", "r", "a":
		return c.write(smFailed("unexpected-request", nil))
	}
	return stream.UnsupportedStanzaType
}

// resume attaches the session named by previd to this connection
// (XEP-0198 §5). Only the account that owns the session may resume it;
// every other id, unknown or expired, gets the same item-not-found.
func (c *conn) resume(el *stanza.Stanza) error {
	p, err := el.Payload()
	if err != nil {
		return stream.BadFormat
	}
	h, ok := parseH(el)
	if !ok {
		return c.write(smFailed("bad-request", nil))
	}
	s := c.srv.sm.get(p.AttrValue("previd"))
	if s == nil || s.jid.Localpart() != c.user || s.jid.Domainpart() != c.domain {
		return c.write(smFailed("item-not-found", nil))
	}
	s.mu.Lock()
	if s.ended || s.sm == nil {
		s.mu.Unlock()
		return c.write(smFailed("item-not-found", nil))
	}
	if err := s.sm.ack(h); err != nil {
		s.mu.Unlock()
		return err
	}
	s.sm.stopTimer()

	old, oldWriter := s.c, s.w
	s.c = c
	s.w = c.newWriter()
	c.sess = s
	resumed := stanza.NewElement(nsSM, "resumed", "previd", s.sm.id, "h", strconv.FormatUint(uint64(s.sm.received), 10))
	s.w.SendRaw(resumed.AppendXML(nil, ""))
	for _, st := range s.sm.unacked {
		s.w.SendStanza(st)
	}
	resent := len(s.sm.unacked)
	s.mu.Unlock()

	if old != nil {
		// The old connection may still look alive; it no longer owns the
		// session, so closing it ends nothing.
		if oldWriter != nil {
			oldWriter.Close()
		}
		old.raw.Close()
	}
	c.log.Debug("session resumed", "unacked", resent)
	return nil
}
