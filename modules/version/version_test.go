package version_test

import (
	"testing"

	"tern/internal/xmpptest"
	"tern/modules/version"
)

func TestServerVersion(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	resp := c.Request(`<iq type='get' id='v1' to='localhost'><query xmlns='jabber:iq:version'/></iq>`, "v1")
	if resp.Type != "result" {
		t.Fatalf("version: got %s", resp)
	}
	q := resp.Child(version.NS, "query")
	if got := q.Child(version.NS, "name").Text(); got != "Tern" {
		t.Errorf("name = %q, want Tern", got)
	}
	if got := q.Child(version.NS, "version").Text(); got != version.Version {
		t.Errorf("version = %q, want %q", got, version.Version)
	}
	if q.Child(version.NS, "os") != nil {
		t.Errorf("os disclosed: %s", q)
	}
}

func TestServerVersionSet(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	resp := c.Request(`<iq type='set' id='v2' to='localhost'><query xmlns='jabber:iq:version'/></iq>`, "v2")
	if got := xmpptest.ErrorCondition(resp); got != "not-allowed" {
		t.Errorf("set: condition = %q, want not-allowed (%s)", got, resp)
	}
}
