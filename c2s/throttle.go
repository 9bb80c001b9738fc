package c2s

import (
	"sync"
	"time"
)

// authThrottle counts failed authentications per IP address and per
// account within a window. Once a key reaches its limit, authentication
// from that address or for that account is refused until the window has
// passed since the first counted failure.
type authThrottle struct {
	maxIP, maxAccount int
	window            time.Duration

	mu     sync.Mutex
	counts map[string]*failCount // guarded by mu
}

type failCount struct {
	n     int
	start time.Time
}

func newAuthThrottle(maxIP, maxAccount int, window time.Duration) *authThrottle {
	return &authThrottle{maxIP: maxIP, maxAccount: maxAccount, window: window, counts: make(map[string]*failCount)}
}

// fail records a failure and reports whether a limit is now reached.
func (t *authThrottle) fail(ip, account string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := time.Now()
	t.expireLocked(now)
	hit := t.incLocked("ip:"+ip, now) >= t.maxIP && t.maxIP > 0
	if account != "" {
		hit = t.incLocked("acct:"+account, now) >= t.maxAccount && t.maxAccount > 0 || hit
	}
	return hit
}

func (t *authThrottle) incLocked(key string, now time.Time) int {
	fc := t.counts[key]
	if fc == nil {
		fc = &failCount{start: now}
		t.counts[key] = fc
	}
	fc.n++
	return fc.n
}

// expireLocked drops counters older than the window. It runs on every
// failure, so the map holds only keys that failed recently.
func (t *authThrottle) expireLocked(now time.Time) {
	for k, fc := range t.counts {
		if now.Sub(fc.start) >= t.window {
			delete(t.counts, k)
		}
	}
}

func (t *authThrottle) blocked(key string, limit int) bool {
	if limit <= 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fc := t.counts[key]
	if fc == nil {
		return false
	}
	if time.Since(fc.start) >= t.window {
		delete(t.counts, key)
		return false
	}
	return fc.n >= limit
}

func (t *authThrottle) blockedIP(ip string) bool { return t.blocked("ip:"+ip, t.maxIP) }

func (t *authThrottle) blockedAccount(account string) bool {
	return t.blocked("acct:"+account, t.maxAccount)
}
