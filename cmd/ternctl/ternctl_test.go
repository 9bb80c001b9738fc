package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tern/config"
	"tern/internal/xmpptest"
	"tern/storage"
)

// ternctlBin is the ternctl binary built by TestMain.
var ternctlBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ternctl-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ternctlBin = filepath.Join(dir, "ternctl")
	out, err := exec.Command("go", "build", "-o", ternctlBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build ternctl: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is the outcome of one ternctl run.
type result struct {
	code           int
	stdout, stderr string
}

// ternctl runs the binary with args in dir, writing stdin to it.
func ternctl(t testing.TB, dir, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(ternctlBin, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run ternctl %q: %v", args, err)
	}
	return r
}

// mustRun runs ternctl and fails the test unless it exits with 0.
func mustRun(t testing.TB, dir, stdin string, args ...string) result {
	t.Helper()
	r := ternctl(t, dir, stdin, args...)
	if r.code != 0 {
		t.Fatalf("ternctl %q exited with %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// configFor writes a configuration file for ternctl that points at the
// data directory of s and returns the -config arguments.
func configFor(t testing.TB, s *xmpptest.Server) []string {
	t.Helper()
	cfg := s.Config()
	hashes := make([]string, len(cfg.Auth.SCRAMHashes))
	for i, h := range cfg.Auth.SCRAMHashes {
		hashes[i] = strconv.Quote(h)
	}
	data := fmt.Sprintf("[server]\ndomains = [%q]\ndata_dir = %q\n\n[auth]\nscram_iterations = %d\nscram_hashes = [%s]\n",
		cfg.Server.Domains[0], cfg.Server.DataDir, cfg.Auth.SCRAMIterations, strings.Join(hashes, ", "))
	path := filepath.Join(t.TempDir(), "ternd.toml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"-config", path}
}

// args joins the -config arguments and a command.
func args(cfg []string, command ...string) []string {
	return append(append([]string(nil), cfg...), command...)
}

func TestUserAddViaSocket(t *testing.T) {
	s := xmpptest.Start(t)
	cfg := configFor(t, s)
	r := mustRun(t, "", "s3cret pass\n", args(cfg, "user", "add", "alice@localhost")...)
	if !strings.Contains(r.stdout, "created alice@localhost") {
		t.Errorf("stdout = %q, want it to name the created account", r.stdout)
	}
	if strings.Contains(r.stderr, "not running") {
		t.Errorf("ternctl used the storage directly with a server running: %s", r.stderr)
	}
	s.Login("alice", "s3cret pass", "phone").Sync()

	r = ternctl(t, "", "other password\n", args(cfg, "user", "add", "alice@localhost")...)
	if r.code != 1 || !strings.Contains(r.stderr, "account already exists") {
		t.Errorf("second add exited %d with %q, want 1 and an already-exists error", r.code, r.stderr)
	}
	r = ternctl(t, "", "", args(cfg, "user", "add", "bob@localhost")...)
	if r.code != 1 || !strings.Contains(r.stderr, "no password on standard input") {
		t.Errorf("add without a password exited %d with %q, want 1 and a missing-password error", r.code, r.stderr)
	}
	r = ternctl(t, "", "pw\n", args(cfg, "user", "add", "bob@elsewhere.example")...)
	if r.code != 1 || !strings.Contains(r.stderr, "domain not served") {
		t.Errorf("add on another domain exited %d with %q, want 1 and an unknown-domain error", r.code, r.stderr)
	}
}

func TestUserCommandsViaSocket(t *testing.T) {
	s := xmpptest.Start(t)
	cfg := configFor(t, s)
	lines := "# accounts\nalice@localhost  pw-alice\n\nbob@localhost pw with spaces \r\ncarol@localhost pw-carol\n"
	r := mustRun(t, "", lines, args(cfg, "user", "add", "-f", "-")...)
	if !strings.Contains(r.stdout, "created 3 accounts") {
		t.Errorf("bulk add stdout = %q, want 3 accounts created", r.stdout)
	}
	s.Login("bob", "pw with spaces", "r").Sync()

	r = mustRun(t, "", "", args(cfg, "user", "list")...)
	if want := "alice@localhost\nbob@localhost\ncarol@localhost\n"; r.stdout != want {
		t.Errorf("user list = %q, want %q", r.stdout, want)
	}
	alice := s.Login("alice", "pw-alice", "laptop")
	alice.Sync()

	r = mustRun(t, "", "", args(cfg, "sessions")...)
	for _, want := range []string{"alice@localhost/laptop", "bob@localhost/r"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("sessions output %q lacks %s", r.stdout, want)
		}
	}
	r = mustRun(t, "", "", args(cfg, "stats")...)
	for _, want := range []string{"sessions: 2\n", "accounts on localhost: 3\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stats output %q lacks %q", r.stdout, want)
		}
	}

	mustRun(t, "", "new-carol\n", args(cfg, "user", "passwd", "carol@localhost")...)
	s.Login("carol", "new-carol", "r").Sync()

	mustRun(t, "", "", args(cfg, "user", "delete", "alice@localhost")...)
	el := alice.Expect(xmpptest.IsStreamError)
	if got := xmpptest.StreamErrorCondition(el); got != "not-authorized" {
		t.Errorf("stream error after delete = %q, want not-authorized", got)
	}
	r = ternctl(t, "", "", args(cfg, "user", "delete", "alice@localhost")...)
	if r.code != 1 || !strings.Contains(r.stderr, "account does not exist") {
		t.Errorf("second delete exited %d with %q, want 1 and a does-not-exist error", r.code, r.stderr)
	}
	r = ternctl(t, "", "", args(cfg, "user", "delete", "bob@localhost/r")...)
	if r.code != 1 || !strings.Contains(r.stderr, "without a resource") {
		t.Errorf("delete of a full JID exited %d with %q, want 1 and a bare-JID error", r.code, r.stderr)
	}
}

func TestUserCommandsWithoutServer(t *testing.T) {
	s := xmpptest.Start(t)
	cfg := configFor(t, s)
	s.AddUser("dave", "pw-dave")
	s.Stop()

	r := mustRun(t, "", "erin-password\n", args(cfg, "user", "add", "erin@localhost")...)
	if !strings.Contains(r.stderr, "ternd is not running") {
		t.Errorf("stderr = %q, want a note that the storage is used directly", r.stderr)
	}
	mustRun(t, "", "new-dave\n", args(cfg, "user", "passwd", "dave@localhost")...)
	r = mustRun(t, "", "", args(cfg, "user", "list", "localhost")...)
	if want := "dave@localhost\nerin@localhost\n"; r.stdout != want {
		t.Errorf("user list = %q, want %q", r.stdout, want)
	}
	r = mustRun(t, "", "", args(cfg, "stats")...)
	if !strings.Contains(r.stdout, "sessions: unknown") || !strings.Contains(r.stdout, "accounts on localhost: 2") {
		t.Errorf("stats output = %q, want unknown sessions and 2 accounts", r.stdout)
	}
	r = ternctl(t, "", "", args(cfg, "sessions")...)
	if r.code != 1 || !strings.Contains(r.stderr, "ternd is not running") {
		t.Errorf("sessions exited %d with %q, want 1 and a not-running error", r.code, r.stderr)
	}

	s = s.Restart()
	s.Login("erin", "erin-password", "r").Sync()
	s.Login("dave", "new-dave", "r").Sync()
}

func TestUserAddWithoutServerUsesSCRAMHashes(t *testing.T) {
	s := xmpptest.Start(t, func(c *config.Config) { c.Auth.SCRAMHashes = []string{"SHA-256"} })
	cfg := configFor(t, s)
	s.Stop()
	mustRun(t, "", "erin-password\n", args(cfg, "user", "add", "erin@localhost")...)

	s = s.Restart()
	a, err := s.Store().GetAccount(context.Background(), storage.Owner{Domain: "localhost", Local: "erin"})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Keys) != 1 || a.Keys[0].Hash != "SHA-256" {
		t.Errorf("erin has keys %+v, want one SHA-256 key", a.Keys)
	}
	s.Login("erin", "erin-password", "r").Sync()
}

func TestDefaultDataDirectory(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, dir, "pw-frank\n", "user", "add", "frank@localhost")
	s := xmpptest.Start(t, func(c *config.Config) { c.Server.DataDir = filepath.Join(dir, "data") })
	s.Login("frank", "pw-frank", "r").Sync()
}

