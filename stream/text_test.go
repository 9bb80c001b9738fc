package stream

import "testing"

func TestTextOfMatchesPayload(t *testing.T) {
	cases := []struct {
		name     string
		element  string
		textOnly bool
	}{
		{"plain", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGEAYg==</auth>", true},
		{"empty", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'/>", true},
		{"references", "<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='A&amp;B'>x&#x41;y&lt;&#66;</response>", true},
		{"line ends", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X'>a\r\nb\rc</auth>", true},
		{"child element", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X'>a<b/>c</auth>", false},
		{"CDATA", "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='X'><![CDATA[a&b]]></auth>", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newTestReader(header+c.element, 4096)
			if _, err := r.ReadHeader(); err != nil {
				t.Fatal(err)
			}
			s, err := r.Next()
			if err != nil {
				t.Fatal(err)
			}
			p, err := s.Payload()
			if err != nil {
				t.Fatal(err)
			}
			text, ok := TextOf(s)
			if ok != c.textOnly {
				t.Fatalf("TextOf reports text only %v, want %v", ok, c.textOnly)
			}
			if ok && text != p.Text() {
				t.Errorf("TextOf = %q, payload text = %q", text, p.Text())
			}
			if got, want := AttrOf(s, "mechanism"), p.AttrValue("mechanism"); got != want {
				t.Errorf("AttrOf(mechanism) = %q, payload attribute = %q", got, want)
			}
			if got := AttrOf(s, "missing"); got != "" {
				t.Errorf("AttrOf(missing) = %q, want empty", got)
			}
		})
	}
}
