// Package stream reads and writes XML streams (RFC 6120 §4, §11): the
// stream header, top-level elements with size and depth limits, restricted
// XML, stream errors, and a batching writer per connection.
package stream

import (
	"bufio"
	"bytes"
	"io"
	"strings"

	"tern/stanza"
)

// Limits bound what one peer can make the reader hold.
type Limits struct {
	// MaxSize is the maximum size in bytes of one top-level element,
	// counted from its '<' to the end of its end tag.
	MaxSize int
	// MaxDepth is the maximum nesting of elements inside a top-level
	// element, the top-level element itself being depth 1.
	MaxDepth int
}

// Reader reads one XML stream. It is not safe for concurrent use; each
// connection has one reader goroutine.
//
// Reader is a hand-written tokenizer for the XML that XMPP allows. It
// applies the restrictions of RFC 6120 §11.1: no comments, processing
// instructions, DTDs, or entity references other than the five
// predefined ones and character references. Otherwise it accepts and
// rejects what encoding/xml's strict decoder does, with these
// exceptions: undeclared namespace prefixes, duplicate attributes and
// character references to surrogates or past U+10FFFF are not
// well-formed, and whitespace may precede the XML declaration.
// FuzzReaderDifferential compares the two on every other input. Reader
// keeps each top-level element's bytes as they arrived.
type Reader struct {
	src    *bufio.Reader
	limits Limits

	// buf holds input read from src. buf[pos:] is not consumed yet;
	// bytes after the current element are kept for the next one.
	buf []byte
	pos int
	// limit is the index in buf of the first byte beyond the size limit
	// of the element being read.
	limit int

	err         error     // the error that ended reading from src, returned again on later reads
	header      bool      // a stream header was read since Reset
	streamName  string    // qualified name of the open stream element, "" when none is open
	closeNext   bool      // the stream header was an empty element: Next returns ErrClosed
	streamScope []binding // namespace declarations of the stream header

	block    *readBlock    // taken from readBlocks while parsing, nil when idle
	tag      startTag      // the start tag just read
	attrs    []attr        // attributes of tag
	open     []openElement // elements open inside the top-level element
	declared []declaration // prefixes declared by the open elements
}

// NewReader returns a reader over src. The reader reads src in blocks
// into its own buffer, so src may have a small buffer of its own.
func NewReader(src *bufio.Reader, limits Limits) *Reader {
	r := &Reader{src: src, limits: limits}
	r.Reset(src)
	return r
}

// Reset starts a new stream on src, as after STARTTLS or SASL success
// (RFC 6120 §5.4.3.3, §6.4.6). Input buffered from the previous source is
// dropped.
func (r *Reader) Reset(src *bufio.Reader) {
	r.src = src
	r.release()
	r.err = nil
	r.newStream()
}

// Restart starts a new stream on the same source, as after SASL success
// (RFC 6120 §6.4.6). Unlike Reset it keeps the input read past the last
// element, so a client that sends the new stream header without waiting
// for <success/> is read as it sent it.
func (r *Reader) Restart() {
	r.compact()
	r.newStream()
}

// newStream clears the state of the stream that was read, so that a
// header comes next.
func (r *Reader) newStream() {
	r.startElement(0)
	r.header = false
	r.streamName = ""
	r.closeNext = false
	r.streamScope = r.streamScope[:0]
}

// SetSource continues the stream on src, such as a bufio.Reader with a
// smaller buffer over the same connection. src must start where the
// previous source stopped: the previous one must have nothing buffered.
func (r *Reader) SetSource(src *bufio.Reader) { r.src = src }

// Buffered returns the number of bytes read from the source and not yet
// parsed.
func (r *Reader) Buffered() int { return len(r.buf) - r.pos }

// SetLimits changes the limits, as after authentication.
func (r *Reader) SetLimits(l Limits) { r.limits = l }

// ReadHeader reads up to and including the stream's opening tag. An
// optional XML declaration may precede it; a DTD, comment or processing
// instruction is restricted XML (RFC 6120 §11.1).
func (r *Reader) ReadHeader() (Header, error) {
	r.compact()
	r.startElement(r.pos)
	// The XML declaration may follow whitespace, such as a newline a
	// client sent after the previous stream's last element, but no other
	// markup.
	for first := true; ; {
		if err := r.skipPrologSpace(); err != nil {
			return Header{}, err
		}
		tok, err := r.token(true)
		if err != nil {
			return Header{}, err
		}
		switch tok.kind {
		case tokenText:
			if !tok.space {
				return Header{}, NotWellFormed
			}
			continue
		case tokenProcInst:
			if !tok.xmlDecl || !first {
				return Header{}, RestrictedXML
			}
			if enc := procInstParam(string(r.buf[tok.start:tok.end]), "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return Header{}, UnsupportedEncoding
			}
		case tokenStart:
			r.header = true
			h, err := r.openStream()
			r.compact()
			return h, err
		case tokenEnd:
			return Header{}, NotWellFormed.WithText("unexpected end element")
		default:
			return Header{}, RestrictedXML
		}
		first = false
	}
}

