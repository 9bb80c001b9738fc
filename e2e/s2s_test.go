package e2e

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	msasl "mellium.im/sasl"

	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
)

// startFederated starts a Tern server for domain with a self-signed
// certificate, as xmpptest does.
func startFederated(t *testing.T, domain string) *xmpptest.Server {
	t.Helper()
	return xmpptest.Start(t, func(cfg *config.Config) {
		cfg.Server.Domains = []string{domain}
	})
}

// TestFederationTwoServers runs two Tern servers whose self-signed
// certificates make them authenticate each other with dialback, and has
// their users subscribe to each other and chat.
func TestFederationTwoServers(t *testing.T) {
	a := startFederated(t, "a.test")
	b := startFederated(t, "b.test")
	a.S2S().SetAddr("b.test", b.Addr("s2s"))
	b.S2S().SetAddr("a.test", a.Addr("s2s"))
	a.AddUser("romeo", "secret1")
	b.AddUser("juliet", "secret2")
	romeo := a.Login("romeo", "secret1", "orchard")
	juliet := b.Login("juliet", "secret2", "balcony")

	// Romeo subscribes to Juliet's presence; she approves.
	romeo.Send("<presence to='juliet@b.test' type='subscribe'/>")
	juliet.Expect(isSubscription("romeo@a.test", "subscribe"))
	juliet.Send("<presence to='romeo@a.test' type='subscribed'/>")
	romeo.Expect(isSubscription("juliet@b.test", "subscribed"))
	romeo.Expect(xmpptest.IsPresence("juliet@b.test/balcony", ""))

	// And the other way round.
	juliet.Send("<presence to='romeo@a.test' type='subscribe'/>")
	romeo.Expect(isSubscription("juliet@b.test", "subscribe"))
	romeo.Send("<presence to='juliet@b.test' type='subscribed'/>")
	juliet.Expect(xmpptest.IsPresence("romeo@a.test/orchard", ""))

	romeo.Send("<message to='juliet@b.test' type='chat' id='m1'><body>across the wall</body></message>")
	m := juliet.Expect(xmpptest.IsMessage("across the wall"))
	if got := m.From.String(); got != "romeo@a.test/orchard" {
		t.Errorf("message from = %q, want romeo@a.test/orchard", got)
	}
	juliet.Send("<message to='romeo@a.test/orchard' type='chat' id='m2'><body>and back</body></message>")
	m = romeo.Expect(xmpptest.IsMessage("and back"))
	if got := m.From.String(); got != "juliet@b.test/balcony" {
		t.Errorf("reply from = %q, want juliet@b.test/balcony", got)
	}

	// A presence change reaches the subscribed contact.
	juliet.Send("<presence><show>away</show></presence>")
	p := romeo.Expect(xmpptest.IsPresence("juliet@b.test/balcony", ""))
	if show := p.Child("", "show").Text(); show != "away" {
		t.Errorf("show = %q, want away", show)
	}

	// Going offline sends unavailable presence across.
	romeo.Close()
	juliet.Expect(xmpptest.IsPresence("romeo@a.test/orchard", "unavailable"))
}

// TestFederationUnknownUser checks that a remote server's error for a
// missing account comes back to the sender.
func TestFederationUnknownUser(t *testing.T) {
	a := startFederated(t, "a.test")
	b := startFederated(t, "b.test")
	a.S2S().SetAddr("b.test", b.Addr("s2s"))
	b.S2S().SetAddr("a.test", a.Addr("s2s"))
	a.AddUser("romeo", "secret1")
	romeo := a.Login("romeo", "secret1", "orchard")

	romeo.Send("<message to='nobody@b.test' type='chat' id='x1'><body>hello?</body></message>")
	e := romeo.Expect(func(s *stanza.Stanza) bool { return s.Name == stanza.Message && s.ID == "x1" })
	if e.Type != "error" || xmpptest.ErrorCondition(e) != "service-unavailable" {
		t.Errorf("reply = %s, want a service-unavailable error", e)
	}
}

// TestFederationUnreachable checks that stanzas to a domain whose server
// cannot be reached bounce with remote-server-not-found.
func TestFederationUnreachable(t *testing.T) {
	a := startFederated(t, "a.test")
	a.S2S().SetAddr("gone.test", closedAddr(t))
	a.AddUser("romeo", "secret1")
	romeo := a.Login("romeo", "secret1", "orchard")

	romeo.Send("<message to='juliet@gone.test' type='chat' id='g1'><body>anyone?</body></message>")
	e := romeo.Expect(func(s *stanza.Stanza) bool { return s.Name == stanza.Message && s.ID == "g1" })
	if e.Type != "error" || xmpptest.ErrorCondition(e) != "remote-server-not-found" {
		t.Errorf("reply = %s, want a remote-server-not-found error", e)
	}
}

