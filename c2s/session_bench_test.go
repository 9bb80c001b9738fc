package c2s

import (
	"bufio"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/config"
	"tern/router"
	"tern/stanza"
	"tern/stream"
)

// discardConn is a net.Conn that counts and drops what is written to it.
type discardConn struct {
	net.Conn // nil: the methods used are overridden below
	written  atomic.Int64
}

func (d *discardConn) Write(b []byte) (int, error) {
	d.written.Add(int64(len(b)))
	return len(b), nil
}
func (d *discardConn) SetWriteDeadline(time.Time) error { return nil }
func (d *discardConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5222}
}
func (d *discardConn) Close() error { return nil }

type noCertificates struct{}

func (noCertificates) TLSConfig(uint16) *tls.Config        { return &tls.Config{} }
func (noCertificates) Certificate(string) *tls.Certificate { return nil }

// benchSession binds a session for full on srv, writing to a discardConn.
func benchSession(b *testing.B, srv *Server, full string) (*session, *discardConn) {
	b.Helper()
	dc := &discardConn{}
	c := newConn(srv, dc, false)
	c.nc = dc
	c.authed = true
	s := c.newSession(jid.MustParse(full))
	c.sess = s
	s.SetPresence(stanza.New(stanza.Presence, "", jid.JID{}, s.jid))
	srv.router.Bind(b.Context(), s)
	return s, dc
}

// BenchmarkSessionRoute is the server's work for one chat message between
// two online users, without modules: read and parse the stanza from the
// sender's stream, check and stamp its addresses, route it, and queue and
// write it to the recipient's connection.
func BenchmarkSessionRoute(b *testing.B) {
	cfg := config.Default()
	cfg.Server.Domains = []string{"bench.test"}
	cfg.C2S.SendQueue = 1 << 30 // the loop below sends faster than any client
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := New(cfg, router.New(log, cfg.Server.Domains, nil), nil, noCertificates{}, log)
	from, _ := benchSession(b, srv, "u1@bench.test/r1")
	_, dst := benchSession(b, srv, "u2@bench.test/r2")

	msg := "<message to='u2@bench.test' type='chat' id='a1'><body>" + strings.Repeat("x", 64) + "</body></message>"
	in := "<stream:stream xmlns='jabber:client' xmlns:stream='" + stream.NS + "'>" + strings.Repeat(msg, b.N)
	rd := stream.NewReader(bufio.NewReaderSize(strings.NewReader(in), readBufferSize), stream.Limits{MaxSize: 1 << 16, MaxDepth: 16})
	if _, err := rd.ReadHeader(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		el, err := rd.Next()
		if err != nil {
			b.Fatal(err)
		}
		if err := from.handle(el); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	for deadline := time.Now().Add(10 * time.Second); dst.written.Load() < int64(b.N*(len(msg)+len(" from='u1@bench.test/r1'"))); {
		if time.Now().After(deadline) {
			b.Fatalf("written %d bytes for %d messages", dst.written.Load(), b.N)
		}
		runtime.Gosched()
	}
}
