package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/stanza"
)

const nsSM = "urn:xmpp:sm:3"

func isSM(name string) func(*stanza.Stanza) bool {
	return func(el *stanza.Stanza) bool { return el.Space == nsSM && el.Name == name }
}

// enableSM enables resumable stream management and returns the id.
func enableSM(t *testing.T, c *xmpptest.Client) string {
	t.Helper()
	c.Send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
	el := c.Expect(isSM("enabled"))
	p, _ := el.Payload()
	if p.AttrValue("resume") != "true" || p.AttrValue("id") == "" {
		t.Fatalf("enabled: %s", el)
	}
	return p.AttrValue("id")
}

// failedCondition checks the exact shape XEP-0198 §5 requires: the
// condition is a direct child of <failed/>, with no <error/> wrapper.
func failedCondition(t *testing.T, el *stanza.Stanza) string {
	t.Helper()
	if el.Space != nsSM || el.Name != "failed" {
		t.Fatalf("got %s, want <failed/>", el)
	}
	children := el.Children()
	if len(children) != 1 || children[0].Name.Space != stanza.NSStanzas {
		t.Fatalf("failed element %s: want exactly one stanza error condition child", el)
	}
	return children[0].Name.Local
}

func resumeOn(t *testing.T, s *xmpptest.Server, user, pass, previd string, h int) (*xmpptest.Client, *stanza.Stanza) {
	t.Helper()
	c := loginUnbound(t, s, user, pass)
	c.Sendf("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='%d'/>", previd, h)
	el, err := c.Read()
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	return c, el
}

func TestSMResumeAfterConnectionLoss(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	id := enableSM(t, r)
	j := s.Login("juliet", "j-secret", "balcony")
	for i := 1; i <= 3; i++ {
		j.Sendf("<message to='romeo@localhost/orchard' type='chat'><body>m%d</body></message>", i)
		r.Expect(xmpptest.IsMessage(fmt.Sprintf("m%d", i)))
	}
	// The client processed m1 only, then its network went away.
	r.Kill()
	waitDetached(t, s, "romeo@localhost/orchard")
	for i := 4; i <= 6; i++ {
		j.Sendf("<message to='romeo@localhost/orchard' type='chat'><body>m%d</body></message>", i)
	}
	j.Barrier()

	c, el := resumeOn(t, s, "romeo", "r-secret", id, 1)
	if el.Name != "resumed" {
		t.Fatalf("got %s, want <resumed/>", el)
	}
	c.StartReading()
	seen := map[string]int{}
	for len(seen) < 5 {
		m := c.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.Message })
		seen[m.Child("", "body").Text()]++
	}
	for i := 2; i <= 6; i++ {
		if n := seen[fmt.Sprintf("m%d", i)]; n != 1 {
			t.Errorf("m%d delivered %d times after resumption, want once", i, n)
		}
	}
	if seen["m1"] != 0 {
		t.Error("acknowledged m1 was sent again")
	}
	// The resumed stream works for new traffic.
	j.Send("<message to='romeo@localhost/orchard' type='chat'><body>after resume</body></message>")
	c.Expect(xmpptest.IsMessage("after resume"))
}

