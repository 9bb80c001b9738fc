// Package stream reads and writes XML streams (RFC 6120 §4, §11): the
// stream header, top-level elements with size and depth limits, restricted
// XML, stream errors, and a batching writer per connection.
package stream

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// errTooLarge and errTooDeep end a read once a limit is crossed, before the
// element is complete.
var errTooLarge = errors.New("stream: element too large")

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
type Reader struct {
	src    *bufio.Reader
	limits Limits
	dec    *xml.Decoder
	buf    []byte // bytes of the current top-level element
	header bool   // the stream header has been read
	top    bool   // between top-level elements, where whitespace is dropped
}

// NewReader returns a reader over src. src should be buffered; the reader
// reads it one byte at a time.
func NewReader(src *bufio.Reader, limits Limits) *Reader {
	r := &Reader{src: src, limits: limits}
	r.Reset(src)
	return r
}

// Reset starts a new stream on src, as after STARTTLS or SASL success
// (RFC 6120 §5.4.3.3, §6.4.6).
func (r *Reader) Reset(src *bufio.Reader) {
	r.src = src
	r.dec = xml.NewDecoder(r)
	r.dec.Strict = true
	r.buf = r.buf[:0]
	r.header = false
}

// SetLimits changes the limits, as after authentication.
func (r *Reader) SetLimits(l Limits) { r.limits = l }

// ReadByte implements io.ByteReader for the decoder, keeping a copy of the
// bytes of the element being read and enforcing the size limit.
func (r *Reader) ReadByte() (byte, error) {
	b, err := r.src.ReadByte()
	if err != nil {
		return 0, err
	}
	if r.top && len(r.buf) == 0 && isSpace(b) {
		return b, nil // keepalive whitespace is not part of any element
	}
	if len(r.buf) >= r.limits.MaxSize {
		return 0, errTooLarge
	}
	if len(r.buf) == cap(r.buf) {
		// Grow by doubling, but never past the limit, so one element
		// costs at most MaxSize bytes here.
		n := min(max(2*cap(r.buf), 512), r.limits.MaxSize)
		r.buf = append(make([]byte, 0, n), r.buf...)
	}
	r.buf = append(r.buf, b)
	return b, nil
}

// Read implements io.Reader for the decoder, which reads through ReadByte.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

// ReadHeader reads up to and including the stream's opening tag. An
// optional XML declaration may precede it; a DTD, comment or processing
// instruction is restricted XML (RFC 6120 §11.1).
func (r *Reader) ReadHeader() (Header, error) {
	r.buf = r.buf[:0]
	for first := true; ; first = false {
		tok, err := r.dec.Token()
		if err != nil {
			return Header{}, r.mapError(err)
		}
		switch t := tok.(type) {
		case xml.ProcInst:
			if t.Target != "xml" || !first {
				return Header{}, RestrictedXML
			}
			if enc := procInstParam(t.Inst, "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return Header{}, UnsupportedEncoding
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return Header{}, NotWellFormed
			}
		case xml.StartElement:
			r.buf = r.buf[:0]
			r.header = true
			return parseHeader(t)
		case xml.Comment, xml.Directive:
			return Header{}, RestrictedXML
		default:
			return Header{}, NotWellFormed
		}
	}
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

func leadingSpace(b []byte) int { return len(b) - len(bytes.TrimLeft(b, " \t\r\n")) }

func procInstParam(inst []byte, name string) string {
	s := string(inst)
	i := strings.Index(s, name+"=")
	if i < 0 || len(s) < i+len(name)+2 {
		return ""
	}
	rest := s[i+len(name)+1:]
	q := rest[0]
	end := strings.IndexByte(rest[1:], q)
	if end < 0 {
		return ""
	}
	return rest[1 : 1+end]
}

func parseHeader(t xml.StartElement) (Header, error) {
	if t.Name.Local != "stream" {
		return Header{}, NotWellFormed.WithText("expected stream element")
	}
	if t.Name.Space != NS {
		return Header{}, InvalidNamespace
	}
	var h Header
	for _, a := range t.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "to":
			h.To = a.Value
		case a.Name.Space == "" && a.Name.Local == "from":
			h.From = a.Value
		case a.Name.Space == "" && a.Name.Local == "id":
			h.ID = a.Value
		case a.Name.Space == "" && a.Name.Local == "version":
			h.Version = a.Value
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			h.NS = a.Value
		case a.Name.Local == "lang" && a.Name.Space == xmlURL:
			h.Lang = a.Value
		case a.Name.Space == "xmlns" && a.Name.Local == "db":
			h.Dialback = a.Value == "jabber:server:dialback"
		}
	}
	return h, nil
}

const xmlURL = "http://www.w3.org/XML/1998/namespace"

