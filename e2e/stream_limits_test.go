package e2e

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/stream"
)

const streamOpen = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

// readStreamError reads elements until a stream error arrives and returns
// its condition, or "" when the stream ends without one.
func readStreamError(t *testing.T, c *xmpptest.Client) string {
	t.Helper()
	if c.Header.ID == "" && c.JID.String() == "" {
		if _, err := c.ReadHeaderOnly(); err != nil {
			t.Errorf("no stream header: %v", err)
			return ""
		}
	}
	for {
		el, err := c.Read()
		if err != nil {
			return ""
		}
		if xmpptest.IsStreamError(el) {
			return xmpptest.StreamErrorCondition(el)
		}
	}
}

// expectClosed reads until the connection ends and fails if it stays open.
func expectClosed(t *testing.T, c *xmpptest.Client) {
	t.Helper()
	for {
		_, err := c.Read()
		if err == nil {
			continue
		}
		if errors.Is(err, stream.ErrClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "closed") || strings.Contains(err.Error(), "reset") {
			return
		}
		t.Fatalf("connection not closed: %v", err)
	}
}

func TestRestrictedXML(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.TLS.Required = false })
	s.AddUser("romeo", "r-secret")
	laughs := "<?xml version='1.0'?><!DOCTYPE s [<!ENTITY a 'aaaaaaaaaa'>"
	for i := 1; i < 9; i++ {
		prev, cur := string(rune('a'+i-1)), string(rune('a'+i))
		laughs += "<!ENTITY " + cur + " '" + strings.Repeat("&"+prev+";", 10) + "'>"
	}
	laughs += "]><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' xml:lang='&i;' version='1.0'>"
	cases := []struct {
		name  string
		input string
		conds []string
	}{
		{"billion laughs DTD", laughs, []string{"restricted-xml"}},
		{"entity in text", streamOpen + "<message to='romeo@localhost'><body>&a;</body></message>", []string{"restricted-xml", "not-well-formed"}},
		{"undeclared nbsp", streamOpen + "<message to='romeo@localhost'><body>&nbsp;</body></message>", []string{"restricted-xml", "not-well-formed"}},
		{"comment", streamOpen + "<!-- c -->", []string{"restricted-xml"}},
		{"processing instruction", streamOpen + "<?pi x?>", []string{"restricted-xml"}},
		{"DTD after open", streamOpen + "<!DOCTYPE x>", []string{"restricted-xml"}},
		{"invalid UTF-8", streamOpen + "<message to='\xff\xfe\xfd@localhost'/>", []string{"not-well-formed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
			c.Send(tc.input)
			got := readStreamError(t, c)
			if !contains(tc.conds, got) {
				t.Errorf("stream error %q, want one of %v", got, tc.conds)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEntityAttackParallel opens 100 connections at once that each send a
// DTD with nested entities and checks they all end quickly while a real
// client logs in.
func TestEntityAttackParallel(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.TLS.Required = false })
	s.AddUser("romeo", "r-secret")
	attack := "<?xml version='1.0'?><!DOCTYPE s [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;'>]>" +
		"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' xml:lang='&b;' version='1.0'>"
	var before syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &before)
	start := time.Now()
	var wg sync.WaitGroup
	conds := make([]string, 100)
	for i := range conds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
			c.Send(attack)
			conds[i] = readStreamError(t, c)
		}()
	}
	legit := s.Login("romeo", "r-secret", "orchard")
	wg.Wait()
	elapsed := time.Since(start)
	var after syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &after)
	cpu := time.Duration(after.Utime.Nano()+after.Stime.Nano()-before.Utime.Nano()-before.Stime.Nano()) / 100
	t.Logf("100 entity attacks: %v wall, about %v CPU per connection (test process, clients included)", elapsed, cpu)
	for i, c := range conds {
		if c != "restricted-xml" {
			t.Errorf("connection %d: stream error %q, want restricted-xml", i, c)
		}
	}
	if elapsed > 2*time.Second {
		t.Errorf("100 attacks took %v, want under 2s", elapsed)
	}
	if cpu > 50*time.Millisecond {
		t.Errorf("CPU per attack connection %v, want under 50ms", cpu)
	}
	legit.Barrier()
}

