package admin

import (
	"errors"
	"strings"
	"testing"
)

func TestParseJIDProblems(t *testing.T) {
	cases := []struct {
		raw, want string
	}{
		{"", "the JID is empty"},
		{"@localhost", "the localpart before '@' is empty"},
		{"bad jid@localhost", `the localpart contains ' ' (U+0020)`},
		{"a&b@localhost", `the localpart contains '&'`},
		{"romeo@localhost/", "the resource after '/' is empty"},
		{"romeo@", "the domain is empty"},
		{"romeo@a..b", `"a..b" is not a valid domain name`},
		{strings.Repeat("x", 1100) + "@localhost", "longer than 1023 bytes"},
	}
	for _, tc := range cases {
		_, err := parseJID(tc.raw)
		if !errors.Is(err, ErrInvalidJID) {
			t.Errorf("parseJID(%.20q) = %v, want ErrInvalidJID", tc.raw, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseJID(%.20q) = %q, want it to contain %q", tc.raw, err, tc.want)
		}
		if strings.Contains(err.Error(), "precis") {
			t.Errorf("parseJID(%.20q) = %q names the library", tc.raw, err)
		}
	}
	if _, err := parseJID("juliet@localhost/balcony"); err != nil {
		t.Errorf("parseJID of a valid JID: %v", err)
	}
}