// waitDetached waits until the server noticed the broken connection.
func waitDetached(t *testing.T, s *xmpptest.Server, full string) {
	t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout)
	for {
		sess := s.Router().Session(mustJID(t, full))
		if d, ok := sess.(interface{ Detached() bool }); ok && d.Detached() {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not detached", full)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSMExpiredMessagesGoOffline(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.C2S.ResumeTimeout = 300 * time.Millisecond })
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	r := s.Login("romeo", "r-secret", "orchard")
	id := enableSM(t, r)
	j := s.Login("juliet", "j-secret", "balcony")
	j.Send("<message to='romeo@localhost' type='chat'><body>unacked</body></message>")
	r.Expect(xmpptest.IsMessage("unacked"))
	r.Kill()
	waitDetached(t, s, "romeo@localhost/orchard")
	j.Send("<message to='romeo@localhost' type='chat'><body>while detached</body></message>")
	j.Barrier()
	waitSessions(t, s, 1) // only juliet once the window has passed

	// B17 (c): the expired session cannot be resumed.
	c, el := resumeOn(t, s, "romeo", "r-secret", id, 0)
	if got := failedCondition(t, el); got != "item-not-found" {
		t.Errorf("resume after expiry: %s", got)
	}
	c.Close()
	// Nothing was lost: both messages wait in offline storage.
	again := s.Login("romeo", "r-secret", "later")
	again.Expect(xmpptest.IsMessage("unacked"))
	again.Expect(xmpptest.IsMessage("while detached"))
	for _, el := range j.Sync() {
		if el.Type == "error" {
			t.Errorf("sender got an error: %s", el)
		}
	}
}

func TestSMFailures(t *testing.T) {
	s := newPair(t)
	t.Run("unknown previd keeps the stream usable", func(t *testing.T) {
		c, el := resumeOn(t, s, "romeo", "r-secret", "no-such-id", 0)
		if got := failedCondition(t, el); got != "item-not-found" {
			t.Errorf("condition %q", got)
		}
		if err := c.Bind("after-failed"); err != nil {
			t.Errorf("bind after failed resume: %v", err)
		}
	})
	t.Run("enable before bind", func(t *testing.T) {
		c := loginUnbound(t, s, "romeo", "r-secret")
		c.Send("<enable xmlns='urn:xmpp:sm:3'/>")
		el, err := c.Read()
		if err != nil {
			t.Fatal(err)
		}
		if got := failedCondition(t, el); got != "unexpected-request" {
			t.Errorf("condition %q", got)
		}
	})
	t.Run("second enable", func(t *testing.T) {
		c := s.Login("romeo", "r-secret", "twice")
		enableSM(t, c)
		c.Send("<enable xmlns='urn:xmpp:sm:3'/>")
		el, err := c.TryExpect(func(el *stanza.Stanza) bool { return el.Space == nsSM || xmpptest.IsStreamError(el) })
		if err != nil {
			t.Fatal(err)
		}
		if el.Name == "enabled" {
			t.Fatal("second <enabled/>")
		}
		if el.Name == "failed" && failedCondition(t, el) != "unexpected-request" {
			t.Errorf("second enable: %s", el)
		}
	})
}

func TestSMResumeOfAnotherUsersSession(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	id := enableSM(t, r)

	t.Run("unauthenticated", func(t *testing.T) {
		c := xmpptest.Dial(t, s.Addr("c2s"), "localhost")
		if err := c.Open(); err != nil {
			t.Fatal(err)
		}
		c.StartTLS()
		c.Sendf("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>", id)
		el, err := c.Read()
		if err == nil && el.Name == "resumed" {
			t.Fatal("resumed without authentication")
		}
		if err == nil && !(xmpptest.IsStreamError(el) && xmpptest.StreamErrorCondition(el) == "not-authorized") && el.Name != "failed" {
			t.Errorf("got %s", el)
		}
	})
	for _, previd := range []string{id, "romeo@localhost/orchard-" + strings.Repeat("x", 8), id + "x"} {
		t.Run("other account "+previd[:6], func(t *testing.T) {
			c, el := resumeOn(t, s, "juliet", "j-secret", previd, 0)
			if got := failedCondition(t, el); got != "item-not-found" {
				t.Errorf("condition %q", got)
			}
			if err := c.Bind("balcony"); err != nil {
				t.Errorf("juliet cannot bind after the failed resume: %v", err)
			}
		})
	}
	// Romeo's session is untouched.
	n := s.Login("nurse", "n-secret", "chamber")
	n.Send("<message to='romeo@localhost/orchard' type='chat'><body>still yours</body></message>")
	r.Expect(xmpptest.IsMessage("still yours"))
	for _, el := range r.Sync() {
		if xmpptest.IsStreamError(el) {
			t.Errorf("romeo got %s", el)
		}
	}
}

func TestSMHandledCountTooHigh(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	id := enableSM(t, r)
	j := s.Login("juliet", "j-secret", "balcony")
	j.Send("<message to='romeo@localhost/orchard' type='chat'><body>one</body></message>")
	r.Expect(xmpptest.IsMessage("one"))
	r.Kill()
	waitDetached(t, s, "romeo@localhost/orchard")
	c, el := resumeOn(t, s, "romeo", "r-secret", id, 5)
	if !xmpptest.IsStreamError(el) || xmpptest.StreamErrorCondition(el) != "undefined-condition" {
		t.Fatalf("got %s, want an undefined-condition stream error", el)
	}
	p, _ := el.Payload()
	if p.Child(nsSM, "handled-count-too-high") == nil {
		t.Errorf("stream error lacks <handled-count-too-high/>: %s", el)
	}
	c.Close()
}

func TestSMAcks(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	enableSM(t, r)
	j := s.Login("juliet", "j-secret", "balcony")
	for i := 0; i < 5; i++ {
		j.Sendf("<message to='romeo@localhost/orchard' type='chat'><body>n%d</body></message>", i)
	}
	r.Expect(isSM("r")) // the server asks after a few unacknowledged stanzas
	r.Send("<message to='juliet@localhost' type='chat'><body>counted</body></message>")
	r.Send("<r xmlns='urn:xmpp:sm:3'/>")
	a := r.Expect(isSM("a"))
	p, _ := a.Payload()
	if p.AttrValue("h") != "1" {
		t.Errorf("server acknowledged h=%s, want 1", p.AttrValue("h"))
	}
	r.Send("<a xmlns='urn:xmpp:sm:3' h='99'/>")
	if got := readStreamErrorBound(r); got != "undefined-condition" {
		t.Errorf("ack beyond sent: stream error %q, want undefined-condition", got)
	}
}
