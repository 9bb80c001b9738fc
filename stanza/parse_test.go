package stanza

import (
	"reflect"
	"testing"
)

var simpleSeeds = []string{
	"<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r1</resource></bind></iq>",
	"<iq type='get' id='r'><query xmlns='jabber:iq:roster'/></iq>",
	"<message to='a@b' xml:lang='en'><body>hi &amp; bye &lt;3 &#x1F600; &#65;</body>\n <x xmlns=\"urn:x\" a=\"1\"/></message>",
	"<presence><show>away</show><status>a\tb\nc</status><priority>5</priority></presence>",
	"<a xmlns=''><b/></a>",
	"<a><b></c></a>",
	"<a x:y='1'/>",
	"<a b='1'c='2'/>",
	"<a>x]]>y</a>",
	"<a>&#0;</a>",
	"<a>&#xD;</a>",
	"<a>\r\n</a>",
	"<a><![CDATA[x]]></a>",
	"<a b='<'/>",
	"<a>unclosed",
	"  <a/>",
	"<a/>trailing<b/>",
	"<a b='&foo;'/>",
	"<é/>",
	"<a1.-_b/>",
	"<1a/>",
}

func TestParseSimpleMatchesEncodingXML(t *testing.T) {
	for _, in := range simpleSeeds {
		checkParseSimple(t, []byte(in), "jabber:client")
	}
}

func TestParseSimpleTakesCommonPayloads(t *testing.T) {
	for _, in := range simpleSeeds[:4] {
		if _, ok := parseSimple([]byte(in), "jabber:client"); !ok {
			t.Errorf("parseSimple rejected %q", in)
		}
	}
}

func FuzzParseSimple(f *testing.F) {
	for _, in := range simpleSeeds {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParseSimple(t, data, "jabber:client")
	})
}

// checkParseSimple fails when parseSimple takes data but encoding/xml
// rejects it or parses it differently.
func checkParseSimple(t *testing.T, data []byte, defaultNS string) {
	t.Helper()
	got, ok := parseSimple(data, defaultNS)
	if !ok {
		return
	}
	want, err := decodeXML(data, defaultNS)
	if err != nil {
		t.Fatalf("parseSimple took %q, encoding/xml: %v", data, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parse of %q:\nparseSimple  %#v\nencoding/xml %#v", data, got, want)
	}
}
