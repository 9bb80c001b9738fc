package stream

import "bytes"

// declaration is a namespace prefix declared by an open element or by the
// start tag being checked.
type declaration struct{ prefix, value span }

// openElement is an element open inside the current top-level element.
type openElement struct {
	name span
	// decls is the number of prefixes its start tag declared, which are
	// on top of Reader.declared until its end tag.
	decls int
}

// Errors of namespace well-formedness (Namespaces in XML 1.0, §3 and §6)
// and of attribute uniqueness (XML 1.0 §3.1).
var (
	errUndeclaredPrefix = NotWellFormed.WithText("undeclared namespace prefix")
	errXMLNSPrefix      = NotWellFormed.WithText("the xmlns prefix cannot be declared or used for an element")
	errEmptyPrefixDecl  = NotWellFormed.WithText("a namespace prefix cannot be undeclared")
	errDuplicateAttr    = NotWellFormed.WithText("duplicate attribute")
)

// prefixSpan returns the prefix of the qualified name in buf at sp, or
// ok false when the name has none. As in encoding/xml, a colon at either
// end does not make a prefix.
func (r *Reader) prefixSpan(sp span) (prefix span, ok bool) {
	i := bytes.IndexByte(r.buf[sp.start:sp.end], ':')
	if i <= 0 || sp.start+i == sp.end-1 {
		return span{}, false
	}
	return span{sp.start, sp.start + i}, true
}

func (r *Reader) is(sp span, s string) bool { return string(r.buf[sp.start:sp.end]) == s }

// checkStartTag checks the names of the start tag just read against the
// prefixes in scope and its attributes for duplicates, then records the
// prefixes it declares. It returns the number recorded; the caller
// removes them with popDeclared when the element ends.
func (r *Reader) checkStartTag() (int, error) {
	first := len(r.declared)
	for _, a := range r.attrs {
		p, ok := r.prefixSpan(a.name)
		if !ok || !r.is(p, "xmlns") {
			continue
		}
		if r.is(span{p.end + 1, a.name.end}, "xmlns") {
			return 0, errXMLNSPrefix
		}
		if a.value.start == a.value.end {
			return 0, errEmptyPrefixDecl
		}
		r.declared = append(r.declared, declaration{prefix: span{p.end + 1, a.name.end}, value: a.value})
	}
	if p, ok := r.prefixSpan(r.tag.name); ok {
		if r.is(p, "xmlns") {
			return 0, errXMLNSPrefix
		}
		if !r.declaredPrefix(p) {
			return 0, errUndeclaredPrefix
		}
	}
	for i, a := range r.attrs {
		if p, ok := r.prefixSpan(a.name); ok && !r.is(p, "xmlns") && !r.declaredPrefix(p) {
			return 0, errUndeclaredPrefix
		}
		for _, b := range r.attrs[:i] {
			if r.sameAttrName(a.name, b.name) {
				return 0, errDuplicateAttr
			}
		}
	}
	return len(r.declared) - first, nil
}

// declaredPrefix reports whether the prefix at p is "xml" or declared by
// the current tag, an open element or the stream header.
func (r *Reader) declaredPrefix(p span) bool {
	name := r.buf[p.start:p.end]
	if string(name) == "xml" {
		return true
	}
	for _, d := range r.declared {
		if bytes.Equal(name, r.buf[d.prefix.start:d.prefix.end]) {
			return true
		}
	}
	for _, b := range r.streamScope {
		if b.prefix == string(name) {
			return true
		}
	}
	return false
}

// sameAttrName reports whether two attribute names are the same: the
// same bytes, or the same local part with prefixes bound to the same
// namespace.
func (r *Reader) sameAttrName(a, b span) bool {
	if bytes.Equal(r.buf[a.start:a.end], r.buf[b.start:b.end]) {
		return true
	}
	pa, okA := r.prefixSpan(a)
	pb, okB := r.prefixSpan(b)
	if !okA || !okB || !bytes.Equal(r.buf[pa.end:a.end], r.buf[pb.end:b.end]) {
		return false
	}
	ua, okA := r.prefixURI(pa)
	ub, okB := r.prefixURI(pb)
	return okA && okB && ua == ub
}

// prefixURI returns the namespace bound to the prefix at p, the
// innermost declaration winning.
func (r *Reader) prefixURI(p span) (string, bool) {
	name := r.buf[p.start:p.end]
	if string(name) == "xml" {
		return xmlURL, true
	}
	for i := len(r.declared) - 1; i >= 0; i-- {
		d := r.declared[i]
		if bytes.Equal(name, r.buf[d.prefix.start:d.prefix.end]) {
			return string(decodeText(nil, r.buf[d.value.start:d.value.end])), true
		}
	}
	return lookup(r.streamScope, string(name))
}

// popDeclared removes the last n declared prefixes.
func (r *Reader) popDeclared(n int) { r.declared = r.declared[:len(r.declared)-n] }
