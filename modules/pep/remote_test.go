package pep

import (
	"testing"

	"mellium.im/xmpp/jid"
)

func TestRemoteTable(t *testing.T) {
	tab := newRemoteTable()
	full := jid.MustParse("juliet@example.net/balcony")
	romeo := jid.MustParse("romeo@localhost")
	nurse := jid.MustParse("nurse@localhost")
	ref := capsRef{node: "n", ver: "v1", hash: "sha-1"}
	fs := featureSet{"urn:x+notify": true}

	w := tab.seen(full, romeo, ref)
	if w == nil || w.features != nil || len(w.accounts) != 1 || !w.accounts[0].Equal(romeo) {
		t.Fatalf("first presence: work %+v, want a query for romeo", w)
	}
	if w := tab.seen(full, nurse, ref); w != nil {
		t.Errorf("presence to a second account during the query: work %+v, want none", w)
	}
	accounts := tab.resolved(full, ref, fs)
	if len(accounts) != 2 {
		t.Errorf("resolved returned %v, want both accounts", accounts)
	}
	if got := tab.interested(full.Bare(), romeo, "urn:x+notify"); len(got) != 1 || !got[0].Equal(full) {
		t.Errorf("interested = %v, want [%s]", got, full)
	}
	if got := tab.interested(full.Bare(), romeo, "urn:y+notify"); len(got) != 0 {
		t.Errorf("interested in another node = %v, want none", got)
	}
	if w := tab.seen(full, romeo, ref); w != nil {
		t.Errorf("repeated presence: work %+v, want none", w)
	}

	tab.gone(full, romeo)
	if got := tab.interested(full.Bare(), romeo, "urn:x+notify"); len(got) != 0 {
		t.Errorf("interested after unavailable = %v, want none", got)
	}
	w = tab.seen(full, romeo, ref)
	if w == nil || !w.features.has("urn:x+notify") {
		t.Errorf("presence after unavailable: work %+v, want last items with known features", w)
	}

	newer := capsRef{node: "n", ver: "v2", hash: "sha-1"}
	if w := tab.seen(full, romeo, newer); w == nil || w.features != nil {
		t.Errorf("changed caps: work %+v, want a query", w)
	}
	if accounts := tab.resolved(full, ref, fs); accounts != nil {
		t.Errorf("stale resolution stored for %v", accounts)
	}
	tab.failed(full, newer)
	if w := tab.seen(full, romeo, newer); w == nil || w.features != nil {
		t.Errorf("presence after a failed query: work %+v, want a new query", w)
	}

	tab.gone(full, romeo)
	tab.gone(full, nurse)
	if len(tab.entities) != 0 {
		t.Errorf("entities left after every account got unavailable: %v", tab.entities)
	}
}
