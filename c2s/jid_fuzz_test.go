package c2s

import (
	"strings"
	"testing"
	"unicode/utf8"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// FuzzJID checks the JID rules the server relies on when it validates
// 'to' and 'from' (RFC 7622): a JID that parses has parts of 1 to 1023
// bytes, valid UTF-8, no prohibited localpart characters, and its string
// form parses back to the same JID.
func FuzzJID(f *testing.F) {
	for _, s := range []string{
		"romeo@example.test/orchard", "@example.test", "lp@/rp", "b\"d@example.test",
		"b&d@example.test", "b:d@example.test", "ROMEO@Example.Test/Orchard", "例え@例え.テスト/リソース",
		"a@b/c/d@e", "[::1]", "a@[::1]/r", "a@xn--caf-dma.example", "\xff@x",
		strings.Repeat("a", 1024) + "@x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		j, err := stanza.ParseJID(s)
		if err != nil {
			return
		}
		local, domain, res := j.Localpart(), j.Domainpart(), j.Resourcepart()
		if domain == "" || len(domain) > 1023 || len(local) > 1023 || len(res) > 1023 {
			t.Fatalf("%q parsed with part lengths %d/%d/%d", s, len(local), len(domain), len(res))
		}
		if strings.ContainsAny(local, "\"&'/:<>@ ") {
			t.Fatalf("%q: localpart %q has a prohibited character", s, local)
		}
		for _, part := range []string{local, domain, res} {
			if !utf8.ValidString(part) {
				t.Fatalf("%q: invalid UTF-8 in %q", s, part)
			}
		}
		again, err := stanza.ParseJID(j.String())
		if err != nil {
			t.Fatalf("%q → %q does not parse again: %v", s, j.String(), err)
		}
		if !again.Equal(j) {
			t.Fatalf("%q → %q → %q changed", s, j.String(), again.String())
		}
		if _, err := jid.New(local, domain, res); err != nil {
			t.Fatalf("%q: parts do not rebuild the JID: %v", s, err)
		}
	})
}
