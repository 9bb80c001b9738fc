package c2s

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a manually advanced time source for authThrottle.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTestThrottle(maxIP, maxAccount int, window time.Duration) (*authThrottle, *fakeClock) {
	clock := &fakeClock{t: time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)}
	th := newAuthThrottle(maxIP, maxAccount, window)
	th.now = clock.now
	return th, clock
}

const (
	romeo    = "romeo@example.com"
	attacker = "192.0.2.1"
	owner    = "198.51.100.7"
)

func TestThrottleIPLimit(t *testing.T) {
	th, clock := newTestThrottle(3, 0, time.Minute)
	for i := 1; i <= 2; i++ {
		if ipLimit, _ := th.fail(attacker, romeo); ipLimit {
			t.Errorf("failure %d reported the IP limit as reached", i)
		}
	}
	if th.blockedIP(attacker) {
		t.Fatal("address blocked after 2 of 3 failures")
	}
	if ipLimit, _ := th.fail(attacker, romeo); !ipLimit {
		t.Error("third failure did not report the IP limit as reached")
	}
	if !th.blockedIP(attacker) {
		t.Error("address not blocked after 3 failures")
	}
	if ipLimit, _ := th.fail(attacker, romeo); ipLimit {
		t.Error("fourth failure reported the IP limit as reached again")
	}
	if th.blockedIP(owner) {
		t.Error("another address is blocked")
	}

	clock.advance(time.Minute - time.Second)
	if !th.blockedIP(attacker) {
		t.Error("address unblocked before the window ended")
	}
	clock.advance(time.Second)
	if th.blockedIP(attacker) {
		t.Error("address still blocked after the window")
	}
}

func TestThrottleIPLimitZeroIsUnlimited(t *testing.T) {
	th, _ := newTestThrottle(0, 0, time.Minute)
	for i := 0; i < 100; i++ {
		if ipLimit, _ := th.fail(attacker, romeo); ipLimit {
			t.Fatalf("failure %d reported a limit of 0 as reached", i+1)
		}
	}
	if th.blockedIP(attacker) {
		t.Error("address blocked with max_failures_per_ip = 0")
	}
	if n := len(th.ips); n != 0 {
		t.Errorf("%d address records with max_failures_per_ip = 0, want 0", n)
	}
}

func TestThrottleAccountDelayGrows(t *testing.T) {
	th, _ := newTestThrottle(0, 3, time.Minute)
	for i := 1; i <= 2; i++ {
		th.fail(attacker, romeo)
		if d := th.accountDelay(attacker, romeo); d != 0 {
			t.Fatalf("delay %v after %d of 3 failures, want 0", d, i)
		}
	}
	if _, accountLimit := th.fail(attacker, romeo); !accountLimit {
		t.Error("third failure did not report the account limit as reached")
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if d := th.accountDelay(attacker, romeo); d != w {
			t.Errorf("delay after %d failures = %v, want %v", 3+i, d, w)
		}
		if _, accountLimit := th.fail(attacker, romeo); accountLimit {
			t.Errorf("failure %d reported the account limit as reached again", 4+i)
		}
	}
	if th.blockedIP(attacker) {
		t.Error("account failures blocked the address with max_failures_per_ip = 0")
	}
}

func TestThrottleAccountDelayCap(t *testing.T) {
	th, _ := newTestThrottle(0, 1, time.Minute)
	for i := 0; i < 1000; i++ {
		th.fail(attacker, romeo)
	}
	if d := th.accountDelay(attacker, romeo); d != accountDelayMax {
		t.Errorf("delay after 1000 failures = %v, want %v", d, accountDelayMax)
	}
}

func TestThrottleAccountDelayOtherAccounts(t *testing.T) {
	th, _ := newTestThrottle(0, 2, time.Minute)
	th.fail(attacker, romeo)
	th.fail(attacker, romeo)
	if d := th.accountDelay(owner, romeo); d != time.Second {
		t.Errorf("delay for another address without a login = %v, want 1s", d)
	}
	if d := th.accountDelay(attacker, "juliet@example.com"); d != 0 {
		t.Errorf("delay for another account = %v, want 0", d)
	}
	// A username that is not a valid localpart has no account record.
	th.fail(attacker, "")
	th.fail(attacker, "")
	if d := th.accountDelay(attacker, ""); d != 0 {
		t.Errorf("delay for an empty account = %v, want 0", d)
	}
}

func TestThrottleLoginExemptsAddress(t *testing.T) {
	th, clock := newTestThrottle(0, 2, time.Minute)
	th.succeeded(owner, romeo)
	clock.advance(10 * time.Second)
	th.fail(attacker, romeo)
	th.fail(attacker, romeo)

	if d := th.accountDelay(owner, romeo); d != 0 {
		t.Errorf("delay for the address that logged in = %v, want 0", d)
	}
	if d := th.accountDelay(attacker, romeo); d != time.Second {
		t.Errorf("delay for the attacking address = %v, want 1s", d)
	}
	if d := th.accountDelay(owner, "juliet@example.com"); d != 0 {
		t.Errorf("delay for another account = %v, want 0", d)
	}

	// The login counts for one window after it happened, while the
	// failures, which started 10s later, still do.
	clock.advance(50 * time.Second)
	if d := th.accountDelay(owner, romeo); d != time.Second {
		t.Errorf("delay one window after the login = %v, want 1s", d)
	}
	th.succeeded(owner, romeo)
	if d := th.accountDelay(owner, romeo); d != 0 {
		t.Errorf("delay after a new login = %v, want 0", d)
	}
}