// Next reads the next top-level element: a stanza or a stream-level
// element such as <auth/>. It returns ErrClosed when the peer closes the
// stream and a *Error for every protocol violation.
func (r *Reader) Next() (*stanza.Stanza, error) {
	r.buf = r.buf[:0]
	r.top = true
	defer func() { r.top = false }()
	depth := 0
	var start xml.StartElement
	startLen := 0
	selfClosing := false
	for {
		tok, err := r.dec.Token()
		if err != nil {
			return nil, r.mapError(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			r.top = false
			if depth > r.limits.MaxDepth {
				return nil, PolicyViolationTooDeep
			}
			if depth == 1 {
				r.buf = r.buf[leadingSpace(r.buf):]
				start = t
				startLen = len(r.buf)
				selfClosing = bytes.HasSuffix(r.buf, []byte("/>"))
			}
		case xml.EndElement:
			if depth == 0 {
				return nil, ErrClosed
			}
			depth--
			if depth == 0 {
				r.top = true
				return r.build(start, startLen, selfClosing)
			}
		case xml.CharData:
			if depth == 0 {
				if len(bytes.TrimSpace(t)) != 0 {
					return nil, NotWellFormed.WithText("text outside a stanza")
				}
				r.dropWhitespace()
			}
		case xml.Comment, xml.ProcInst, xml.Directive:
			return nil, RestrictedXML
		}
	}
}

// dropWhitespace forgets whitespace kept between top-level elements (such
// as keepalives) so it does not count against the next element's size.
// The decoder may already have consumed the '<' that follows.
func (r *Reader) dropWhitespace() {
	if n := len(r.buf); n > 0 && r.buf[n-1] == '<' {
		r.buf = append(r.buf[:0], '<')
		return
	}
	r.buf = r.buf[:0]
}

// build makes a stanza of the element just read from r.buf.
func (r *Reader) build(start xml.StartElement, startLen int, selfClosing bool) (*stanza.Stanza, error) {
	s := &stanza.Stanza{Space: start.Name.Space, Name: start.Name.Local}
	prefixes := map[string]string{}
	for _, a := range start.Attr {
		if a.Name.Space == "xmlns" {
			prefixes[a.Value] = a.Name.Local
		}
	}
	for _, a := range start.Attr {
		switch {
		case a.Name.Space == "" && a.Name.Local == "to":
			s.RawTo = a.Value
		case a.Name.Space == "" && a.Name.Local == "from":
			s.RawFrom = a.Value
		case a.Name.Space == "" && a.Name.Local == "type":
			s.Type = a.Value
		case a.Name.Space == "" && a.Name.Local == "id":
			s.ID = a.Value
		case a.Name.Space == xmlURL && a.Name.Local == "lang":
			s.Lang = a.Value
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			// The default namespace is s.Space; writers declare it again.
		default:
			name, ok := rawAttrName(a.Name, prefixes)
			if !ok {
				continue
			}
			s.Attrs = append(s.Attrs, stanza.Attr{Name: name, Value: escapeAttr(a.Value)})
		}
	}
	if !selfClosing {
		end := bytes.LastIndexByte(r.buf, '<')
		if end >= startLen {
			s.Inner = bytes.Clone(r.buf[startLen:end])
		}
	}
	return s, nil
}

func rawAttrName(n xml.Name, prefixes map[string]string) (string, bool) {
	switch n.Space {
	case "":
		return n.Local, true
	case "xmlns":
		return "xmlns:" + n.Local, true
	case xmlURL:
		return "xml:" + n.Local, true
	}
	if p, ok := prefixes[n.Space]; ok {
		return p + ":" + n.Local, true
	}
	return "", false
}

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

// mapError turns a decoder error into a stream error, leaving I/O errors
// (EOF, timeouts, closed connections) as they are.
func (r *Reader) mapError(err error) error {
	if errors.Is(err, errTooLarge) {
		return PolicyViolationTooBig
	}
	if strings.Contains(err.Error(), "CharsetReader") {
		return UnsupportedEncoding
	}
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		if strings.Contains(syn.Msg, "entity") {
			return RestrictedXML.WithText("entity references are not allowed")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(syn.Msg, "unexpected EOF") {
			return io.ErrUnexpectedEOF
		}
		return NotWellFormed.WithText(syn.Msg)
	}
	if errors.Is(err, io.EOF) && r.header {
		return io.ErrUnexpectedEOF
	}
	if strings.HasPrefix(err.Error(), "xml:") {
		return NotWellFormed.WithText(strings.TrimPrefix(err.Error(), "xml: "))
	}
	return fmt.Errorf("stream: read: %w", err)
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

func parseJID(s string) (jid.JID, error) {
	if s == "" {
		return jid.JID{}, nil
	}
	return stanza.ParseJID(s)
}
