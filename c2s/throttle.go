package c2s

import (
	"slices"
	"sync"
	"time"
)

// The delay before the server responds to a login to an account that has
// reached auth.max_failures_per_account, from an address that has not
// logged in to that account within auth.failure_window. It starts at
// accountDelayBase and doubles with each further failure against the
// account, up to accountDelayMax.
const (
	accountDelayBase = time.Second
	accountDelayMax  = 5 * time.Second
)

// maxLoginAddrs is the number of addresses per account whose logins the
// throttle stores. A login from another address replaces the oldest.
const maxLoginAddrs = 8

// sweepInterval is the minimum time between two scans that drop expired
// records, so that a burst of logins or failures does not rescan the
// tables each time.
const sweepInterval = time.Second

// authThrottle counts failed authentications per IP address and per
// account within a window, and stores the addresses that logged in to each
// account within the window.
//
// An address that reaches maxIP failures is rejected until the window has
// passed since its first counted failure. An account that reaches
// maxAccount failures is never rejected. Instead, the server delays its
// response to logins to it from addresses that have not logged in to it
// within the window, so guessing slows down while the owner can still log
// in with the right password.
//
// A failure count expires one window after its first failure, and a
// stored login one window after it happened. Failures and logins drop
// expired records, at most once per sweepInterval. A failure adds at most
// one address record and one account record, and a login at most one
// account record with at most maxLoginAddrs addresses. So the tables hold
// at most two records per failure and one per login of the last window
// and sweepInterval.
type authThrottle struct {
	maxIP, maxAccount int
	window            time.Duration
	now               func() time.Time

	mu        sync.Mutex
	ips       map[string]*failCount     // guarded by mu
	accounts  map[string]*accountRecord // guarded by mu, keyed by bare JID
	lastSweep time.Time                 // guarded by mu
}

// failCount is the number of failures since start.
type failCount struct {
	n     int
	start time.Time
}

// accountRecord is the throttle state of one account name, whether or not
// an account of that name exists.
type accountRecord struct {
	fails  failCount
	logins []addrLogin // oldest first
}

// addrLogin is the time of the last successful login from one address.
type addrLogin struct {
	ip string
	at time.Time
}

func newAuthThrottle(maxIP, maxAccount int, window time.Duration) *authThrottle {
	return &authThrottle{
		maxIP:      maxIP,
		maxAccount: maxAccount,
		window:     window,
		now:        time.Now,
		ips:        make(map[string]*failCount),
		accounts:   make(map[string]*accountRecord),
	}
}

// add counts one failure at now, starting a new window when the current
// one has passed, and returns the count.
func (fc *failCount) add(now time.Time, window time.Duration) int {
	if fc.n == 0 || now.Sub(fc.start) >= window {
		fc.n, fc.start = 0, now
	}
	fc.n++
	return fc.n
}

// current returns the count at now, which is zero once the window has
// passed.
func (fc *failCount) current(now time.Time, window time.Duration) int {
	if now.Sub(fc.start) >= window {
		return 0
	}
	return fc.n
}

// fail records a failed login from ip against account, which is empty
// when the username is not a valid JID localpart. A limit of zero records
// nothing. Each result is true only for the failure that reaches that
// limit, so that callers log it once per window.
func (t *authThrottle) fail(ip, account string) (ipLimitReached, accountLimitReached bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.sweepLocked(now)

	if t.maxIP > 0 {
		fc := t.ips[ip]
		if fc == nil {
			fc = &failCount{}
			t.ips[ip] = fc
		}
		ipLimitReached = fc.add(now, t.window) == t.maxIP
	}
	if t.maxAccount > 0 && account != "" {
		r := t.accountLocked(account)
		accountLimitReached = r.fails.add(now, t.window) == t.maxAccount
	}
	return ipLimitReached, accountLimitReached
}

// succeeded records a login from ip to account, which exempts ip from the
// account's delay for the window.
func (t *authThrottle) succeeded(ip, account string) {
	if t.maxAccount <= 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.sweepLocked(now)

	r := t.accountLocked(account)
	r.logins = slices.DeleteFunc(r.logins, func(l addrLogin) bool { return l.ip == ip })
	if len(r.logins) >= maxLoginAddrs {
		r.logins = slices.Delete(r.logins, 0, len(r.logins)-maxLoginAddrs+1)
	}
	r.logins = append(r.logins, addrLogin{ip: ip, at: now})
}

// blockedIP reports whether ip has reached its failure limit within the
// window.
func (t *authThrottle) blockedIP(ip string) bool {
	if t.maxIP <= 0 {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fc := t.ips[ip]
	return fc != nil && fc.current(t.now(), t.window) >= t.maxIP
}

// accountDelay returns how long to wait before responding to a login from
// ip to account whose credentials were checked. It is zero unless the
// account has reached its failure limit within the window and ip has not
// logged in to it within the window.
func (t *authThrottle) accountDelay(ip, account string) time.Duration {
	if t.maxAccount <= 0 || account == "" {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	r := t.accounts[account]
	if r == nil {
		return 0
	}
	beyond := r.fails.current(now, t.window) - t.maxAccount
	if beyond < 0 {
		return 0
	}
	for _, l := range r.logins {
		if l.ip == ip && now.Sub(l.at) < t.window {
			return 0
		}
	}
	return delayAfter(beyond)
}

// delayAfter returns the delay when beyond failures have been counted past
// the account's limit.
func delayAfter(beyond int) time.Duration {
	d := accountDelayBase
	for i := 0; i < beyond && d < accountDelayMax; i++ {
		d *= 2
	}
	return min(d, accountDelayMax)
}

func (t *authThrottle) accountLocked(account string) *accountRecord {
	r := t.accounts[account]
	if r == nil {
		r = &accountRecord{}
		t.accounts[account] = r
	}
	return r
}

// sweepLocked drops the records whose window has passed, at most once per
// sweepInterval. Lookups check the window themselves, so a record that
// has expired but is not yet dropped has no effect.
func (t *authThrottle) sweepLocked(now time.Time) {
	if now.Sub(t.lastSweep) < sweepInterval {
		return
	}
	t.lastSweep = now
	for ip, fc := range t.ips {
		if fc.current(now, t.window) == 0 {
			delete(t.ips, ip)
		}
	}
	for account, r := range t.accounts {
		r.logins = slices.DeleteFunc(r.logins, func(l addrLogin) bool { return now.Sub(l.at) >= t.window })
		if len(r.logins) == 0 && r.fails.current(now, t.window) == 0 {
			delete(t.accounts, account)
		}
	}
}