// TestMissingDatabase: without a server and without a database, commands
// that read accounts fail and create nothing, so that a ternctl run
// without the server's -config does not report an empty server.
func TestMissingDatabase(t *testing.T) {
	dir := t.TempDir()
	for _, command := range [][]string{{"user", "list"}, {"stats"}, {"user", "delete", "a@localhost"}} {
		r := ternctl(t, dir, "", command...)
		if r.code != 1 || !strings.Contains(r.stderr, "no database at") || !strings.Contains(r.stderr, "-config") {
			t.Errorf("ternctl %q exited with %d and %q, want 1 and an error naming the missing database and -config", command, r.code, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the commands created %s (stat: %v)", filepath.Join(dir, "data"), err)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help"}, 0, "user add -f FILE"},
		{[]string{"help", "user"}, 0, "ternctl user passwd JID"},
		{[]string{}, 2, "no command given"},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"user"}, 2, "user needs a subcommand"},
		{[]string{"user", "add"}, 2, "user add takes one JID, got 0 arguments"},
		{[]string{"user", "add", "-f", "x", "a@localhost"}, 2, "takes no JID arguments"},
		{[]string{"user", "list", "a", "b"}, 2, "at most one domain"},
		{[]string{"stats", "x"}, 2, "stats takes no arguments"},
		{[]string{"-config", "/nonexistent/ternd.toml", "stats"}, 1, "/nonexistent/ternd.toml"},
		{[]string{"help", "nothing"}, 2, `no help for "nothing"`},
		{[]string{"broadcast", "-bogus", "x"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"user", "add", "-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"broadcast", "-h"}, 0, "ternctl broadcast [-offline]"},
	} {
		r := ternctl(t, t.TempDir(), "", tc.args...)
		if r.code != tc.code {
			t.Errorf("ternctl %q exited with %d, want %d", tc.args, r.code, tc.code)
		}
		out := r.stdout + r.stderr
		if !strings.Contains(out, tc.want) {
			t.Errorf("ternctl %q output %q lacks %q", tc.args, out, tc.want)
		}
		if n := strings.Count(out, tc.want); n > 1 {
			t.Errorf("ternctl %q prints %q %d times", tc.args, tc.want, n)
		}
	}
}

func TestAddFileErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "users.txt")
	os.WriteFile(file, []byte("ok@localhost pw\nbroken@localhost\n"), 0o600)
	r := ternctl(t, dir, "", "user", "add", "-f", file)
	if r.code != 1 || !strings.Contains(r.stderr, file+":2: missing password") {
		t.Errorf("add -f with a bad line exited %d with %q, want 1 and the line number", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Errorf("storage opened for a file with errors: %v", err)
	}
}

// BenchmarkUserAddFile measures "ternctl user add -f" of 10,000 accounts
// with 4096 PBKDF2 iterations through the control socket of a running
// server, with the default auth.scram_hashes and with SHA-256 alone. Run it
// with -benchtime 1x: every iteration derives 10,000 keys per hash family.
func BenchmarkUserAddFile(b *testing.B) {
	const n = 10000
	for _, hashes := range [][]string{config.Default().Auth.SCRAMHashes, {"SHA-256"}} {
		b.Run(strings.Join(hashes, "+"), func(b *testing.B) {
			s := xmpptest.Start(b, func(c *config.Config) {
				c.Auth.SCRAMIterations = 4096
				c.Auth.SCRAMHashes = hashes
			})
			cfg := configFor(b, s)
			for i := 0; b.Loop(); i++ {
				var lines strings.Builder
				for k := range n {
					fmt.Fprintf(&lines, "u%d-%05d@localhost password-%d\n", i, k, k)
				}
				start := time.Now()
				mustRun(b, "", lines.String(), args(cfg, "user", "add", "-f", "-")...)
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "accounts/s")
			}
		})
	}
}
