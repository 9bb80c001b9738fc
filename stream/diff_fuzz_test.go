package stream

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"tern/stanza"
)

// FuzzReaderDifferential reads the same input, stream header included,
// with Reader and with xmlReader (built on encoding/xml's strict decoder)
// and requires the same headers, the same stanzas and the same verdicts:
// the same stream error condition, or the same end of input. maxSize and
// maxDepth vary the limits; chunk varies how the input arrives.
func FuzzReaderDifferential(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s), uint16(4096), uint8(16), uint8(0))
	}
	f.Add([]byte(header+"<message><body>"+string(bytes.Repeat([]byte("a"), 100))+"</body></message>"), uint16(200), uint8(4), uint8(1))
	f.Add([]byte(header+"<a><b><c><d/></c></b></a>"), uint16(4096), uint8(3), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, maxSize uint16, maxDepth uint8, chunk uint8) {
		limits := Limits{MaxSize: int(maxSize%8192) + 1, MaxDepth: int(maxDepth%64) + 1}
		compareReaders(t, in, limits, chunk)
	})
}

// fataler is the part of testing.TB that compareReaders uses.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// compareReaders fails t when the two readers disagree on in. Inputs
// that Reader rejects on purpose while encoding/xml accepts them (see
// stricter) are read to the end without comparing.
func compareReaders(t fataler, in []byte, limits Limits, chunk uint8) {
	t.Helper()
	if stricter(in) {
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(in), 16), limits)
		if _, err := r.ReadHeader(); err != nil {
			return
		}
		for i := 0; i < 64; i++ {
			if _, err := r.Next(); err != nil {
				return
			}
		}
		return
	}
	var src io.Reader = bytes.NewReader(in)
	switch chunk % 3 {
	case 1:
		src = iotest.OneByteReader(src)
	case 2:
		src = iotest.HalfReader(src)
	}
	got := NewReader(bufio.NewReaderSize(src, 16), limits)
	want := newXMLReader(bufio.NewReader(bytes.NewReader(in)), limits)

	gh, gerr := got.ReadHeader()
	wh, werr := want.ReadHeader()
	if !sameVerdict(gerr, werr) {
		t.Fatalf("ReadHeader(%q): error %v, encoding/xml %v", in, gerr, werr)
	}
	if werr != nil {
		return
	}
	if gh != wh {
		t.Fatalf("ReadHeader(%q): header %+v, encoding/xml %+v", in, gh, wh)
	}
	for i := 0; i < 64; i++ {
		gs, gerr := got.Next()
		ws, werr := want.Next()
		if !sameVerdict(gerr, werr) {
			t.Fatalf("Next #%d of %q: error %v, encoding/xml %v", i, in, gerr, werr)
		}
		if werr != nil {
			return
		}
		if !sameStanza(gs, ws) {
			t.Fatalf("Next #%d of %q:\n got %#v\nwant %#v", i, in, gs, ws)
		}
	}
}

// charRef matches a character reference.
var charRef = regexp.MustCompile(`&#(x[0-9a-fA-F]+|[0-9]+);`)

// stricter reports whether in has something that Reader rejects and
// encoding/xml does not, or treats otherwise: a character reference to a
// surrogate or past U+10FFFF, whitespace before the XML declaration, an
// undeclared or misused namespace prefix, or a duplicate attribute. It
// also reports a prolog with a byte after whitespace, or after the XML
// declaration and whitespace, that cannot start markup or a character
// reference: Reader rejects that byte at once, where encoding/xml reads
// on to the next '<' or the end of input.
func stricter(in []byte) bool {
	if prologText(in) {
		return true
	}
	for _, m := range charRef.FindAllSubmatch(in, -1) {
		digits, base := string(m[1]), 10
		if digits[0] == 'x' {
			digits, base = digits[1:], 16
		}
		n, err := strconv.ParseUint(digits, base, 64)
		if err != nil || n > utf8.MaxRune || n >= 0xD800 && n <= 0xDFFF {
			return true
		}
	}
	if t := bytes.TrimLeft(in, " \t\r\n"); len(t) < len(in) && bytes.HasPrefix(t, []byte("<?xml")) {
		return true
	}
	return namespaceViolation(in)
}

// prologText reports whether the first byte after leading whitespace, or
// after an XML declaration that follows it and more whitespace, is one
// that cannot start markup or a character reference.
func prologText(in []byte) bool {
	t := bytes.TrimLeft(in, " \t\r\n")
	if bytes.HasPrefix(t, []byte("<?")) {
		end := bytes.Index(t, []byte("?>"))
		if end < 0 {
			return false
		}
		t = bytes.TrimLeft(t[end+2:], " \t\r\n")
	}
	return len(t) > 0 && t[0] != '<' && t[0] != '&'
}

// namespaceViolation walks in with encoding/xml's raw tokens, which do not
// check prefixes, and reports whether an element or attribute uses an
// undeclared prefix or the xmlns prefix wrongly, a declaration undeclares
// a prefix, or a start tag repeats an attribute.
func namespaceViolation(in []byte) bool {
	d := xml.NewDecoder(bytes.NewReader(in))
	d.Strict = true
	var scopes [][]string // prefixes declared by each open element
	declared := func(p string) bool {
		if p == "" || p == "xml" {
			return true
		}
		for _, s := range scopes {
			if slices.Contains(s, p) {
				return true
			}
		}
		return false
	}
	for {
		tok, err := d.RawToken()
		if err != nil {
			return false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var decls []string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					if a.Name.Local == "xmlns" || a.Value == "" {
						return true
					}
					decls = append(decls, a.Name.Local)
				}
			}
			scopes = append(scopes, decls)
			if t.Name.Space == "xmlns" || !declared(t.Name.Space) {
				return true
			}
			seen := map[xml.Name]bool{}
			for _, a := range t.Attr {
				if a.Name.Space != "xmlns" && !declared(a.Name.Space) || seen[a.Name] {
					return true
				}
				seen[a.Name] = true
			}
			if expandedDuplicate(t.Attr, scopes) {
				return true
			}
		case xml.EndElement:
			if len(scopes) > 0 {
				scopes = scopes[:len(scopes)-1]
			}
		}
	}
}

