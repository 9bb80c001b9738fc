package upload

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// slotIDBytes is the number of random bytes in a slot id. A slot id is
// the secret part of a GET URL, so it must be unguessable: 128 bits.
const slotIDBytes = 16

// slotIDLength is the length of a slot id: slotIDBytes in unpadded
// base64url.
var slotIDLength = base64.RawURLEncoding.EncodedLen(slotIDBytes)

// maxFilenameBytes is the longest file name accepted in a slot request;
// common file systems allow 255 bytes per name.
const maxFilenameBytes = 255

// newSlotID returns a random slot id.
func newSlotID() string {
	b := make([]byte, slotIDBytes)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// validSlotID reports whether id has the form newSlotID returns. Only
// such ids name files in the storage directory, so a request path can
// never reach another file.
func validSlotID(id string) bool {
	if len(id) != slotIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

// signer computes the PUT tokens of slots: an HMAC-SHA256 of the slot id
// under a key that never leaves the process.
type signer struct {
	key []byte
}

func newSigner() signer {
	key := make([]byte, 32)
	rand.Read(key)
	return signer{key: key}
}

// token returns the PUT token of a slot id.
func (s signer) token(id string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte("put\x00"))
	mac.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// verify reports whether token is the PUT token of id, in constant time.
func (s signer) verify(id, token string) bool {
	return hmac.Equal([]byte(token), []byte(s.token(id)))
}

// checkFilename returns an error when name cannot be offered as a file
// name: empty, longer than maxFilenameBytes, not UTF-8, a dot-segment, or
// containing a path separator, a control character or a bidirectional
// control character (which could show "gpj.exe" as "exe.jpg").
func checkFilename(name string) error {
	switch {
	case name == "":
		return errors.New("the filename is empty")
	case len(name) > maxFilenameBytes:
		return errors.New("the filename is longer than 255 bytes")
	case !utf8.ValidString(name):
		return errors.New("the filename is not valid UTF-8")
	case name == "." || name == "..":
		return errors.New("the filename must not be . or ..")
	case strings.ContainsAny(name, `/\`):
		return errors.New("the filename must not contain / or \\")
	}
	for _, r := range name {
		if unicode.IsControl(r) || isBidiControl(r) {
			return errors.New("the filename must not contain control characters")
		}
	}
	return nil
}

// isBidiControl reports whether r is one of the bidirectional formatting
// characters of Unicode Standard Annex #9.
func isBidiControl(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' ||
		r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}
