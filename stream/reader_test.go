package stream

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

const header = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"

func newTestReader(input string, maxSize int) *Reader {
	return NewReader(bufio.NewReader(strings.NewReader(input)), Limits{MaxSize: maxSize, MaxDepth: 16})
}

func TestReadHeader(t *testing.T) {
	r := newTestReader(header, 4096)
	h, err := r.ReadHeader()
	if err != nil {
		t.Fatal(err)
	}
	if h.To != "localhost" || h.Version != "1.0" || h.NS != "jabber:client" {
		t.Errorf("header %+v", h)
	}
}

func TestNextKeepsRawContent(t *testing.T) {
	in := header + " \n<message to='a@b' from='c@d/e' type='chat' id='1' xml:lang='en' xmlns:x='urn:x' x:k='v&amp;'><body>hi &amp; bye</body><x:y/></message>  <presence/>"
	r := newTestReader(in, 4096)
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	s, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "message" || s.RawTo != "a@b" || s.RawFrom != "c@d/e" || s.Type != "chat" || s.ID != "1" || s.Lang != "en" {
		t.Errorf("routing attributes: %+v", s)
	}
	if got, want := string(s.Inner), "<body>hi &amp; bye</body><x:y/>"; got != want {
		t.Errorf("inner %q, want %q", got, want)
	}
	if body := s.Child("", "body").Text(); body != "hi & bye" {
		t.Errorf("body %q", body)
	}
	if s.Child("urn:x", "y") == nil {
		t.Errorf("prefixed child lost: %s", s)
	}
	p, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "presence" || p.Inner != nil {
		t.Errorf("presence: %+v", p)
	}
	if _, err := r.Next(); !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		t.Errorf("end of input: %v", err)
	}
}

func TestNextErrors(t *testing.T) {
	cases := []struct {
		name, body, cond string
	}{
		{"comment", "<!-- x -->", "restricted-xml"},
		{"processing instruction", "<?x y?>", "restricted-xml"},
		{"doctype", "<!DOCTYPE x>", "restricted-xml"},
		{"undeclared entity", "<message><body>&foo;</body></message>", "restricted-xml"},
		{"text between stanzas", "hello", "not-well-formed"},
		{"mismatched tags", "<message></presence>", "not-well-formed"},
		{"too large", "<message><body>" + strings.Repeat("a", 5000) + "</body></message>", "policy-violation"},
		{"too deep", strings.Repeat("<a>", 17), "policy-violation"},
		{"invalid utf-8", "<message to='\xff'/>", "not-well-formed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newTestReader(header+tc.body, 4096)
			if _, err := r.ReadHeader(); err != nil {
				t.Fatal(err)
			}
			_, err := r.Next()
			se := AsError(err)
			if se == nil || se.Condition != tc.cond {
				t.Errorf("error %v, want %s", err, tc.cond)
			}
		})
	}
}

func TestHeaderErrors(t *testing.T) {
	cases := []struct {
		name, in, cond string
	}{
		{"doctype first", "<!DOCTYPE s [<!ENTITY a 'b'>]>" + header, "restricted-xml"},
		{"wrong namespace", "<stream:stream xmlns:stream='urn:wrong'>", "invalid-namespace"},
		{"not a stream", "<foo/>", "not-well-formed"},
		{"encoding", "<?xml version='1.0' encoding='ISO-8859-1'?><x/>", "unsupported-encoding"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newTestReader(tc.in, 4096).ReadHeader()
			se := AsError(err)
			if se == nil || se.Condition != tc.cond {
				t.Errorf("error %v, want %s", err, tc.cond)
			}
		})
	}
}

func TestWhitespaceKeepalivesDoNotCount(t *testing.T) {
	in := header + strings.Repeat(" ", 10000) + "<presence/>"
	r := newTestReader(in, 200)
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("keepalives counted against the stanza limit: %v", err)
	}
}

func TestParseStanzaRoundTrip(t *testing.T) {
	in := "<message to='a@b/c' from='d@e' type='chat' id='x'><body>1 &lt; 2</body></message>"
	s, err := ParseStanza([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if s.To.String() != "a@b/c" || s.From.String() != "d@e" {
		t.Errorf("addresses %s %s", s.To, s.From)
	}
	again, err := ParseStanza(s.AppendXML(nil, ""))
	if err != nil {
		t.Fatal(err)
	}
	if again.String() != s.String() {
		t.Errorf("round trip changed: %s != %s", again, s)
	}
}

// benchMessage is a typical chat message with a chat state.
const benchMessage = "<message to='juliet@localhost' type='chat' id='abc123'><body>Wherefore art thou Romeo?</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>"

func BenchmarkReadStanza(b *testing.B) {
	msg := benchMessage
	in := header + strings.Repeat(msg, b.N)
	r := newTestReader(in, 1<<16)
	if _, err := r.ReadHeader(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Next(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHeaderRejectsNonXMLAtOnce: a TLS ClientHello or an HTTP request on
// a port that expects an XML stream gets not-well-formed as soon as its
// first bytes arrive, although the peer keeps the connection open.
func TestHeaderRejectsNonXMLAtOnce(t *testing.T) {
	for _, in := range []string{"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "\n  hello"} {
		pr, pw := io.Pipe()
		go pw.Write([]byte(in))
		done := make(chan error, 1)
		go func() {
			_, err := NewReader(bufio.NewReader(pr), Limits{MaxSize: 4096, MaxDepth: 16}).ReadHeader()
			done <- err
		}()
		select {
		case err := <-done:
			if se := AsError(err); se == nil || se.Condition != "not-well-formed" {
				t.Errorf("%q: error %v, want not-well-formed", in, err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%q: ReadHeader still waits for input after 5 s", in)
		}
		pw.Close()
	}
}

// TestRestartKeepsInput reads a new stream header that arrived with the
// element before the restart, as from a client that sends it right after
// its last SASL response.
func TestRestartKeepsInput(t *testing.T) {
	second := "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'>"
	r := newTestReader(header+"<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>eA==</response>"+second+"<iq type='set' id='b1'/>", 4096)
	if _, err := r.ReadHeader(); err != nil {
		t.Fatal(err)
	}
	if el, err := r.Next(); err != nil || el.Name != "response" {
		t.Fatalf("first element: %v, %v", el, err)
	}
	r.Restart()
	h, err := r.ReadHeader()
	if err != nil {
		t.Fatalf("header after Restart: %v", err)
	}
	if h.To != "localhost" {
		t.Errorf("header to = %q, want localhost", h.To)
	}
	el, err := r.Next()
	if err != nil {
		t.Fatalf("element after the new header: %v", err)
	}
	if el.Name != "iq" || el.ID != "b1" {
		t.Errorf("element after the new header = <%s id=%q>, want <iq id='b1'>", el.Name, el.ID)
	}
}
