// Package register implements In-Band Registration (XEP-0077). When
// [registration] enabled is set, clients create accounts before
// authenticating, limited per IP address. Whatever that setting, an
// authenticated client may change its password and remove its own account.
package register

import (
	"context"
	"log/slog"
	"time"

	"mellium.im/xmpp/jid"

	"tern/config"
	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// Namespaces of XEP-0077: the iq payload and the stream feature.
const (
	NS        = "jabber:iq:register"
	NSFeature = "http://jabber.org/features/iq-register"
)

func init() {
	modules.Register(modules.Module{Name: "register", New: start})
}

// service holds the registration settings and the state shared by the
// handlers.
type service struct {
	host        router.Host
	accounts    storage.Accounts
	log         *slog.Logger
	reg         config.Registration
	iterations  int
	hashes      []string
	tlsRequired bool
	limit       *limiter
}

func start(env *modules.Env) error {
	cfg := env.Config
	s := &service{
		host:        env.Host,
		accounts:    env.Store,
		log:         env.Host.Logger("register"),
		reg:         cfg.Registration,
		iterations:  cfg.Auth.SCRAMIterations,
		hashes:      cfg.Auth.SCRAMHashes,
		tlsRequired: cfg.TLS.Required,
		limit:       newLimiter(cfg.Registration.RatePerIP, cfg.Registration.RateWindow, time.Now),
	}
	h := env.Host
	// Password change and removal are served whether or not new accounts
	// may register, so the namespace is always advertised.
	h.AddFeature(router.ScopeServer, NS)
	h.HandleIQ(router.ScopeServer, NS, s.handleAccount)
	h.HandleIQ(router.ScopeAccount, NS, s.handleAccount)
	if cfg.Registration.Enabled {
		h.AddStreamFeature(router.Feature{PreAuth: true, Element: stanza.NewElement(NSFeature, "register")})
		h.HandlePreAuthIQ(NS, s.handlePreAuth)
	}
	return nil
}

// handlePreAuth handles registration requests on a stream that has not
// authenticated: get returns the fields to fill in, set creates the
// account.
func (s *service) handlePreAuth(ctx context.Context, info router.ConnInfo, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if q.Name.Local != "query" {
		return nil, stanza.BadRequest
	}
	if s.tlsRequired && !info.Secure {
		return nil, stanza.NotAuthorized.WithText("registration requires an encrypted stream")
	}
	if iq.Type == "get" {
		return stanza.Result(iq, registrationForm()), nil
	}
	if q.Child(NS, "remove") != nil {
		return nil, registrationRequired.WithText("authenticate to remove an account")
	}
	if err := s.create(ctx, info, q); err != nil {
		return nil, err
	}
	return stanza.Result(iq), nil
}

// handleAccount handles requests of an authenticated account about its own
// registration, whether addressed to its server (as XEP-0077 §3.3 shows),
// to its bare JID or to no one.
func (s *service) handleAccount(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if q.Name.Local != "query" {
		return nil, stanza.BadRequest
	}
	account, ok := s.requester(iq)
	if !ok {
		return nil, stanza.Forbidden.WithText("only an account's own client may manage its registration")
	}
	switch {
	case iq.Type == "get":
		return stanza.Result(iq, registeredInfo(account)), nil
	case q.Child(NS, "remove") != nil:
		return s.cancel(ctx, iq, q, account)
	default:
		return s.changePassword(ctx, iq, q, account)
	}
}

// requester returns the bare JID of the account that sent iq when it may
// manage its registration: a local account addressing its own domain, its
// own bare JID, or no one.
func (s *service) requester(iq *stanza.Stanza) (jid.JID, bool) {
	from := iq.From.Bare()
	if from.Localpart() == "" || !s.host.IsLocal(from.Domainpart()) {
		return jid.JID{}, false
	}
	to := iq.To.Bare()
	switch {
	case stanza.IsZero(to), to.Equal(from):
		return from, true
	case to.Localpart() == "" && to.Domainpart() == from.Domainpart():
		return from, true
	}
	return jid.JID{}, false
}

// registrationRequired is the XEP-0077 condition for removing a
// registration that the requester does not have.
var registrationRequired = &stanza.Error{Type: stanza.ErrAuth, Condition: "registration-required"}

func registrationForm() *stanza.Element {
	return stanza.NewElement(NS, "query").Add(
		stanza.NewElement(NS, "instructions").AddText("Choose a username and password for this server."),
		stanza.NewElement(NS, "username"),
		stanza.NewElement(NS, "password"),
	)
}

// registeredInfo returns the <query/> that shows an authenticated client
// it is registered and which fields it can change. The password is never returned.
func registeredInfo(account jid.JID) *stanza.Element {
	return stanza.NewElement(NS, "query").Add(
		stanza.NewElement(NS, "registered"),
		stanza.NewElement(NS, "username").AddText(account.Localpart()),
		stanza.NewElement(NS, "password"),
	)
}

func owner(bare jid.JID) storage.Owner {
	return storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()}
}
