package time_test

import (
	"testing"
	"time"

	"tern/internal/xmpptest"
	entitytime "tern/modules/time"
)

func TestServerTime(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	before := time.Now().Truncate(time.Millisecond)
	resp := c.Request(`<iq type='get' id='t1' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`, "t1")
	after := time.Now()
	if resp.Type != "result" {
		t.Fatalf("time: got %s", resp)
	}
	el := resp.Child(entitytime.NS, "time")
	if got := el.Child(entitytime.NS, "tzo").Text(); got != "+00:00" {
		t.Errorf("tzo = %q, want +00:00", got)
	}
	utc := el.Child(entitytime.NS, "utc").Text()
	got, err := time.Parse(time.RFC3339, utc)
	if err != nil {
		t.Fatalf("utc %q: %v", utc, err)
	}
	if got.Location() != time.UTC {
		t.Errorf("utc %q is not in UTC", utc)
	}
	if got.Before(before) || got.After(after) {
		t.Errorf("utc %v not between %v and %v", got, before, after)
	}
}

func TestServerTimeSet(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	resp := c.Request(`<iq type='set' id='t2' to='localhost'><time xmlns='urn:xmpp:time'/></iq>`, "t2")
	if got := xmpptest.ErrorCondition(resp); got != "not-allowed" {
		t.Errorf("set: condition = %q, want not-allowed (%s)", got, resp)
	}
}
