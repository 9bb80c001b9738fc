package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/storage/postgres/pgtest"
)

// systemPython is the interpreter Debian's python3-slixmpp installs into;
// other Pythons on PATH lack the package.
const systemPython = "/usr/bin/python3"

// requireSlixmpp skips when slixmpp is missing, except under CI, where the
// Makefile installs it and its absence is a failure.
func requireSlixmpp(t *testing.T) {
	t.Helper()
	err := exec.Command(systemPython, "-c", "import slixmpp").Run()
	if err == nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("python3-slixmpp is not installed (run make deps): %v", err)
	}
	t.Skipf("python3-slixmpp is not installed (run make deps): %v", err)
}

// runSlixmpp runs a phase of testdata/slixmpp_chat.py against addr and
// decodes its JSON result.
func runSlixmpp(t *testing.T, phase, addr string, out any) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "testdata/slixmpp_chat.py", phase, host, port)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("slixmpp %s: %v\n%s", phase, err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		t.Fatalf("slixmpp %s output %q: %v\n%s", phase, stdout.String(), err, stderr.String())
	}
}

func testSlixmppChat(t *testing.T, s *xmpptest.Server) {
	requireSlixmpp(t)
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")

	var first struct {
		Mechanism    string   `json:"mechanism"`
		RomeoRoster  string   `json:"romeo_roster"`
		JulietRoster string   `json:"juliet_roster"`
		JulietGot    []string `json:"juliet_got"`
		RomeoGot     []string `json:"romeo_got"`
	}
	runSlixmpp(t, "exchange", s.Addr("c2s"), &first)
	if first.Mechanism != "SCRAM-SHA-256" {
		t.Errorf("mechanism %q, want SCRAM-SHA-256", first.Mechanism)
	}
	if first.RomeoRoster != "both" || first.JulietRoster != "both" {
		t.Errorf("subscriptions: romeo %q, juliet %q; want both", first.RomeoRoster, first.JulietRoster)
	}
	if len(first.JulietGot) != 2 || first.JulietGot[0] != "hello juliet" || !strings.HasPrefix(first.JulietGot[1], "romeo@localhost/") {
		t.Errorf("juliet received %v", first.JulietGot)
	}
	if len(first.RomeoGot) != 2 || first.RomeoGot[0] != "hello romeo" {
		t.Errorf("romeo received %v", first.RomeoGot)
	}

	s = s.Restart()

	var second struct {
		Body       string `json:"body"`
		From       string `json:"from"`
		DelayStamp string `json:"delay_stamp"`
	}
	runSlixmpp(t, "receive", s.Addr("c2s"), &second)
	if second.Body != "while you were away" {
		t.Errorf("stored message body %q", second.Body)
	}
	if !strings.HasPrefix(second.From, "juliet@localhost/") {
		t.Errorf("stored message from %q", second.From)
	}
	if second.DelayStamp == "" {
		t.Error("stored message has no delay stamp")
	}
}

func TestSlixmppChatSQLite(t *testing.T) {
	testSlixmppChat(t, xmpptest.Start(t))
}

func TestSlixmppChatPostgres(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	testSlixmppChat(t, xmpptest.Start(t, func(c *configT) {
		c.Storage.Backend = "postgres"
		c.Storage.PostgresDSN = dsn
	}))
}

// TestSlixmppStockClientNotThrottled: slixmpp's default settings try
// channel bindings and flags the server refuses before a mechanism that
// works; those refusals are not failed logins, so repeated logins from
// one address are never throttled.
func TestSlixmppStockClientNotThrottled(t *testing.T) {
	requireSlixmpp(t)
	s := xmpptest.Start(t)
	s.AddUser("juliet", "j-secret")
	var out struct {
		Mechanisms []string `json:"mechanisms"`
	}
	runSlixmpp(t, "stock", s.Addr("c2s"), &out)
	if len(out.Mechanisms) != 3 {
		t.Fatalf("logins: %v, want 3", out.Mechanisms)
	}
	t.Logf("slixmpp settled on %v", out.Mechanisms)
}
