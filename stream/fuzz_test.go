package stream

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// FuzzReader feeds arbitrary bytes after a valid stream header. The reader
// must never panic, must return only stream errors or I/O errors, and any
// stanza it returns must serialize to XML that parses to the same stanza.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"<message to='a@b'><body>x</body></message>",
		"<presence/><iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
		"<!DOCTYPE x [<!ENTITY a 'b'>]>",
		"<message><body>&amp;&lt;&#x41;&#65;</body></message>",
		"<a xmlns:p='urn:p'><p:b p:c='d'/></a>",
		"<m>\xff</m>",
		"</stream:stream>",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := append([]byte(header), data...)
		r := NewReader(bufio.NewReader(bytes.NewReader(in)), Limits{MaxSize: 1 << 12, MaxDepth: 32})
		if _, err := r.ReadHeader(); err != nil {
			t.Fatalf("header: %v", err)
		}
		for i := 0; i < 64; i++ {
			s, err := r.Next()
			if err != nil {
				return
			}
			out := s.AppendXML(nil, "")
			again, err := ParseStanza(out)
			if err != nil {
				if errors.Is(err, errTooLarge) {
					return
				}
				t.Fatalf("reparse %q (from %q): %v", out, data, err)
			}
			if again.Name != s.Name || again.Type != s.Type || again.ID != s.ID || !bytes.Equal(again.Inner, s.Inner) {
				t.Fatalf("round trip changed %q into %q", out, again.AppendXML(nil, ""))
			}
		}
	})
}
