package register

import (
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestLimiterWindow(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(2, time.Minute, clock.now)

	if _, ok := l.reserve("192.0.2.1"); !ok {
		t.Fatal("first registration rejected")
	}
	clock.t = clock.t.Add(10 * time.Second)
	if _, ok := l.reserve("192.0.2.1"); !ok {
		t.Fatal("second registration rejected")
	}
	if _, ok := l.reserve("192.0.2.1"); ok {
		t.Fatal("third registration within the window accepted")
	}
	if _, ok := l.reserve("192.0.2.2"); !ok {
		t.Fatal("other address rejected")
	}
	clock.t = clock.t.Add(50 * time.Second)
	if _, ok := l.reserve("192.0.2.1"); !ok {
		t.Fatal("registration after the first left the window rejected")
	}
}

func TestLimiterRelease(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(1, time.Minute, clock.now)

	slot, ok := l.reserve("192.0.2.1")
	if !ok {
		t.Fatal("first registration rejected")
	}
	l.release("192.0.2.1", slot)
	if _, ok := l.reserve("192.0.2.1"); !ok {
		t.Fatal("released slot not reusable")
	}
}

func TestLimiterUnlimited(t *testing.T) {
	l := newLimiter(0, time.Minute, time.Now)
	for i := range 100 {
		if _, ok := l.reserve("192.0.2.1"); !ok {
			t.Fatalf("registration %d rejected without a limit", i)
		}
	}
	if len(l.byIP) != 0 {
		t.Errorf("unlimited limiter tracks %d addresses", len(l.byIP))
	}
}

func TestLimiterSweep(t *testing.T) {
	clock := &fakeClock{t: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := newLimiter(1, time.Minute, clock.now)
	l.reserve("192.0.2.1")
	clock.t = clock.t.Add(2 * time.Minute)
	l.reserve("192.0.2.2")
	if _, ok := l.byIP["192.0.2.1"]; ok {
		t.Error("address with no registration in the window not forgotten")
	}
}
