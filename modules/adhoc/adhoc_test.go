package adhoc

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// newRegistry starts the module on a bare router and registers a
// two-stage "wizard" command that only romeo may run, and an "open"
// command anyone may run.
func newRegistry(t *testing.T) (*router.Router, *registry) {
	t.Helper()
	h := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"localhost"}, nil)
	if err := start(&modules.Env{Host: h}); err != nil {
		t.Fatalf("start: %v", err)
	}
	onlyRomeo := func(j jid.JID) bool { return j.Localpart() == "romeo" }
	if err := Register(h, Command{Node: "wizard", Name: "Wizard", Allowed: onlyRomeo, Handler: wizard}); err != nil {
		t.Fatalf("register wizard: %v", err)
	}
	if err := Register(h, Command{Node: "open", Name: "Open", Handler: func(context.Context, *Request) (*Response, error) {
		return Completed(Note{Text: "done"}), nil
	}}); err != nil {
		t.Fatalf("register open: %v", err)
	}
	return h, h.Lookup(serviceName).(*registry)
}

// wizard requests a name in stage 0 and completes in stage 1.
func wizard(_ context.Context, req *Request) (*Response, error) {
	s := req.Session
	switch req.Action {
	case ActionExecute, ActionPrev:
		s.Stage = 0
		return &Response{Status: StatusExecuting, Actions: []string{ActionNext},
			Payload: []*stanza.Element{NewForm("Name", "", Field{Var: "name", Type: FieldTextSingle, Required: true})}}, nil
	case ActionNext:
		name := req.Form().Get("name")
		if name == "" {
			return nil, ErrBadPayload.WithText("name is required")
		}
		s.Stage = 1
		s.Data = map[string][]string{"name": {name}}
		return &Response{Status: StatusExecuting, Actions: []string{ActionPrev, ActionComplete}}, nil
	}
	return Completed(Note{Text: "hello " + s.Data["name"][0]}), nil
}

// exec sends a <command/> built from attrs and inner XML as requester.
func exec(t *testing.T, r *registry, requester, attrs, inner string) (*stanza.Element, error) {
	t.Helper()
	iq := &stanza.Stanza{Name: stanza.IQ, Type: "set", ID: "c1", To: jid.MustParse("localhost"), From: jid.MustParse(requester)}
	el, err := stanza.ParseElement([]byte(fmt.Sprintf("<command xmlns='%s' %s>%s</command>", NS, attrs, inner)), NS)
	if err != nil {
		t.Fatalf("parse command: %v", err)
	}
	resp, err := r.handleIQ(context.Background(), iq, el)
	if err != nil {
		return nil, err
	}
	c := resp.Child(NS, "command")
	if c == nil {
		t.Fatalf("result has no command: %s", resp)
	}
	return c, nil
}

func condition(err error) string {
	se, ok := err.(*stanza.Error)
	if !ok {
		return fmt.Sprintf("not a stanza error: %v", err)
	}
	c := se.Condition
	if se.App != nil {
		c += "/" + se.App.Name.Local
	}
	return c
}

const romeo = "romeo@localhost/orchard"

func nameForm(name string) string {
	return fmt.Sprintf("<x xmlns='jabber:x:data' type='submit'><field var='name'><value>%s</value></field></x>", name)
}

func TestWizardFlow(t *testing.T) {
	_, r := newRegistry(t)
	c, err := exec(t, r, romeo, "node='wizard' action='execute'", "")
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	sid := c.AttrValue("sessionid")
	if sid == "" || c.AttrValue("status") != StatusExecuting {
		t.Fatalf("first stage = %s, want executing with a sessionid", c)
	}
	if acts := c.Child(NS, "actions"); acts == nil || acts.AttrValue("execute") != ActionNext || acts.Child(NS, ActionNext) == nil {
		t.Errorf("first stage actions = %v, want next as default", acts)
	}
	if c.Child(NSData, "x") == nil {
		t.Errorf("first stage has no form: %s", c)
	}

	_, err = exec(t, r, romeo, "node='wizard' sessionid='"+sid+"'", nameForm(""))
	if got := condition(err); got != "bad-request/bad-payload" {
		t.Fatalf("empty name: %s, want bad-request/bad-payload", got)
	}
	// The session survives a rejected form. Plain execute means next here.
	c, err = exec(t, r, romeo, "node='wizard' sessionid='"+sid+"'", nameForm("Juliet"))
	if err != nil || c.AttrValue("status") != StatusExecuting {
		t.Fatalf("second stage: %v %v", c, err)
	}
	if got := c.Child(NS, "actions").AttrValue("execute"); got != ActionComplete {
		t.Errorf("second stage default action = %q, want complete", got)
	}
	_, err = exec(t, r, romeo, "node='wizard' action='next' sessionid='"+sid+"'", "")
	if got := condition(err); got != "bad-request/bad-action" {
		t.Errorf("next at last stage: %s, want bad-request/bad-action", got)
	}
	c, err = exec(t, r, romeo, "node='wizard' action='prev' sessionid='"+sid+"'", "")
	if err != nil || c.Child(NSData, "x") == nil {
		t.Fatalf("prev: %v %v, want the first form again", c, err)
	}
	if _, err = exec(t, r, romeo, "node='wizard' action='next' sessionid='"+sid+"'", nameForm("Nurse")); err != nil {
		t.Fatalf("next again: %v", err)
	}
	c, err = exec(t, r, romeo, "node='wizard' action='complete' sessionid='"+sid+"'", "")
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if c.AttrValue("status") != StatusCompleted || c.Child(NS, "note").Text() != "hello Nurse" {
		t.Errorf("completion = %s, want completed with note 'hello Nurse'", c)
	}
	if c.Child(NS, "actions") != nil {
		t.Errorf("completed command has actions: %s", c)
	}
	_, err = exec(t, r, romeo, "node='wizard' sessionid='"+sid+"'", "")
	if got := condition(err); got != "not-allowed/session-expired" {
		t.Errorf("reuse of completed session: %s, want not-allowed/session-expired", got)
	}
}