func TestOversizedStanzaClosesOnlyThatStream(t *testing.T) {
	s := newPair(t)
	j := s.Login("juliet", "j-secret", "balcony")
	const conns = 8
	senders := make([]*xmpptest.Client, conns)
	for i := range senders {
		senders[i] = s.Login("romeo", "r-secret", fmt.Sprintf("r%d", i))
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	heapBefore := ms.HeapInuse
	var peak uint64
	var wg sync.WaitGroup
	var mu sync.Mutex
	conds := make([]string, conns)
	for i, r := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Send("<message to='juliet@localhost' type='chat'><body>")
			chunk := []byte(strings.Repeat("A", 16<<10))
			for n := 0; n < 640; n++ { // up to 10 MiB, never closed
				r.Conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
				if _, err := r.Conn.Write(chunk); err != nil {
					break
				}
				if n%8 == 0 {
					var m runtime.MemStats
					runtime.ReadMemStats(&m)
					mu.Lock()
					peak = max(peak, m.HeapInuse)
					mu.Unlock()
				}
			}
			el, err := r.TryExpect(xmpptest.IsStreamError)
			if err == nil {
				conds[i] = xmpptest.StreamErrorCondition(el)
			}
		}()
	}
	wg.Wait()
	for i, c := range conds {
		if c != "policy-violation" {
			t.Errorf("sender %d: stream error %q, want policy-violation", i, c)
		}
	}
	// The heap here includes the test clients and garbage not yet
	// collected, so it is only logged; stream's TestReaderMemoryBounded
	// asserts the reader's own allocations.
	perConn := (int64(peak) - int64(heapBefore)) / conns
	t.Logf("peak heap growth per oversized connection: %d KiB (test clients and garbage included)", perConn>>10)
	for _, el := range j.Sync() {
		if el.Name == stanza.Message {
			t.Errorf("juliet received part of the oversized stanza: %.80s", el.String())
		}
	}
	// The other session still works.
	j.Send("<message to='juliet@localhost' type='chat'><body>still here</body></message>")
	j.Expect(xmpptest.IsMessage("still here"))
}

func TestPreAuthLimits(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.TLS.Required = false })
	t.Run("many children never closed", func(t *testing.T) {
		c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
		if err := c.Open(); err != nil {
			t.Fatal(err)
		}
		c.Send("<x>")
		var err error
		for i := 0; i < 100000 && err == nil; i++ {
			c.Conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
			_, err = c.Conn.Write([]byte(strings.Repeat("<a>x</a>", 10)))
		}
		if got := readStreamError(t, c); got != "policy-violation" {
			t.Errorf("stream error %q, want policy-violation", got)
		}
	})
	t.Run("deep nesting", func(t *testing.T) {
		c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
		if err := c.Open(); err != nil {
			t.Fatal(err)
		}
		c.Send(strings.Repeat("<a>", 10000))
		if got := readStreamError(t, c); got != "policy-violation" {
			t.Errorf("stream error %q, want policy-violation", got)
		}
	})
}

func TestTLSRequiredRefusesEverythingElse(t *testing.T) {
	s := newPair(t)
	j := s.Login("juliet", "j-secret", "balcony")
	c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	feats := c.Features.Elements()
	if len(feats) != 1 || feats[0].Name.Local != "starttls" || feats[0].Child("", "required") == nil {
		t.Fatalf("pre-TLS features: %s, want only <starttls><required/></starttls>", c.Features)
	}
	c.Send("<compress xmlns='http://jabber.org/protocol/compress'><method>zlib</method></compress>")
	el, err := c.Read()
	if err != nil || el.Name != "failure" || el.Child("", "setup-failed") == nil {
		t.Errorf("compress before TLS: %v %v, want <failure><setup-failed/>", el, err)
	}
	c.Send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AHJvbWVvAHNlY3JldA==</auth>")
	el, err = c.Read()
	if err != nil || el.Name != "failure" || el.Child("", "encryption-required") == nil {
		t.Errorf("auth before TLS: %v %v, want <failure><encryption-required/>", el, err)
	}
	c.Send("<message to='juliet@localhost'><body>cleartext</body></message>")
	if got := readStreamError(t, c); got != "not-authorized" {
		t.Errorf("stanza before TLS: stream error %q, want not-authorized", got)
	}
	for _, el := range j.Sync() {
		if el.Name == stanza.Message {
			t.Errorf("juliet received a message sent before TLS: %s", el)
		}
	}
}

func TestPlainOnlyAfterTLS(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.TLS.Required = false })
	c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	if contains(c.Mechanisms(), "PLAIN") {
		t.Errorf("PLAIN offered before TLS: %v", c.Mechanisms())
	}
	c.StartTLS()
	if !contains(c.Mechanisms(), "PLAIN") {
		t.Errorf("PLAIN not offered after TLS: %v", c.Mechanisms())
	}
}

func TestVirtualHostStreamHeader(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.Server.Domains = []string{"example.test", "example.org"} })
	t.Run("second domain answered with its name and certificate", func(t *testing.T) {
		c := xmpptest.Dial(t, s.Addr("c2s"), "example.org")
		if err := c.Open(); err != nil {
			t.Fatal(err)
		}
		if c.Header.From != "example.org" {
			t.Errorf("stream from=%q, want example.org", c.Header.From)
		}
		c.StartTLS()
		cert := c.TLS.PeerCertificates[0]
		if err := cert.VerifyHostname("example.org"); err != nil {
			t.Errorf("certificate for example.org: %v (names %v)", err, cert.DNSNames)
		}
	})
	t.Run("unknown domain gets host-unknown", func(t *testing.T) {
		c := xmpptest.Dial(t, s.Addr("c2s"), "unknown.test")
		c.Send(strings.Replace(streamOpen, "localhost", "unknown.test", 1))
		h, err := c.ReadHeaderOnly()
		if err != nil || h.ID == "" {
			t.Fatalf("no stream header before the error: %v", err)
		}
		if h.From == "unknown.test" {
			t.Errorf("header claims the unknown domain")
		}
		if got := readStreamError(t, c); got != "host-unknown" {
			t.Errorf("stream error %q, want host-unknown", got)
		}
	})
}
