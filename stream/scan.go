package stream

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sync"
)

// errTooLarge is the internal signal that an element crossed MaxSize.
var errTooLarge = errors.New("stream: element too large")

// blockSize is the size of the read buffers the readers share while they
// are reading an element. A reader that waits for input between elements
// holds none.
const blockSize = 4096

// minRead is the least that fill asks src for.
const minRead = 512

var blocks = sync.Pool{New: func() any { return new([blockSize]byte) }}

// readBlock is what a Reader takes from a pool while it parses: its
// first read buffer and room for the attributes, open elements and
// namespace declarations of the element being read. Elements with more
// of those grow past it on the heap.
type readBlock struct {
	buf      [blockSize]byte
	attrs    [16]attr
	open     [16]openElement
	declared [4]declaration
}

var readBlocks = sync.Pool{New: func() any { return new(readBlock) }}

// acquire takes a block for reading.
func (r *Reader) acquire() {
	r.block = readBlocks.Get().(*readBlock)
	r.buf = r.block.buf[:0]
	r.attrs = r.block.attrs[:0]
	r.open = r.block.open[:0]
	r.declared = r.block.declared[:0]
}

// startElement starts counting the size limit at buf[i].
func (r *Reader) startElement(i int) {
	r.limit = i + r.limits.MaxSize
	if r.limit < i { // overflow with a huge MaxSize
		r.limit = int(^uint(0) >> 1)
	}
}

// compact drops the consumed input before the next element, so that
// indexes start at 0. A reader with nothing left to parse returns its
// buffer to the pool: an idle connection holds no read buffer.
func (r *Reader) compact() {
	switch {
	case r.pos == len(r.buf):
		r.release()
	case r.pos > 0:
		n := copy(r.buf, r.buf[r.pos:])
		r.buf = r.buf[:n]
		r.pos = 0
	}
}

// release drops all buffered input and returns the block to the pool.
func (r *Reader) release() {
	if r.block != nil {
		readBlocks.Put(r.block)
		r.block = nil
	}
	r.buf, r.pos = nil, 0
	r.attrs, r.open, r.declared = nil, nil, nil
}

// at returns buf[i], reading more input when i is past what was read.
// It fails with PolicyViolationTooBig once i crosses the size limit,
// io.ErrUnexpectedEOF at the end of input, and a wrapped error when the
// read fails.
func (r *Reader) at(i int) (byte, error) {
	for i >= len(r.buf) {
		if err := r.fill(); err != nil {
			return 0, mapReadError(err)
		}
	}
	if i >= r.limit {
		return 0, PolicyViolationTooBig
	}
	return r.buf[i], nil
}

// mapReadError maps an error from src met inside a token.
func mapReadError(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("stream: read: %w", err)
}

// fill appends at least one byte of input to buf. Between elements it
// first waits on src without holding a read buffer. It reads at most as
// much again as buf holds (and at least minRead), so that the input left
// over after an element, which compact copies, is never much longer than
// the element.
func (r *Reader) fill() error {
	if r.err != nil {
		return r.err
	}
	if len(r.buf) == 0 {
		if _, err := r.src.Peek(1); err != nil {
			r.err = err
			return err
		}
	}
	if r.buf == nil {
		r.acquire()
	}
	end := len(r.buf) + max(minRead, len(r.buf))
	if end > r.limit+1 {
		// Past the limit, one byte tells the end of input from an element
		// that is too large.
		end = max(r.limit+1, len(r.buf)+1)
	}
	if end > cap(r.buf) {
		if 2*end > r.limit+1 {
			end = max(end, r.limit+1) // the last growth this element can need
		}
		r.grow(end)
	}
	n, err := r.src.Read(r.buf[len(r.buf):end])
	r.buf = r.buf[:len(r.buf)+n]
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	r.err = err
	return err
}

// grow makes room in buf for n bytes. Indexes into buf stay valid.
func (r *Reader) grow(n int) {
	next := make([]byte, len(r.buf), n)
	copy(next, r.buf)
	r.buf = next
}

