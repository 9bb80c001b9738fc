package c2s

import (
	"strings"
	"testing"

	"tern/stanza"
)

// FuzzParseAddress checks that the fast path of parseAddress returns
// exactly what stanza.ParseJID returns, for every address it takes.
func FuzzParseAddress(f *testing.F) {
	for _, s := range []string{
		"u1@bench.test", "u1@bench.test/res", "juliet@example.com/balcony",
		"bench.test", "a@b", "a@b/c/d", "a@b/c@d", "a_b.c-d+e!#$%*=?^`{|}~@x.y",
		"A@b", "a@B", "a@b.", "a@b..c", "a@-b", "a@b-", "a@xn--caf-dma.example",
		"a@ab--c.d", "a@1.2.3.4", "a@[::1]", "a@b/ r", "a@b/r ", "a@b/", "@b", "a@",
		"a b@c", "a\"b@c", "a&b@c", "a'b@c", "a:b@c", "a<b@c", "a>b@c", "a@b@c",
		"a@b_c", "a@b/\x7f", "\u00e9@b", strings.Repeat("a", 1024) + "@b",
		"a@" + strings.Repeat("b", 64) + ".c", "a@b/" + strings.Repeat("r", 1024),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := parseNormalized(s)
		slow, err := stanza.ParseJID(s)
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("parseNormalized(%q) accepted what ParseJID rejects: %v", s, err)
		}
		if !fast.Equal(slow) {
			t.Fatalf("parseNormalized(%q) = %q, ParseJID = %q", s, fast, slow)
		}
		if fast.String() != slow.String() || fast.Localpart() != slow.Localpart() ||
			fast.Domainpart() != slow.Domainpart() || fast.Resourcepart() != slow.Resourcepart() {
			t.Fatalf("parts of %q differ: %q/%q/%q, ParseJID %q/%q/%q", s,
				fast.Localpart(), fast.Domainpart(), fast.Resourcepart(),
				slow.Localpart(), slow.Domainpart(), slow.Resourcepart())
		}
	})
}

func TestParseAddressFastPath(t *testing.T) {
	cases := []struct {
		in   string
		fast bool
	}{
		{"u1@bench.test", true},
		{"u1@bench.test/res", true},
		{"bench.test", true},
		{"U1@bench.test", false},
		{"u1@Bench.test", false},
		{"u1@xn--caf-dma.example", false},
		{"u1@bench.test.", false},
		{"\u00e9@bench.test", false},
		{"u1@bench.test/r\u00e9s", false},
	}
	for _, tc := range cases {
		_, ok := parseNormalized(tc.in)
		if ok != tc.fast {
			t.Errorf("parseNormalized(%q) fast = %v, want %v", tc.in, ok, tc.fast)
		}
		got, err := parseAddress(tc.in)
		want, wantErr := stanza.ParseJID(tc.in)
		if (err != nil) != (wantErr != nil) || !got.Equal(want) {
			t.Errorf("parseAddress(%q) = %q, %v; ParseJID %q, %v", tc.in, got, err, want, wantErr)
		}
	}
}
