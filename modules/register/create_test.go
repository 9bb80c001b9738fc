package register_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"tern/config"
	"tern/internal/xmpptest"
	"tern/modules/register"
	"tern/stanza"
	"tern/storage"
)

func enable(ratePerIP int) func(*config.Config) {
	return func(c *config.Config) {
		c.Registration.Enabled = true
		c.Registration.MinPasswordLength = 8
		c.Registration.RatePerIP = ratePerIP
		c.Registration.RateWindow = 10 * time.Minute
	}
}

func accountExists(t *testing.T, s *xmpptest.Server, local string) bool {
	t.Helper()
	_, err := s.Store().GetAccount(context.Background(), storage.Owner{Domain: s.Domain(), Local: local})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get account %s: %v", local, err)
	}
	return err == nil
}

func TestRegistrationDisabled(t *testing.T) {
	s := xmpptest.Start(t)
	c := preAuth(t, s)
	if c.Features.Child(register.NSFeature, "register") != nil {
		t.Errorf("register stream feature offered while disabled: %s", c.Features)
	}
	get := preAuthRequest(t, c, `<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>`)
	if got := xmpptest.ErrorCondition(get); got != "service-unavailable" {
		t.Errorf("get: condition = %q, want service-unavailable (%s)", got, get)
	}
	set := preAuthRequest(t, c, registerIQ("s1", "romeo", "long-enough-password"))
	if got := xmpptest.ErrorCondition(set); got != "service-unavailable" {
		t.Errorf("set: condition = %q, want service-unavailable (%s)", got, set)
	}
	if accountExists(t, s, "romeo") {
		t.Error("account created while registration is disabled")
	}
}

func TestRegistrationForm(t *testing.T) {
	s := xmpptest.Start(t, enable(0))
	c := preAuth(t, s)
	if c.Features.Child(register.NSFeature, "register") == nil {
		t.Errorf("register stream feature missing: %s", c.Features)
	}
	resp := preAuthRequest(t, c, `<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>`)
	if resp.Type != "result" {
		t.Fatalf("get: %s", resp)
	}
	q := resp.Child(register.NS, "query")
	for _, field := range []string{"instructions", "username", "password"} {
		if q.Child(register.NS, field) == nil {
			t.Errorf("form has no <%s/>: %s", field, q)
		}
	}
}

func TestRegistrationRules(t *testing.T) {
	s := xmpptest.Start(t, enable(0))
	c := preAuth(t, s)

	tests := []struct {
		name     string
		iq       string
		want     string // "result" or an error condition
		username string // normalized account that must exist afterwards, if any
	}{
		{"register", registerIQ("%s", "romeo", "secret-romeo"), "result", "romeo"},
		{"same name other case", registerIQ("%s", "Romeo", "secret-romeo"), "conflict", ""},
		{"password too short", registerIQ("%s", "juliet", "short"), "not-acceptable", ""},
		{"missing password", `<iq type='set' id='%s'><query xmlns='jabber:iq:register'><username>juliet</username></query></iq>`, "not-acceptable", ""},
		{"empty password", registerIQ("%s", "juliet", ""), "not-acceptable", ""},
		{"missing username", `<iq type='set' id='%s'><query xmlns='jabber:iq:register'><password>secret-juliet</password></query></iq>`, "not-acceptable", ""},
		{"username with at sign", registerIQ("%s", "juliet@capulet", "secret-juliet"), "jid-malformed", ""},
		{"username with space", registerIQ("%s", "juliet capulet", "secret-juliet"), "jid-malformed", ""},
		{"remove before authentication", `<iq type='set' id='%s'><query xmlns='jabber:iq:register'><remove/></query></iq>`, "registration-required", ""},
		{"mixed case is normalized", registerIQ("%s", "Juliet", "secret-juliet"), "result", "juliet"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("r%d", i)
			resp := preAuthRequest(t, c, fmt.Sprintf(tt.iq, id))
			if resp.ID != id {
				t.Fatalf("response id = %q, want %q: %s", resp.ID, id, resp)
			}
			if got := outcome(resp); got != tt.want {
				t.Errorf("outcome = %q, want %q (%s)", got, tt.want, resp)
			}
			if tt.username != "" && !accountExists(t, s, tt.username) {
				t.Errorf("account %s does not exist", tt.username)
			}
		})
	}
	if accountExists(t, s, "Romeo") {
		t.Error("an unnormalized account Romeo exists")
	}

	t.Run("log in with new account", func(t *testing.T) {
		c := s.Login("romeo", "secret-romeo", "orchard")
		if c.JID.String() != "romeo@localhost/orchard" {
			t.Errorf("bound JID = %s", c.JID)
		}
	})
}

func TestRegistrationRateLimit(t *testing.T) {
	s := xmpptest.Start(t, enable(1))
	c := preAuth(t, s)

	first := preAuthRequest(t, c, registerIQ("r1", "romeo", "secret-romeo"))
	if first.Type != "result" {
		t.Fatalf("first registration: %s", first)
	}
	second := preAuthRequest(t, preAuth(t, s), registerIQ("r2", "juliet", "secret-juliet"))
	if got := xmpptest.ErrorCondition(second); got != "resource-constraint" {
		t.Errorf("second registration: condition = %q, want resource-constraint (%s)", got, second)
	}
	if e := stanza.ErrorOf(second); e == nil || e.Type != stanza.ErrWait {
		t.Errorf("second registration: error type is not wait: %s", second)
	}
	if accountExists(t, s, "juliet") {
		t.Error("rate-limited registration created the account")
	}
	// Over the limit, a taken name gets the same answer as a free one, so
	// the address cannot probe which accounts exist.
	taken := preAuthRequest(t, preAuth(t, s), registerIQ("r3", "romeo", "secret-other"))
	if got := xmpptest.ErrorCondition(taken); got != "resource-constraint" {
		t.Errorf("taken name over the limit: condition = %q, want resource-constraint", got)
	}
}

func TestKeysOfConfiguredHashes(t *testing.T) {
	s := xmpptest.Start(t, enable(0), func(c *config.Config) { c.Auth.SCRAMHashes = []string{"SHA-256"} })
	keys := func() []storage.ScramKey {
		t.Helper()
		a, err := s.Store().GetAccount(context.Background(), storage.Owner{Domain: s.Domain(), Local: "romeo"})
		if err != nil {
			t.Fatalf("get account romeo: %v", err)
		}
		return a.Keys
	}

	c := preAuth(t, s)
	if resp := preAuthRequest(t, c, registerIQ("r1", "romeo", "secret-romeo")); outcome(resp) != "result" {
		t.Fatalf("registration: %s", resp)
	}
	registered := keys()
	if len(registered) != 1 || registered[0].Hash != "SHA-256" {
		t.Fatalf("registered account has keys %+v, want one SHA-256 key", registered)
	}

	l := s.Login("romeo", "secret-romeo", "orchard")
	resp := l.Request(`<iq type='set' id='p1'><query xmlns='jabber:iq:register'><username>romeo</username><password>new-password</password></query></iq>`, "p1")
	if resp.Type != "result" {
		t.Fatalf("password change: %s", resp)
	}
	changed := keys()
	if len(changed) != 1 || changed[0].Hash != "SHA-256" {
		t.Fatalf("after password change the account has keys %+v, want one SHA-256 key", changed)
	}
	if string(changed[0].Salt) == string(registered[0].Salt) {
		t.Error("password change kept the old salt")
	}
	if err := authenticate(t, s, "romeo", "new-password"); err != nil {
		t.Errorf("log in with the new password: %v", err)
	}
}