// isSpace reports whether b is XML whitespace.
func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\r' || b == '\n' }

// space returns the index of the first non-whitespace byte at or after
// buf[i].
func (r *Reader) space(i int) (int, error) {
	for {
		b, err := r.at(i)
		if err != nil {
			return i, err
		}
		if !isSpace(b) {
			return i, nil
		}
		i++
	}
}

// skipKeepalive drops whitespace between top-level elements, such as
// keepalives, so that it does not count against the next element's size.
func (r *Reader) skipKeepalive() error {
	for {
		for r.pos < len(r.buf) && isSpace(r.buf[r.pos]) {
			r.pos++
		}
		if r.pos < len(r.buf) {
			r.startElement(r.pos)
			return nil
		}
		r.release()
		r.startElement(0)
		if err := r.fill(); err != nil {
			return r.boundaryError(err)
		}
	}
}

// boundaryError maps a read error met between tokens: the end of input
// before any stream header is a plain end of input.
func (r *Reader) boundaryError(err error) error {
	if errors.Is(err, io.EOF) && !r.header {
		return fmt.Errorf("stream: read: %w", err)
	}
	return mapReadError(err)
}

// nameBytes marks the bytes that may appear in an XML name: ASCII letters,
// digits, '_', ':', '.', '-', and every byte of a multi-byte UTF-8
// sequence (checked separately).
var nameBytes = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c >= 0x80 || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' ||
			'0' <= c && c <= '9' || c == '_' || c == ':' || c == '.' || c == '-'
	}
	return t
}()

// name reads the name starting at buf[i] and returns its end. It returns
// i when buf[i] cannot start a name, and fails when the bytes do not form
// a valid XML name.
func (r *Reader) name(i int) (int, error) {
	j := i
	ascii := true
	for {
		for j < len(r.buf) && j < r.limit && nameBytes[r.buf[j]] {
			ascii = ascii && r.buf[j] < 0x80
			j++
		}
		b, err := r.at(j)
		if err != nil {
			return j, err
		}
		if !nameBytes[b] {
			break
		}
	}
	if j == i {
		return i, nil
	}
	if !validName(r.buf[i:j], ascii) {
		return j, NotWellFormed.WithText("invalid XML name: " + string(r.buf[i:j]))
	}
	return j, nil
}

// validName reports whether a run of name bytes is an XML name: its first
// character a letter, '_' or ':'.
func validName(n []byte, ascii bool) bool {
	if !ascii {
		return validUnicodeName(n)
	}
	c := n[0]
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' || c == ':'
}

// validUnicodeName checks a name with non-ASCII characters against the
// character classes of XML 1.0 (Appendix B) by letting encoding/xml parse
// it as the target of a processing instruction. Such names are rare, so
// the cost does not matter.
func validUnicodeName(n []byte) bool {
	doc := make([]byte, 0, len(n)+4)
	doc = append(append(append(doc, "<?"...), n...), "?>"...)
	_, err := xml.NewDecoder(bytes.NewReader(doc)).RawToken()
	return err == nil
}

// nameEnd returns the end of the run of name bytes starting at buf[i],
// without checking that they form a name.
func (r *Reader) nameEnd(i int) (int, error) {
	for {
		for i < len(r.buf) && i < r.limit && nameBytes[r.buf[i]] {
			i++
		}
		b, err := r.at(i)
		if err != nil || !nameBytes[b] {
			return i, err
		}
	}
}

// qname reads a qualified name at buf[i] (a name with at most one colon)
// and returns its end; what is the error message when there is none.
func (r *Reader) qname(i int, what string) (int, error) {
	j, err := r.name(i)
	if err != nil {
		return j, err
	}
	if j == i || colons(r.buf[i:j]) > 1 {
		return j, NotWellFormed.WithText(what)
	}
	return j, nil
}

func colons(b []byte) int {
	n := 0
	for _, c := range b {
		if c == ':' {
			n++
		}
	}
	return n
}
