package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"tern/component/componenttest"
	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
	"tern/storage"
)

const (
	pushDomain  = "push.localhost"
	pushSecret  = "push-s3cret"
	nsPush      = "urn:xmpp:push:0"
	nsPubSub    = "http://jabber.org/protocol/pubsub"
	nsDataForms = "jabber:x:data"
)

// startPush starts a server with romeo and juliet and connects an app
// server's push service as the component push.localhost. Notifications
// are not rate-limited unless an option sets push.min_interval.
func startPush(t *testing.T, opts ...func(*config.Config)) (*xmpptest.Server, *componenttest.Client) {
	t.Helper()
	base := func(c *config.Config) {
		c.Component.Services = append(c.Component.Services,
			config.ComponentService{Domain: pushDomain, Secret: pushSecret})
		c.Push.MinInterval = 0
	}
	s := xmpptest.Start(t, append([]func(*config.Config){base}, opts...)...)
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	return s, componenttest.Connect(t, s.Addr("component"), pushDomain, pushSecret)
}

// enablePush registers node at push.localhost, with an optional
// publish-options form.
func enablePush(t *testing.T, c *xmpptest.Client, node, form string) {
	t.Helper()
	id := "enable-" + node
	res := c.Request(fmt.Sprintf("<iq type='set' id='%s'><enable xmlns='%s' jid='%s' node='%s'>%s</enable></iq>",
		id, nsPush, pushDomain, node, form), id)
	if res.Type != "result" {
		t.Fatalf("enable %s: %s", node, res)
	}
}

func disablePush(t *testing.T, c *xmpptest.Client, node string) {
	t.Helper()
	id := "disable-" + node
	attr := ""
	if node != "" {
		attr = fmt.Sprintf(" node='%s'", node)
	}
	res := c.Request(fmt.Sprintf("<iq type='set' id='%s'><disable xmlns='%s' jid='%s'%s/></iq>", id, nsPush, pushDomain, attr), id)
	if res.Type != "result" {
		t.Fatalf("disable %q: %s", node, res)
	}
}

// detach enables resumable stream management on c, resets its TCP
// connection and waits until the server holds the session for
// resumption.
func detach(t *testing.T, s *xmpptest.Server, c *xmpptest.Client) {
	t.Helper()
	enableSM(t, c)
	c.Kill()
	waitDetached(t, s, c.JID.String())
}

func isPublish(el *stanza.Stanza) bool {
	return el.Name == stanza.IQ && el.Type == "set" && el.Child(nsPubSub, "pubsub") != nil
}

// pushed is a notification as the app server received it.
type pushed struct {
	iq      *stanza.Stanza
	node    string
	fields  map[string]string // the summary form
	options *stanza.Element   // the publish-options form, or nil
}

func parsePushed(t *testing.T, el *stanza.Stanza) pushed {
	t.Helper()
	ps := el.Child(nsPubSub, "pubsub")
	publish := ps.Child(nsPubSub, "publish")
	form := publish.Child(nsPubSub, "item").Child(nsPush, "notification").Child(nsDataForms, "x")
	if form == nil {
		t.Fatalf("notification without a summary form: %s", el)
	}
	p := pushed{iq: el, node: publish.AttrValue("node"), fields: map[string]string{}}
	for _, f := range form.ChildrenNamed(nsDataForms, "field") {
		p.fields[f.AttrValue("var")] = f.Child(nsDataForms, "value").Text()
	}
	p.options = ps.Child(nsPubSub, "publish-options").Child(nsDataForms, "x")
	return p
}

// expectPush reads up to the next notification and responds to it with a
// result.
func expectPush(t *testing.T, comp *componenttest.Client) pushed {
	t.Helper()
	el := comp.Expect(isPublish)
	comp.Sendf("<iq type='result' id='%s' from='%s' to='%s'/>", el.ID, pushDomain, el.From)
	return parsePushed(t, el)
}

