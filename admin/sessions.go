package admin

import (
	"context"
	"fmt"
	"net"
	"sort"

	"tern/router"
)

// SessionInfo describes one bound client session.
type SessionInfo struct {
	// JID is the full JID the session is bound to.
	JID      string `json:"jid"`
	Resource string `json:"resource"`
	// Priority is the priority of the session's current presence, 0
	// when it has none.
	Priority int `json:"priority"`
	// Available reports whether the session has sent available presence.
	Available bool `json:"available"`
	// Address is the client's remote address, empty when the session
	// does not expose it.
	Address string `json:"address,omitempty"`
}

// remoteAddresser is implemented by sessions that expose the address of
// their client connection.
type remoteAddresser interface {
	RemoteAddr() net.Addr
}

// Sessions returns the sessions bound on this server, sorted by JID. It
// returns ErrNotRunning when the Service has no session table.
func (s *Service) Sessions(ctx context.Context) ([]SessionInfo, error) {
	if s.sessions == nil {
		return nil, ErrNotRunning
	}
	var out []SessionInfo
	s.sessions.EachSession(func(sess router.Session) {
		j := sess.JID()
		info := SessionInfo{
			JID:       j.String(),
			Resource:  j.Resourcepart(),
			Priority:  router.Priority(sess),
			Available: router.Available(sess),
		}
		if ra, ok := sess.(remoteAddresser); ok && ra.RemoteAddr() != nil {
			info.Address = ra.RemoteAddr().String()
		}
		out = append(out, info)
	})
	sort.Slice(out, func(i, k int) bool { return out[i].JID < out[k].JID })
	return out, nil
}

// Stats are counts describing the server.
type Stats struct {
	// Running reports whether the counts come from a running server.
	// When false, Sessions is 0 because no session table was available.
	Running bool `json:"running"`
	// Sessions is the number of sessions bound on this server.
	Sessions int `json:"sessions"`
	// Accounts is the number of accounts per served domain.
	Accounts map[string]int `json:"accounts"`
}

// Stats counts the sessions and the accounts of every served domain.
func (s *Service) Stats(ctx context.Context) (Stats, error) {
	st := Stats{Accounts: make(map[string]int, len(s.domains))}
	if s.sessions != nil {
		st.Running = true
		st.Sessions = s.sessions.SessionCount()
	}
	for _, d := range s.domains {
		n, err := s.accounts.CountAccounts(ctx, d)
		if err != nil {
			return Stats{}, fmt.Errorf("count accounts of %s: %w", d, err)
		}
		st.Accounts[d] = n
	}
	return st, nil
}