func TestCancel(t *testing.T) {
	_, r := newRegistry(t)
	c, err := exec(t, r, romeo, "node='wizard'", "")
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	sid := c.AttrValue("sessionid")
	c, err = exec(t, r, romeo, "node='wizard' action='cancel' sessionid='"+sid+"'", "")
	if err != nil || c.AttrValue("status") != StatusCanceled {
		t.Fatalf("cancel = %v %v, want status canceled", c, err)
	}
	_, err = exec(t, r, romeo, "node='wizard' action='next' sessionid='"+sid+"'", nameForm("x"))
	if got := condition(err); got != "not-allowed/session-expired" {
		t.Errorf("canceled session: %s, want not-allowed/session-expired", got)
	}
}

func TestSingleStageCommand(t *testing.T) {
	_, r := newRegistry(t)
	c, err := exec(t, r, "juliet@localhost/balcony", "node='open'", "")
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	if c.AttrValue("status") != StatusCompleted || c.AttrValue("sessionid") == "" {
		t.Errorf("result = %s, want completed with a sessionid", c)
	}
	if n := c.Child(NS, "note"); n == nil || n.AttrValue("type") != NoteInfo {
		t.Errorf("note = %v, want type info", n)
	}
}

func TestCommandErrors(t *testing.T) {
	_, r := newRegistry(t)
	c, err := exec(t, r, romeo, "node='wizard'", "")
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	sid := c.AttrValue("sessionid")

	tests := []struct {
		name      string
		requester string
		attrs     string
		want      string
	}{
		{"unknown node", romeo, "node='nope'", "item-not-found"},
		{"missing node", romeo, "action='execute'", "bad-request"},
		{"not allowed", "juliet@localhost/balcony", "node='wizard'", "forbidden"},
		{"unknown action", romeo, "node='wizard' action='jump'", "bad-request/malformed-action"},
		{"next without session", romeo, "node='wizard' action='next'", "bad-request/bad-action"},
		{"cancel without session", romeo, "node='wizard' action='cancel'", "bad-request/bad-sessionid"},
		{"unknown session", romeo, "node='wizard' sessionid='nope'", "not-allowed/session-expired"},
		{"other resource", "romeo@localhost/other", "node='wizard' sessionid='" + sid + "'", "bad-request/bad-sessionid"},
		{"other command", romeo, "node='open' sessionid='" + sid + "'", "bad-request/bad-sessionid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := exec(t, r, tt.requester, tt.attrs, "")
			if got := condition(err); got != tt.want {
				t.Errorf("error = %s, want %s", got, tt.want)
			}
		})
	}
	// The session survives requests by others.
	if _, err := exec(t, r, romeo, "node='wizard' action='cancel' sessionid='"+sid+"'", ""); err != nil {
		t.Errorf("cancel after rejected requests: %v", err)
	}
}

func TestSessionLimitAndExpiry(t *testing.T) {
	_, r := newRegistry(t)
	now := time.Now()
	r.sessions.now = func() time.Time { return now }
	var first string
	for i := range maxSessionsPerRequester {
		c, err := exec(t, r, romeo, "node='wizard'", "")
		if err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
		if i == 0 {
			first = c.AttrValue("sessionid")
		}
	}
	_, err := exec(t, r, romeo, "node='wizard'", "")
	if got := condition(err); got != "resource-constraint" {
		t.Fatalf("session over the limit: %s, want resource-constraint", got)
	}
	now = now.Add(sessionTTL + time.Second)
	_, err = exec(t, r, romeo, "node='wizard' action='next' sessionid='"+first+"'", nameForm("x"))
	if got := condition(err); got != "not-allowed/session-expired" {
		t.Errorf("expired session: %s, want not-allowed/session-expired", got)
	}
	if _, err := exec(t, r, romeo, "node='wizard'", ""); err != nil {
		t.Errorf("new session after expiry: %v", err)
	}
}

func TestRegisterErrors(t *testing.T) {
	h, _ := newRegistry(t)
	noop := func(context.Context, *Request) (*Response, error) { return nil, nil }
	if err := Register(h, Command{Node: "wizard", Handler: noop}); err == nil {
		t.Error("duplicate node registered")
	}
	if err := Register(h, Command{Node: "x"}); err == nil {
		t.Error("command without handler registered")
	}
	bare := router.New(slog.New(slog.DiscardHandler), []string{"localhost"}, nil)
	if err := Register(bare, Command{Node: "x", Handler: noop}); err == nil {
		t.Error("registered without the module running")
	}
}
