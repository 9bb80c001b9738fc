package stream

import (
	"errors"

	"tern/stanza"
)

// NS is the namespace of the stream element and NSErrors that of stream
// error conditions (RFC 6120 §4.9).
const (
	NS       = "http://etherx.jabber.org/streams"
	NSErrors = "urn:ietf:params:xml:ns:xmpp-streams"
)

// Error is a stream error (RFC 6120 §4.9): a defined condition, optional
// text and an optional application-specific condition.
type Error struct {
	Condition string
	Text      string
	App       *stanza.Element
}

func (e *Error) Error() string {
	if e.Text != "" {
		return "stream error: " + e.Condition + ": " + e.Text
	}
	return "stream error: " + e.Condition
}

// Stream error conditions used by Tern (RFC 6120 §4.9.3).
var (
	BadFormat              = &Error{Condition: "bad-format"}
	Conflict               = &Error{Condition: "conflict"}
	ConnectionTimeout      = &Error{Condition: "connection-timeout"}
	HostUnknown            = &Error{Condition: "host-unknown"}
	InternalServerError    = &Error{Condition: "internal-server-error"}
	InvalidFrom            = &Error{Condition: "invalid-from"}
	InvalidNamespace       = &Error{Condition: "invalid-namespace"}
	InvalidXML             = &Error{Condition: "invalid-xml"}
	NotAuthorized          = &Error{Condition: "not-authorized"}
	NotWellFormed          = &Error{Condition: "not-well-formed"}
	PolicyViolation        = &Error{Condition: "policy-violation"}
	ResourceConstraint     = &Error{Condition: "resource-constraint"}
	RestrictedXML          = &Error{Condition: "restricted-xml"}
	SystemShutdown         = &Error{Condition: "system-shutdown"}
	UndefinedCondition     = &Error{Condition: "undefined-condition"}
	UnsupportedEncoding    = &Error{Condition: "unsupported-encoding"}
	UnsupportedStanzaType  = &Error{Condition: "unsupported-stanza-type"}
	UnsupportedVersion     = &Error{Condition: "unsupported-version"}
	ImproperAddressing     = &Error{Condition: "improper-addressing"}
	UnsupportedFeature     = &Error{Condition: "unsupported-feature"}
	NotAuthorizedNoTLS     = &Error{Condition: "not-authorized", Text: "TLS is required"}
	PolicyViolationTooBig  = &Error{Condition: "policy-violation", Text: "stanza too large"}
	PolicyViolationTooDeep = &Error{Condition: "policy-violation", Text: "elements nested too deeply"}
)

// WithText returns a copy of e with a human-readable text.
func (e *Error) WithText(text string) *Error {
	c := *e
	c.Text = text
	return &c
}

// AppendXML appends the <stream:error/> element to b. It assumes the
// stream prefix is bound, as it is on every stream Tern opens.
func (e *Error) AppendXML(b []byte) []byte {
	b = append(b, "<stream:error><"...)
	b = append(b, e.Condition...)
	b = append(b, " xmlns='"+NSErrors+"'/>"...)
	if e.Text != "" {
		t := stanza.NewElement(NSErrors, "text").AddText(e.Text)
		b = t.AppendXML(b, "")
	}
	if e.App != nil {
		b = e.App.AppendXML(b, "")
	}
	return append(b, "</stream:error>"...)
}

// AsError returns the stream error behind err, or nil when err is not one.
func AsError(err error) *Error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	return nil
}

// ErrClosed is returned by Reader.Next when the peer closed its stream
// with </stream:stream>.
var ErrClosed = errors.New("stream: closed by peer")
