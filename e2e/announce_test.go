package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/modules/announce"
	"tern/stanza"
)

const (
	nsCommands = "http://jabber.org/protocol/commands"
	nsData     = "jabber:x:data"
	nsItems    = "http://jabber.org/protocol/disco#items"
)

// startAnnounce starts a server whose administrator is boss, with the
// users alice, bob and carol.
func startAnnounce(t *testing.T) *xmpptest.Server {
	t.Helper()
	s := xmpptest.Start(t, func(c *configT) { c.Server.Admins = []string{"boss@localhost"} })
	for _, u := range []string{"boss", "alice", "bob", "carol"} {
		s.AddUser(u, "pw-"+u)
	}
	return s
}

// commandRequest sends a <command/> for node to the server and returns
// the result's <command/>, failing the test on an error response.
func commandRequest(t *testing.T, c *xmpptest.Client, attrs, inner string) *stanza.Element {
	t.Helper()
	id := fmt.Sprintf("cmd-%d", time.Now().UnixNano())
	resp := c.Request(fmt.Sprintf("<iq type='set' id='%s' to='localhost'><command xmlns='%s' %s>%s</command></iq>",
		id, nsCommands, attrs, inner), id)
	if resp.Type != "result" {
		t.Fatalf("command %s: %s", attrs, resp)
	}
	return resp.Child(nsCommands, "command")
}

// runForm runs a one-form command the way a client does: execute, read
// the form, submit values for its fields with the default action. It
// returns the completed <command/>.
func runForm(t *testing.T, c *xmpptest.Client, node string, values map[string][]string) *stanza.Element {
	t.Helper()
	first := commandRequest(t, c, fmt.Sprintf("node='%s' action='execute'", node), "")
	sid := first.AttrValue("sessionid")
	if first.AttrValue("status") != "executing" || sid == "" {
		t.Fatalf("%s: first stage = %s, want executing with a sessionid", node, first)
	}
	form := first.Child(nsData, "x")
	if form == nil || form.AttrValue("type") != "form" {
		t.Fatalf("%s: first stage has no form: %s", node, first)
	}
	var fields strings.Builder
	for _, f := range form.ChildrenNamed(nsData, "field") {
		name := f.AttrValue("var")
		vals, ok := values[name]
		if name == "FORM_TYPE" {
			vals, ok = []string{f.Child(nsData, "value").Text()}, true
		}
		if !ok {
			continue
		}
		fmt.Fprintf(&fields, "<field var='%s'>", name)
		for _, v := range vals {
			fmt.Fprintf(&fields, "<value>%s</value>", xmpptest.Escape(v))
		}
		fields.WriteString("</field>")
	}
	done := commandRequest(t, c, fmt.Sprintf("node='%s' sessionid='%s'", node, sid),
		"<x xmlns='jabber:x:data' type='submit'>"+fields.String()+"</x>")
	if done.AttrValue("status") != "completed" || done.AttrValue("sessionid") != sid {
		t.Fatalf("%s: submit = %s, want completed in session %s", node, done, sid)
	}
	return done
}

// isAnnouncement matches a message from the server domain whose body
// contains text.
func isAnnouncement(text string) func(*stanza.Stanza) bool {
	return func(s *stanza.Stanza) bool {
		return xmpptest.IsMessage(text)(s) && s.From.String() == "localhost"
	}
}

// countMessages returns how many messages with text c has received and
// not read yet, after a round trip.
func countMessages(c *xmpptest.Client, text string) int {
	n := 0
	for _, el := range c.Sync() {
		if xmpptest.IsMessage(text)(el) {
			n++
		}
	}
	return n
}

