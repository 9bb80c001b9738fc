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

func TestInfoQueryDeduplicates(t *testing.T) {
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"localhost"}, nil)
	r.AddIdentity(router.ScopeServer, "server", "im", "Tern")
	r.AddIdentity(router.ScopeServer, "server", "im", "Tern")
	r.AddFeature(router.ScopeServer, "urn:example:a")
	r.AddFeature(router.ScopeServer, "urn:example:a")

	q := infoQuery(r, router.ScopeServer)
	if n := len(q.ChildrenNamed(NSInfo, "identity")); n != 1 {
		t.Errorf("identities = %d, want 1: %s", n, q)
	}
	if n := len(q.ChildrenNamed(NSInfo, "feature")); n != 1 {
		t.Errorf("features = %d, want 1: %s", n, q)
	}
}

func TestServerItemsList(t *testing.T) {
	r := router.New(slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"localhost"}, nil)
	r.AddItem("conference.localhost", "Chatrooms")
	r.AddItem("upload.localhost", "")
	s := &service{host: r}
	iq := &stanza.Stanza{Name: stanza.IQ, Type: "get", ID: "i1", To: jid.MustParse("localhost"), From: jid.MustParse("romeo@localhost/orchard")}
	q := stanza.NewElement(NSItems, "query")

	resp, err := s.serverItems(context.Background(), iq, q)
	if err != nil {
		t.Fatalf("serverItems: %v", err)
	}
	items := resp.Child(NSItems, "query").ChildrenNamed(NSItems, "item")
	if len(items) != 2 {
		t.Fatalf("items = %d, want 2: %s", len(items), resp)
	}
	if items[0].AttrValue("jid") != "conference.localhost" || items[0].AttrValue("name") != "Chatrooms" {
		t.Errorf("first item = %s", items[0])
	}
	if items[1].AttrValue("jid") != "upload.localhost" || items[1].HasAttr("name") {
		t.Errorf("second item = %s, want jid only", items[1])
	}
}
