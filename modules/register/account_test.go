package register_test

import (
	"fmt"
	"testing"

	"tern/internal/xmpptest"
	"tern/modules/register"
)

// The account tests run with in-band registration disabled (the default):
// password change and removal are offered anyway.

func TestRegisteredInfo(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	for i, to := range []string{"", " to='localhost'", " to='romeo@localhost'"} {
		id := fmt.Sprintf("g%d", i)
		resp := c.Request(fmt.Sprintf(`<iq type='get' id='%s'%s><query xmlns='jabber:iq:register'/></iq>`, id, to), id)
		if resp.Type != "result" {
			t.Fatalf("get with%s: %s", to, resp)
		}
		q := resp.Child(register.NS, "query")
		if q.Child(register.NS, "registered") == nil {
			t.Errorf("get with%s: no <registered/>: %s", to, q)
		}
		if got := q.Child(register.NS, "username").Text(); got != "romeo" {
			t.Errorf("get with%s: username = %q, want romeo", to, got)
		}
		if got := q.Child(register.NS, "password").Text(); got != "" {
			t.Errorf("get with%s: password disclosed", to)
		}
	}
}

func TestChangePassword(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "old-password")
	s.AddUser("juliet", "secret-juliet")
	c := s.Login("romeo", "old-password", "orchard")

	tests := []struct {
		name string
		iq   string
		want string
	}{
		{"other account's name", `<iq type='set' id='%s' to='localhost'><query xmlns='jabber:iq:register'><username>juliet</username><password>new-password</password></query></iq>`, "bad-request"},
		{"missing password", `<iq type='set' id='%s' to='localhost'><query xmlns='jabber:iq:register'><username>romeo</username></query></iq>`, "bad-request"},
		{"empty password", `<iq type='set' id='%s' to='localhost'><query xmlns='jabber:iq:register'><username>romeo</username><password/></query></iq>`, "bad-request"},
		{"password too short", `<iq type='set' id='%s' to='localhost'><query xmlns='jabber:iq:register'><username>romeo</username><password>short</password></query></iq>`, "not-acceptable"},
		{"to other account", `<iq type='set' id='%s' to='juliet@localhost'><query xmlns='jabber:iq:register'><username>juliet</username><password>new-password</password></query></iq>`, "forbidden"},
		{"remove other account", `<iq type='set' id='%s' to='juliet@localhost'><query xmlns='jabber:iq:register'><remove/></query></iq>`, "forbidden"},
		{"remove with other elements", `<iq type='set' id='%s'><query xmlns='jabber:iq:register'><remove/><username>romeo</username></query></iq>`, "bad-request"},
		{"change", `<iq type='set' id='%s' to='localhost'><query xmlns='jabber:iq:register'><username>Romeo</username><password>new-password</password></query></iq>`, "result"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("c%d", i)
			resp := c.Request(fmt.Sprintf(tt.iq, id), id)
			if got := outcome(resp); got != tt.want {
				t.Errorf("outcome = %q, want %q (%s)", got, tt.want, resp)
			}
		})
	}

	if err := authenticate(t, s, "romeo", "old-password"); err == nil {
		t.Error("old password still accepted")
	}
	if err := authenticate(t, s, "romeo", "new-password"); err != nil {
		t.Errorf("new password rejected: %v", err)
	}
	if err := authenticate(t, s, "juliet", "secret-juliet"); err != nil {
		t.Errorf("juliet's password changed: %v", err)
	}
}

func TestCancelRegistration(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	orchard := s.Login("romeo", "secret-romeo", "orchard")
	garden := s.Login("romeo", "secret-romeo", "garden")
	garden.Sync()

	resp := orchard.Request(`<iq type='set' id='rm1'><query xmlns='jabber:iq:register'><remove/></query></iq>`, "rm1")
	if resp.Type != "result" {
		t.Fatalf("remove: %s", resp)
	}
	for _, c := range []*xmpptest.Client{orchard, garden} {
		el := c.Expect(xmpptest.IsStreamError)
		if got := xmpptest.StreamErrorCondition(el); got != "not-authorized" {
			t.Errorf("%s: stream error = %q, want not-authorized", c.JID, got)
		}
	}
	if accountExists(t, s, "romeo") {
		t.Error("account still exists after removal")
	}
	if err := authenticate(t, s, "romeo", "secret-romeo"); err == nil {
		t.Error("removed account can still authenticate")
	}
}
