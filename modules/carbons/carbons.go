// Package carbons implements Message Carbons (XEP-0280, namespace
// urn:xmpp:carbons:2): a client that enables carbons gets a copy of every
// chat message its account sends or receives on its other resources, so
// that every device of the user shows both sides of each conversation.
//
// Each client session enables or disables carbons for itself with an iq
// set to its own account. Copies are made in router hooks at
// router.OrderCarbons, after the blocking module has dropped what a
// blocklist forbids:
//   - Inbound: for a message to the account, every available
//     carbons-enabled session that does not get the original gets it
//     wrapped in <received/>. The hook decides which sessions get the
//     original by applying the same rules as the router's delivery
//     (RFC 6121 §8.5): the session of the addressed full JID, or, for a
//     bare JID or an absent resource, the available sessions with the
//     highest non-negative priority. The router exposes no delivery
//     result to hooks, so a session that changes its presence between
//     the hook and the delivery can get the original and a copy, or
//     neither.
//   - Outbound: a message a client sends goes, wrapped in <sent/>, to the
//     account's other available carbons-enabled sessions.
//
// Copies come from the account's bare JID, and a client trusts a carbon
// only from there (XEP-0280, "Security Considerations"). So that no client
// ever sees a forged one, a message that carries a carbons <received/> or
// <sent/> element at any depth is never accepted from anyone but the
// server: a client sending one gets <not-acceptable/>, and one arriving
// for a local account from any sender other than the account's bare JID
// is dropped before delivery, offline storage or archiving. This is the
// class of flaw behind CVE-2017-5589, where clients accepted carbons that
// another user had sent.
package carbons

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// Namespaces of XEP-0280 and XEP-0297.
const (
	// NS is the namespace of enable, disable, private, received and sent.
	NS = "urn:xmpp:carbons:2"
	// NSForward is the namespace of the <forwarded/> wrapper.
	NSForward = "urn:xmpp:forward:0"
)

func init() {
	modules.Register(modules.Module{Name: "carbons", New: start})
}

// enabledKey is the session value that is true while the session has
// carbons enabled.
type enabledKey struct{}

// module copies messages between the sessions of an account.
type module struct {
	host router.Host
	log  *slog.Logger

	// enabled counts the sessions of this node that have carbons enabled.
	// While it is zero, the message hooks return before they look up the
	// sessions of the account. mu orders the changes of the count.
	enabled atomic.Int64
	mu      sync.Mutex
}

func start(env *modules.Env) error {
	newModule(env.Host)
	return nil
}

// newModule registers the module's handlers and hooks with host.
func newModule(host router.Host) *module {
	m := &module{host: host, log: host.Logger("carbons")}
	host.HandleIQ(router.ScopeAccount, NS, m.handleIQ)
	host.Hook(router.Inbound, stanza.Message, router.OrderFirst, m.dropForged)
	host.Hook(router.Inbound, stanza.Message, router.OrderCarbons, m.copyReceived)
	host.Hook(router.Outbound, stanza.Message, router.OrderFirst, m.rejectForged)
	host.Hook(router.Outbound, stanza.Message, router.OrderCarbons, m.copySent)
	host.OnSession(router.SessionClosed, m.sessionClosed)
	host.AddFeature(router.ScopeServer, NS)
	return m
}

// setEnabled records whether sess has carbons enabled.
func (m *module) setEnabled(sess router.Session, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if enabled(sess) == on {
		return
	}
	sess.SetValue(enabledKey{}, on)
	if on {
		m.enabled.Add(1)
	} else {
		m.enabled.Add(-1)
	}
}

func (m *module) sessionClosed(_ context.Context, sess router.Session) {
	m.setEnabled(sess, false)
}

// handleIQ enables or disables carbons for the session that sends the
// request. Repeating either is not an error (XEP-0280, "Handling Multiple
// Enable/Disable Requests").
func (m *module) handleIQ(_ context.Context, iq *stanza.Stanza, payload *stanza.Element) (*stanza.Stanza, error) {
	if !stanza.IsZero(iq.To) && !iq.To.Equal(iq.From.Bare()) {
		return nil, stanza.NotAllowed.WithText("carbons are enabled by each client for itself")
	}
	sess := m.host.Session(iq.From)
	if sess == nil {
		return nil, stanza.NotAllowed
	}
	if iq.Type != "set" {
		return nil, stanza.BadRequest.WithText("expected an iq set with <enable/> or <disable/>")
	}
	switch payload.Name.Local {
	case "enable":
		m.setEnabled(sess, true)
	case "disable":
		m.setEnabled(sess, false)
	default:
		return nil, stanza.BadRequest.WithText("expected <enable/> or <disable/>")
	}
	return stanza.Result(iq), nil
}

// enabled reports whether s has carbons enabled.
func enabled(s router.Session) bool {
	on, _ := s.Value(enabledKey{}).(bool)
	return on
}