func TestAnnounceToOnlineUsers(t *testing.T) {
	s := startAnnounce(t)
	boss := s.Login("boss", "pw-boss", "desk")
	alicePhone := s.Login("alice", "pw-alice", "phone")
	aliceLaptop := s.Login("alice", "pw-alice", "laptop")
	bob := s.Login("bob", "pw-bob", "home")
	bobQuiet := s.Login("bob", "pw-bob", "quiet!") // no presence sent

	done := runForm(t, boss, announce.NodeAnnounce, map[string][]string{
		"subject":      {"Maintenance"},
		"announcement": {"The server restarts", "at noon."},
	})
	if note := done.Child(nsCommands, "note"); note == nil || !strings.Contains(note.Text(), "4 sessions") {
		t.Errorf("completion note = %v, want it to count 4 sessions", note)
	}
	for _, c := range []*xmpptest.Client{boss, alicePhone, aliceLaptop, bob} {
		m := c.Expect(isAnnouncement("The server restarts\nat noon."))
		if m.Type != "headline" || m.Child("", "subject").Text() != "Maintenance" {
			t.Errorf("%s got %s, want a headline with subject Maintenance", c.JID, m)
		}
		if n := countMessages(c, "The server restarts"); n != 0 {
			t.Errorf("%s got %d more copies", c.JID, n)
		}
	}
	if n := countMessages(bobQuiet, "The server restarts"); n != 0 {
		t.Errorf("a session without presence got %d copies", n)
	}
	// Headlines are not stored, so carol, offline, never receives it.
	carol := s.Login("carol", "pw-carol", "later")
	if n := countMessages(carol, "The server restarts"); n != 0 {
		t.Errorf("carol got %d copies after logging in", n)
	}
}

func TestAnnounceToAllUsers(t *testing.T) {
	s := startAnnounce(t)
	boss := s.Login("boss", "pw-boss", "desk")
	alice := s.Login("alice", "pw-alice", "phone")

	done := runForm(t, boss, announce.NodeAnnounceAll, map[string][]string{"announcement": {"New terms of service"}})
	if note := done.Child(nsCommands, "note"); note == nil || !strings.Contains(note.Text(), "4 accounts") {
		t.Errorf("completion note = %v, want it to count 4 accounts", note)
	}
	if m := alice.Expect(isAnnouncement("New terms of service")); m.Type != "normal" {
		t.Errorf("alice got %s, want type normal", m)
	}
	for _, user := range []string{"bob", "carol"} {
		c := s.Login(user, "pw-"+user, "later")
		m := c.Expect(isAnnouncement("New terms of service"))
		if m.Child(stanza.NSDelay, "delay") == nil {
			t.Errorf("%s got %s, want it from offline storage with a delay stamp", user, m)
		}
		if n := countMessages(c, "New terms of service"); n != 0 {
			t.Errorf("%s got %d more copies", user, n)
		}
	}
}

