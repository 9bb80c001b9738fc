// Package last handles Last Activity requests (XEP-0012). Addressed to the
// server, it returns the server's uptime. Addressed to a local account's
// bare JID, it returns 0 while the account has an available session, and
// otherwise the time since its last logout with the status text of the
// unavailable presence, which this package records as sessions go
// unavailable.
package last

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// NS is the XEP-0012 namespace.
const NS = "jabber:iq:last"

func init() {
	modules.Register(modules.Module{Name: "last", New: start})
}

// store is the part of storage the module uses: last logouts, the roster
// to check who may ask, and accounts to skip deleted ones.
type store interface {
	SetLastActivity(ctx context.Context, o storage.Owner, a storage.LastActivity) error
	GetLastActivity(ctx context.Context, o storage.Owner) (storage.LastActivity, error)
	GetRosterItem(ctx context.Context, o storage.Owner, contact string) (storage.RosterItem, error)
	GetAccount(ctx context.Context, o storage.Owner) (storage.Account, error)
}

type service struct {
	host    router.Host
	store   store
	log     *slog.Logger
	started time.Time
	now     func() time.Time
}

func start(env *modules.Env) error {
	s := &service{
		host:    env.Host,
		store:   env.Store,
		log:     env.Host.Logger("last"),
		started: time.Now(),
		now:     time.Now,
	}
	h := env.Host
	h.HandleIQ(router.ScopeServer, NS, s.uptime)
	h.HandleIQ(router.ScopeAccount, NS, s.lastLogout)
	h.AddFeature(router.ScopeServer, NS)
	h.AddFeature(router.ScopeAccount, NS)
	h.Hook(router.Outbound, stanza.Presence, router.OrderFirst, s.rememberStatus)
	h.OnSession(router.SessionUnavailable, s.recordLogout)
	return nil
}

// uptime returns the seconds since the server started.
func (s *service) uptime(_ context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if err := checkQuery(iq, q); err != nil {
		return nil, err
	}
	return stanza.Result(iq, lastQuery(s.now().Sub(s.started), "")), nil
}

// lastLogout returns the idle time of an account. Only the account itself
// and contacts with a 'from' or 'both' subscription may ask (XEP-0012 §4),
// and others get forbidden. An account that never logged out and has no
// available session gets service-unavailable, as ejabberd's mod_last
// returns when it has no record.
// NOTE: Prosody's mod_lastactivity returns seconds='0' in that case.
func (s *service) lastLogout(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	account := iq.From.Bare()
	if !stanza.IsZero(iq.To) {
		account = iq.To.Bare()
	}
	ok, err := s.mayAsk(ctx, account, iq.From.Bare())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, stanza.Forbidden
	}
	if err := checkQuery(iq, q); err != nil {
		return nil, err
	}
	if s.hasAvailableSession(account, nil) {
		return stanza.Result(iq, lastQuery(0, "")), nil
	}
	a, err := s.store.GetLastActivity(ctx, owner(account))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return nil, stanza.ServiceUnavailable.WithText("no last activity is known for this account")
	case err != nil:
		return nil, fmt.Errorf("last: read last activity: %w", err)
	}
	return stanza.Result(iq, lastQuery(s.now().Sub(a.Time), a.Status)), nil
}

func checkQuery(iq *stanza.Stanza, q *stanza.Element) error {
	if iq.Type != "get" {
		return stanza.NotAllowed.WithText("only get is defined for last activity")
	}
	if q.Name.Local != "query" {
		return stanza.BadRequest
	}
	return nil
}

// lastQuery returns the <query/> result for an idle time, which is
// rounded down to whole seconds and never negative.
func lastQuery(d time.Duration, status string) *stanza.Element {
	seconds := max(int64(d/time.Second), 0)
	q := stanza.NewElement(NS, "query", "seconds", strconv.FormatInt(seconds, 10))
	return q.AddText(status)
}

// mayAsk reports whether requester is the account itself or a contact
// whose subscription is 'from' or 'both' in the account's roster.
func (s *service) mayAsk(ctx context.Context, account, requester jid.JID) (bool, error) {
	if requester.Equal(account) {
		return true, nil
	}
	item, err := s.store.GetRosterItem(ctx, owner(account), requester.String())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("last: read roster item: %w", err)
	}
	return item.Subscription == storage.SubFrom || item.Subscription == storage.SubBoth, nil
}

// hasAvailableSession reports whether a session of account other than
// except has sent available presence.
func (s *service) hasAvailableSession(account jid.JID, except router.Session) bool {
	for _, sess := range s.host.Sessions(account) {
		if sess != except && router.Available(sess) {
			return true
		}
	}
	return false
}

func owner(bare jid.JID) storage.Owner {
	return storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()}
}
