package stream

import (
	"bytes"
	"strings"
)

// tokenKind is the kind of a token of the XML stream.
type tokenKind int

const (
	tokenText tokenKind = iota // character data or a CDATA section
	tokenStart
	tokenEnd
	tokenComment
	tokenProcInst
	tokenDirective
)

// token is one token of the stream. Start tags are described by
// Reader.tag and Reader.attrs.
type token struct {
	kind tokenKind
	// start and end delimit the name of an end tag, or the content of a
	// processing instruction, in Reader.buf.
	start, end int
	// space is set for text that is only whitespace. It is computed only
	// when the token function is asked to.
	space bool
	// xmlDecl is set for a processing instruction with the target "xml".
	xmlDecl bool
}

// span delimits bytes in Reader.buf.
type span struct{ start, end int }

// startTag describes the start tag just read.
type startTag struct {
	start, end int  // the whole tag, from '<' to '>'
	name       span // its qualified name
	empty      bool // written as an empty-element tag, "<name/>"
}

// attr is an attribute of the start tag just read.
type attr struct {
	name  span
	value span // between the quotes, still escaped
}

// token reads the token at buf[pos] and moves pos past it. With
// wantSpace set, it checks whether a text token is only whitespace.
func (r *Reader) token(wantSpace bool) (token, error) {
	b, err := r.at(r.pos)
	if err != nil {
		if r.pos >= len(r.buf) && r.err != nil {
			return token{}, r.boundaryError(r.err)
		}
		return token{}, err
	}
	if b != '<' {
		return r.textToken(wantSpace)
	}
	b, err = r.at(r.pos + 1)
	if err != nil {
		return token{}, err
	}
	switch b {
	case '/':
		return r.endTag(r.pos + 2)
	case '?':
		return r.procInst(r.pos + 2)
	case '!':
		return r.bang(r.pos+2, wantSpace)
	}
	return token{kind: tokenStart}, r.startTag(r.pos)
}

// textToken reads character data at buf[pos].
func (r *Reader) textToken(wantSpace bool) (token, error) {
	end, err := r.charData(r.pos)
	if err != nil {
		return token{}, err
	}
	tok := token{kind: tokenText}
	if wantSpace {
		raw := r.buf[r.pos:end]
		tok.space = len(bytes.TrimSpace(raw)) == 0 ||
			bytes.IndexByte(raw, '&') >= 0 && len(bytes.TrimSpace(decodeText(nil, raw))) == 0
	}
	r.pos = end
	return tok, nil
}

// startTag reads the start tag whose '<' is at buf[i] into r.tag and
// r.attrs.
func (r *Reader) startTag(i int) error {
	r.tag = startTag{start: i}
	r.attrs = r.attrs[:0]
	j, err := r.qname(i+1, "expected element name after <")
	if err != nil {
		return err
	}
	r.tag.name = span{i + 1, j}
	for {
		if j, err = r.space(j); err != nil {
			return err
		}
		b, err := r.at(j)
		if err != nil {
			return err
		}
		switch b {
		case '/':
			if b, err = r.at(j + 1); err != nil {
				return err
			}
			if b != '>' {
				return NotWellFormed.WithText("expected /> in element")
			}
			r.tag.empty = true
			r.tag.end, r.pos = j+2, j+2
			return nil
		case '>':
			r.tag.end, r.pos = j+1, j+1
			return nil
		}
		if j, err = r.attribute(j); err != nil {
			return err
		}
	}
}

// attribute reads the attribute starting at buf[i], appends it to
// r.attrs and returns the index after its closing quote.
func (r *Reader) attribute(i int) (int, error) {
	j, err := r.qname(i, "expected attribute name in element")
	if err != nil {
		return j, err
	}
	name := span{i, j}
	if j, err = r.space(j); err != nil {
		return j, err
	}
	b, err := r.at(j)
	if err != nil {
		return j, err
	}
	if b != '=' {
		return j, NotWellFormed.WithText("attribute name without = in element")
	}
	if j, err = r.space(j + 1); err != nil {
		return j, err
	}
	quote, err := r.at(j)
	if err != nil {
		return j, err
	}
	if quote != '\'' && quote != '"' {
		return j, NotWellFormed.WithText("unquoted or missing attribute value in element")
	}
	end, err := r.attrValue(j+1, quote)
	if err != nil {
		return end, err
	}
	r.attrs = append(r.attrs, attr{name: name, value: span{j + 1, end}})
	return end + 1, nil
}

// endTag reads an end tag whose name starts at buf[i].
func (r *Reader) endTag(i int) (token, error) {
	j, err := r.qname(i, "expected element name after </")
	if err != nil {
		return token{}, err
	}
	k, err := r.space(j)
	if err != nil {
		return token{}, err
	}
	b, err := r.at(k)
	if err != nil {
		return token{}, err
	}
	if b != '>' {
		return token{}, NotWellFormed.WithText("invalid characters between </" + string(r.buf[i:j]) + " and >")
	}
	r.pos = k + 1
	return token{kind: tokenEnd, start: i, end: j}, nil
}

// procInst reads a processing instruction whose target starts at buf[i].
// An XML declaration must declare version 1.0, if any, and UTF-8, if any
// encoding.
func (r *Reader) procInst(i int) (token, error) {
	j, err := r.name(i)
	if err != nil {
		return token{}, err
	}
	if j == i {
		return token{}, NotWellFormed.WithText("expected target name after <?")
	}
	target := string(r.buf[i:j])
	if j, err = r.space(j); err != nil {
		return token{}, err
	}
	start := j
	for k := j; ; k++ {
		b, err := r.at(k)
		if err != nil {
			return token{}, err
		}
		if b == '>' && k > start && r.buf[k-1] == '?' {
			r.pos = k + 1
			tok := token{kind: tokenProcInst, start: start, end: k - 1, xmlDecl: target == "xml"}
			if tok.xmlDecl {
				return tok, checkXMLDecl(string(r.buf[start : k-1]))
			}
			return tok, nil
		}
	}
}

// checkXMLDecl checks the pseudo-attributes of an XML declaration the way
// encoding/xml does.
func checkXMLDecl(content string) error {
	if v := declParam(content, "version"); v != "" && v != "1.0" {
		return NotWellFormed.WithText("unsupported XML version " + v)
	}
	if enc := declParam(content, "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
		return UnsupportedEncoding
	}
	return nil
}

// declParam returns the value of the pseudo-attribute name in an XML
// declaration: the first occurrence of name= followed by a quote, up to
// the next such quote. It is as lenient as encoding/xml, which accepts
// what is not well-formed here, so that both accept the same streams.
func declParam(s, name string) string {
	key := name + "="
	for rest := s; ; {
		k := strings.Index(rest, key)
		if k < 0 || k+len(key) >= len(rest) {
			return ""
		}
		quote := rest[k+len(key)]
		rest = rest[k+len(key)+1:]
		if quote == '\'' || quote == '"' {
			if end := strings.IndexByte(rest, quote); end >= 0 {
				return rest[:end]
			}
			return ""
		}
	}
}

// procInstParam returns the value of a pseudo-attribute of the XML
// declaration in the stream header, read more leniently still: the
// character after name= is taken as the quote, whatever it is.
func procInstParam(inst, name string) string {
	i := strings.Index(inst, name+"=")
	if i < 0 || len(inst) < i+len(name)+2 {
		return ""
	}
	rest := inst[i+len(name)+1:]
	q := rest[0]
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return ""
	}
	return rest[1 : 1+end]
}
