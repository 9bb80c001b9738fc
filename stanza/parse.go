package stanza

import (
	"bytes"
	"encoding/xml"
	"unicode/utf8"
)

// maxSimpleDepth is the deepest element parseSimple reads. Deeper
// payloads go to encoding/xml.
const maxSimpleDepth = 32

// parseSimple parses the common shape of an XMPP payload without the
// decoder and namespace maps that encoding/xml allocates. It takes ASCII
// names without prefixes other than xml:, xmlns attributes, and text
// without CDATA, comments or carriage returns. For anything else it
// reports false, and ParseElement uses encoding/xml; FuzzParseSimple
// checks that both give the same element.
func parseSimple(data []byte, defaultNS string) (*Element, bool) {
	if !utf8.Valid(data) || bytes.Contains(data, []byte("\uFFFE")) || bytes.Contains(data, []byte("\uFFFF")) {
		return nil, false
	}
	p := simpleParser{data: data}
	if !p.next('<') {
		return nil, false
	}
	return p.element(defaultNS, 1)
}

type simpleParser struct {
	data []byte
	pos  int
}

// next consumes c if it is the next byte.
func (p *simpleParser) next(c byte) bool {
	if p.pos < len(p.data) && p.data[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *simpleParser) skipSpace() {
	for p.pos < len(p.data) && isXMLSpace(p.data[p.pos]) {
		p.pos++
	}
}

// name reads an ASCII name. The prefix is the part before a colon, if any.
func (p *simpleParser) name() (prefix, local string, ok bool) {
	start := p.pos
	colon := -1
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '_':
		case '0' <= c && c <= '9', c == '.', c == '-':
			if p.pos == start || p.pos == colon+1 {
				return "", "", false
			}
		case c == ':':
			if colon >= 0 || p.pos == start {
				return "", "", false
			}
			colon = p.pos
		default:
			goto end
		}
		p.pos++
	}
end:
	if p.pos == start || p.pos == colon+1 {
		return "", "", false
	}
	if colon < 0 {
		return "", string(p.data[start:p.pos]), true
	}
	return string(p.data[start:colon]), string(p.data[colon+1 : p.pos]), true
}

// element reads an element whose '<' was consumed. ns is the default
// namespace in scope.
func (p *simpleParser) element(ns string, depth int) (*Element, bool) {
	if depth > maxSimpleDepth {
		return nil, false
	}
	prefix, local, ok := p.name()
	if !ok || prefix != "" {
		return nil, false
	}
	e := &Element{}
	for {
		hadSpace := p.pos < len(p.data) && isXMLSpace(p.data[p.pos])
		p.skipSpace()
		if p.next('/') {
			if !p.next('>') {
				return nil, false
			}
			e.Name = xml.Name{Space: ns, Local: local}
			e.Attr = dropNSDecls(e.Attr)
			return e, true
		}
		if p.next('>') {
			break
		}
		if !hadSpace {
			return nil, false
		}
		a, ok := p.attribute()
		if !ok {
			return nil, false
		}
		switch {
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			ns = a.Value
		case a.Name.Space != "" && a.Name.Space != xmlNS:
			return nil, false
		}
		e.Attr = append(e.Attr, a)
	}
	e.Name = xml.Name{Space: ns, Local: local}
	e.Attr = dropNSDecls(e.Attr)
	for {
		text, ok := p.text()
		if !ok {
			return nil, false
		}
		if text != "" {
			e.Children = append(e.Children, Text(text))
		}
		if !p.next('<') {
			return nil, false // the input ended inside the element
		}
		if p.next('/') {
			prefix, end, ok := p.name()
			if !ok || prefix != "" || end != local {
				return nil, false
			}
			p.skipSpace()
			if !p.next('>') {
				return nil, false
			}
			return e, true
		}
		child, ok := p.element(ns, depth+1)
		if !ok {
			return nil, false
		}
		e.Children = append(e.Children, child)
	}
}

// attribute reads name='value' or name="value".
func (p *simpleParser) attribute() (xml.Attr, bool) {
	prefix, local, ok := p.name()
	if !ok {
		return xml.Attr{}, false
	}
	var space string
	switch prefix {
	case "":
	case "xml":
		space = xmlNS
	default:
		return xml.Attr{}, false
	}

	p.skipSpace()
	if !p.next('=') {
		return xml.Attr{}, false
	}
	p.skipSpace()

	if p.pos >= len(p.data) {
		return xml.Attr{}, false
	}
	quote := p.data[p.pos]
	if quote != '\'' && quote != '"' {
		return xml.Attr{}, false
	}
	p.pos++

	end := bytes.IndexByte(p.data[p.pos:], quote)
	if end < 0 {
		return xml.Attr{}, false
	}
	value, ok := decodeSimple(p.data[p.pos : p.pos+end])
	if !ok {
		return xml.Attr{}, false
	}
	p.pos += end + 1
	return xml.Attr{Name: xml.Name{Space: space, Local: local}, Value: value}, true
}

// text reads character data up to the next '<'.
func (p *simpleParser) text() (string, bool) {
	end := bytes.IndexByte(p.data[p.pos:], '<')
	if end < 0 {
		return "", false
	}
	raw := p.data[p.pos : p.pos+end]
	if bytes.Contains(raw, []byte("]]>")) {
		return "", false
	}
	p.pos += end
	return decodeSimple(raw)
}

// decodeSimple replaces the references in raw. It rejects '<', control
// characters, carriage returns (encoding/xml rewrites them) and entities
// other than the five predefined ones.
func decodeSimple(raw []byte) (string, bool) {
	plain := true
	for _, c := range raw {
		switch {
		case c == '<', c == '\r', c < 0x20 && c != '\t' && c != '\n':
			return "", false
		case c == '&':
			plain = false
		}
	}
	if plain {
		return string(raw), true
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] != '&' {
			out = append(out, raw[i])
			continue
		}
		end := bytes.IndexByte(raw[i:], ';')
		if end < 0 {
			return "", false
		}
		r, ok := simpleReference(raw[i+1 : i+end])
		if !ok {
			return "", false
		}
		out = utf8.AppendRune(out, r)
		i += end
	}
	return string(out), true
}

// simpleReference returns the character a reference names, given without
// its '&' and ';'.
func simpleReference(ref []byte) (rune, bool) {
	switch string(ref) {
	case "lt":
		return '<', true
	case "gt":
		return '>', true
	case "amp":
		return '&', true
	case "apos":
		return '\'', true
	case "quot":
		return '"', true
	}
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	digits, base := ref[1:], rune(10)
	if digits[0] == 'x' {
		digits, base = digits[1:], 16
	}
	if len(digits) == 0 || len(digits) > 8 {
		return 0, false
	}
	var r rune
	for _, c := range digits {
		var d rune
		switch {
		case '0' <= c && c <= '9':
			d = rune(c - '0')
		case base == 16 && 'a' <= c && c <= 'f':
			d = rune(c-'a') + 10
		case base == 16 && 'A' <= c && c <= 'F':
			d = rune(c-'A') + 10
		default:
			return 0, false
		}
		r = r*base + d
	}
	return r, inCharacterRange(r)
}

// inCharacterRange reports whether r is a character XML 1.0 allows.
func inCharacterRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