// expandedDuplicate reports whether two prefixed attributes have the same
// local name and prefixes declared in the same start tag for the same
// namespace, the case of a duplicate that differs in its bytes.
func expandedDuplicate(attrs []xml.Attr, scopes [][]string) bool {
	uri := map[string]string{}
	for _, a := range attrs {
		if a.Name.Space == "xmlns" {
			uri[a.Name.Local] = a.Value
		}
	}
	for i, a := range attrs {
		for _, b := range attrs[:i] {
			if a.Name.Local == b.Name.Local && a.Name.Space != b.Name.Space &&
				a.Name.Space != "" && b.Name.Space != "" && a.Name.Space != "xmlns" && b.Name.Space != "xmlns" {
				ua, okA := uri[a.Name.Space]
				ub, okB := uri[b.Name.Space]
				if !okA || !okB || ua == ub {
					return true // possibly the same namespace: do not compare
				}
			}
		}
	}
	return false
}

// sameVerdict reports whether two read errors mean the same to the
// caller: the same stream error condition, or the same kind of end.
func sameVerdict(got, want error) bool {
	if got == nil || want == nil {
		return got == nil && want == nil
	}
	if g, w := AsError(got), AsError(want); g != nil || w != nil {
		return g != nil && w != nil && g.Condition == w.Condition
	}
	for _, target := range []error{ErrClosed, io.ErrUnexpectedEOF, io.EOF} {
		if errors.Is(want, target) {
			return errors.Is(got, target)
		}
	}
	return got.Error() == want.Error()
}

// sameStanza compares what a reader returns of a stanza.
func sameStanza(got, want *stanza.Stanza) bool {
	return got.Space == want.Space && got.Name == want.Name &&
		got.RawTo == want.RawTo && got.RawFrom == want.RawFrom &&
		got.Type == want.Type && got.ID == want.ID && got.Lang == want.Lang &&
		reflect.DeepEqual(got.Attrs, want.Attrs) &&
		(got.Inner == nil) == (want.Inner == nil) && bytes.Equal(got.Inner, want.Inner)
}

// differentialSeeds are inputs with a header, covering each rule of the
// reader at least once.
var differentialSeeds = []string{
	header + "<message to='a@b' from='c@d/e' type='chat' id='1' xml:lang='en'><body>hi</body></message>",
	header + " \n\t<presence/>  <iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>",
	header + "<message xmlns:x='urn:x' x:k='v&amp;&#x41;&#65;' k=\"it's\"><x:y/></message>",
	header + "<message><body>&lt;&gt;&amp;&apos;&quot;&#x1F600;&#xD800;</body></message>",
	header + "<message><body>&foo;</body></message>",
	header + "<message><body>&#0;</body></message>",
	header + "<message><body>&#x110000;</body></message>",
	header + "<message><body>a & b</body></message>",
	header + "<message><body>]]></body></message>",
	header + "<message><body><![CDATA[x]]>y]]></body></message>",
	header + "<![CDATA[ ]]><presence/>",
	header + "&#32;<presence/>",
	header + "hello",
	header + "<!-- c --><presence/>",
	header + "<message><!-- c --></message>",
	header + "<?x y?>",
	header + "<?xml version='2.0'?>",
	header + "<?xml encoding='latin1'?>",
	header + "<!DOCTYPE x [<!ENTITY a 'b'> <!-- '> --> ]>",
	header + "<message></presence>",
	header + "<a:message xmlns:a='jabber:client'></b:message>",
	header + "<message to='\xff'/>",
	header + "<message><body>\xff</body></message>",
	header + "<message><body>\x01</body></message>",
	header + "<message to='a\r\nb\rc'/>",
	header + "<message a:b:c='1'/>",
	header + "<message 1a='1'/>",
	header + "<m\u00e9ssage \u00e9t\u00e9='1'/>",
	header + "<message x='1'y='2'/>",
	header + "<message x=1/>",
	header + "<message x='<'/>",
	header + "<message x='1' / >",
	header + "<message xmlns='urn:other' xmlns:p='urn:p' p:to='x' to='y'/>",
	header + "<message xmlns:p='' p:to='x'/>",
	header + "<message xmlns:q='http://www.w3.org/XML/1998/namespace' q:lang='fr'/>",
	header + "<message stream:x='1' unbound:y='2'/>",
	header + "<xmlns:a/><xmlns/><xml:a/>",
	header + "<:a/><a:/>",
	header + "</stream:stream>",
	header + "</stream>",
	header + "<message>",
	header + "<message><body>abc",
	header + "<message to='abc",
	header + "<message><body>\xff",
	header + "<message></message>",
	"<?xml version='1.0' encoding='UTF-8'?>\n" + header[len("<?xml version='1.0'?>"):] + "<presence/>",
	"<?xml version='1.0'?><stream:stream xmlns:stream='urn:wrong'>",
	"<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'/>",
	" <?xml version='1.0'?>" + header[len("<?xml version='1.0'?>"):],
	"<foo/>",
	"<!DOCTYPE s>" + header,
	"<?xml version='1.0' encoding=+latin1+?><stream/>",
	"",
	"  ",
}
