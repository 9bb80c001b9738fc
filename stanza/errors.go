package stanza

import "mellium.im/xmpp/jid"

// Error types of RFC 6120 §8.3.2.
const (
	ErrAuth     = "auth"
	ErrCancel   = "cancel"
	ErrContinue = "continue"
	ErrModify   = "modify"
	ErrWait     = "wait"
)

// Error is a stanza error (RFC 6120 §8.3): a type, a defined condition from
// urn:ietf:params:xml:ns:xmpp-stanzas, optional text and an optional
// application-specific condition element.
type Error struct {
	Type      string
	Condition string
	Text      string
	App       *Element
}

func (e *Error) Error() string {
	if e.Text != "" {
		return e.Condition + ": " + e.Text
	}
	return e.Condition
}

// Conditions with the error type RFC 6120 §8.3.3 suggests for each.
var (
	BadRequest            = &Error{Type: ErrModify, Condition: "bad-request"}
	Conflict              = &Error{Type: ErrCancel, Condition: "conflict"}
	FeatureNotImplemented = &Error{Type: ErrCancel, Condition: "feature-not-implemented"}
	Forbidden             = &Error{Type: ErrAuth, Condition: "forbidden"}
	InternalServerError   = &Error{Type: ErrCancel, Condition: "internal-server-error"}
	ItemNotFound          = &Error{Type: ErrCancel, Condition: "item-not-found"}
	JIDMalformed          = &Error{Type: ErrModify, Condition: "jid-malformed"}
	NotAcceptable         = &Error{Type: ErrModify, Condition: "not-acceptable"}
	NotAllowed            = &Error{Type: ErrCancel, Condition: "not-allowed"}
	NotAuthorized         = &Error{Type: ErrAuth, Condition: "not-authorized"}
	PolicyViolation       = &Error{Type: ErrModify, Condition: "policy-violation"}
	RecipientUnavailable  = &Error{Type: ErrWait, Condition: "recipient-unavailable"}
	RemoteServerNotFound  = &Error{Type: ErrCancel, Condition: "remote-server-not-found"}
	RemoteServerTimeout   = &Error{Type: ErrWait, Condition: "remote-server-timeout"}
	ResourceConstraint    = &Error{Type: ErrWait, Condition: "resource-constraint"}
	ServiceUnavailable    = &Error{Type: ErrCancel, Condition: "service-unavailable"}
	SubscriptionRequired  = &Error{Type: ErrAuth, Condition: "subscription-required"}
	UndefinedCondition    = &Error{Type: ErrCancel, Condition: "undefined-condition"}
	UnexpectedRequest     = &Error{Type: ErrWait, Condition: "unexpected-request"}
)

// WithText returns a copy of e carrying a human-readable text.
func (e *Error) WithText(text string) *Error {
	c := *e
	c.Text = text
	return &c
}

// WithApp returns a copy of e carrying an application-specific condition.
func (e *Error) WithApp(app *Element) *Error {
	c := *e
	c.App = app
	return &c
}

// Element returns the <error/> element.
func (e *Error) Element() *Element {
	el := NewElement(NSClient, "error", "type", e.Type)
	el.Add(NewElement(NSStanzas, e.Condition))
	if e.Text != "" {
		el.Add(NewElement(NSStanzas, "text").AddText(e.Text))
	}
	if e.App != nil {
		el.Add(e.App)
	}
	return el
}

// ErrorReply returns the error response to s (RFC 6120 §8.3.1): addresses
// swapped, type "error", the original content kept for messages and
// presence, and the error element appended. from is the address the error
// comes from; pass the zero JID to use s.To.
func ErrorReply(s *Stanza, e *Error, from jid.JID) *Stanza {
	if IsZero(from) {
		from = s.To
	}
	r := &Stanza{Name: s.Name, ID: s.ID, Type: "error", To: s.From, From: from, Lang: s.Lang}
	var b []byte
	if s.Name != IQ {
		b = append(b, s.Inner...)
	}
	r.Inner = e.Element().AppendXML(b, NSClient)
	return r
}

// Result returns the iq result for the request s with optional content.
func Result(s *Stanza, children ...*Element) *Stanza {
	r := &Stanza{Name: IQ, ID: s.ID, Type: "result", To: s.From, From: s.To}
	r.SetChildren(children...)
	return r
}

// ErrorOf returns the error carried by a stanza of type error, or nil.
func ErrorOf(s *Stanza) *Error {
	el := s.Child("", "error")
	if el == nil {
		return nil
	}
	e := &Error{Type: el.AttrValue("type")}
	for _, c := range el.Elements() {
		if c.Name.Space == NSStanzas && c.Name.Local != "text" {
			e.Condition = c.Name.Local
		}
		if c.Name.Space == NSStanzas && c.Name.Local == "text" {
			e.Text = c.Text()
		}
	}
	return e
}
