package disco

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
)

func TestServerNodeQueries(t *testing.T) {
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"localhost"}, nil)
	s := &service{host: r}
	var gotRequester, gotTarget jid.JID
	HandleNode(r, router.ScopeServer, "urn:example:node", func(_ context.Context, requester, target jid.JID) (Node, error) {
		gotRequester, gotTarget = requester, target
		if requester.Localpart() == "stranger" {
			return Node{}, stanza.Forbidden
		}
		return Node{
			Identities: []router.Identity{{Category: "automation", Type: "command-list", Name: "Commands"}},
			Features:   []string{"urn:example:feature"},
			Items:      []Item{{JID: "localhost", Node: "cmd", Name: "Command"}},
		}, nil
	})

	tests := []struct {
		name     string
		from     string
		ns       string
		node     string
		wantErr  string // error condition, "" for a result
		wantKids int    // child elements of the result's query
	}{
		{"info of node", "romeo@localhost/orchard", NSInfo, "urn:example:node", "", 2},
		{"items of node", "romeo@localhost/orchard", NSItems, "urn:example:node", "", 1},
		{"handler rejects", "stranger@localhost/x", NSInfo, "urn:example:node", "forbidden", 0},
		{"unknown node info", "romeo@localhost/orchard", NSInfo, "other", "item-not-found", 0},
		{"unknown node items", "romeo@localhost/orchard", NSItems, "other", "item-not-found", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iq := &stanza.Stanza{Name: stanza.IQ, Type: "get", ID: "n1", To: jid.MustParse("localhost"), From: jid.MustParse(tt.from)}
			q := stanza.NewElement(tt.ns, "query", "node", tt.node)
			handle := s.serverInfo
			if tt.ns == NSItems {
				handle = s.serverItems
			}
			resp, err := handle(context.Background(), iq, q)
			if tt.wantErr != "" {
				se, ok := err.(*stanza.Error)
				if !ok || se.Condition != tt.wantErr {
					t.Fatalf("error = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("query: %v", err)
			}
			rq := resp.Child(tt.ns, "query")
			if rq == nil {
				t.Fatalf("result has no query: %s", resp)
			}
			if rq.AttrValue("node") != tt.node {
				t.Errorf("result node = %q, want %q", rq.AttrValue("node"), tt.node)
			}
			if n := len(rq.Elements()); n != tt.wantKids {
				t.Errorf("result has %d children, want %d: %s", n, tt.wantKids, rq)
			}
		})
	}
	if gotRequester.String() != "stranger@localhost/x" || gotTarget.String() != "localhost" {
		t.Errorf("handler saw requester %s and target %s", gotRequester, gotTarget)
	}
}

func TestHandleNodeBeforeStart(t *testing.T) {
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"localhost"}, nil)
	HandleNode(r, router.ScopeServer, "early", func(context.Context, jid.JID, jid.JID) (Node, error) {
		return Node{Features: []string{"urn:example:early"}}, nil
	})
	s := &service{host: r}
	iq := &stanza.Stanza{Name: stanza.IQ, Type: "get", ID: "n2", To: jid.MustParse("localhost"), From: jid.MustParse("romeo@localhost/orchard")}
	resp, err := s.serverInfo(context.Background(), iq, stanza.NewElement(NSInfo, "query", "node", "early"))
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if f := resp.Child(NSInfo, "query").Child(NSInfo, "feature"); f == nil || f.AttrValue("var") != "urn:example:early" {
		t.Errorf("node registered before the service was built is missing: %s", resp)
	}
}
