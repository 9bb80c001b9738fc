package sasl

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"slices"
	"strings"
	"testing"

	"tern/storage"
)

var allConditions = []string{
	Aborted, AccountDisabled, CredentialsExpired, EncryptionRequired,
	IncorrectEncoding, InvalidAuthzid, InvalidMechanism, MalformedRequest,
	MechanismTooWeak, NotAuthorized, TemporaryAuthFailure,
}

// FuzzStep feeds arbitrary client-first and client-final messages to every
// mechanism. In final, "NONCE" is replaced by the nonce of the server's
// reply, so the fuzzer reaches the proof check. The exchange must not
// panic, every error must be a *Failure with a known condition, and only a
// finished exchange may report a user.
func FuzzStep(f *testing.F) {
	conn := newTLS(f, tls.VersionTLS13)
	key, err := deriveKey(sha256Hash, testPassword, []byte("salt"), 1)
	if err != nil {
		f.Fatal(err)
	}
	keys := []storage.ScramKey{key}
	cfg := Config{
		TLS:               &conn.server,
		ServerCertificate: conn.cert,
		AllowPlain:        true,
		Domain:            "example.com",
		FakeIterations:    1,
		Lookup: func(_ context.Context, name string) ([]storage.ScramKey, error) {
			if name != "user" {
				return nil, storage.ErrNotFound
			}
			return keys, nil
		},
	}
	mechs := Mechanisms(cfg)

	seeds := []struct {
		mech         uint8
		first, final string
	}{
		{4, "n,,n=user,r=abc", "c=biws,r=NONCE,p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="},
		{1, "p=tls-exporter,,n=user,r=abc", "c=cD10bHMtZXhwb3J0ZXIsLA==,r=NONCE,p=AAAA"},
		{1, "p=tls-server-end-point,a=user@example.com,n=user,r=abc", "c=biws,r=NONCE,x=y,p=AAAA"},
		{4, "y,a=us=2Cer@example.com,n=us=3Der,r=abc,x=1", "c=eSws,r=NONCE,p=AAAA"},
		{4, "", "n,,n=user,r=abc"},
		{6, "\x00user\x00pencil", ""},
		{6, "user@example.com\x00user\x00pencil", ""},
		{3, "n,,m=x,n=user,r=abc", "c=biws,r=NONCE,m=x,p=AAAA"},
	}
	for _, s := range seeds {
		f.Add(s.mech, []byte(s.first), []byte(s.final))
	}

	f.Fuzz(func(t *testing.T, mech uint8, first, final []byte) {
		name := mechs[int(mech)%len(mechs)]
		ex, err := Start(context.Background(), name, cfg)
		if err != nil {
			t.Fatalf("Start(%q): %v", name, err)
		}
		out, done, err := ex.Step(first)
		checkStep(t, ex, done, err)
		if done {
			return
		}
		if nonce, ok := strings.CutPrefix(string(out), "r="); ok {
			nonce, _, _ = strings.Cut(nonce, ",")
			final = bytes.ReplaceAll(final, []byte("NONCE"), []byte(nonce))
		}
		_, done, err = ex.Step(final)
		checkStep(t, ex, done, err)
	})
}

// checkStep checks the invariants of one Step result.
func checkStep(t *testing.T, ex *Exchange, done bool, err error) {
	t.Helper()
	if err != nil {
		var f *Failure
		if !errors.As(err, &f) {
			t.Fatalf("error %v is a %T, not a *Failure", err, err)
		}
		if !slices.Contains(allConditions, f.Condition) {
			t.Fatalf("unknown condition %q", f.Condition)
		}
		if !done {
			t.Fatalf("error %v with done=false", err)
		}
	}
	if (done && err == nil) != (ex.Username() != "") {
		t.Fatalf("done=%v, err=%v, but Username() = %q", done, err, ex.Username())
	}
}