func TestThrottleLoginDoesNotResetFailures(t *testing.T) {
	th, _ := newTestThrottle(0, 2, time.Minute)
	th.fail(attacker, romeo)
	th.fail(attacker, romeo)
	th.succeeded(owner, romeo)
	if d := th.accountDelay(attacker, romeo); d != time.Second {
		t.Errorf("attacker's delay after the owner's login = %v, want 1s", d)
	}
}

func TestThrottleAccountWindow(t *testing.T) {
	th, clock := newTestThrottle(0, 2, time.Minute)
	th.fail(attacker, romeo)
	clock.advance(30 * time.Second)
	th.fail(attacker, romeo)
	if d := th.accountDelay(attacker, romeo); d != time.Second {
		t.Fatalf("delay = %v, want 1s", d)
	}
	// The window runs from the first counted failure.
	clock.advance(30 * time.Second)
	if d := th.accountDelay(attacker, romeo); d != 0 {
		t.Errorf("delay one window after the first failure = %v, want 0", d)
	}
	if _, accountLimit := th.fail(attacker, romeo); accountLimit {
		t.Error("first failure of a new window reported the limit as reached")
	}
	if d := th.accountDelay(attacker, romeo); d != 0 {
		t.Errorf("delay after 1 failure in a new window = %v, want 0", d)
	}
}

func TestThrottleAccountLimitZeroDisablesDelay(t *testing.T) {
	th, _ := newTestThrottle(0, 0, time.Minute)
	for i := 0; i < 100; i++ {
		if _, accountLimit := th.fail(attacker, romeo); accountLimit {
			t.Fatalf("failure %d reported a limit of 0 as reached", i+1)
		}
	}
	if d := th.accountDelay(attacker, romeo); d != 0 {
		t.Errorf("delay with max_failures_per_account = 0 is %v, want 0", d)
	}
	th.succeeded(owner, romeo)
	if n := len(th.accounts); n != 0 {
		t.Errorf("%d account records with max_failures_per_account = 0, want 0", n)
	}
}

func TestThrottleLoginAddressesBounded(t *testing.T) {
	th, clock := newTestThrottle(0, 1, time.Minute)
	for i := 0; i < maxLoginAddrs+3; i++ {
		th.succeeded(fmt.Sprintf("203.0.113.%d", i), romeo)
		clock.advance(time.Millisecond)
	}
	// A repeated login moves its address to the end instead of adding it.
	th.succeeded("203.0.113.5", romeo)
	th.fail(attacker, romeo)

	if n := len(th.accounts[romeo].logins); n != maxLoginAddrs {
		t.Fatalf("%d stored logins, want %d", n, maxLoginAddrs)
	}
	for i := 0; i < 3; i++ {
		ip := fmt.Sprintf("203.0.113.%d", i)
		if d := th.accountDelay(ip, romeo); d == 0 {
			t.Errorf("address %s, among the oldest logins, is still exempt", ip)
		}
	}
	for i := 3; i < maxLoginAddrs+3; i++ {
		ip := fmt.Sprintf("203.0.113.%d", i)
		if d := th.accountDelay(ip, romeo); d != 0 {
			t.Errorf("address %s, among the last %d logins, has delay %v", ip, maxLoginAddrs, d)
		}
	}
}

func TestThrottleSweepDropsExpiredRecords(t *testing.T) {
	th, clock := newTestThrottle(5, 10, time.Minute)
	for i := 0; i < 100; i++ {
		th.fail(fmt.Sprintf("192.0.2.%d", i), fmt.Sprintf("user%d@example.com", i))
		th.succeeded(owner, fmt.Sprintf("member%d@example.com", i))
	}
	if len(th.ips) != 100 {
		t.Fatalf("%d address records, want 100", len(th.ips))
	}
	if len(th.accounts) != 200 {
		t.Fatalf("%d account records, want 200", len(th.accounts))
	}

	clock.advance(time.Minute)
	th.fail(attacker, romeo)
	if len(th.ips) != 1 {
		t.Errorf("%d address records after the window, want 1", len(th.ips))
	}
	if len(th.accounts) != 1 {
		t.Errorf("%d account records after the window, want 1", len(th.accounts))
	}
}

func TestThrottleSweepKeepsLiveRecords(t *testing.T) {
	th, clock := newTestThrottle(5, 2, time.Minute)
	th.succeeded(owner, romeo)
	clock.advance(30 * time.Second)
	th.fail(attacker, romeo)
	th.fail(attacker, romeo)

	// The login has expired but the failures have not, so the record
	// stays without the login.
	clock.advance(40 * time.Second)
	th.fail(attacker, "juliet@example.com")
	r := th.accounts[romeo]
	if r == nil {
		t.Fatal("account record with live failures was dropped")
	}
	if len(r.logins) != 0 {
		t.Errorf("%d logins after their window, want 0", len(r.logins))
	}
	if d := th.accountDelay(owner, romeo); d != time.Second {
		t.Errorf("owner's delay after the login expired = %v, want 1s", d)
	}
}

// TestThrottleConcurrent runs under -race to check the locking.
func TestThrottleConcurrent(t *testing.T) {
	th := newAuthThrottle(5, 3, time.Minute)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ip := fmt.Sprintf("192.0.2.%d", g)
			for i := 0; i < 50; i++ {
				th.blockedIP(ip)
				th.accountDelay(ip, romeo)
				th.fail(ip, romeo)
				th.succeeded(ip, romeo)
			}
		}()
	}
	wg.Wait()
	if d := th.accountDelay("203.0.113.1", romeo); d != accountDelayMax {
		t.Errorf("delay after 400 failures = %v, want %v", d, accountDelayMax)
	}
}
