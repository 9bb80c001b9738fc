package sasl

import (
	"context"
	"strings"
	"testing"
)

func TestClientFirstMalformed(t *testing.T) {
	tests := []struct {
		msg       string
		condition string
	}{
		{"n", MalformedRequest},
		{"n,", MalformedRequest},
		{"n,,", MalformedRequest},
		{"x,,n=alice,r=abc", MalformedRequest},
		{"N,,n=alice,r=abc", MalformedRequest},
		{"F,n,,n=alice,r=abc", MalformedRequest},
		{"n,,n=alice", MalformedRequest},
		{"n,,r=abc", MalformedRequest},
		{"n,,r=abc,n=alice", MalformedRequest},
		{"n,,m=ext,n=alice,r=abc", MalformedRequest},
		{"n,,n=alice,r=abc,m=ext", MalformedRequest},
		{"n,,n=alice,r=abc,n=bob", MalformedRequest},
		{"n,,n=alice,r=abc,r=def", MalformedRequest},
		{"n,,n=alice,r=abc,x", MalformedRequest},
		{"n,,n=alice,r=abc,", MalformedRequest},
		{"n,,n=alice,r=abc,1=x", MalformedRequest},
		{"n,,n=,r=abc", MalformedRequest},
		{"n,,n=al=2Xice,r=abc", MalformedRequest},
		{"n,,n=alice=,r=abc", MalformedRequest},
		{"n,,n=alice=2,r=abc", MalformedRequest},
		{"n,,n=alice,r=", MalformedRequest},
		{"n,,n=alice,r=a\x7fb", MalformedRequest},
		{"n,,n=alice,r=a b", MalformedRequest},
		{"n,,n=alice,r=abc\xff", MalformedRequest},
		{"n,,n=\xc3\x28,r=abc", MalformedRequest},
		{"n,a=,n=alice,r=abc", MalformedRequest},
		{"n,b=alice,n=alice,r=abc", MalformedRequest},
		{"n,a=al=ice@example.com,n=alice,r=abc", MalformedRequest},
		{" n,,n=alice,r=abc", MalformedRequest},
		{"n,,n=alice,r=" + strings.Repeat("a", maxMessageLength), MalformedRequest},
		{"n,a=bob@example.com,n=alice,r=abc", InvalidAuthzid},
		{"n,,N=alice,r=abc", MalformedRequest},
		// Unknown extensions after the nonce are ignored.
		{"n,,n=alice,r=abc,x=ext", ""},
		// A nonce may contain "=".
		{"n,,n=alice,r=ab=c", ""},
	}
	for _, tt := range tests {
		t.Run(tt.msg[:min(len(tt.msg), 40)], func(t *testing.T) {
			ex, err := Start(context.Background(), ScramSHA256, testConfig(nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			out, done, err := ex.Step([]byte(tt.msg))
			wantCondition(t, err, tt.condition)
			if tt.condition != "" && (!done || out != nil) {
				t.Errorf("failed Step returned %q, done=%v; want nil, true", out, done)
			}
		})
	}
}

func TestClientFinalMalformed(t *testing.T) {
	const proof = "p=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tests := []struct {
		msg       string // NONCE stands for the combined nonce
		condition string
	}{
		{"", MalformedRequest},
		{"c=biws", MalformedRequest},
		{"c=biws,r=NONCE", MalformedRequest},
		{"r=NONCE,c=biws," + proof, MalformedRequest},
		{"c=biws," + proof + ",r=NONCE", MalformedRequest},
		{"c=biws,r=NONCE," + proof + "," + proof, MalformedRequest},
		{"c=biws,c=biws,r=NONCE," + proof, MalformedRequest},
		{"c=biws,r=NONCE,r=NONCE," + proof, MalformedRequest},
		{"c=biws,r=NONCE,m=ext," + proof, MalformedRequest},
		{"c=biws,r=NONCE,," + proof, MalformedRequest},
		{"c=,r=NONCE," + proof, MalformedRequest},
		{"c=biws,r=NONCE,p=", MalformedRequest},
		{"c=biws,r=NONCE,p=AAAA\xff", MalformedRequest},
		{"c=bi*s,r=NONCE," + proof, IncorrectEncoding},
		{"c=biw,r=NONCE," + proof, IncorrectEncoding},
		{"c=eR==,r=NONCE," + proof, IncorrectEncoding}, // non-zero padding bits
		{"c=bi\nws,r=NONCE," + proof, IncorrectEncoding},
		{"c=biws,r=NONCE,p=AAAA*AAA", IncorrectEncoding},
		{"c=biws,r=NONCE,p=AAA", IncorrectEncoding},
		{"c=biws,r=abc," + proof, NotAuthorized},
		{"c=biws,r=NONCEx," + proof, NotAuthorized},
		{"c=eSws,r=NONCE," + proof, NotAuthorized}, // "y,," instead of "n,,"
		{"c=biws,r=NONCE,p=AAAA", NotAuthorized},
		{"c=biws,r=NONCE," + proof, NotAuthorized},
		{"c=biws,r=NONCE,x=ext," + proof, NotAuthorized},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			ex, err := Start(context.Background(), ScramSHA256, testConfig(nil, nil))
			if err != nil {
				t.Fatal(err)
			}
			serverFirst, _, err := ex.Step([]byte("n,,n=alice,r=abc"))
			if err != nil {
				t.Fatal(err)
			}
			nonce, _, _ := strings.Cut(strings.TrimPrefix(string(serverFirst), "r="), ",")
			msg := strings.ReplaceAll(tt.msg, "NONCE", nonce)
			out, done, err := ex.Step([]byte(msg))
			wantCondition(t, err, tt.condition)
			if !done || out != nil {
				t.Errorf("failed Step returned %q, done=%v; want nil, true", out, done)
			}
		})
	}
}

func TestDecodeSASLName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"alice", "alice", true},
		{"a=2Cb", "a,b", true},
		{"a=3Db", "a=b", true},
		{"=3D=2C", "=,", true},
		{"=3D2C", "=2C", true},
		{"a=2cb", "", false},
		{"a=", "", false},
		{"a=3", "", false},
		{"a=41", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := decodeSASLName(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("decodeSASLName(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