// componentSync makes a round trip from the component to the server and
// returns the elements the component received before the response. Call
// it after the sender's Barrier: every notification the sender's stanzas
// caused was queued for the component before the Barrier's response.
func componentSync(t *testing.T, comp *componenttest.Client) []*stanza.Stanza {
	t.Helper()
	id := fmt.Sprintf("csync-%d", time.Now().UnixNano())
	comp.Sendf("<iq type='get' id='%s' from='%s' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>", id, pushDomain)
	var out []*stanza.Stanza
	for {
		el, err := comp.Read()
		if err != nil {
			t.Fatalf("component sync: %v", err)
		}
		if el.Name == stanza.IQ && el.ID == id {
			return out
		}
		out = append(out, el)
	}
}

// pushesSince returns the notifications the app server received up to
// now, responding to each with a result.
func pushesSince(t *testing.T, sender *xmpptest.Client, comp *componenttest.Client) []pushed {
	t.Helper()
	sender.Barrier()
	var out []pushed
	for _, el := range componentSync(t, comp) {
		if isPublish(el) {
			comp.Sendf("<iq type='result' id='%s' from='%s' to='%s'/>", el.ID, pushDomain, el.From)
			out = append(out, parsePushed(t, el))
		}
	}
	return out
}

func TestPushWhenSessionDetached(t *testing.T) {
	s, comp := startPush(t)
	romeo := s.Login("romeo", "r-secret", "phone")
	enablePush(t, romeo, "node-1", "")
	detach(t, s, romeo)
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost' type='chat'><body>Wherefore art thou?</body></message>")
	p := expectPush(t, comp)
	if got := p.iq.From.String(); got != "romeo@localhost" {
		t.Errorf("notification from %q, want the bare JID romeo@localhost", got)
	}
	if got := p.iq.To.String(); got != pushDomain {
		t.Errorf("notification to %q, want %s", got, pushDomain)
	}
	if p.node != "node-1" {
		t.Errorf("publish node = %q, want node-1", p.node)
	}
	want := map[string]string{
		"FORM_TYPE":           "urn:xmpp:push:summary",
		"message-count":       "1",
		"last-message-sender": "juliet@localhost/balcony",
	}
	for k, v := range want {
		if p.fields[k] != v {
			t.Errorf("field %s = %q, want %q", k, p.fields[k], v)
		}
	}
	if body, ok := p.fields["last-message-body"]; ok {
		t.Errorf("notification carries the body %q although push.include_body is off", body)
	}
	if p.options != nil {
		t.Errorf("publish-options sent without any registered: %s", p.iq)
	}

	juliet.Send("<message to='romeo@localhost/phone' type='chat'><body>second</body></message>")
	if p := expectPush(t, comp); p.fields["message-count"] != "2" {
		t.Errorf("second notification: message-count = %q, want 2", p.fields["message-count"])
	}
	juliet.Send("<message to='romeo@localhost' type='chat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>")
	if got := pushesSince(t, juliet, comp); len(got) != 0 {
		t.Errorf("a chat state alone caused %d notifications", len(got))
	}
}

func TestPushIncludeBody(t *testing.T) {
	s, comp := startPush(t, func(c *config.Config) { c.Push.IncludeBody = true })
	romeo := s.Login("romeo", "r-secret", "phone")
	enablePush(t, romeo, "node-1", "")
	detach(t, s, romeo)
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost' type='chat'><body>Wherefore art thou?</body></message>")
	if got := expectPush(t, comp).fields["last-message-body"]; got != "Wherefore art thou?" {
		t.Errorf("last-message-body = %q", got)
	}
}

