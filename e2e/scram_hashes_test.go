package e2e

import (
	"context"
	"encoding/base64"
	"slices"
	"testing"
	"time"

	msasl "mellium.im/sasl"

	"tern/admin"
	"tern/c2s/sasl"
	"tern/internal/xmpptest"
	"tern/storage"
)

// authPlain sends a PLAIN <auth/> and returns "success" or the failure
// condition.
func authPlain(t *testing.T, c *xmpptest.Client, user, password string) string {
	t.Helper()
	msg := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	c.Sendf("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>%s</auth>", msg)
	el, err := c.Read()
	if err != nil {
		t.Fatalf("read PLAIN reply: %v", err)
	}
	if el.Name == "success" {
		return "success"
	}
	p, _ := el.Payload()
	if els := p.Elements(); el.Name == "failure" && len(els) > 0 {
		return els[0].Name.Local
	}
	t.Fatalf("PLAIN reply %s, want <success/> or <failure/>", el)
	return ""
}

// keyHashes returns the hash families of the SCRAM keys stored for local.
func keyHashes(t *testing.T, s *xmpptest.Server, local string) []string {
	t.Helper()
	a, err := s.Store().GetAccount(context.Background(), storage.Owner{Domain: s.Domain(), Local: local})
	if err != nil {
		t.Fatalf("get account %s: %v", local, err)
	}
	var hashes []string
	for _, k := range a.Keys {
		hashes = append(hashes, k.Hash)
	}
	return hashes
}

func TestSCRAMHashesSHA256Only(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.Auth.SCRAMHashes = []string{"SHA-256"} })
	err := s.Admin().AddUsers(context.Background(), []admin.NewUser{{JID: "romeo@localhost", Password: "r-secret"}})
	if err != nil {
		t.Fatalf("add user: %v", err)
	}
	if got := keyHashes(t, s, "romeo"); !slices.Equal(got, []string{"SHA-256"}) {
		t.Errorf("stored key hashes %q, want only SHA-256", got)
	}

	c := tlsClient(t, s)
	want := []string{"SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN"}
	if got := c.Mechanisms(); !slices.Equal(got, want) {
		t.Errorf("mechanisms %q, want %q", got, want)
	}

	// A client that asks for SCRAM-SHA-1 anyway is refused before any
	// password check.
	first := base64.StdEncoding.EncodeToString([]byte("n,,n=romeo,r=abcdefghijklmnop"))
	c.Sendf("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>%s</auth>", first)
	el, err := c.Read()
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := el.Payload(); el.Name != "failure" || p.Child("urn:ietf:params:xml:ns:xmpp-sasl", "invalid-mechanism") == nil {
		t.Errorf("SCRAM-SHA-1 reply %s, want <failure><invalid-mechanism/></failure>", el)
	}

	if err := c.Auth(msasl.ScramSha256, "romeo", "r-secret"); err != nil {
		t.Fatalf("SCRAM-SHA-256: %v", err)
	}
	if err := c.Bind("orchard"); err != nil {
		t.Fatal(err)
	}
	if err := tlsClient(t, s).Auth(msasl.ScramSha256Plus, "romeo", "r-secret"); err != nil {
		t.Errorf("SCRAM-SHA-256-PLUS: %v", err)
	}
}

// TestSCRAMHashAddedLater covers an account created while the server
// stored SHA-256 keys only, after SHA-1 was added to auth.scram_hashes.
func TestSCRAMHashAddedLater(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) {
		c.Auth.SCRAMHashes = []string{"SHA-1", "SHA-256"}
		c.Auth.MaxFailuresPerIP = 100
	})
	keys, err := sasl.NewKeys("r-secret", 4096, []string{sasl.HashSHA256})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Store().CreateAccount(context.Background(), storage.Account{
		Owner: storage.Owner{Domain: s.Domain(), Local: "romeo"}, Keys: keys, CreatedAt: time.Now(),
	})
	if err != nil {
		t.Fatal(err)
	}

	c := tlsClient(t, s)
	if !contains(c.Mechanisms(), "SCRAM-SHA-1") {
		t.Fatalf("mechanisms %q lack SCRAM-SHA-1", c.Mechanisms())
	}
	// The right password, a wrong one and an unknown account fail alike.
	for _, tc := range []struct{ user, password string }{
		{"romeo", "r-secret"},
		{"romeo", "wrong"},
		{"nobody", "r-secret"},
	} {
		err := tlsClient(t, s).Auth(msasl.ScramSha1, tc.user, tc.password)
		if err == nil || err.Error() != "not-authorized" {
			t.Errorf("SCRAM-SHA-1 as %s with %q: %v, want not-authorized", tc.user, tc.password, err)
		}
	}
	if err := tlsClient(t, s).Auth(msasl.ScramSha256, "romeo", "r-secret"); err != nil {
		t.Errorf("SCRAM-SHA-256: %v", err)
	}
	if got := authPlain(t, tlsClient(t, s), "romeo", "r-secret"); got != "success" {
		t.Errorf("PLAIN: %s, want success", got)
	}

	// The next password change stores keys of both families.
	if err := s.Admin().SetPassword(context.Background(), "romeo@localhost", "r-secret2"); err != nil {
		t.Fatal(err)
	}
	if got := keyHashes(t, s, "romeo"); !slices.Equal(got, []string{"SHA-1", "SHA-256"}) {
		t.Errorf("stored key hashes after password change %q, want SHA-1 and SHA-256", got)
	}
	if err := tlsClient(t, s).Auth(msasl.ScramSha1, "romeo", "r-secret2"); err != nil {
		t.Errorf("SCRAM-SHA-1 after password change: %v", err)
	}
}
