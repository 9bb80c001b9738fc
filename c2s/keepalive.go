package c2s

import (
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// startKeepalive finds dead connections: after keepalive_interval without
// reading anything, the server pings a bound session (XEP-0199) or sends
// whitespace before bind; with nothing read for ping_timeout more, the
// stream ends with connection-timeout. It returns a function that stops it.
func (c *conn) startKeepalive() func() {
	interval := timeoutOr(c.srv.cfg.C2S.KeepaliveInterval, time.Minute)
	timeout := timeoutOr(c.srv.cfg.C2S.PingTimeout, 30*time.Second)
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped || c.closed.Load() {
			return
		}
		idle := time.Since(time.Unix(0, c.lastRead.Load()))
		switch {
		case idle < interval:
			t.Reset(interval - idle)
		case c.bound.Load() == nil:
			// Before bind the authentication timeout ends idle streams,
			// and a whitespace ping could land inside a TLS handshake.
			t.Reset(interval)
		case idle >= interval+timeout:
			c.log.Debug("keepalive timed out", "idle", idle)
			go c.shutdown(stream.ConnectionTimeout)
		default:
			c.ping()
			t.Reset(interval + timeout - idle)
		}
	}
	t = time.AfterFunc(interval, check)
	return func() {
		mu.Lock()
		stopped = true
		t.Stop()
		mu.Unlock()
	}
}

// ping sends an XEP-0199 ping to the bound session. Before bind it sends
// nothing. It runs on the keepalive timer's goroutine, so it reads c.bound
// because only the goroutine that runs negotiation may read c.sess.
func (c *conn) ping() {
	s := c.bound.Load()
	if s == nil {
		return
	}
	iq := stanza.New(stanza.IQ, "get", s.jid, jid.MustParse(s.jid.Domainpart()),
		stanza.NewElement(nsPing, "ping"))
	iq.ID = "ping-" + stream.NewID()
	s.Deliver(iq)
}