func TestMessageOfTheDay(t *testing.T) {
	s := startAnnounce(t)
	boss := s.Login("boss", "pw-boss", "desk")
	bob := s.Login("bob", "pw-bob", "home")

	runForm(t, boss, announce.NodeSetMOTD, map[string][]string{"motd": {"Welcome to Tern", "Be kind."}})
	// Sessions online when it is set get it at once.
	bob.Expect(isAnnouncement("Welcome to Tern\nBe kind."))

	carol := s.Login("carol", "pw-carol", "phone")
	carol.Expect(isAnnouncement("Welcome to Tern"))
	// Going unavailable and available again is still the same login.
	carol.Send("<presence type='unavailable'/>")
	carol.Send("<presence/>")
	if n := countMessages(carol, "Welcome to Tern"); n != 0 {
		t.Errorf("carol got %d more copies in the same login", n)
	}
	carol.Close()
	// Each login gets it once.
	carol = s.Login("carol", "pw-carol", "phone")
	carol.Expect(isAnnouncement("Welcome to Tern"))
	if n := countMessages(carol, "Welcome to Tern"); n != 0 {
		t.Errorf("carol got %d copies more than one at her second login", n)
	}
	// A session that has not sent presence gets it with initial presence.
	quiet := s.Login("alice", "pw-alice", "quiet!")
	if n := countMessages(quiet, "Welcome to Tern"); n != 0 {
		t.Errorf("a session without presence got %d copies", n)
	}
	quiet.Send("<presence/>")
	quiet.Expect(isAnnouncement("Welcome to Tern"))

	// Editing shows the current text and changes what later logins get.
	first := commandRequest(t, boss, "node='"+announce.NodeEditMOTD+"'", "")
	var current []string
	for _, f := range first.Child(nsData, "x").ChildrenNamed(nsData, "field") {
		if f.AttrValue("var") == "motd" {
			for _, v := range f.ChildrenNamed(nsData, "value") {
				current = append(current, v.Text())
			}
		}
	}
	if strings.Join(current, "\n") != "Welcome to Tern\nBe kind." {
		t.Errorf("edit form shows %q, want the current message of the day", current)
	}
	commandRequest(t, boss, "node='"+announce.NodeEditMOTD+"' action='cancel' sessionid='"+first.AttrValue("sessionid")+"'", "")
	runForm(t, boss, announce.NodeEditMOTD, map[string][]string{"motd": {"Edited greeting"}})
	if n := countMessages(bob, "Edited greeting"); n != 0 {
		t.Errorf("editing sent %d copies to an online session", n)
	}
	alice := s.Login("alice", "pw-alice", "laptop")
	alice.Expect(isAnnouncement("Edited greeting"))

	// After deletion, logins get nothing.
	done := commandRequest(t, boss, "node='"+announce.NodeDeleteMOTD+"' action='execute'", "")
	if done.AttrValue("status") != "completed" {
		t.Fatalf("delete-motd = %s, want completed", done)
	}
	carol.Close()
	carol = s.Login("carol", "pw-carol", "phone")
	for _, el := range carol.Sync() {
		if el.Name == stanza.Message && el.From.String() == "localhost" {
			t.Errorf("carol got %s after the message of the day was deleted", el)
		}
	}
}

func TestAnnounceCommandsForbiddenToUsers(t *testing.T) {
	s := startAnnounce(t)
	alice := s.Login("alice", "pw-alice", "phone")
	boss := s.Login("boss", "pw-boss", "desk")
	nodes := []string{announce.NodeAnnounce, announce.NodeAnnounceAll, announce.NodeSetMOTD, announce.NodeEditMOTD, announce.NodeDeleteMOTD}

	listed := func(c *xmpptest.Client) map[string]bool {
		t.Helper()
		resp := c.Request(fmt.Sprintf("<iq type='get' id='list' to='localhost'><query xmlns='%s' node='%s'/></iq>", nsItems, nsCommands), "list")
		if resp.Type != "result" {
			t.Fatalf("%s: command list: %s", c.JID, resp)
		}
		out := map[string]bool{}
		for _, it := range resp.Child(nsItems, "query").ChildrenNamed(nsItems, "item") {
			if it.AttrValue("jid") != "localhost" {
				t.Errorf("item %s has the wrong jid", it)
			}
			out[it.AttrValue("node")] = true
		}
		return out
	}
	forAdmin, forUser := listed(boss), listed(alice)
	for _, node := range nodes {
		if !forAdmin[node] {
			t.Errorf("%s not listed for the admin", node)
		}
		if forUser[node] {
			t.Errorf("%s listed for a user", node)
		}
	}

	for i, node := range nodes {
		id := fmt.Sprintf("x%d", i)
		resp := alice.Request(fmt.Sprintf("<iq type='set' id='%s' to='localhost'><command xmlns='%s' node='%s' action='execute'/></iq>", id, nsCommands, node), id)
		if got := xmpptest.ErrorCondition(resp); got != "forbidden" {
			t.Errorf("%s executed by a user: %s, want forbidden", node, resp)
		}
		id = fmt.Sprintf("i%d", i)
		resp = alice.Request(fmt.Sprintf("<iq type='get' id='%s' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='%s'/></iq>", id, node), id)
		if got := xmpptest.ErrorCondition(resp); got != "forbidden" {
			t.Errorf("disco#info of %s for a user: %s, want forbidden", node, resp)
		}
	}
	if n := countMessages(boss, ""); n != 0 {
		t.Errorf("the admin received %d messages from rejected commands", n)
	}
}

