package vcard_test

import (
	"context"
	"fmt"
	"testing"

	"tern/internal/xmpptest"
	"tern/modules/vcard"
	"tern/stanza"
	"tern/storage"
)

const julietVCard = `<vCard xmlns='vcard-temp'><FN>Juliet Capulet</FN><NICKNAME>Jul</NICKNAME></vCard>`

func TestVCardRules(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("juliet", "secret-juliet")
	s.AddUser("romeo", "secret-romeo")
	s.AddUser("nurse", "secret-nurse")
	juliet := s.Login("juliet", "secret-juliet", "balcony")
	romeo := s.Login("romeo", "secret-romeo", "orchard")

	set := juliet.Request(`<iq type='set' id='set1'>`+julietVCard+`</iq>`, "set1")
	if set.Type != "result" {
		t.Fatalf("set own vCard: %s", set)
	}

	tests := []struct {
		name   string
		client *xmpptest.Client
		iq     string
		want   string // "result" or an error condition
		fn     string // expected <FN/> of a result, "" for an empty vCard
	}{
		{"get own without to", juliet, `<iq type='get' id='%s'><vCard xmlns='vcard-temp'/></iq>`, "result", "Juliet Capulet"},
		{"get own with to", juliet, `<iq type='get' id='%s' to='juliet@localhost'><vCard xmlns='vcard-temp'/></iq>`, "result", "Juliet Capulet"},
		{"get other account", romeo, `<iq type='get' id='%s' to='juliet@localhost'><vCard xmlns='vcard-temp'/></iq>`, "result", "Juliet Capulet"},
		{"get account without vCard", romeo, `<iq type='get' id='%s' to='nurse@localhost'><vCard xmlns='vcard-temp'/></iq>`, "result", ""},
		{"set other account", romeo, `<iq type='set' id='%s' to='juliet@localhost'><vCard xmlns='vcard-temp'><FN>Romeo</FN></vCard></iq>`, "forbidden", ""},
		{"get server", romeo, `<iq type='get' id='%s' to='localhost'><vCard xmlns='vcard-temp'/></iq>`, "result", ""},
		{"set server", romeo, `<iq type='set' id='%s' to='localhost'><vCard xmlns='vcard-temp'><FN>x</FN></vCard></iq>`, "not-allowed", ""},
		{"wrong element", juliet, `<iq type='get' id='%s'><card xmlns='vcard-temp'/></iq>`, "bad-request", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("vc%d", i)
			resp := tt.client.Request(fmt.Sprintf(tt.iq, id), id)
			if got := outcome(resp); got != tt.want {
				t.Fatalf("outcome = %q, want %q (%s)", got, tt.want, resp)
			}
			if tt.want != "result" {
				return
			}
			v := resp.Child(vcard.NS, "vCard")
			if v == nil {
				t.Fatalf("result has no vCard: %s", resp)
			}
			if tt.fn == "" && len(v.Elements()) != 0 {
				t.Errorf("vCard = %s, want an empty one", v)
			}
			if got := v.Child(vcard.NS, "FN").Text(); got != tt.fn {
				t.Errorf("FN = %q, want %q", got, tt.fn)
			}
		})
	}

	// The forbidden set must not have changed Juliet's vCard.
	b, err := s.Store().GetValue(context.Background(), storage.Owner{Domain: "localhost", Local: "juliet"}, vcard.Key)
	if err != nil {
		t.Fatalf("stored vCard: %v", err)
	}
	stored, err := stanza.ParseElement(b, "")
	if err != nil {
		t.Fatalf("parse stored vCard %q: %v", b, err)
	}
	if got := stored.Child(vcard.NS, "FN").Text(); got != "Juliet Capulet" {
		t.Errorf("stored FN = %q after a forbidden set", got)
	}
}

func TestVCardEmptySetDeletes(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("juliet", "secret-juliet")
	juliet := s.Login("juliet", "secret-juliet", "balcony")

	juliet.Request(`<iq type='set' id='s1'>`+julietVCard+`</iq>`, "s1")
	if resp := juliet.Request(`<iq type='set' id='s2'><vCard xmlns='vcard-temp'/></iq>`, "s2"); resp.Type != "result" {
		t.Fatalf("set empty vCard: %s", resp)
	}
	resp := juliet.Request(`<iq type='get' id='g1'><vCard xmlns='vcard-temp'/></iq>`, "g1")
	v := resp.Child(vcard.NS, "vCard")
	if v == nil || len(v.Elements()) != 0 {
		t.Errorf("get after empty set = %s, want an empty vCard", resp)
	}
}

func outcome(resp *stanza.Stanza) string {
	if resp.Type == "result" {
		return "result"
	}
	return xmpptest.ErrorCondition(resp)
}
