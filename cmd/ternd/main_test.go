package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	msasl "mellium.im/sasl"

	"tern/internal/xmpptest"
)

// buildBinaries compiles ternd and ternctl into a temporary directory.
func buildBinaries(t *testing.T) (ternd, ternctl string) {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"ternd", "ternctl"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, name), "tern/cmd/"+name).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", name, err, out)
		}
	}
	return filepath.Join(dir, "ternd"), filepath.Join(dir, "ternctl")
}

const testConfig = `
[server]
domains = ["localhost"]
data_dir = "%DATA%"

[c2s]
listen = ["127.0.0.1:0"]
direct_tls_listen = ["127.0.0.1:0"]

[s2s]
enabled = false
listen = []

[component]
listen = ""

[http]
listen = "127.0.0.1:0"
`

var listenLine = regexp.MustCompile(`msg=listening kind=c2s addr=(\S+)`)

// TestBinaryFirstRun runs the real binaries as an administrator would:
// start ternd, create two accounts with ternctl (passwords on standard
// input), chat between them, then stop ternd with SIGTERM.
func TestBinaryFirstRun(t *testing.T) {
	ternd, ternctl := buildBinaries(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "tern.toml")
	cfg := strings.ReplaceAll(testConfig, "%DATA%", filepath.Join(dir, "data"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	srv := exec.Command(ternd, "-config", cfgPath)
	stderr, err := srv.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	t.Cleanup(func() {
		srv.Process.Kill()
		<-exited
	})
	addrCh := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil {
				addrCh <- m[1]
			}
		}
	}()
	go func() { exited <- srv.Wait() }()
	var addr string
	select {
	case addr = <-addrCh:
	case err := <-exited:
		t.Fatalf("ternd exited: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("ternd did not report its c2s address")
	}

	for _, u := range []struct{ jid, password string }{{"romeo@localhost", "correct horse"}, {"juliet@localhost", "battery staple"}} {
		cmd := exec.Command(ternctl, "-config", cfgPath, "user", "add", u.jid)
		cmd.Stdin = strings.NewReader(u.password + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("ternctl user add %s: %v\n%s", u.jid, err, out)
		}
	}
	out, err := exec.Command(ternctl, "-config", cfgPath, "user", "list").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "romeo@localhost") || !strings.Contains(string(out), "juliet@localhost") {
		t.Fatalf("ternctl user list: %v\n%s", err, out)
	}

	login := func(user, password, resource string) *xmpptest.Client {
		c := xmpptest.Dial(t, addr, "localhost")
		if err := c.Open(); err != nil {
			t.Fatal(err)
		}
		c.StartTLS()
		if err := c.Auth(msasl.ScramSha256, user, password); err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
		if err := c.Bind(resource); err != nil {
			t.Fatal(err)
		}
		c.Send("<presence/>")
		return c
	}
	r := login("romeo", "correct horse", "orchard")
	j := login("juliet", "battery staple", "balcony")
	j.Barrier()
	r.Send("<message to='juliet@localhost' type='chat'><body>over the real binary</body></message>")
	j.Expect(xmpptest.IsMessage("over the real binary"))

	sessions, err := exec.Command(ternctl, "-config", cfgPath, "sessions").CombinedOutput()
	if err != nil || !strings.Contains(string(sessions), "romeo@localhost/orchard") {
		t.Errorf("ternctl sessions: %v\n%s", err, sessions)
	}

	// SIGHUP reloads certificates and keeps every session.
	if err := srv.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	j.Barrier()
	r.Send("<message to='juliet@localhost' type='chat'><body>after SIGHUP</body></message>")
	j.Expect(xmpptest.IsMessage("after SIGHUP"))

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	el, err := r.TryExpect(xmpptest.IsStreamError)
	if err != nil || xmpptest.StreamErrorCondition(el) != "system-shutdown" {
		t.Errorf("on SIGTERM: %v %v, want a system-shutdown stream error", el, err)
	}
	select {
	case err := <-exited:
		exited <- err
		if err != nil {
			t.Errorf("ternd exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("ternd did not stop after SIGTERM")
	}
}

func TestBinaryRejectsArguments(t *testing.T) {
	ternd, _ := buildBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A config file path given without -config must not start a server
	// with the built-in defaults.
	out, err := exec.CommandContext(ctx, ternd, "tern.toml").CombinedOutput()
	if err == nil {
		t.Fatalf("ternd started with a positional argument:\n%s", out)
	}
	if !strings.Contains(string(out), `unexpected argument "tern.toml"`) {
		t.Errorf("error does not name the argument:\n%s", out)
	}
}

func TestBinaryRejectsInvalidConfig(t *testing.T) {
	ternd, _ := buildBinaries(t)
	cases := []struct {
		name, config, key string
	}{
		{"bad size", "[c2s]\nmax_stanza_size = \"12x\"\n", "c2s.max_stanza_size"},
		{"unknown key", "[server]\ndomian = [\"x\"]\n", "server.domian"},
		{"bad domain", "[server]\ndomains = [\"a b\"]\n", "server.domains"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bad.toml")
			os.WriteFile(path, []byte(tc.config), 0o600)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, ternd, "-config", path).CombinedOutput()
			if err == nil {
				t.Fatalf("ternd accepted the config:\n%s", out)
			}
			if !strings.Contains(string(out), tc.key) {
				t.Errorf("error does not name %s:\n%s", tc.key, out)
			}
		})
	}
}