func isSubscription(from, typ string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return s.Name == stanza.Presence && s.Type == typ && s.From.Bare().String() == from
	}
}

// closedAddr returns a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestFederationProsody exchanges messages with a Prosody server from
// Debian's package over s2s. Neither server trusts the other's self-signed
// certificate, so both directions authenticate with dialback.
func TestFederationProsody(t *testing.T) {
	tern := startFederated(t, "a.test")
	tern.AddUser("romeo", "secret1")
	p := startProsody(t, "prosody.test", map[string]string{"a.test": tern.Addr("s2s")})
	tern.S2S().SetAddr("prosody.test", p.s2sAddr)
	p.addUser(t, "alice", "secret3")

	romeo := tern.Login("romeo", "secret1", "orchard")
	alice := p.login(t, "alice", "secret3", "desk")

	romeo.Send("<message to='alice@prosody.test' type='chat' id='p1'><body>hello prosody</body></message>")
	m := alice.Expect(xmpptest.IsMessage("hello prosody"))
	if got := m.From.String(); got != "romeo@a.test/orchard" {
		t.Errorf("message at Prosody from = %q, want romeo@a.test/orchard", got)
	}

	alice.Send("<message to='romeo@a.test' type='chat' id='p2'><body>hello tern</body></message>")
	m = romeo.Expect(xmpptest.IsMessage("hello tern"))
	if got := m.From.String(); got != "alice@prosody.test/desk" {
		t.Errorf("message at Tern from = %q, want alice@prosody.test/desk", got)
	}

	romeo.Send("<message to='alice@prosody.test/desk' type='chat' id='p3'><body>second</body></message>")
	alice.Expect(xmpptest.IsMessage("second"))
}

// prosody is a Prosody process started for one test.
type prosody struct {
	dir, config      string
	domain           string
	c2sAddr, s2sAddr string
}

// prosodyModule makes Prosody connect to fixed loopback ports for the
// domains in loopback_s2s_targets instead of looking up DNS, as the
// resolution override of the s2s package does for Tern. It replaces the
// SRV resolver that mod_s2s calls for every new outgoing stream.
const prosodyModule = `
local service = require "net.resolvers.service";
local basic = require "net.resolvers.basic";
local manual = require "net.resolvers.manual";
local targets = module:get_option("loopback_s2s_targets", {});
if not service.loopback_s2s then
	local new = service.new;
	service.new = function (hostname, service_name, conn_type, extra)
		local port = targets[hostname];
		if port == nil then
			return new(hostname, service_name, conn_type, extra);
		end
		if service_name ~= "xmpp-server" then
			return manual.new({}, conn_type, extra);
		end
		return basic.new("127.0.0.1", port, conn_type, extra);
	end
	service.loopback_s2s = true;
end
`

// startProsody starts Prosody for domain on free loopback ports, with its
// data, log and configuration in a temporary directory. peers maps the
// domains it federates with to their s2s addresses on 127.0.0.1. Prosody
// stops when the test ends. Without the prosody binary the test is
// skipped, or fails when CI=true.
func startProsody(t *testing.T, domain string, peers map[string]string) *prosody {
	t.Helper()
	bin, err := exec.LookPath("prosody")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("prosody is not installed (run scripts/deps.sh): %v", err)
		}
		t.Skipf("prosody is not installed; scripts/deps.sh installs it: %v", err)
	}
	dir := t.TempDir()
	p := &prosody{
		dir: dir, domain: domain, config: filepath.Join(dir, "prosody.cfg.lua"),
		c2sAddr: freeAddr(t), s2sAddr: freeAddr(t),
	}
	writeSelfSigned(t, domain, filepath.Join(dir, "host.crt"), filepath.Join(dir, "host.key"))
	if err := os.WriteFile(filepath.Join(dir, "mod_loopback_s2s.lua"), []byte(prosodyModule), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.config, []byte(p.configText(peers)), 0o644); err != nil {
		t.Fatal(err)
	}
	p.run(t, bin)
	return p
}

