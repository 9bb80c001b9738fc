package pep

import (
	"testing"

	"tern/stanza"
	"tern/stream"
)

func TestRawPayload(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		// want is the stored payload; "" means the payload as sent.
		want string
	}{
		{
			"kept byte for byte",
			`<bundle xmlns="urn:xmpp:omemo:2"><spk id="1">BQ&#x3D;=</spk>` + "\n  " + `<ik>Aa+/</ik></bundle>`,
			"",
		},
		{"empty element", `<devices xmlns='urn:xmpp:omemo:2'/>`, ""},
		{
			"prefix declared inside",
			`<p:list xmlns:p='eu.siacs.conversations.axolotl'><p:device id='7'/></p:list>`,
			"",
		},
		{
			"namespace inherited from the item",
			`<x/>`,
			`<x xmlns='http://jabber.org/protocol/pubsub'/>`,
		},
		{
			"prefix declared on the iq",
			`<a:x/>`,
			`<x xmlns='urn:a'/>`,
		},
	}
	for _, tc := range cases {
		raw := `<iq type='set' id='1' xmlns:a='urn:a'><pubsub xmlns='http://jabber.org/protocol/pubsub'>` +
			`<publish-options/><publish node='n'> <item id='i'>` + tc.payload + `</item> </publish></pubsub></iq>`
		iq, err := stream.ParseStanza([]byte(raw))
		if err != nil {
			t.Fatalf("%s: parse: %v", tc.name, err)
		}
		el := iq.Child(NS, "pubsub").Child(NS, "publish").Child(NS, "item").Elements()[0]
		want := tc.want
		if want == "" {
			want = tc.payload
		}
		if got := string(rawPayload(iq, el)); got != want {
			t.Errorf("%s: payload\n%s\nwant\n%s", tc.name, got, want)
		}
	}
}

func TestAppendItemsEscapes(t *testing.T) {
	b := appendItems(nil, "a'b<c", []item{{ID: `x"&y`, Payload: []byte("<p xmlns='n'/>")}})
	want := `<items node='a&apos;b&lt;c'><item id='x&quot;&amp;y'><p xmlns='n'/></item></items>`
	if string(b) != want {
		t.Errorf("appendItems = %s, want %s", b, want)
	}
	if _, err := stanza.ParseElement(wrap("event", NSEvent, b), ""); err != nil {
		t.Errorf("wrapped items do not parse: %v", err)
	}
}