// skipPrologSpace moves past whitespace before the stream header. Any
// other byte than '<' or the '&' of a character reference ends the
// prolog, so input that is not XML at all, such as a TLS ClientHello or
// an HTTP request on a port that expects a stream, is rejected at its
// first byte instead of when a '<' or the end of input arrives.
func (r *Reader) skipPrologSpace() error {
	for {
		b, err := r.at(r.pos)
		if err != nil {
			if r.pos >= len(r.buf) && r.err != nil {
				return r.boundaryError(r.err)
			}
			return err
		}
		switch b {
		case ' ', '\t', '\r', '\n':
			r.pos++
		case '<', '&':
			return nil
		default:
			return NotWellFormed.WithText("expected the stream header")
		}
	}
}

// Next reads the next top-level element: a stanza or a stream-level
// element such as <auth/>. It returns ErrClosed when the peer closes the
// stream and a *Error for every protocol violation.
func (r *Reader) Next() (*stanza.Stanza, error) {
	if r.closeNext {
		r.closeNext = false
		r.streamName = ""
		r.release() // nothing after the stream's end is read
		return nil, ErrClosed
	}
	r.compact()
	r.open, r.declared = r.open[:0], r.declared[:0]
	depth := 0
	var top *stanza.Stanza
	var topTag startTag
	for {
		if depth == 0 {
			if err := r.skipKeepalive(); err != nil {
				return nil, err
			}
		}
		at := r.pos
		tok, err := r.token(depth == 0)
		if err != nil {
			return nil, err
		}
		switch tok.kind {
		case tokenText:
			if depth == 0 && !tok.space {
				return nil, NotWellFormed.WithText("text outside a stanza")
			}
			if depth == 0 && r.pos >= r.limit {
				return nil, PolicyViolationTooBig // whitespace text longer than the limit
			}
			continue
		case tokenStart:
			depth++
			if depth > r.limits.MaxDepth {
				return nil, PolicyViolationTooDeep
			}
			decls, err := r.checkStartTag()
			if err != nil {
				return nil, err
			}
			if depth == 1 {
				top, topTag = r.newStanza(), r.tag
			}
			if !r.tag.empty {
				r.open = append(r.open, openElement{name: r.tag.name, decls: decls})
				continue
			}
			r.popDeclared(decls)
		case tokenEnd:
			if err := r.closeElement(depth, tok); err != nil {
				return nil, err
			}
			if depth == 0 {
				r.streamName = ""
				return nil, ErrClosed
			}
		default:
			return nil, RestrictedXML
		}
		depth--
		if depth == 0 {
			s := r.build(top, topTag, at)
			r.compact() // an idle connection holds no read buffer
			return s, nil
		}
	}
}

// closeElement checks that the end tag tok closes the innermost open
// element, the stream element at depth 0.
func (r *Reader) closeElement(depth int, tok token) error {
	name := r.buf[tok.start:tok.end]
	if depth == 0 {
		if r.streamName == "" || string(name) != r.streamName {
			return NotWellFormed.WithText("unexpected end element </" + string(name) + ">")
		}
		return nil
	}
	open := r.open[len(r.open)-1]
	r.open = r.open[:len(r.open)-1]
	if !bytes.Equal(name, r.buf[open.name.start:open.name.end]) {
		return NotWellFormed.WithText("element <" + string(r.buf[open.name.start:open.name.end]) + "> closed by </" + string(name) + ">")
	}
	r.popDeclared(open.decls)
	return nil
}

// openStream records the stream element just read and returns its header.
func (r *Reader) openStream() (Header, error) {
	t := r.tagText()
	r.streamName = t.str(r.tag.name)
	r.closeNext = r.tag.empty
	r.streamScope = r.declare(t, r.streamScope)
	prefix, local := split(r.streamName)
	if local != "stream" {
		return Header{}, NotWellFormed.WithText("expected stream element")
	}
	if elementSpace(prefix, local, r.streamScope) != NS {
		return Header{}, InvalidNamespace
	}
	var h Header
	for _, a := range r.attrs {
		prefix, local := split(t.str(a.name))
		switch {
		case prefix == "" && local == "to":
			h.To = t.value(r, a)
		case prefix == "" && local == "from":
			h.From = t.value(r, a)
		case prefix == "" && local == "id":
			h.ID = t.value(r, a)
		case prefix == "" && local == "version":
			h.Version = t.value(r, a)
		case prefix == "" && local == "xmlns":
			h.NS = t.value(r, a)
		case local == "lang" && attrSpace(prefix, r.streamScope) == xmlURL:
			h.Lang = t.value(r, a)
		case prefix == "xmlns" && local == "db":
			h.Dialback = t.value(r, a) == "jabber:server:dialback"
		}
	}
	return h, nil
}

// ParseStanza parses one serialized stanza in the jabber:client namespace,
// such as a message kept in offline storage, and fills To and From.
func ParseStanza(b []byte) (*stanza.Stanza, error) {
	src := io.MultiReader(
		strings.NewReader("<stream:stream xmlns='jabber:client' xmlns:stream='"+NS+"'>"),
		bytes.NewReader(b))
	r := NewReader(bufio.NewReader(src), Limits{MaxSize: len(b) + 256, MaxDepth: 256})
	if _, err := r.ReadHeader(); err != nil {
		return nil, err
	}
	s, err := r.Next()
	if err != nil {
		return nil, err
	}
	if s.To, err = parseJID(s.RawTo); err != nil {
		return nil, err
	}
	if s.From, err = parseJID(s.RawFrom); err != nil {
		return nil, err
	}
	return s, nil
}
