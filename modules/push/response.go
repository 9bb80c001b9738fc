package push

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
)

// idPrefix starts the id of every notification iq, so that the response
// hook passes other iqs on at once.
const idPrefix = "push-"

// pendingPush is a notification waiting for the app server's response.
type pendingPush struct {
	account jid.JID
	reg     registration
	timer   *time.Timer // ends the wait after responseTimeout
}

// publish routes a notification to reg's service, from the account's bare
// JID. It does not wait: the response hook handles the response.
func (m *module) publish(ctx context.Context, account jid.JID, reg registration, sum summary) {
	iq := stanza.New(stanza.IQ, "set", reg.Service, account, notification(reg, sum))
	iq.ID = newID()
	m.track(iq.ID, &pendingPush{account: account, reg: reg})
	// Route may bounce synchronously, which runs the response hook
	// before it returns, so the notification is tracked first.
	m.host.Route(ctx, iq)
}

func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return idPrefix + base64.RawURLEncoding.EncodeToString(b[:])
}

func (m *module) track(id string, p *pendingPush) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pending[id] = p
	p.timer = time.AfterFunc(responseTimeout, func() { m.expire(id) })
}

func (m *module) expire(id string) {
	m.mu.Lock()
	p := m.pending[id]
	delete(m.pending, id)
	m.mu.Unlock()
	if p != nil {
		m.log.Debug("push notification response timed out", "service", p.reg.Service.String(), "timeout", responseTimeout)
	}
}

// response takes the response to a notification: an iq result or error
// with a tracked id, from the service the notification went to, to the
// account that sent it. Every other stanza passes on.
func (m *module) response(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if (s.Type != "result" && s.Type != "error") || !strings.HasPrefix(s.ID, idPrefix) {
		return router.Continue
	}
	m.mu.Lock()
	p := m.pending[s.ID]
	if p == nil || !s.From.Equal(p.reg.Service) || !s.To.Bare().Equal(p.account) {
		m.mu.Unlock()
		return router.Continue
	}
	delete(m.pending, s.ID)
	m.mu.Unlock()
	p.timer.Stop()
	if s.Type == "error" {
		m.failed(ctx, p, stanza.ErrorOf(s))
	}
	return router.Stop
}

// disables reports whether an error response ends a registration: any
// error of type cancel except remote-server-not-found, which servers on
// the way return when they cannot reach the app server at the moment.
// XEP-0357 lets a server keep a registration after a transient error.
func disables(e *stanza.Error) bool {
	return e != nil && e.Type == stanza.ErrCancel && e.Condition != stanza.RemoteServerNotFound.Condition
}

func (m *module) failed(ctx context.Context, p *pendingPush, e *stanza.Error) {
	condition := ""
	if e != nil {
		condition = e.Condition
	}
	if !disables(e) {
		m.log.Debug("push notification failed", "service", p.reg.Service.String(), "condition", condition)
		return
	}
	if _, err := m.regs.remove(ctx, ownerOf(p.account), p.reg.Service, p.reg.Node); err != nil {
		m.log.Error("disable push registration", "err", err, "service", p.reg.Service.String())
		return
	}
	m.log.Info("push registration disabled after an error response", "service", p.reg.Service.String(), "condition", condition)
}
