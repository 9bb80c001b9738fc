package e2e

import (
	"encoding/base64"
	"strings"
	"testing"

	msasl "mellium.im/sasl"
	"mellium.im/xmpp/jid"

	"tern/internal/xmpptest"
)

var scramSHA256 = msasl.ScramSha256

func mustJID(t *testing.T, s string) jid.JID {
	t.Helper()
	j, err := jid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func tlsClient(t *testing.T, s *xmpptest.Server) *xmpptest.Client {
	t.Helper()
	c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	c.StartTLS()
	return c
}

func TestScramPlusWithTLSExporter(t *testing.T) {
	s := newPair(t)
	c := tlsClient(t, s)
	cb := c.Features.Child("urn:xmpp:sasl-cb:0", "sasl-channel-binding")
	if cb == nil {
		t.Fatal("no XEP-0440 channel binding feature")
	}
	var types []string
	for _, e := range cb.Elements() {
		types = append(types, e.AttrValue("type"))
	}
	if contains(types, "tls-unique") || !contains(types, "tls-exporter") {
		t.Errorf("channel binding types %v, want tls-exporter and never tls-unique", types)
	}
	if !contains(c.Mechanisms(), "SCRAM-SHA-256-PLUS") {
		t.Fatalf("mechanisms %v lack SCRAM-SHA-256-PLUS", c.Mechanisms())
	}
	if err := c.Auth(msasl.ScramSha256Plus, "romeo", "r-secret"); err != nil {
		t.Fatalf("SCRAM-SHA-256-PLUS: %v", err)
	}
	if err := c.Bind("plus"); err != nil {
		t.Fatal(err)
	}
}

// TestScramDowngradeDetected sends client-first messages by hand: a client
// that claims the server offers no channel binding ('y') while it does, or
// asks for tls-unique, is refused (RFC 5802 §6, RFC 9266).
func TestScramDowngradeDetected(t *testing.T) {
	s := newPair(t)
	cases := []struct {
		name, mech, first string
	}{
		{"y flag while PLUS is offered", "SCRAM-SHA-256", "y,,n=romeo,r=abcdefghijklmnop"},
		{"tls-unique", "SCRAM-SHA-256-PLUS", "p=tls-unique,,n=romeo,r=abcdefghijklmnop"},
		{"PLUS without binding", "SCRAM-SHA-256-PLUS", "n,,n=romeo,r=abcdefghijklmnop"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tlsClient(t, s)
			c.Sendf("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='%s'>%s</auth>", tc.mech, base64.StdEncoding.EncodeToString([]byte(tc.first)))
			el, err := c.Read()
			if err != nil {
				t.Fatal(err)
			}
			if el.Name != "failure" {
				t.Fatalf("got %s, want <failure/>", el)
			}
		})
	}
}

func TestWrongPasswordsThrottled(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Auth.MaxFailuresPerIP = 3
		c.Auth.MaxFailuresPerAccount = 100
	})
	s.AddUser("romeo", "r-secret")
	var conds []string
	for i := 0; i < 5; i++ {
		c := tlsClient(t, s)
		err := c.Auth(msasl.ScramSha256, "romeo", "wrong")
		if err == nil {
			t.Fatal("wrong password accepted")
		}
		conds = append(conds, err.Error())
	}
	t.Logf("failures: %v", conds)
	if conds[0] != "not-authorized" {
		t.Errorf("first failure %q, want not-authorized", conds[0])
	}
	if !strings.Contains(conds[4], "temporary-auth-failure") {
		t.Errorf("after 3 failures: %q, want temporary-auth-failure", conds[4])
	}
	// The right password is refused too while throttled.
	c := tlsClient(t, s)
	if err := c.Auth(msasl.ScramSha256, "romeo", "r-secret"); err == nil || !strings.Contains(err.Error(), "temporary-auth-failure") {
		t.Errorf("correct password while throttled: %v, want temporary-auth-failure", err)
	}
}

func TestAccountThrottle(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Auth.MaxFailuresPerIP = 100
		c.Auth.MaxFailuresPerAccount = 2
	})
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	for i := 0; i < 2; i++ {
		c := tlsClient(t, s)
		if err := c.Auth(msasl.ScramSha256, "romeo", "wrong"); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	c := tlsClient(t, s)
	if err := c.Auth(msasl.ScramSha256, "romeo", "r-secret"); err == nil || !strings.Contains(err.Error(), "temporary-auth-failure") {
		t.Errorf("romeo after 2 failures: %v, want temporary-auth-failure", err)
	}
	// Another account from the same address is not affected.
	c = tlsClient(t, s)
	if err := c.Auth(msasl.ScramSha256, "juliet", "j-secret"); err != nil {
		t.Errorf("juliet: %v", err)
	}
}
