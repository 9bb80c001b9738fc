// Package push implements Push Notifications (XEP-0357). A client
// registers an app server's XMPP push service (a JID and a node) for its
// account. While the account has no connected session, because every
// session waits for stream-management resumption or none exists, each
// message worth a notification makes the server publish a summary to
// every registered node. The app server then wakes the phone through its
// platform's push service, and the client reconnects.
//
// Registrations persist in the account's key-value store. Notifications
// are rate-limited per registration, and an app server that responds
// with an error of type cancel loses its registration, as the XEP's
// section on publish errors recommends.
package push

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// Namespaces and form types used by push notifications.
const (
	// NS is the XEP-0357 namespace of <enable/>, <disable/> and
	// <notification/>.
	NS                 = "urn:xmpp:push:0"
	nsPubSub           = "http://jabber.org/protocol/pubsub"
	nsData             = "jabber:x:data"
	formSummary        = "urn:xmpp:push:summary"
	formPublishOptions = "http://jabber.org/protocol/pubsub#publish-options"
)

// MaxRegistrations is how many app server nodes one account may register.
// Each one receives a notification per message, so the limit bounds the
// work one account can cause.
const MaxRegistrations = 10

// hookOrder places the push hooks after blocking, carbons and archiving
// and before offline storage, which runs at router.OrderLast and stops
// the chain once it has stored a message.
const hookOrder = router.OrderLast - 100

// responseTimeout is how long a notification waits for the app server's
// response. An unanswered notification keeps its registration.
const responseTimeout = time.Minute

func init() {
	modules.Register(modules.Module{Name: "push", New: start})
}

// module holds the registrations and the per-account notification state.
type module struct {
	host        router.Host
	regs        *registry
	log         *slog.Logger
	includeBody bool
	minInterval time.Duration
	now         func() time.Time

	mu       sync.Mutex
	accounts map[string]*accountState // bare JID → state; guarded by mu
	pending  map[string]*pendingPush  // iq id → notification; guarded by mu
}

func start(env *modules.Env) error {
	m := newModule(env.Host, env.Store, env.Config.Push.IncludeBody, env.Config.Push.MinInterval)
	h := env.Host
	h.HandleIQ(router.ScopeAccount, NS, m.handleIQ)
	h.AddFeature(router.ScopeAccount, NS)
	h.Hook(router.Inbound, stanza.Message, hookOrder, m.inboundMessage)
	h.Hook(router.Undeliverable, stanza.Message, hookOrder, m.undeliverable)
	// Responses to notifications are taken before any other hook can
	// drop them.
	h.Hook(router.Inbound, stanza.IQ, router.OrderFirst, m.response)
	h.OnSession(router.SessionBound, func(_ context.Context, s router.Session) {
		m.reset(s.JID().Bare())
	})
	return nil
}

func newModule(h router.Host, kv storage.KV, includeBody bool, minInterval time.Duration) *module {
	return &module{
		host:        h,
		regs:        &registry{kv: kv},
		log:         h.Logger("push"),
		includeBody: includeBody,
		minInterval: minInterval,
		now:         time.Now,
		accounts:    make(map[string]*accountState),
		pending:     make(map[string]*pendingPush),
	}
}

// handleIQ serves <enable/> and <disable/>, which only the account itself
// may send.
func (m *module) handleIQ(ctx context.Context, iq *stanza.Stanza, el *stanza.Element) (*stanza.Stanza, error) {
	account := iq.From.Bare()
	if !stanza.IsZero(iq.To) && !iq.To.Bare().Equal(account) {
		return nil, stanza.Forbidden.WithText("push notifications are configured by the account only")
	}
	if iq.Type != "set" {
		return nil, stanza.BadRequest.WithText("enable and disable are iqs of type set")
	}
	switch el.Name.Local {
	case "enable":
		return m.enable(ctx, iq, account, el)
	case "disable":
		return m.disable(ctx, iq, account, el)
	}
	return nil, stanza.BadRequest.WithText("expected <enable/> or <disable/>")
}

func (m *module) enable(ctx context.Context, iq *stanza.Stanza, account jid.JID, el *stanza.Element) (*stanza.Stanza, error) {
	reg, err := parseEnable(el)
	if err != nil {
		return nil, err
	}
	if m.host.IsLocal(reg.Service.Domainpart()) {
		return nil, stanza.NotAcceptable.WithText("the push service must be an app server, not an address of this server")
	}
	if err := m.regs.put(ctx, ownerOf(account), reg); err != nil {
		return nil, err
	}
	m.log.Debug("push enabled", "jid", account.String(), "service", reg.Service.String())
	return stanza.Result(iq), nil
}

func (m *module) disable(ctx context.Context, iq *stanza.Stanza, account jid.JID, el *stanza.Element) (*stanza.Stanza, error) {
	service, node, err := parseDisable(el)
	if err != nil {
		return nil, err
	}
	n, err := m.regs.remove(ctx, ownerOf(account), service, node)
	if err != nil {
		return nil, err
	}
	m.log.Debug("push disabled", "jid", account.String(), "service", service.String(), "removed", n)
	return stanza.Result(iq), nil
}

func ownerOf(bare jid.JID) storage.Owner {
	return storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()}
}
