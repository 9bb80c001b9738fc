package stream

import (
	"bytes"
	"strings"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

const xmlURL = "http://www.w3.org/XML/1998/namespace"

// binding is a namespace declaration: prefix "" for the default
// namespace.
type binding struct{ prefix, uri string }

// tagText is a start tag converted to a string once, so that its names
// and attribute values become substrings without further allocations.
type tagText struct {
	s    string
	base int // index of s[0] in Reader.buf
}

func (r *Reader) tagText() tagText {
	return tagText{s: string(r.buf[r.tag.start:r.tag.end]), base: r.tag.start}
}

func (t tagText) str(sp span) string { return t.s[sp.start-t.base : sp.end-t.base] }

// split returns the prefix and local part of a qualified name. As in
// encoding/xml, a name with an empty prefix or local part, such as ":a",
// has no prefix.
func split(name string) (prefix, local string) {
	p, l, ok := strings.Cut(name, ":")
	if !ok || p == "" || l == "" {
		return "", name
	}
	return p, l
}

// value returns the decoded value of an attribute of the tag.
func (t tagText) value(r *Reader, a attr) string {
	raw := r.buf[a.value.start:a.value.end]
	if bytes.IndexByte(raw, '&') < 0 && bytes.IndexByte(raw, '\r') < 0 {
		return t.str(a.value)
	}
	return string(decodeText(nil, raw))
}

// declare appends the namespace declarations of the tag to scope.
func (r *Reader) declare(t tagText, scope []binding) []binding {
	for _, a := range r.attrs {
		prefix, local := split(t.str(a.name))
		switch {
		case prefix == "xmlns":
			scope = append(scope, binding{local, t.value(r, a)})
		case prefix == "" && local == "xmlns":
			scope = append(scope, binding{"", t.value(r, a)})
		}
	}
	return scope
}

// lookup returns the namespace bound to prefix, the innermost binding
// winning.
func lookup(scope []binding, prefix string) (string, bool) {
	for i := len(scope) - 1; i >= 0; i-- {
		if scope[i].prefix == prefix {
			return scope[i].uri, true
		}
	}
	return "", false
}

// elementSpace returns the namespace of an element name as encoding/xml
// resolves it: an unbound prefix stands for itself.
func elementSpace(prefix, local string, scope []binding) string {
	switch {
	case prefix == "xmlns":
		return prefix
	case prefix == "" && local == "xmlns":
		return ""
	case prefix == "xml":
		return xmlURL
	}
	if uri, ok := lookup(scope, prefix); ok {
		return uri
	}
	return prefix
}

// attrSpace returns the namespace of an attribute name: none without a
// prefix, and an unbound prefix stands for itself.
func attrSpace(prefix string, scope []binding) string {
	switch prefix {
	case "", "xmlns":
		return prefix
	case "xml":
		return xmlURL
	}
	if uri, ok := lookup(scope, prefix); ok {
		return uri
	}
	return prefix
}

// newStanza makes a stanza of the top-level start tag just read. Inner
// is set when the element is complete.
func (r *Reader) newStanza() *stanza.Stanza {
	t := r.tagText()
	var scratch [8]binding
	scope := r.declare(t, append(scratch[:0], r.streamScope...))
	prefix, local := split(t.str(r.tag.name))
	s := &stanza.Stanza{Space: elementSpace(prefix, local, scope), Name: local}
	for _, a := range r.attrs {
		raw := t.str(a.name)
		prefix, local := split(raw)
		space := attrSpace(prefix, scope)
		switch {
		case space == "" && local == "to":
			s.RawTo = t.value(r, a)
		case space == "" && local == "from":
			s.RawFrom = t.value(r, a)
		case space == "" && local == "type":
			s.Type = t.value(r, a)
		case space == "" && local == "id":
			s.ID = t.value(r, a)
		case space == xmlURL && local == "lang":
			s.Lang = t.value(r, a)
		case space == "" && local == "xmlns":
			// The default namespace is s.Space; writers declare it again.
		default:
			name, ok := r.attrName(t, raw, space, local)
			if ok {
				s.Attrs = append(s.Attrs, stanza.Attr{Name: name, Value: escapeAttr(t.value(r, a))})
			}
		}
	}
	return s
}

// attrName returns the name under which an attribute other than the
// routing ones is written again: with the prefix that the start tag
// declares for its namespace. An attribute in a namespace that the tag
// does not declare (only the stream header does) is dropped.
func (r *Reader) attrName(t tagText, raw, space, local string) (string, bool) {
	var prefix string
	switch space {
	case "":
		return local, true
	case "xmlns":
		prefix = "xmlns"
	case xmlURL:
		prefix = "xml"
	default:
		found := false
		for _, a := range r.attrs {
			p, l := split(t.str(a.name))
			if p == "xmlns" && t.value(r, a) == space {
				prefix, found = l, true
			}
		}
		if !found {
			return "", false
		}
	}
	if p, _ := split(raw); p == prefix {
		return raw, true
	}
	return prefix + ":" + local, true
}

// build completes s, the top-level element that ends with the end tag at
// buf[endTag].
func (r *Reader) build(s *stanza.Stanza, tag startTag, endTag int) *stanza.Stanza {
	if !tag.empty {
		s.Inner = append([]byte{}, r.buf[tag.end:endTag]...)
	}
	return s
}

// escapeAttr escapes an attribute value for writing between single
// quotes.
func escapeAttr(v string) string {
	if !strings.ContainsAny(v, "<>&'\"\r\n\t") {
		return v
	}
	var b strings.Builder
	for _, c := range []byte(v) {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\'':
			b.WriteString("&apos;")
		case '"':
			b.WriteString("&quot;")
		case '\r':
			b.WriteString("&#xD;")
		case '\n':
			b.WriteString("&#xA;")
		case '\t':
			b.WriteString("&#x9;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func parseJID(s string) (jid.JID, error) {
	if s == "" {
		return jid.JID{}, nil
	}
	return stanza.ParseJID(s)
}
