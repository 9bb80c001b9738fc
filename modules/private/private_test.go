package private_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"tern/internal/xmpptest"
	"tern/modules/private"
	"tern/stanza"
	"tern/storage"
)

func TestPrivateRules(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("juliet", "secret-juliet")
	s.AddUser("romeo", "secret-romeo")
	juliet := s.Login("juliet", "secret-juliet", "balcony")
	romeo := s.Login("romeo", "secret-romeo", "orchard")

	set := juliet.Request(`<iq type='set' id='set1'><query xmlns='jabber:iq:private'>`+
		`<prefs xmlns='urn:example:prefs'><theme>dark</theme></prefs>`+
		`<storage xmlns='storage:bookmarks'><conference jid='verona@muc.localhost' name='Verona'/></storage>`+
		`</query></iq>`, "set1")
	if set.Type != "result" {
		t.Fatalf("set: %s", set)
	}

	tests := []struct {
		name   string
		client *xmpptest.Client
		iq     string
		want   string // "result" or an error condition
	}{
		{"get other account", romeo, `<iq type='get' id='%s' to='juliet@localhost'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`, "forbidden"},
		{"set other account", romeo, `<iq type='set' id='%s' to='juliet@localhost'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`, "forbidden"},
		{"get own with to", juliet, `<iq type='get' id='%s' to='juliet@localhost'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`, "result"},
		{"get without child", juliet, `<iq type='get' id='%s'><query xmlns='jabber:iq:private'/></iq>`, "bad-request"},
		{"get two children", juliet, `<iq type='get' id='%s'><query xmlns='jabber:iq:private'><a xmlns='urn:a'/><b xmlns='urn:b'/></query></iq>`, "bad-request"},
		{"set without child", juliet, `<iq type='set' id='%s'><query xmlns='jabber:iq:private'/></iq>`, "not-acceptable"},
		{"set jabber:client", juliet, `<iq type='set' id='%s'><query xmlns='jabber:iq:private'><x xmlns='jabber:client'/></query></iq>`, "not-acceptable"},
		{"set jabber:iq:private", juliet, `<iq type='set' id='%s'><query xmlns='jabber:iq:private'><x/></query></iq>`, "not-acceptable"},
		{"get jabber:iq:private", juliet, `<iq type='get' id='%s'><query xmlns='jabber:iq:private'><x/></query></iq>`, "not-acceptable"},
		{"wrong element", juliet, `<iq type='get' id='%s'><store xmlns='jabber:iq:private'><x xmlns='urn:x'/></store></iq>`, "bad-request"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("p%d", i)
			resp := tt.client.Request(fmt.Sprintf(tt.iq, id), id)
			if got := outcome(resp); got != tt.want {
				t.Errorf("outcome = %q, want %q (%s)", got, tt.want, resp)
			}
		})
	}

	t.Run("stored per namespace", func(t *testing.T) {
		ctx := context.Background()
		o := storage.Owner{Domain: "localhost", Local: "juliet"}
		for _, ns := range []string{"urn:example:prefs", "storage:bookmarks"} {
			if _, err := s.Store().GetValue(ctx, o, private.KeyPrefix+ns); err != nil {
				t.Errorf("value for %s: %v", ns, err)
			}
		}
		_, err := s.Store().GetValue(ctx, storage.Owner{Domain: "localhost", Local: "romeo"}, private.KeyPrefix+"urn:example:prefs")
		if !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("romeo's forbidden set stored something: %v", err)
		}
	})

	t.Run("get returns stored", func(t *testing.T) {
		resp := juliet.Request(`<iq type='get' id='g1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`, "g1")
		conf := child(t, resp, "storage:bookmarks", "storage").Child("storage:bookmarks", "conference")
		if conf.AttrValue("jid") != "verona@muc.localhost" {
			t.Errorf("bookmark = %s, want verona@muc.localhost", conf)
		}
	})

	t.Run("get unknown returns request", func(t *testing.T) {
		resp := juliet.Request(`<iq type='get' id='g2'><query xmlns='jabber:iq:private'><notes xmlns='urn:example:notes'/></query></iq>`, "g2")
		if el := child(t, resp, "urn:example:notes", "notes"); len(el.Children) != 0 {
			t.Errorf("notes = %s, want empty", el)
		}
	})

	t.Run("set replaces namespace", func(t *testing.T) {
		juliet.Request(`<iq type='set' id='s2'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'><theme>light</theme></prefs></query></iq>`, "s2")
		resp := juliet.Request(`<iq type='get' id='g3'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`, "g3")
		if got := child(t, resp, "urn:example:prefs", "prefs").Child("", "theme").Text(); got != "light" {
			t.Errorf("theme = %q, want light", got)
		}
	})
}

func child(t *testing.T, resp *stanza.Stanza, ns, local string) *stanza.Element {
	t.Helper()
	if resp.Type != "result" {
		t.Fatalf("get: %s", resp)
	}
	el := resp.Child(private.NS, "query").Child(ns, local)
	if el == nil {
		t.Fatalf("result has no %s element in %s: %s", local, ns, resp)
	}
	return el
}

func outcome(resp *stanza.Stanza) string {
	if resp.Type == "result" {
		return "result"
	}
	return xmpptest.ErrorCondition(resp)
}