func TestAnnounceCommandDisco(t *testing.T) {
	s := startAnnounce(t)
	boss := s.Login("boss", "pw-boss", "desk")
	resp := boss.Request("<iq type='get' id='info' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "info")
	if !hasFeature(resp, nsCommands) {
		t.Errorf("server disco#info lacks %s: %s", nsCommands, resp)
	}
	resp = boss.Request(fmt.Sprintf("<iq type='get' id='node' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info' node='%s'/></iq>", announce.NodeAnnounce), "node")
	q := resp.Child("http://jabber.org/protocol/disco#info", "query")
	if q == nil || q.AttrValue("node") != announce.NodeAnnounce {
		t.Fatalf("command node disco#info = %s", resp)
	}
	id := q.Child("", "identity")
	if id == nil || id.AttrValue("category") != "automation" || id.AttrValue("type") != "command-node" {
		t.Errorf("command node identity = %v, want automation/command-node", id)
	}
	if !hasFeature(resp, nsCommands) || !hasFeature(resp, nsData) {
		t.Errorf("command node features lack %s or %s: %s", nsCommands, nsData, resp)
	}
}

// hasFeature reports whether a disco#info result lists feature.
func hasFeature(resp *stanza.Stanza, feature string) bool {
	q := resp.Child("http://jabber.org/protocol/disco#info", "query")
	for _, f := range q.ChildrenNamed("", "feature") {
		if f.AttrValue("var") == feature {
			return true
		}
	}
	return false
}

func TestTernctlBroadcast(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "ternctl")
	if out, err := exec.Command("go", "build", "-o", bin, "tern/cmd/ternctl").CombinedOutput(); err != nil {
		t.Fatalf("build ternctl: %v\n%s", err, out)
	}
	s := startAnnounce(t)
	cfg := s.Config()
	conf := filepath.Join(t.TempDir(), "ternd.toml")
	data := fmt.Sprintf("[server]\ndomains = [%q]\ndata_dir = %q\n", cfg.Server.Domains[0], cfg.Server.DataDir)
	if err := os.WriteFile(conf, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	ternctl := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"-config", conf}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("ternctl %q: %v\n%s", args, err, out)
		}
		return string(out)
	}
	alice := s.Login("alice", "pw-alice", "phone")
	bob := s.Login("bob", "pw-bob", "home")

	out := ternctl("", "broadcast", "-subject", "Notice", "Back", "in", "five", "minutes")
	if !strings.Contains(out, "sent to 2 sessions") {
		t.Errorf("ternctl output %q, want 2 sessions", out)
	}
	for _, c := range []*xmpptest.Client{alice, bob} {
		m := c.Expect(isAnnouncement("Back in five minutes"))
		if m.Type != "headline" || m.Child("", "subject").Text() != "Notice" {
			t.Errorf("%s got %s, want a headline with subject Notice", c.JID, m)
		}
	}

	out = ternctl("Read the new rules.\n", "broadcast", "-offline")
	if !strings.Contains(out, "sent to 4 accounts") {
		t.Errorf("ternctl output %q, want 4 accounts", out)
	}
	alice.Expect(isAnnouncement("Read the new rules."))
	carol := s.Login("carol", "pw-carol", "later")
	m := carol.Expect(isAnnouncement("Read the new rules."))
	if m.Child("", "body").Text() != "Read the new rules." {
		t.Errorf("body = %q, want the standard input without its line ending", m.Child("", "body").Text())
	}
}
