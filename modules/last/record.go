package last

import (
	"context"
	"errors"

	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// statusKey is the session value under which rememberStatus keeps the
// status text of the session's unavailable presence.
type statusKey struct{}

// rememberStatus keeps the <status/> text of a session's broadcast
// unavailable presence for recordLogout, because the SessionUnavailable
// event carries only the session. Available presence clears it, so a
// session that later ends without unavailable presence records no stale
// text.
func (s *service) rememberStatus(_ context.Context, ev *router.Event) router.Result {
	p := ev.Stanza
	if ev.Session == nil || !stanza.IsZero(p.To) {
		return router.Continue
	}
	switch p.Type {
	case "unavailable":
		ev.Session.SetValue(statusKey{}, p.Child("", "status").Text())
	case "":
		ev.Session.SetValue(statusKey{}, "")
	}
	return router.Continue
}

// recordLogout stores the account's last activity when its last available
// session goes unavailable.
//
// NOTE: only sessions on this node are counted; in a cluster another
// node's available session does not stop the record.
func (s *service) recordLogout(ctx context.Context, sess router.Session) {
	account := sess.JID().Bare()
	if s.hasAvailableSession(account, sess) {
		return
	}
	o := owner(account)
	// A session that ends because its account was removed must not leave
	// a record that a new account of the same name would inherit.
	if _, err := s.store.GetAccount(ctx, o); err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			s.log.Warn("read account failed; last activity not stored", "session", sess.ID(), "err", err)
		}
		return
	}
	status, _ := sess.Value(statusKey{}).(string)
	a := storage.LastActivity{Time: s.now(), Status: status}
	if err := s.store.SetLastActivity(ctx, o, a); err != nil {
		s.log.Warn("store last activity failed", "session", sess.ID(), "err", err)
	}
}
