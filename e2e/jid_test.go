package e2e

import (
	"strings"
	"sync"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/stanza"
)

func TestMalformedJIDsRejected(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	bad := []string{
		"romeo@localhost/",
		"@localhost",
		"lp@/rp",
		"test@/test",
		"b&quot;d@localhost",
		"b&amp;d@localhost",
		"b:d@localhost",
		"b&lt;d@localhost",
		strings.Repeat("a", 1024) + "@localhost",
		"juliet@localhost/" + strings.Repeat("r", 1024),
		"juliet@" + strings.Repeat("d", 1024),
		"",
	}
	for i, to := range bad {
		if to == "" {
			continue
		}
		id := "j" + string(rune('a'+i))
		r.Sendf("<message to='%s' type='chat' id='%s'><body>x</body></message>", to, id)
		m := r.Expect(func(el *stanza.Stanza) bool { return el.ID == id })
		if m.Type != "error" || xmpptest.ErrorCondition(m) != "jid-malformed" {
			t.Errorf("to=%.40q: got %s, want jid-malformed", to, m)
		}
	}
	// The stream stays open.
	r.Barrier()
}

func TestInvalidUTF8ClosesStream(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	r.Send("<message to='\xff\xfe\xfd@localhost' type='chat'><body>x</body></message>")
	if got := readStreamErrorBound(r); got != "not-well-formed" {
		t.Errorf("stream error %q, want not-well-formed", got)
	}
}

func TestBindResources(t *testing.T) {
	s := newPair(t)
	cases := []struct {
		name, resource string
		wantType       string
		wantResource   func(string) bool
	}{
		{"empty resource gets a generated one", "<resource></resource>", "result", func(r string) bool { return r != "" }},
		{"no resource element", "", "result", func(r string) bool { return r != "" }},
		{"1020 octets kept unchanged", "<resource>" + strings.Repeat("x", 1020) + "</resource>", "result", func(r string) bool { return r == strings.Repeat("x", 1020) }},
		{"1024 octets rejected", "<resource>" + strings.Repeat("x", 1024) + "</resource>", "error", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := loginUnbound(t, s, "romeo", "r-secret")
			c.Sendf("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>%s</bind></iq>", tc.resource)
			el, err := c.Read()
			if err != nil {
				t.Fatal(err)
			}
			if el.Type != tc.wantType {
				t.Fatalf("bind: %.200s, want type %s", el, tc.wantType)
			}
			if tc.wantType == "error" {
				if got := xmpptest.ErrorCondition(el); got != "bad-request" {
					t.Errorf("condition %q, want bad-request", got)
				}
				return
			}
			full := el.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind").Child("", "jid").Text()
			res := full[strings.Index(full, "/")+1:]
			if !tc.wantResource(res) {
				t.Errorf("bound resource %.60q", res)
			}
		})
	}
}

// loginUnbound authenticates without binding.
func loginUnbound(t *testing.T, s *xmpptest.Server, user, pass string) *xmpptest.Client {
	t.Helper()
	c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
	if err := c.Open(); err != nil {
		t.Fatal(err)
	}
	c.StartTLS()
	if err := c.Auth(scramSHA256, user, pass); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestResourceConflictReplacesOldSession(t *testing.T) {
	s := newPair(t)
	a := s.Login("romeo", "r-secret", "orchard")
	b := s.Login("romeo", "r-secret", "orchard")
	if got := readStreamErrorBound(a); got != "conflict" {
		t.Errorf("old session: stream error %q, want conflict", got)
	}
	if b.JID.String() != "romeo@localhost/orchard" {
		t.Errorf("new session bound %s", b.JID)
	}
	upper := s.Login("romeo", "r-secret", "Orchard")
	if upper.JID.Resourcepart() != "Orchard" {
		t.Errorf("resource case changed: %s", upper.JID)
	}
	b.Barrier() // Orchard and orchard coexist: b is still connected
	upper.Close()
	b.Close()
	waitSessions(t, s, 0)

	j := s.Login("juliet", "j-secret", "balcony")
	j.Send("<message to='romeo@localhost/orchard' type='chat'><body>after close</body></message>")
	j.Barrier()
	r := s.Login("romeo", "r-secret", "later")
	r.Expect(xmpptest.IsMessage("after close"))
}

func TestResourceConflictRace(t *testing.T) {
	s := newPair(t)
	for i := 0; i < 50; i++ {
		c1 := loginUnbound(t, s, "romeo", "r-secret")
		c2 := loginUnbound(t, s, "romeo", "r-secret")
		var wg sync.WaitGroup
		for _, c := range []*xmpptest.Client{c1, c2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.Send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>orchard</resource></bind></iq>")
			}()
		}
		wg.Wait()
		waitSessions(t, s, 1)
		if n := len(s.Router().Sessions(mustJID(t, "romeo@localhost"))); n != 1 {
			t.Fatalf("round %d: %d sessions for romeo, want exactly 1", i, n)
		}
		c1.Close()
		c2.Close()
		waitSessions(t, s, 0)
	}
}

// waitSessions waits until the server has n bound sessions.
func waitSessions(t *testing.T, s *xmpptest.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout)
	for s.Router().SessionCount() != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions, want %d", s.Router().SessionCount(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
