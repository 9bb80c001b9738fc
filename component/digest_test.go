package component

import "testing"

func TestDigest(t *testing.T) {
	// SHA-1("abc") from FIPS 180-2, appendix A.1: the stream id "a"
	// followed by the secret "bc".
	const want = "a9993e364706816aba3e25717850c26c9cd0d89d"
	if got := digest("a", "bc"); got != want {
		t.Errorf("digest = %s, want %s", got, want)
	}
}

func TestValidDigest(t *testing.T) {
	const id, secret = "3BF96D32", "s3cret"
	good := digest(id, secret)
	cases := []struct {
		name string
		got  string
		want bool
	}{
		{"exact", good, true},
		{"uppercase", "A9993E364706816ABA3E25717850C26C9CD0D89D", false},
		{"surrounding space", " " + good + "\n", true},
		{"empty", "", false},
		{"truncated", good[:39], false},
		{"longer", good + "0", false},
		{"other secret", digest(id, "other"), false},
		{"other id", digest("other", secret), false},
		{"secret in clear", secret, false},
	}
	for i, tc := range cases {
		if got := validDigest(tc.got, id, secret); got != tc.want {
			t.Errorf("case %d (%s): validDigest = %v, want %v", i, tc.name, got, tc.want)
		}
	}
	if !validDigest("A9993E364706816ABA3E25717850C26C9CD0D89D", "a", "bc") {
		t.Error("uppercase hex of the right digest rejected")
	}
}