func TestPushWhenOffline(t *testing.T) {
	s, comp := startPush(t)
	romeo := s.Login("romeo", "r-secret", "phone")
	const form = "<x xmlns='jabber:x:data' type='submit'>" +
		"<field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>" +
		"<field var='secret'><value>app-token</value></field></x>"
	enablePush(t, romeo, "node-1", form)
	romeo.Send("</stream:stream>")
	waitSessions(t, s, 0)
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost' type='chat'><body>are you there?</body></message>")
	p := expectPush(t, comp)
	if p.node != "node-1" || p.fields["message-count"] != "1" {
		t.Errorf("notification node %q, message-count %q", p.node, p.fields["message-count"])
	}
	if p.options == nil {
		t.Fatalf("notification without the registered publish-options: %s", p.iq)
	}
	secret := ""
	for _, f := range p.options.ChildrenNamed(nsDataForms, "field") {
		if f.AttrValue("var") == "secret" {
			secret = f.Child(nsDataForms, "value").Text()
		}
	}
	if secret != "app-token" {
		t.Errorf("publish-options secret = %q, want app-token", secret)
	}

	// The notification did not stop offline storage.
	again := s.Login("romeo", "r-secret", "phone")
	again.Expect(xmpptest.IsMessage("are you there?"))
}

func TestPushNotWhileConnected(t *testing.T) {
	s, comp := startPush(t)
	phone := s.Login("romeo", "r-secret", "phone")
	enablePush(t, phone, "node-1", "")
	detach(t, s, phone)
	desk := s.Login("romeo", "r-secret", "desk")
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost' type='chat'><body>to the desk</body></message>")
	desk.Expect(xmpptest.IsMessage("to the desk"))
	if got := pushesSince(t, juliet, comp); len(got) != 0 {
		t.Errorf("%d notifications while a session is connected", len(got))
	}
}

func TestPushDisable(t *testing.T) {
	s, comp := startPush(t)
	phone := s.Login("romeo", "r-secret", "phone")
	enablePush(t, phone, "node-a", "")
	enablePush(t, phone, "node-b", "")
	disablePush(t, phone, "node-a")
	detach(t, s, phone)
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost' type='chat'><body>one</body></message>")
	got := pushesSince(t, juliet, comp)
	if len(got) != 1 || got[0].node != "node-b" {
		t.Fatalf("got %d notifications (%v), want one for node-b", len(got), got)
	}

	// Disabling without a node removes every node of the service.
	desk := s.Login("romeo", "r-secret", "desk")
	disablePush(t, desk, "")
	desk.Send("</stream:stream>")
	waitSessions(t, s, 2) // the detached phone and juliet
	juliet.Send("<message to='romeo@localhost' type='chat'><body>two</body></message>")
	if got := pushesSince(t, juliet, comp); len(got) != 0 {
		t.Errorf("%d notifications after disabling the service", len(got))
	}
}

func TestPushErrorDisablesRegistration(t *testing.T) {
	s, comp := startPush(t)
	romeo := s.Login("romeo", "r-secret", "phone")
	enablePush(t, romeo, "gone", "")
	enablePush(t, romeo, "busy", "")
	detach(t, s, romeo)
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost' type='chat'><body>one</body></message>")
	juliet.Barrier()
	answered := 0
	for _, el := range componentSync(t, comp) {
		if !isPublish(el) {
			continue
		}
		// An error of type cancel ends the registration, and a
		// temporary error of type wait keeps it.
		cond, typ := "item-not-found", "cancel"
		if parsePushed(t, el).node == "busy" {
			cond, typ = "resource-constraint", "wait"
		}
		comp.Sendf("<iq type='error' id='%s' from='%s' to='%s'><error type='%s'><%s xmlns='%s'/></error></iq>",
			el.ID, pushDomain, el.From, typ, cond, stanza.NSStanzas)
		answered++
	}
	if answered != 2 {
		t.Fatalf("%d notifications, want 2", answered)
	}
	componentSync(t, comp) // the server has handled both errors

	owner := storage.Owner{Domain: "localhost", Local: "romeo"}
	if _, err := s.Store().GetValue(context.Background(), owner, "push:push.localhost:gone"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("registration answered with item-not-found is still stored: %v", err)
	}
	if _, err := s.Store().GetValue(context.Background(), owner, "push:push.localhost:busy"); err != nil {
		t.Errorf("registration answered with resource-constraint: %v", err)
	}
	juliet.Send("<message to='romeo@localhost' type='chat'><body>two</body></message>")
	got := pushesSince(t, juliet, comp)
	if len(got) != 1 || got[0].node != "busy" {
		t.Errorf("got %d notifications (%v), want one for busy", len(got), got)
	}
}

