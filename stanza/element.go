package stanza

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Element is a parsed XML element: the payload of a stanza once a module
// decodes it. Children holds *Element and Text values in document order.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []Node
}

// Node is a child of an Element: *Element or Text.
type Node interface {
	appendXML(b []byte, parentNS string) []byte
}

// Text is character data inside an element.
type Text string

// NewElement returns an element in namespace ns with attributes given as
// name/value pairs.
func NewElement(ns, local string, attrs ...string) *Element {
	e := &Element{Name: xml.Name{Space: ns, Local: local}}
	for i := 0; i+1 < len(attrs); i += 2 {
		e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
	}
	return e
}

// Add appends children and returns e, so that trees can be built inline.
func (e *Element) Add(children ...Node) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// AddText appends character data and returns e.
func (e *Element) AddText(s string) *Element {
	if s != "" {
		e.Children = append(e.Children, Text(s))
	}
	return e
}

// SetAttr sets or replaces an attribute without a namespace.
func (e *Element) SetAttr(name, value string) *Element {
	for i := range e.Attr {
		if e.Attr[i].Name.Space == "" && e.Attr[i].Name.Local == name {
			e.Attr[i].Value = value
			return e
		}
	}
	e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: name}, Value: value})
	return e
}

// AttrValue returns the value of the attribute without a namespace named
// name, or "" if it is absent.
func (e *Element) AttrValue(name string) string {
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// HasAttr reports whether the attribute without a namespace is present.
func (e *Element) HasAttr(name string) bool {
	for _, a := range e.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return true
		}
	}
	return false
}

// Child returns the first child element with the given namespace and local
// name; an empty ns matches any namespace. It returns nil if none matches.
func (e *Element) Child(ns, local string) *Element {
	if e == nil {
		return nil
	}
	for _, c := range e.Children {
		if el, ok := c.(*Element); ok && el.Name.Local == local && (ns == "" || el.Name.Space == ns) {
			return el
		}
	}
	return nil
}

// ChildrenNamed returns every child element with the given namespace and
// local name.
func (e *Element) ChildrenNamed(ns, local string) []*Element {
	var out []*Element
	for _, c := range e.Children {
		if el, ok := c.(*Element); ok && el.Name.Local == local && (ns == "" || el.Name.Space == ns) {
			out = append(out, el)
		}
	}
	return out
}

// Elements returns the child elements, skipping text.
func (e *Element) Elements() []*Element {
	var out []*Element
	for _, c := range e.Children {
		if el, ok := c.(*Element); ok {
			out = append(out, el)
		}
	}
	return out
}

// Text returns the concatenated character data directly inside e.
func (e *Element) Text() string {
	if e == nil {
		return ""
	}
	var sb strings.Builder
	for _, c := range e.Children {
		if t, ok := c.(Text); ok {
			sb.WriteString(string(t))
		}
	}
	return sb.String()
}

// RemoveChildren removes every child element matching ns and local.
func (e *Element) RemoveChildren(ns, local string) {
	out := e.Children[:0]
	for _, c := range e.Children {
		if el, ok := c.(*Element); ok && el.Name.Local == local && (ns == "" || el.Name.Space == ns) {
			continue
		}
		out = append(out, c)
	}
	e.Children = out
}

// String serializes e with its namespace declared.
func (e *Element) String() string { return string(e.AppendXML(nil, "")) }

// AppendXML appends the serialization of e to b. parentNS is the default
// namespace in scope; an xmlns attribute is written only when e's
// namespace differs from it.
func (e *Element) AppendXML(b []byte, parentNS string) []byte { return e.appendXML(b, parentNS) }

func (e *Element) appendXML(b []byte, parentNS string) []byte {
	b = append(b, '<')
	b = append(b, e.Name.Local...)
	if e.Name.Space != parentNS {
		b = append(b, " xmlns='"...)
		b = appendAttrValue(b, e.Name.Space)
		b = append(b, '\'')
	}
	for i, a := range e.Attr {
		b = appendAttr(b, a, i)
	}
	if len(e.Children) == 0 {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	for _, c := range e.Children {
		b = c.appendXML(b, e.Name.Space)
	}
	b = append(b, "</"...)
	b = append(b, e.Name.Local...)
	return append(b, '>')
}

func (t Text) appendXML(b []byte, _ string) []byte { return appendEscaped(b, string(t)) }

// appendAttr writes one attribute; i numbers the generated prefix of an
// attribute in a foreign namespace so that two never collide.
func appendAttr(b []byte, a xml.Attr, i int) []byte {
	if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
		return b // namespaces are written from Element.Name
	}
	b = append(b, ' ')
	switch a.Name.Space {
	case "":
	case xmlNS:
		b = append(b, "xml:"...)
	default:
		// Attributes in other namespaces are rare in XMPP payloads; they
		// keep their namespace through a generated prefix.
		prefix := "ns" + strconv.Itoa(i)
		b = append(b, "xmlns:"...)
		b = append(b, prefix...)
		b = append(b, "='"...)
		b = appendAttrValue(b, a.Name.Space)
		b = append(b, "' "...)
		b = append(b, prefix...)
		b = append(b, ':')
	}
	b = append(b, a.Name.Local...)
	b = append(b, "='"...)
	b = appendAttrValue(b, a.Value)
	return append(b, '\'')
}

const xmlNS = "http://www.w3.org/XML/1998/namespace"

// appendEscaped appends character data s with the XML special
// characters escaped.
func appendEscaped(b []byte, s string) []byte { return escape(b, s, false) }

// appendAttrValue appends an attribute value. It escapes tabs and line
// feeds too, which a parser would turn into spaces (XML 1.0 §3.3.3).
func appendAttrValue(b []byte, s string) []byte { return escape(b, s, true) }

func escape(b []byte, s string, attr bool) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '\'':
			esc = "&apos;"
		case '"':
			esc = "&quot;"
		case '\r':
			esc = "&#xD;"
		case '\t':
			if !attr {
				continue
			}
			esc = "&#x9;"
		case '\n':
			if !attr {
				continue
			}
			esc = "&#xA;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// ParseElement parses one element from data. defaultNS is the namespace in
// scope for unprefixed names without an xmlns.
func ParseElement(data []byte, defaultNS string) (*Element, error) {
	if e, ok := parseSimple(data, defaultNS); ok {
		return e, nil
	}
	return decodeXML(data, defaultNS)
}

// decodeXML parses with encoding/xml, which takes any payload.
func decodeXML(data []byte, defaultNS string) (*Element, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	if defaultNS != "" {
		d.DefaultSpace = defaultNS
	}
	for {
		tok, err := d.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, errors.New("stanza: no element")
			}
			return nil, fmt.Errorf("stanza: parse: %w", err)
		}
		if start, ok := tok.(xml.StartElement); ok {
			return decodeElement(d, start)
		}
	}
}

// decodeElement reads the children of start up to its end tag.
func decodeElement(d *xml.Decoder, start xml.StartElement) (*Element, error) {
	e := &Element{Name: start.Name, Attr: dropNSDecls(start.Attr)}
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, fmt.Errorf("stanza: parse: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			child, err := decodeElement(d, t)
			if err != nil {
				return nil, err
			}
			e.Children = append(e.Children, child)
		case xml.CharData:
			e.Children = append(e.Children, Text(string(t)))
		case xml.EndElement:
			return e, nil
		}
	}
}

func dropNSDecls(attrs []xml.Attr) []xml.Attr {
	out := attrs[:0]
	for _, a := range attrs {
		if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
