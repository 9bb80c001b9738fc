// Package offline stores messages for accounts with no available session
// (XEP-0160) and delivers them, with XEP-0203 delay stamps, when the
// account next sends initial presence with a non-negative priority.
package offline

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

// NS is the feature advertised for flexible offline message retrieval's
// simpler sibling: the server stores messages for offline accounts.
const NS = "msgoffline"

func init() {
	modules.Register(modules.Module{Name: "offline", Order: 20, New: start})
}

type module struct {
	host  router.Host
	store storage.Offline
	limit int
	log   *slog.Logger

	mu       sync.Mutex
	fullLogs map[string]time.Time // account → last "queue full" log line; guarded by mu
}

// fullLogInterval is how often a full queue is logged per account, so a
// flood of messages to one account does not flood the log.
const fullLogInterval = time.Minute

// shouldLogFull reports whether a full queue for account is logged now.
func (m *module) shouldLogFull(account string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	if now.Sub(m.fullLogs[account]) < fullLogInterval {
		return false
	}
	if m.fullLogs == nil || len(m.fullLogs) > 10000 {
		m.fullLogs = make(map[string]time.Time)
	}
	m.fullLogs[account] = now
	return true
}

func start(env *modules.Env) error {
	if env.Config.Offline.MaxMessages == 0 {
		return nil // offline storage disabled; undeliverable messages bounce
	}
	m := &module{host: env.Host, store: env.Store, limit: env.Config.Offline.MaxMessages, log: env.Host.Logger("offline")}
	env.Host.Hook(router.Undeliverable, stanza.Message, router.OrderLast, m.storeMessage)
	env.Host.OnSession(router.SessionAvailable, m.deliver)
	env.Host.AddFeature(router.ScopeServer, NS)
	return nil
}

// storable reports whether XEP-0160 §3 asks to store a message: normal or
// chat messages with content worth keeping, not chat states alone.
func storable(s *stanza.Stanza) bool {
	switch s.Type {
	case "", "normal", "chat":
	default:
		return false
	}
	for _, c := range s.Children() {
		switch c.Name.Space {
		case "http://jabber.org/protocol/chatstates", "urn:xmpp:receipts", "urn:xmpp:chat-markers:0", "urn:xmpp:hints":
			continue
		}
		return true
	}
	return false
}

func (m *module) storeMessage(ctx context.Context, ev *router.Event) router.Result {
	s := ev.Stanza
	if !storable(s) {
		return router.Stop // nothing to keep; dropped silently as XEP-0160 allows
	}
	stamped := s.Copy()
	delay := stanza.NewElement(stanza.NSDelay, "delay",
		"from", s.To.Domainpart(),
		"stamp", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
	stamped.Inner = delay.AppendXML(append([]byte(nil), s.Inner...), stanza.NSClient)
	o := storage.Owner{Domain: s.To.Domainpart(), Local: s.To.Localpart()}
	err := m.store.PushOffline(ctx, o, stamped.AppendXML(nil, ""), m.limit)
	switch {
	case errors.Is(err, storage.ErrLimit):
		if account := s.To.Bare().String(); m.shouldLogFull(account) {
			m.log.Info("offline queue full; bouncing messages", "jid", account, "limit", m.limit)
		}
		return router.Continue // the router bounces it with service-unavailable
	case err != nil:
		m.log.Error("store offline message", "err", err, "jid", s.To.Bare().String())
		return router.Continue
	}
	return router.Stop
}

// deliver sends stored messages to a session that became available with a
// non-negative priority.
func (m *module) deliver(ctx context.Context, sess router.Session) {
	if router.Priority(sess) < 0 {
		return
	}
	j := sess.JID()
	msgs, err := m.store.PopOffline(ctx, storage.Owner{Domain: j.Domainpart(), Local: j.Localpart()})
	if err != nil {
		m.log.Error("load offline messages", "err", err, "jid", j.Bare().String())
		return
	}
	for _, om := range msgs {
		s, err := stream.ParseStanza(om.Stanza)
		if err != nil {
			m.log.Error("parse offline message", "err", err, "id", om.ID)
			continue
		}
		if stanza.IsZero(s.To) {
			s.To = j.Bare()
		}
		sess.Deliver(s)
	}
}
