package stream

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"tern/stanza"
)

// errTooLargeXML ends a read of xmlReader once the size limit is crossed.
var errTooLargeXML = errors.New("stream: element too large")

// xmlReader is the stream reader built on encoding/xml that Reader
// replaced. The differential fuzz test compares their verdicts.
type xmlReader struct {
	src    *bufio.Reader
	limits Limits
	dec    *xml.Decoder
	buf    []byte // bytes of the current top-level element
	header bool   // the stream header has been read
	top    bool   // between top-level elements, where whitespace is dropped
}

// newXMLReader returns a reader over src.
func newXMLReader(src *bufio.Reader, limits Limits) *xmlReader {
	r := &xmlReader{src: src, limits: limits}
	r.Reset(src)
	return r
}

// Reset starts a new stream on src, as after STARTTLS or SASL success
// (RFC 6120 §5.4.3.3, §6.4.6).
func (r *xmlReader) Reset(src *bufio.Reader) {
	r.src = src
	r.dec = xml.NewDecoder(r)
	r.dec.Strict = true
	r.buf = r.buf[:0]
	r.header = false
}

// SetLimits changes the limits, as after authentication.
func (r *xmlReader) SetLimits(l Limits) { r.limits = l }

// ReadByte implements io.ByteReader for the decoder, keeping a copy of the
// bytes of the element being read and enforcing the size limit.
func (r *xmlReader) ReadByte() (byte, error) {
	b, err := r.src.ReadByte()
	if err != nil {
		return 0, err
	}
	if r.top && len(r.buf) == 0 && (b == ' ' || b == '\t' || b == '\r' || b == '\n') {
		return b, nil // keepalive whitespace is not part of any element
	}
	if len(r.buf) >= r.limits.MaxSize {
		return 0, errTooLargeXML
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
func (r *xmlReader) Read(p []byte) (int, error) {
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
func (r *xmlReader) ReadHeader() (Header, error) {
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
			if enc := procInstParam(string(t.Inst), "encoding"); enc != "" && !strings.EqualFold(enc, "utf-8") {
				return Header{}, UnsupportedEncoding
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) != 0 {
				return Header{}, NotWellFormed
			}
		case xml.StartElement:
			r.buf = r.buf[:0]
			r.header = true
			return xmlParseHeader(t)
		case xml.Comment, xml.Directive:
			return Header{}, RestrictedXML
		default:
			return Header{}, NotWellFormed
		}
	}
}

func xmlParseHeader(t xml.StartElement) (Header, error) {
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

// Next reads the next top-level element: a stanza or a stream-level
// element such as <auth/>. It returns ErrClosed when the peer closes the
// stream and a *Error for every protocol violation.
func (r *xmlReader) Next() (*stanza.Stanza, error) {
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
				r.buf = bytes.TrimLeft(r.buf, " \t\r\n")
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
func (r *xmlReader) dropWhitespace() {
	if n := len(r.buf); n > 0 && r.buf[n-1] == '<' {
		r.buf = append(r.buf[:0], '<')
		return
	}
	r.buf = r.buf[:0]
}

// build makes a stanza of the element just read from r.buf.
func (r *xmlReader) build(start xml.StartElement, startLen int, selfClosing bool) (*stanza.Stanza, error) {
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
			name, ok := xmlRawAttrName(a.Name, prefixes)
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

func xmlRawAttrName(n xml.Name, prefixes map[string]string) (string, bool) {
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

// mapError turns a decoder error into a stream error, leaving I/O errors
// (EOF, timeouts, closed connections) as they are.
func (r *xmlReader) mapError(err error) error {
	if errors.Is(err, errTooLargeXML) {
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

// BenchmarkReadStanzaXML is BenchmarkReadStanza with xmlReader, for
// comparison.
func BenchmarkReadStanzaXML(b *testing.B) {
	in := header + strings.Repeat(benchMessage, b.N)
	r := newXMLReader(bufio.NewReader(strings.NewReader(in)), Limits{MaxSize: 1 << 16, MaxDepth: 16})
	if _, err := r.ReadHeader(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(benchMessage)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}
