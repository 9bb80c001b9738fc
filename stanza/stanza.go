// Package stanza holds Tern's representation of an XMPP stanza (RFC 6120
// §8): the top-level element's name and routing attributes as fields, and
// the rest kept as the bytes that arrived, so a stanza that only passes
// through the server is written out again without being re-encoded.
package stanza

import (
	"bytes"
	"strconv"

	"mellium.im/xmpp/jid"
)

// Namespaces of the stanza content streams.
const (
	NSClient    = "jabber:client"
	NSServer    = "jabber:server"
	NSComponent = "jabber:component:accept"
	NSStanzas   = "urn:ietf:params:xml:ns:xmpp-stanzas"
	NSDelay     = "urn:xmpp:delay"
)

// Stanza kinds (the local name of the top-level element).
const (
	Message  = "message"
	Presence = "presence"
	IQ       = "iq"
)

// Attr is an attribute of a stanza's start tag other than the routing
// attributes, kept as written: Name with its prefix, Value still escaped.
type Attr struct {
	Name  string
	Value string
}

// Stanza is one message, presence or iq. The zero value is not useful; use
// the reader in package stream or New.
//
// To and From are the parsed addresses. RawTo and RawFrom keep the
// attribute values as received so the session can report jid-malformed;
// after the session has validated them, only To and From are used.
type Stanza struct {
	// Space is the namespace of the top-level element: jabber:client,
	// jabber:server or jabber:component:accept for stanzas, the feature's
	// namespace for stream-level elements such as <auth/> or <enable/>.
	Space   string
	Name    string
	ID      string
	Type    string
	Lang    string
	To      jid.JID
	From    jid.JID
	RawTo   string
	RawFrom string

	// Attrs are the other attributes of the start tag, including namespace
	// declarations other than the default one.
	Attrs []Attr
	// Inner is the content between the start and end tags, as received,
	// or nil for an empty element.
	Inner []byte

	payload *Element
}

// New returns a stanza of the given kind whose content is the serialization
// of children.
func New(name, typ string, to, from jid.JID, children ...*Element) *Stanza {
	s := &Stanza{Name: name, Type: typ, To: to, From: from}
	s.SetChildren(children...)
	return s
}

// SetChildren replaces the stanza's content with the given elements.
func (s *Stanza) SetChildren(children ...*Element) {
	var b []byte
	for _, c := range children {
		b = c.AppendXML(b, NSClient)
	}
	s.Inner = b
	s.payload = nil
}

// Payload returns the stanza parsed as an element tree, parsing it on first
// use. Changes to the tree are not reflected in the stanza's bytes; call
// SetPayload to write them back.
func (s *Stanza) Payload() (*Element, error) {
	if s.payload != nil {
		return s.payload, nil
	}
	ns := NSClient
	if s.Space != "" && s.Space != NSServer && s.Space != NSComponent {
		ns = s.Space
	}
	el, err := ParseElement(s.AppendXML(nil, ns), ns)
	if err != nil {
		return nil, err
	}
	s.payload = el
	return el, nil
}

// Children returns the child elements of the stanza, or nil if the content
// cannot be parsed (which the stream reader has already ruled out).
func (s *Stanza) Children() []*Element {
	if !s.mayHaveChildren() {
		return nil
	}
	p, err := s.Payload()
	if err != nil {
		return nil
	}
	return p.Elements()
}

// Child returns the first child element with the given namespace and local
// name, or nil.
func (s *Stanza) Child(ns, local string) *Element {
	if !s.mayHaveChildren() {
		return nil
	}
	p, err := s.Payload()
	if err != nil {
		return nil
	}
	return p.Child(ns, local)
}

// mayHaveChildren reports whether the content can hold an element. It
// saves parsing the stanza for the many that have none, such as the
// initial presence <presence/>.
func (s *Stanza) mayHaveChildren() bool {
	return s.payload != nil || bytes.IndexByte(s.Inner, '<') >= 0
}

// SetPayload replaces the stanza's content with the children of el.
func (s *Stanza) SetPayload(el *Element) {
	var b []byte
	for _, c := range el.Children {
		b = c.appendXML(b, NSClient)
	}
	s.Inner = b
	s.payload = nil
}

// Copy returns a copy that can be changed without affecting s. The content
// bytes are shared, because they are never modified in place.
func (s *Stanza) Copy() *Stanza {
	c := *s
	c.Attrs = append([]Attr(nil), s.Attrs...)
	c.payload = nil
	return &c
}

// AppendXML appends the stanza's serialization to b, declaring ns as the
// default namespace when ns is not empty.
func (s *Stanza) AppendXML(b []byte, ns string) []byte {
	b = append(b, '<')
	b = append(b, s.Name...)
	if ns != "" {
		b = append(b, " xmlns='"...)
		b = append(b, ns...)
		b = append(b, '\'')
	}
	b = appendJIDAttr(b, "to", s.To)
	b = appendJIDAttr(b, "from", s.From)
	b = appendStrAttr(b, "type", s.Type)
	b = appendStrAttr(b, "id", s.ID)
	b = appendStrAttr(b, "xml:lang", s.Lang)
	for _, a := range s.Attrs {
		b = append(b, ' ')
		b = append(b, a.Name...)
		b = append(b, "='"...)
		b = append(b, a.Value...)
		b = append(b, '\'')
	}
	if len(s.Inner) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = append(b, s.Inner...)
	b = append(b, "</"...)
	b = append(b, s.Name...)
	return append(b, '>')
}

// String returns the stanza serialized in the jabber:client namespace.
func (s *Stanza) String() string { return string(s.AppendXML(nil, NSClient)) }

func appendJIDAttr(b []byte, name string, j jid.JID) []byte {
	if j.Equal(jid.JID{}) {
		return b
	}
	return appendStrAttr(b, name, j.String())
}

func appendStrAttr(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, "='"...)
	b = appendAttrValue(b, value)
	return append(b, '\'')
}

// IsZero reports whether j is the empty JID.
func IsZero(j jid.JID) bool { return j.Equal(jid.JID{}) }

// Priority returns the presence priority (RFC 6121 §4.7.2.3), 0 when absent
// or invalid.
func (s *Stanza) Priority() int {
	p := s.Child("", "priority")
	if p == nil {
		return 0
	}
	n, err := strconv.Atoi(p.Text())
	if err != nil || n < -128 || n > 127 {
		return 0
	}
	return n
}
