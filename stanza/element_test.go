package stanza

import (
	"encoding/xml"
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
