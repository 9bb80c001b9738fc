package stream

import (
	"bytes"
	"unicode/utf8"

	"tern/stanza"
)

// errEntity rejects an entity reference other than the five predefined
// entities and character references (RFC 6120 §11.1), and malformed
// references.
var errEntity = RestrictedXML.WithText("entity references are not allowed")

// textStop marks the bytes that end a fast scan of character data.
var textStop = [256]bool{'<': true, '&': true, '>': true}

// charData scans character data from buf[i] to the next '<', which it
// does not consume, and returns the index of that '<'. When input ends
// first, or the size limit is reached, it returns the end of what it
// read and no error: that error comes again with the next read, after the
// caller has seen the text, as encoding/xml reports it.
func (r *Reader) charData(i int) (int, error) {
	j := i
	refsValid := true
	for {
		for j < len(r.buf) && j < r.limit && !textStop[r.buf[j]] {
			j++
		}
		b, err := r.at(j)
		if err != nil {
			return j, r.checkText(i, j, refsValid)
		}
		switch b {
		case '<':
			return j, r.checkText(i, j, refsValid)
		case '>':
			if j-i >= 2 && r.buf[j-1] == ']' && r.buf[j-2] == ']' {
				return j, NotWellFormed.WithText("unescaped ]]> not in CDATA section")
			}
			j++
		case '&':
			next, valid, err := r.reference(j)
			if err != nil {
				return next, err
			}
			refsValid = refsValid && valid
			j = next
		default: // the fast scan stopped at the end of the buffer
			j++
		}
	}
}

// attrStop marks the bytes that end a fast scan of an attribute value.
var attrStop = [256]bool{'<': true, '&': true, '\'': true, '"': true}

// attrValue scans an attribute value from buf[i] to the closing quote and
// returns the index of that quote.
func (r *Reader) attrValue(i int, quote byte) (int, error) {
	j := i
	refsValid := true
	for {
		for j < len(r.buf) && j < r.limit && !attrStop[r.buf[j]] {
			j++
		}
		b, err := r.at(j)
		if err != nil {
			if bad := r.checkText(i, j, refsValid); bad != nil {
				return j, bad
			}
			return j, err
		}
		switch b {
		case quote:
			return j, r.checkText(i, j, refsValid)
		case '<':
			return j, NotWellFormed.WithText("unescaped < inside quoted string")
		case '&':
			next, valid, err := r.reference(j)
			if err != nil {
				return next, err
			}
			refsValid = refsValid && valid
			j = next
		default: // the other quote, or the end of the buffer
			j++
		}
	}
}

// cdata scans a CDATA section whose content starts at buf[i] and returns
// the index after its "]]>".
func (r *Reader) cdata(i int) (end int, err error) {
	j := i
	for {
		if k := bytes.IndexByte(r.buf[j:min(len(r.buf), r.limit)], '>'); k >= 0 {
			j += k
		} else {
			j = max(j, min(len(r.buf), r.limit))
		}
		b, err := r.at(j)
		if err != nil {
			return j, err
		}
		if b == '>' && j-i >= 2 && r.buf[j-1] == ']' && r.buf[j-2] == ']' {
			return j + 1, r.checkText(i, j-2, true)
		}
		j++
	}
}

// checkText validates the characters of text in buf[i:j]: valid UTF-8
// and only characters that XML 1.0 allows. refsValid is false when a
// character reference in it named a character outside that range.
func (r *Reader) checkText(i, j int, refsValid bool) error {
	if !refsValid || !validChars(r.buf[i:j]) {
		return NotWellFormed.WithText("invalid character")
	}
	return nil
}

