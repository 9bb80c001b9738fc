package register

import (
	"sync"
	"time"
)

// limiter counts registrations per IP address over a sliding window.
type limiter struct {
	max    int // registrations per window; 0 means no limit
	window time.Duration
	now    func() time.Time

	mu        sync.Mutex
	byIP      map[string][]time.Time // start times of counted registrations, oldest first; guarded by mu
	lastSweep time.Time              // guarded by mu
}

func newLimiter(maxPerWindow int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: maxPerWindow, window: window, now: now, byIP: make(map[string][]time.Time)}
}

// reserve counts a registration from ip if the window has room for it. It
// returns the slot to pass to release if the registration then fails.
func (l *limiter) reserve(ip string) (time.Time, bool) {
	now := l.now()
	if l.max <= 0 {
		return now, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	recent := l.recent(ip, now)
	if len(recent) >= l.max {
		return time.Time{}, false
	}
	l.byIP[ip] = append(recent, now)
	return now, true
}

// release uncounts a slot that reserve returned.
func (l *limiter) release(ip string, slot time.Time) {
	if l.max <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	times := l.byIP[ip]
	for i, t := range times {
		if t.Equal(slot) {
			l.byIP[ip] = append(times[:i:i], times[i+1:]...)
			break
		}
	}
	if len(l.byIP[ip]) == 0 {
		delete(l.byIP, ip)
	}
}

// recent returns the registrations of ip still inside the window.
// l.mu must be held.
func (l *limiter) recent(ip string, now time.Time) []time.Time {
	times := l.byIP[ip]
	i := 0
	for i < len(times) && now.Sub(times[i]) >= l.window {
		i++
	}
	return times[i:]
}

// sweep deletes addresses with no registration inside the window, at
// most once per window, so the map does not grow with every address that
// ever registered. l.mu must be held.
func (l *limiter) sweep(now time.Time) {
	if now.Sub(l.lastSweep) < l.window {
		return
	}
	l.lastSweep = now
	for ip := range l.byIP {
		if len(l.recent(ip, now)) == 0 {
			delete(l.byIP, ip)
		}
	}
}
