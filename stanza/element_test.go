package stanza

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestElementRoundTrip(t *testing.T) {
	in := `<vCard xmlns='vcard-temp' xmlns:x='urn:x' xmlns:y='urn:y' x:a='1' y:b='2' xml:lang='en'><FN>A &amp; B</FN><NOTE/></vCard>`
	el, err := ParseElement([]byte(in), "")
	if err != nil {
		t.Fatal(err)
	}
	out := el.String()
	again, err := ParseElement([]byte(out), "")
	if err != nil {
		t.Fatalf("reparse %s: %v", out, err)
	}
	if again.String() != out {
		t.Errorf("round trip changed:\n%s\n%s", out, again.String())
	}
	want := []xml.Attr{
		{Name: xml.Name{Space: "urn:x", Local: "a"}, Value: "1"},
		{Name: xml.Name{Space: "urn:y", Local: "b"}, Value: "2"},
	}
	for _, w := range want {
		found := false
		for _, a := range again.Attr {
			if a == w {
				found = true
			}
		}
		if !found {
			t.Errorf("attribute %v lost in %s", w, out)
		}
	}
	if got := again.Child("vcard-temp", "FN").Text(); got != "A & B" {
		t.Errorf("FN = %q", got)
	}
}

func TestAttributeWhitespaceRoundTrip(t *testing.T) {
	el := NewElement("jabber:iq:roster", "item", "name", "tab\tnl\ncr\rx")
	el.AddText("a\tb\nc")
	out := el.String()
	// A conforming parser turns a literal tab or line feed in an attribute
	// value into a space, so they must be written as references.
	if !strings.Contains(out, "name='tab&#x9;nl&#xA;cr&#xD;x'") {
		t.Errorf("attribute not escaped: %s", out)
	}
	if !strings.Contains(out, ">a\tb\nc<") {
		t.Errorf("text changed: %s", out)
	}
	again, err := ParseElement([]byte(out), "")
	if err != nil {
		t.Fatal(err)
	}
	if got := again.AttrValue("name"); got != "tab\tnl\ncr\rx" {
		t.Errorf("name after a round trip = %q, want %q", got, "tab\tnl\ncr\rx")
	}
	if got := again.Text(); got != "a\tb\nc" {
		t.Errorf("text after a round trip = %q, want %q", got, "a\tb\nc")
	}
}