func TestPushRateLimit(t *testing.T) {
	s, comp := startPush(t, func(c *config.Config) { c.Push.MinInterval = time.Hour })
	romeo := s.Login("romeo", "r-secret", "phone")
	enablePush(t, romeo, "node-1", "")
	detach(t, s, romeo)
	juliet := s.Login("juliet", "j-secret", "balcony")

	juliet.Send("<message to='romeo@localhost' type='chat'><body>one</body></message>")
	juliet.Send("<message to='romeo@localhost' type='chat'><body>two</body></message>")
	got := pushesSince(t, juliet, comp)
	if len(got) != 1 {
		t.Fatalf("%d notifications within push.min_interval, want 1", len(got))
	}
	if got[0].fields["message-count"] != "1" {
		t.Errorf("message-count = %q, want 1", got[0].fields["message-count"])
	}
}

func TestPushEnableRules(t *testing.T) {
	s, _ := startPush(t)
	romeo := s.Login("romeo", "r-secret", "phone")
	juliet := s.Login("juliet", "j-secret", "balcony")
	cases := []struct {
		name   string
		client *xmpptest.Client
		iq     string
		want   string // error condition, "" for a result
	}{
		{"own account", romeo, "<iq type='set' id='%s'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='n'/></iq>", ""},
		{"own bare JID", romeo, "<iq type='set' id='%s' to='romeo@localhost'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='n'/></iq>", ""},
		{"other account", juliet, "<iq type='set' id='%s' to='romeo@localhost'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='n'/></iq>", "forbidden"},
		{"no node", romeo, "<iq type='set' id='%s'><enable xmlns='urn:xmpp:push:0' jid='push.localhost'/></iq>", "bad-request"},
		{"no jid", romeo, "<iq type='set' id='%s'><enable xmlns='urn:xmpp:push:0' node='n'/></iq>", "bad-request"},
		{"local domain", romeo, "<iq type='set' id='%s'><enable xmlns='urn:xmpp:push:0' jid='localhost' node='n'/></iq>", "not-acceptable"},
		{"local account", romeo, "<iq type='set' id='%s'><enable xmlns='urn:xmpp:push:0' jid='juliet@localhost' node='n'/></iq>", "not-acceptable"},
		{"get", romeo, "<iq type='get' id='%s'><enable xmlns='urn:xmpp:push:0' jid='push.localhost' node='n'/></iq>", "bad-request"},
		{"disable unknown", romeo, "<iq type='set' id='%s'><disable xmlns='urn:xmpp:push:0' jid='other.localhost'/></iq>", ""},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("rule-%d", i)
			res := tc.client.Request(fmt.Sprintf(tc.iq, id), id)
			got := ""
			if res.Type == "error" {
				got = stanza.ErrorOf(res).Condition
			}
			if got != tc.want {
				t.Errorf("got %s, want condition %q", res, tc.want)
			}
		})
	}

	info := romeo.Request("<iq type='get' id='disco' to='romeo@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "disco")
	if !discoFeature(info, nsPush) {
		t.Errorf("account disco#info lacks %s: %s", nsPush, info)
	}
}

// discoFeature reports whether a disco#info result lists feature.
func discoFeature(info *stanza.Stanza, feature string) bool {
	for _, f := range info.Child("http://jabber.org/protocol/disco#info", "query").ChildrenNamed("", "feature") {
		if f.AttrValue("var") == feature {
			return true
		}
	}
	return false
}
