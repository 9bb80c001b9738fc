package e2e

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

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
	return tlsClientFrom(t, s, "")
}

// tlsClientFrom is tlsClient connecting from the local IP address localIP.
func tlsClientFrom(t *testing.T, s *xmpptest.Server, localIP string) *xmpptest.Client {
	t.Helper()
	c := xmpptest.DialFrom(t, localIP, s.Addr("c2s"), "localhost")
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
	// The right password is refused too while the address is blocked.
	c := tlsClient(t, s)
	if err := c.Auth(msasl.ScramSha256, "romeo", "r-secret"); err == nil || !strings.Contains(err.Error(), "temporary-auth-failure") {
		t.Errorf("correct password while throttled: %v, want temporary-auth-failure", err)
	}
}

// The account delay documented for auth.max_failures_per_account: 1s
// once the account has reached its limit, doubling with each further
// failure.
const (
	firstAccountDelay  = time.Second
	secondAccountDelay = 2 * time.Second
)

// timedAuth runs a SCRAM-SHA-256 login on a new connection from localIP.
// It returns how long the exchange took and its error.
func timedAuth(t *testing.T, s *xmpptest.Server, localIP, user, password string) (time.Duration, error) {
	t.Helper()
	c := tlsClientFrom(t, s, localIP)
	start := time.Now()
	err := c.Auth(scramSHA256, user, password)
	return time.Since(start), err
}

// plainAuth runs a PLAIN login on c and returns the SASL failure condition,
// or "success".
func plainAuth(t *testing.T, c *xmpptest.Client, user, password string) string {
	t.Helper()
	msg := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	c.Sendf("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>", msg)
	el, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	if el.Name == "success" {
		return "success"
	}
	p, _ := el.Payload()
	if el.Name != "failure" || len(p.Elements()) == 0 {
		t.Fatalf("PLAIN response %s, want <success/> or <failure/> with a condition", el)
	}
	return p.Elements()[0].Name.Local
}

// TestAccountThrottleKeepsOwnerLogin checks that failures against an
// account slow further logins to it from other addresses but do not lock
// out the owner. The owner logs in with the right password from a new
// address, and then without delay from that address.
func TestAccountThrottleKeepsOwnerLogin(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Auth.MaxFailuresPerIP = 100
		c.Auth.MaxFailuresPerAccount = 2
	})
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	const attackerIP, ownerIP = "127.0.0.1", "127.0.0.2"

	// Two failures reach the limit: one SCRAM, one PLAIN.
	d, err := timedAuth(t, s, attackerIP, "romeo", "wrong")
	if err == nil || err.Error() != "not-authorized" {
		t.Fatalf("first wrong password: %v, want not-authorized", err)
	}
	if d >= firstAccountDelay {
		t.Errorf("first wrong password took %v, want no delay below the limit", d)
	}
	if cond := plainAuth(t, tlsClientFrom(t, s, attackerIP), "romeo", "wrong"); cond != "not-authorized" {
		t.Fatalf("wrong PLAIN password: %s, want not-authorized", cond)
	}

	// The response to the attacker's next guess is delayed, and its
	// condition is unchanged.
	d, err = timedAuth(t, s, attackerIP, "romeo", "wrong")
	if err == nil || err.Error() != "not-authorized" {
		t.Errorf("wrong password at the limit: %v, want not-authorized", err)
	}
	if d < firstAccountDelay {
		t.Errorf("wrong password at the limit took %v, want at least %v", d, firstAccountDelay)
	}

	// The owner logs in from a new address, after the delay.
	d, err = timedAuth(t, s, ownerIP, "romeo", "r-secret")
	if err != nil {
		t.Fatalf("owner's correct password from a new address: %v, want success", err)
	}
	if d < secondAccountDelay {
		t.Errorf("owner's first login took %v, want at least the delay %v", d, secondAccountDelay)
	}

	// Once logged in from there, the owner is not delayed.
	c := tlsClientFrom(t, s, ownerIP)
	start := time.Now()
	if err := c.Auth(scramSHA256, "romeo", "r-secret"); err != nil {
		t.Fatalf("owner's second login: %v", err)
	}
	if d := time.Since(start); d >= secondAccountDelay {
		t.Errorf("owner's second login took %v, want less than the delay %v", d, secondAccountDelay)
	}
	if err := c.Bind("owner"); err != nil {
		t.Errorf("owner's bind: %v", err)
	}

	// The owner's logins neither reset the count nor exempt the attacker.
	d, err = timedAuth(t, s, attackerIP, "romeo", "wrong")
	if err == nil || err.Error() != "not-authorized" {
		t.Errorf("attacker after the owner's login: %v, want not-authorized", err)
	}
	if d < secondAccountDelay {
		t.Errorf("attacker after the owner's login took %v, want at least %v", d, secondAccountDelay)
	}

	// Another account from the attacker's address is not affected.
	d, err = timedAuth(t, s, attackerIP, "juliet", "j-secret")
	if err != nil {
		t.Errorf("juliet: %v", err)
	}
	if d >= firstAccountDelay {
		t.Errorf("juliet's login took %v, want no delay", d)
	}
}

// TestAccountThrottleUnknownAccount checks that an account that does not
// exist is delayed like one that does, so the delay reveals nothing about
// which accounts exist.
func TestAccountThrottleUnknownAccount(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Auth.MaxFailuresPerIP = 100
		c.Auth.MaxFailuresPerAccount = 2
	})
	for i := 0; i < 2; i++ {
		if _, err := timedAuth(t, s, "", "nobody", "wrong"); err == nil || err.Error() != "not-authorized" {
			t.Fatalf("failure %d: %v, want not-authorized", i+1, err)
		}
	}
	d, err := timedAuth(t, s, "", "nobody", "wrong")
	if err == nil || err.Error() != "not-authorized" {
		t.Errorf("at the limit: %v, want not-authorized", err)
	}
	if d < firstAccountDelay {
		t.Errorf("at the limit the response took %v, want at least %v", d, firstAccountDelay)
	}
}

// TestAccountThrottleProxiedWebSocket checks that a WebSocket login from a
// loopback address, which is where a reverse proxy on the same host
// connects from, does not exempt that address from the account's delay.
func TestAccountThrottleProxiedWebSocket(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Auth.MaxFailuresPerIP = 100
		c.Auth.MaxFailuresPerAccount = 2
	})
	s.AddUser("romeo", "r-secret")
	dialWS(t, s).login("romeo", "r-secret")

	wrong := base64.StdEncoding.EncodeToString([]byte("\x00romeo\x00wrong"))
	for i := 1; i <= 3; i++ {
		c := dialWS(t, s)
		c.open()
		start := time.Now()
		c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + wrong + "</auth>")
		el := c.read()
		d := time.Since(start)
		if el.Name.Local != "failure" || el.Child("urn:ietf:params:xml:ns:xmpp-sasl", "not-authorized") == nil {
			t.Fatalf("wrong password %d: %s, want <failure/> with not-authorized", i, el)
		}
		if i == 3 && d < firstAccountDelay {
			t.Errorf("wrong password at the limit took %v, want at least %v", d, firstAccountDelay)
		}
	}
}
