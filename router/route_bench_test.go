package router

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// benchSession is a Session that counts what it is given.
type benchSession struct {
	jid       jid.JID
	presence  *stanza.Stanza
	delivered int
}

func (s *benchSession) ID() string                   { return s.jid.String() }
func (s *benchSession) JID() jid.JID                 { return s.jid }
func (s *benchSession) Deliver(*stanza.Stanza)       { s.delivered++ }
func (s *benchSession) Presence() *stanza.Stanza     { return s.presence }
func (s *benchSession) SetPresence(p *stanza.Stanza) { s.presence = p }
func (s *benchSession) RosterRequested() bool        { return true }
func (s *benchSession) Close(*stream.Error)          {}
func (s *benchSession) Value(any) any                { return nil }
func (s *benchSession) SetValue(any, any)            {}

// BenchmarkRouteMessage routes a chat message from one bound session to
// the bare JID of another, available one, as the router does for every
// message between two online users (without modules).
func BenchmarkRouteMessage(b *testing.B) {
	r := New(slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"bench.test"}, nil)
	ctx := context.Background()
	from := &benchSession{jid: jid.MustParse("u1@bench.test/r")}
	to := &benchSession{jid: jid.MustParse("u2@bench.test/r")}
	for _, s := range []*benchSession{from, to} {
		s.presence = stanza.New(stanza.Presence, "", jid.JID{}, s.jid)
		r.Bind(ctx, s)
	}
	msg, err := stream.ParseStanza([]byte("<message to='u2@bench.test' type='chat' id='a1'><body>hello</body></message>"))
	if err != nil {
		b.Fatal(err)
	}
	msg.From = from.jid
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.RouteFromSession(ctx, from, msg)
	}
	if to.delivered != b.N {
		b.Fatalf("delivered %d of %d", to.delivered, b.N)
	}
}
