package main

import (
	"strings"
	"testing"

	"tern/internal/xmpptest"
)

// TestErrorOutput checks the exact error line, through the control socket
// and on the storage, so that no internal prefix reaches the user.
func TestErrorOutput(t *testing.T) {
	s := xmpptest.Start(t)
	cfg := configFor(t, s)
	s.AddUser("mercutio", "secret")

	check := func(t *testing.T) {
		r := ternctl(t, "", "other password\n", args(cfg, "user", "add", "mercutio@localhost")...)
		if r.code != 1 {
			t.Errorf("add of an existing account exited with %d, want 1", r.code)
		}
		if want := "ternctl: account already exists: mercutio@localhost\n"; !hasLastLine(r.stderr, want) {
			t.Errorf("add of an existing account: stderr %q, want it to end with %q", r.stderr, want)
		}
		r = ternctl(t, "", "", args(cfg, "user", "delete", "nobody@localhost")...)
		if want := "ternctl: account does not exist: nobody@localhost\n"; !hasLastLine(r.stderr, want) {
			t.Errorf("delete of a missing account: stderr %q, want it to end with %q", r.stderr, want)
		}
	}
	t.Run("socket", check)
	s.Stop()
	t.Run("storage", check)
}

// hasLastLine reports whether out ends with the line want.
func hasLastLine(out, want string) bool {
	return strings.HasSuffix("\n"+out, "\n"+want)
}

func TestMinPasswordLength(t *testing.T) {
	s := xmpptest.Start(t)
	cfg := configFor(t, s)
	s.AddUser("romeo", "romeo-password")

	check := func(t *testing.T) {
		want := "the password must have at least 8 characters (registration.min_password_length)\n"
		r := ternctl(t, "", "1234567\n", args(cfg, "user", "add", "juliet@localhost")...)
		if r.code != 1 || !strings.HasSuffix(r.stderr, want) {
			t.Errorf("add with 7 characters exited %d with %q, want 1 and %q", r.code, r.stderr, want)
		}
		r = ternctl(t, "", "1234567\n", args(cfg, "user", "passwd", "romeo@localhost")...)
		if r.code != 1 || !strings.HasSuffix(r.stderr, want) {
			t.Errorf("passwd with 7 characters exited %d with %q, want 1 and %q", r.code, r.stderr, want)
		}
	}
	t.Run("socket", check)
	s.Stop()
	t.Run("storage", check)

	s = s.Restart()
	s.Login("romeo", "romeo-password", "r").Sync()
}
