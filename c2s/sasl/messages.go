package sasl

import (
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// maxMessageLength is the maximum length in bytes of a client message.
// SCRAM messages of real clients are a few hundred bytes long. RFC 4616
// requires servers to accept PLAIN fields of up to 255 bytes each, which
// also fit.
const maxMessageLength = 4096

// clientFirst is a parsed SCRAM client-first-message (RFC 5802 §7).
type clientFirst struct {
	gs2Header string // "n,," and the like, with both commas
	cbFlag    byte   // 'n', 'y' or 'p'
	cbType    string // channel binding type when cbFlag is 'p'
	authzid   string // decoded saslname, empty if absent
	username  string // decoded saslname, not yet prepared
	nonce     string // client nonce
	bare      string // client-first-message-bare
}

// clientFinal is a parsed SCRAM client-final-message.
type clientFinal struct {
	channelBinding []byte // decoded c= value
	nonce          string
	proof          []byte // decoded p= value
	withoutProof   string // client-final-message-without-proof
}

// attribute is one "x=value" field of a SCRAM message.
type attribute struct {
	name  byte
	value string
}

// checkMessage rejects messages that are too long or not UTF-8.
func checkMessage(msg []byte) error {
	if len(msg) > maxMessageLength {
		return fail(MalformedRequest, "message too long")
	}
	if !utf8.Valid(msg) {
		return fail(MalformedRequest, "message is not valid UTF-8")
	}
	return nil
}

// parseClientFirst parses a client-first-message. Syntax errors yield
// malformed-request, as does the reserved mandatory extension m=.
func parseClientFirst(msg []byte) (clientFirst, error) {
	if err := checkMessage(msg); err != nil {
		return clientFirst{}, err
	}
	s := string(msg)
	flag, rest, ok1 := strings.Cut(s, ",")
	authzField, bare, ok2 := strings.Cut(rest, ",")
	if !ok1 || !ok2 {
		return clientFirst{}, fail(MalformedRequest, "missing GS2 header")
	}
	cf := clientFirst{gs2Header: s[:len(s)-len(bare)], bare: bare}
	if err := cf.parseFlag(flag); err != nil {
		return clientFirst{}, err
	}
	if authzField != "" {
		value, ok := strings.CutPrefix(authzField, "a=")
		if !ok {
			return clientFirst{}, fail(MalformedRequest, "invalid authzid field in GS2 header")
		}
		var err error
		if cf.authzid, err = decodeSASLName(value); err != nil {
			return clientFirst{}, err
		}
	}
	if err := cf.parseBare(); err != nil {
		return clientFirst{}, err
	}
	return cf, nil
}

// parseFlag parses the gs2-cbind-flag: "n", "y" or "p=" cb-name.
func (cf *clientFirst) parseFlag(flag string) error {
	switch {
	case flag == "n" || flag == "y":
		cf.cbFlag = flag[0]
		return nil
	case strings.HasPrefix(flag, "p="):
		cf.cbFlag = 'p'
		cf.cbType = flag[2:]
		if !validChannelBindingName(cf.cbType) {
			return fail(MalformedRequest, "invalid channel binding type name")
		}
		return nil
	}
	return fail(MalformedRequest, "invalid channel binding flag")
}

// parseBare parses client-first-message-bare: n=, r=, then optional
// extensions, which are ignored.
func (cf *clientFirst) parseBare() error {
	attrs, err := parseAttributes(cf.bare)
	if err != nil {
		return err
	}
	if len(attrs) < 2 || attrs[0].name != 'n' || attrs[1].name != 'r' {
		return fail(MalformedRequest, "client-first-message must start with n= and r=")
	}
	if err := checkExtensions(attrs[2:], "nrm"); err != nil {
		return err
	}
	if cf.username, err = decodeSASLName(attrs[0].value); err != nil {
		return err
	}
	cf.nonce = attrs[1].value
	if !validNonce(cf.nonce) {
		return fail(MalformedRequest, "invalid nonce")
	}
	return nil
}

// parseClientFinal parses a client-final-message: c=, r=, optional
// extensions, p=. Syntax errors yield malformed-request and bad base64
// yields incorrect-encoding.
func parseClientFinal(msg []byte) (clientFinal, error) {
	if err := checkMessage(msg); err != nil {
		return clientFinal{}, err
	}
	s := string(msg)
	attrs, err := parseAttributes(s)
	if err != nil {
		return clientFinal{}, err
	}
	n := len(attrs)
	if n < 3 || attrs[0].name != 'c' || attrs[1].name != 'r' || attrs[n-1].name != 'p' {
		return clientFinal{}, fail(MalformedRequest, "client-final-message must be c=, r=, then p= last")
	}
	if err := checkExtensions(attrs[2:n-1], "crpm"); err != nil {
		return clientFinal{}, err
	}
	cf := clientFinal{
		nonce:        attrs[1].value,
		withoutProof: s[:strings.LastIndexByte(s, ',')],
	}
	if cf.channelBinding, err = decodeBase64(attrs[0].value); err != nil {
		return clientFinal{}, err
	}
	if cf.proof, err = decodeBase64(attrs[n-1].value); err != nil {
		return clientFinal{}, err
	}
	return cf, nil
}

// parseAttributes splits a message into its comma-separated attributes,
// each a single ASCII letter, "=", and a non-empty value.
func parseAttributes(s string) ([]attribute, error) {
	var attrs []attribute
	for field := range strings.SplitSeq(s, ",") {
		if len(field) < 3 || !isASCIILetter(field[0]) || field[1] != '=' {
			return nil, fail(MalformedRequest, "invalid attribute")
		}
		attrs = append(attrs, attribute{name: field[0], value: field[2:]})
	}
	return attrs, nil
}

// checkExtensions rejects the mandatory extension m= and any attribute in
// the extension position whose name is in reserved (a duplicate).
func checkExtensions(attrs []attribute, reserved string) error {
	for _, a := range attrs {
		if a.name == 'm' {
			return fail(MalformedRequest, "mandatory extensions are not supported")
		}
		if strings.IndexByte(reserved, a.name) >= 0 {
			return fail(MalformedRequest, "duplicate or misplaced attribute "+string(a.name)+"=")
		}
	}
	return nil
}

// decodeSASLName decodes a saslname (RFC 5802 §5.1), in which "=2C" stands
// for "," and "=3D" for "=". Any other "=" is an error.
func decodeSASLName(s string) (string, error) {
	if s == "" {
		return "", fail(MalformedRequest, "empty name")
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", fail(MalformedRequest, "invalid escape in name")
		}
		i += 2
	}
	return b.String(), nil
}

// decodeBase64 decodes standard padded base64 strictly. Unlike the
// encoding/base64 decoder alone it also rejects line breaks, so every value
// has exactly one accepted spelling.
func decodeBase64(s string) ([]byte, error) {
	if strings.ContainsAny(s, "\r\n") {
		return nil, fail(IncorrectEncoding, "line break in base64 value")
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, &Failure{Condition: IncorrectEncoding, Text: "invalid base64 value", Err: err}
	}
	return b, nil
}

// validNonce reports whether s is a non-empty run of printable ASCII other
// than "," (RFC 5802 §7, c-nonce).
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e || s[i] == ',' {
			return false
		}
	}
	return true
}

// validChannelBindingName reports whether s matches cb-name:
// 1*(ALPHA / DIGIT / "." / "-").
func validChannelBindingName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isASCIILetter(c) && (c < '0' || c > '9') && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isASCIILetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