// validChars reports whether b is valid UTF-8 made of characters in the
// Char production of XML 1.0 §2.2.
func validChars(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

// inCharRange reports whether a character reference to n names a
// character that XML 1.0 §2.2 allows: not a surrogate, and at most
// U+10FFFF. (encoding/xml accepts references to surrogates, as U+FFFD.)
func inCharRange(n uint32) bool {
	return n == 0x09 || n == 0x0A || n == 0x0D ||
		n >= 0x20 && n <= 0xD7FF || n >= 0xE000 && n <= 0xFFFD ||
		n >= 0x10000 && n <= utf8.MaxRune
}

// reference reads the entity or character reference starting with '&' at
// buf[i] and returns the index after its ';'. valid is false for a
// character reference to a character XML does not allow, which makes the
// text not well-formed rather than restricted XML.
func (r *Reader) reference(i int) (next int, valid bool, err error) {
	j := i + 1
	b, err := r.at(j)
	if err != nil {
		return j, false, err
	}
	if b == '#' {
		return r.charRef(j + 1)
	}
	k, err := r.nameEnd(j)
	if err != nil {
		return k, false, err
	}
	if b, err = r.at(k); err != nil {
		return k, false, err
	}
	if b != ';' {
		return k, false, errEntity
	}
	switch string(r.buf[j:k]) {
	case "lt", "gt", "amp", "apos", "quot":
		return k + 1, true, nil
	}
	return k, false, errEntity
}

// charRef reads the digits of a character reference starting at buf[i],
// after "&#", and returns the index after its ';'.
func (r *Reader) charRef(i int) (next int, valid bool, err error) {
	b, err := r.at(i)
	if err != nil {
		return i, false, err
	}
	base := uint32(10)
	if b == 'x' {
		base = 16
		i++
	}
	var n uint32
	digits := 0
	for ; ; i++ {
		if b, err = r.at(i); err != nil {
			return i, false, err
		}
		d := digitValue(b, base)
		if d < 0 {
			break
		}
		digits++
		// Beyond MaxRune the value only needs to stay there.
		n = min(n*base+uint32(d), utf8.MaxRune+1)
	}
	if b != ';' || digits == 0 {
		return i, false, errEntity
	}
	return i + 1, inCharRange(n), nil
}

// digitValue returns the value of the digit b in base 10 or 16, or -1.
func digitValue(b byte, base uint32) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case base == 16 && 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case base == 16 && 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

// decodeText appends the text of raw, already checked, to dst with the
// references replaced and line ends normalized to '\n', as encoding/xml
// decodes character data and attribute values.
func decodeText(dst, raw []byte) []byte {
	var prev byte
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '&':
			end := i + bytes.IndexByte(raw[i:], ';')
			dst = appendReference(dst, raw[i+1:end])
			i = end
			prev = 0
			continue
		case c == '\r':
			dst = append(dst, '\n')
		case c == '\n' && prev == '\r':
		default:
			dst = append(dst, c)
		}
		prev = c
	}
	return dst
}

// appendReference appends the character named by a checked reference
// without its '&' and ';'.
func appendReference(dst, ref []byte) []byte {
	switch string(ref) {
	case "lt":
		return append(dst, '<')
	case "gt":
		return append(dst, '>')
	case "amp":
		return append(dst, '&')
	case "apos":
		return append(dst, '\'')
	case "quot":
		return append(dst, '"')
	}
	base, digits := uint32(10), ref[1:]
	if len(digits) > 0 && digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	var n uint32
	for _, b := range digits {
		n = n*base + uint32(digitValue(b, base))
	}
	return utf8.AppendRune(dst, rune(n))
}

// TextOf returns the unescaped character data of an element read by a
// Reader, or false when its content contains markup (elements, CDATA or
// comments). It is a cheap Payload().Text() for text-only content.
func TextOf(s *stanza.Stanza) (string, bool) {
	if bytes.IndexByte(s.Inner, '<') >= 0 {
		return "", false
	}
	if bytes.IndexByte(s.Inner, '&') < 0 && bytes.IndexByte(s.Inner, '\r') < 0 {
		return string(s.Inner), true
	}
	return string(decodeText(nil, s.Inner)), true
}

// AttrOf returns the value of the unprefixed attribute name of an element
// that a Reader read, with references replaced, or "" when it is absent.
func AttrOf(s *stanza.Stanza, name string) string {
	for _, a := range s.Attrs {
		if a.Name == name {
			return string(decodeText(nil, []byte(a.Value)))
		}
	}
	return ""
}