// configText returns a configuration with s2s_secure_auth off, so that
// dialback authenticates peers with self-signed certificates.
func (p *prosody) configText(peers map[string]string) string {
	var b strings.Builder
	if os.Geteuid() == 0 {
		// Prosody refuses to run as root unless told to.
		b.WriteString("run_as_root = true\n")
	}
	fmt.Fprintf(&b, "pidfile = %q\n", filepath.Join(p.dir, "prosody.pid"))
	fmt.Fprintf(&b, "data_path = %q\n", filepath.Join(p.dir, "data"))
	fmt.Fprintf(&b, "certificates = %q\n", p.dir)
	fmt.Fprintf(&b, "plugin_paths = { %q }\n", p.dir)
	b.WriteString("interfaces = { \"127.0.0.1\" }\nlocal_interfaces = { \"127.0.0.1\" }\n")
	fmt.Fprintf(&b, "c2s_ports = { %s }\ns2s_ports = { %s }\n", port(p.c2sAddr), port(p.s2sAddr))
	b.WriteString("c2s_direct_tls_ports = { }\ns2s_direct_tls_ports = { }\nlegacy_ssl_ports = { }\n")
	fmt.Fprintf(&b, "log = { { levels = { min = \"debug\" }, to = \"file\", filename = %q };"+
		" { levels = { min = \"info\" }, to = \"console\" } }\n", filepath.Join(p.dir, "prosody.log"))
	b.WriteString("authentication = \"internal_hashed\"\ns2s_secure_auth = false\n")
	b.WriteString("modules_enabled = { \"roster\", \"saslauth\", \"tls\", \"dialback\", \"disco\", \"ping\", \"posix\", \"loopback_s2s\" }\n")
	b.WriteString("loopback_s2s_targets = {")
	for d, addr := range peers {
		fmt.Fprintf(&b, " [%q] = %s;", d, port(addr))
	}
	b.WriteString(" }\n")
	fmt.Fprintf(&b, "VirtualHost %q\n", p.domain)
	fmt.Fprintf(&b, "\tssl = { certificate = %q; key = %q }\n",
		filepath.Join(p.dir, "host.crt"), filepath.Join(p.dir, "host.key"))
	return b.String()
}

// run starts the process, waits until it logs that its c2s and s2s ports
// are open, and stops it by its PID when the test ends.
func (p *prosody) run(t *testing.T, bin string) {
	t.Helper()
	cmd := exec.Command(bin, "--config", p.config)
	cmd.Dir = p.dir
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start prosody: %v", err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() { p.stop(t, cmd, exited) })
	ready := make(chan error, 1)
	go func() {
		ready <- waitListening(out)
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(exited)
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("prosody did not start: %v\n%s", err, p.logTail())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("prosody did not open its ports within 30s\n%s", p.logTail())
	}
}

// waitListening reads Prosody's console log until both the c2s and the
// s2s service are active.
func waitListening(out io.Reader) error {
	sc := bufio.NewScanner(out)
	var c2s, s2s bool
	var seen []string
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		c2s = c2s || strings.Contains(line, "Activated service 'c2s' on [")
		s2s = s2s || strings.Contains(line, "Activated service 's2s' on [")
		if c2s && s2s {
			return nil
		}
	}
	return fmt.Errorf("prosody exited; console output:\n%s", strings.Join(seen, "\n"))
}

func (p *prosody) stop(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}) {
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("stop prosody (pid %d): %v", cmd.Process.Pid, err)
	}
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Errorf("prosody (pid %d) did not stop within 15s; killing it", cmd.Process.Pid)
		cmd.Process.Kill()
		<-exited
	}
	if t.Failed() {
		t.Logf("prosody log:\n%s", p.logTail())
	}
}

// logTail returns the end of Prosody's debug log.
func (p *prosody) logTail() string {
	b, err := os.ReadFile(filepath.Join(p.dir, "prosody.log"))
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > 20000 {
		b = b[len(b)-20000:]
	}
	return string(b)
}

// addUser creates an account with prosodyctl.
func (p *prosody) addUser(t *testing.T, local, password string) {
	t.Helper()
	cmd := exec.Command("prosodyctl", "--config", p.config, "register", local, p.domain, password)
	cmd.Dir = p.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("prosodyctl register %s: %v\n%s", local, err, out)
	}
}

// login connects a client to Prosody, authenticates with SCRAM, binds
// resource and sends initial presence.
func (p *prosody) login(t *testing.T, local, password, resource string) *xmpptest.Client {
	t.Helper()
	c := xmpptest.Dial(t, p.c2sAddr, p.domain)
	if err := c.Open(); err != nil {
		t.Fatalf("open stream to prosody: %v", err)
	}
	c.StartTLS()
	mech := msasl.ScramSha1
	if slices.Contains(c.Mechanisms(), "SCRAM-SHA-256") {
		mech = msasl.ScramSha256
	}
	if err := c.Auth(mech, local, password); err != nil {
		t.Fatalf("authenticate %s at prosody with %s: %v", local, mech.Name, err)
	}
	if err := c.Bind(resource); err != nil {
		t.Fatalf("bind at prosody: %v", err)
	}
	c.Send("<presence/>")
	return c
}

// writeSelfSigned writes a new self-signed certificate for domain and its
// key as PEM files.
func writeSelfSigned(t *testing.T, domain, certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: domain},
		DNSNames:     []string{domain},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for a process that cannot be told to pick its own.
func freeAddr(t *testing.T) string {
	t.Helper()
	return closedAddr(t)
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
