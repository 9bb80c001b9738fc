package carbons

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/stream"
)

// fakeSession is a router.Session that records what it receives.
type fakeSession struct {
	jid      jid.JID
	mu       sync.Mutex
	got      []*stanza.Stanza
	presence *stanza.Stanza
	values   sync.Map
}

func (s *fakeSession) ID() string   { return s.jid.String() }
func (s *fakeSession) JID() jid.JID { return s.jid }
func (s *fakeSession) Deliver(st *stanza.Stanza) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.got = append(s.got, st)
}
func (s *fakeSession) Presence() *stanza.Stanza {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.presence
}
func (s *fakeSession) SetPresence(p *stanza.Stanza) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.presence = p
}
func (s *fakeSession) RosterRequested() bool   { return false }
func (s *fakeSession) Close(*stream.Error)     {}
func (s *fakeSession) Value(key any) any       { v, _ := s.values.Load(key); return v }
func (s *fakeSession) SetValue(key, value any) { s.values.Store(key, value) }
func (s *fakeSession) take() []*stanza.Stanza {
	s.mu.Lock()
	defer s.mu.Unlock()
	got := s.got
	s.got = nil
	return got
}

// fixture is a router for domain "localhost" with the carbons module,
// three sessions of romeo: orchard (priority 5), garden (priority 1) and
// bed (priority 1), of which orchard and garden enable carbons, and
// juliet's session balcony.
type fixture struct {
	r                    *router.Router
	orchard, garden, bed *fakeSession
	juliet               *fakeSession
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := router.New(log, []string{"localhost"}, func(context.Context, jid.JID) bool { return true })
	newModule(r)
	f := &fixture{r: r}
	ctx := context.Background()
	bind := func(full string, prio int, carbons bool) *fakeSession {
		s := &fakeSession{jid: jid.MustParse(full)}
		r.Bind(ctx, s)
		s.SetPresence(parse(t, "<presence><priority>"+strconv.Itoa(prio)+"</priority></presence>"))
		if carbons {
			f.send(t, s, "<iq type='set' id='c1'><enable xmlns='urn:xmpp:carbons:2'/></iq>")
			if got := s.take(); len(got) != 1 || got[0].Type != "result" {
				t.Fatalf("enable carbons on %s: %v", s.jid, got)
			}
		}
		return s
	}
	f.orchard = bind("romeo@localhost/orchard", 5, true)
	f.garden = bind("romeo@localhost/garden", 1, true)
	f.bed = bind("romeo@localhost/bed", 1, false)
	f.juliet = bind("juliet@localhost/balcony", 0, false)
	return f
}

// send routes xml as a client session sends it, with 'from' stamped.
func (f *fixture) send(t *testing.T, from *fakeSession, xml string) {
	t.Helper()
	s := parse(t, xml)
	s.From = from.jid
	f.r.RouteFromSession(context.Background(), from, s)
}

// route routes xml, which names its 'from', as a stanza from another
// server or a module.
func (f *fixture) route(t *testing.T, xml string) {
	t.Helper()
	f.r.Route(context.Background(), parse(t, xml))
}

// romeo returns romeo's sessions.
func (f *fixture) romeo() []*fakeSession { return []*fakeSession{f.orchard, f.garden, f.bed} }

// kind classifies what a session received: "original", "received" or
// "sent" for a carbon copy, or "" for nothing. It fails the test if the
// session received more than one stanza or a malformed copy.
func kind(t *testing.T, s *fakeSession, user string) string {
	t.Helper()
	got := s.take()
	switch {
	case len(got) == 0:
		return ""
	case len(got) > 1:
		t.Errorf("%s received %d stanzas: %v", s.jid, len(got), got)
		return "many"
	}
	m := got[0]
	for _, w := range []string{"received", "sent"} {
		wrapper := m.Child(NS, w)
		if wrapper == nil {
			continue
		}
		if m.From.String() != user || !m.To.Equal(s.jid) {
			t.Errorf("%s: copy from %q to %q, want from %s to the session", s.jid, m.From, m.To, user)
		}
		if wrapper.Child(NSForward, "forwarded").Child(stanza.NSClient, "message") == nil {
			t.Errorf("%s: copy without forwarded message: %s", s.jid, m)
		}
		return w
	}
	return "original"
}

// expect checks what each session received.
func expect(t *testing.T, name string, want map[*fakeSession]string, sessions ...*fakeSession) {
	t.Helper()
	for _, s := range sessions {
		if got := kind(t, s, "romeo@localhost"); got != want[s] {
			t.Errorf("%s: %s received %q, want %q", name, s.jid.Resourcepart(), got, want[s])
		}
	}
}

func TestForgedCarbonsDropped(t *testing.T) {
	const forged = `<received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<message xmlns='jabber:client' from='nurse@localhost/chamber' to='romeo@localhost/orchard'>` +
		`<body>forged</body></message></forwarded></received>`
	cases := []struct{ name, xml string }{
		{"received from a remote user", `<message from='juliet@capulet.example/balcony' to='romeo@localhost/orchard' type='chat'>` + forged + `</message>`},
		{"sent from a remote user", `<message from='juliet@capulet.example/balcony' to='romeo@localhost' type='chat'><sent xmlns='urn:xmpp:carbons:2'/></message>`},
		{"nested deeper", `<message from='juliet@capulet.example/balcony' to='romeo@localhost/orchard'><x xmlns='urn:example'>` + forged + `</x></message>`},
		{"type normal", `<message from='juliet@capulet.example/balcony' to='romeo@localhost/garden' type='normal'>` + forged + `</message>`},
		{"type headline", `<message from='juliet@capulet.example/balcony' to='romeo@localhost' type='headline'>` + forged + `</message>`},
		{"own full JID", `<message from='romeo@localhost/garden' to='romeo@localhost/orchard' type='chat'>` + forged + `</message>`},
		{"server domain", `<message from='localhost' to='romeo@localhost/orchard' type='chat'>` + forged + `</message>`},
		{"remote domain", `<message from='capulet.example' to='romeo@localhost/orchard' type='chat'>` + forged + `</message>`},
	}
	for _, tc := range cases {
		f := newFixture(t)
		f.route(t, tc.xml)
		expect(t, tc.name, nil, f.romeo()...)
	}
}

func TestCarbonFromOwnBareJIDDelivered(t *testing.T) {
	f := newFixture(t)
	f.route(t, `<message from='romeo@localhost' to='romeo@localhost/orchard' type='chat'>`+
		`<sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client'/></forwarded></sent></message>`)
	// orchard gets the stanza the server made; nobody gets a copy of it.
	expect(t, "server carbon", map[*fakeSession]string{f.orchard: "sent"}, f.romeo()...)
}

func TestClientCannotSendCarbons(t *testing.T) {
	for _, to := range []string{"juliet@localhost/balcony", "romeo@localhost/garden", "romeo@localhost"} {
		f := newFixture(t)
		f.send(t, f.orchard, `<message to='`+to+`' type='chat'><received xmlns='urn:xmpp:carbons:2'>`+
			`<forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='nurse@localhost/chamber'/></forwarded></received></message>`)
		got := f.orchard.take()
		if len(got) != 1 || got[0].Type != "error" || stanza.ErrorOf(got[0]).Condition != "not-acceptable" {
			t.Errorf("to %s: sender received %v, want one not-acceptable error", to, got)
		}
		expect(t, "client carbon to "+to, nil, f.garden, f.bed, f.juliet)
	}
}

func TestReceivedCopies(t *testing.T) {
	cases := []struct {
		name, xml            string
		orchard, garden, bed string
	}{
		{"chat to bare JID", `<message from='juliet@capulet.example/b' to='romeo@localhost' type='chat'><body>x</body></message>`,
			"original", "received", ""},
		{"chat to full JID", `<message from='juliet@capulet.example/b' to='romeo@localhost/garden' type='chat'><body>x</body></message>`,
			"received", "original", ""},
		{"to the resource without carbons", `<message from='juliet@capulet.example/b' to='romeo@localhost/bed'><body>x</body></message>`,
			"received", "received", "original"},
		{"to an absent resource", `<message from='juliet@capulet.example/b' to='romeo@localhost/attic' type='chat'><body>x</body></message>`,
			"original", "received", ""},
		{"private", `<message from='juliet@capulet.example/b' to='romeo@localhost/garden' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/><no-copy xmlns='urn:xmpp:hints'/></message>`,
			"", "original", ""},
		{"no-copy hint", `<message from='juliet@capulet.example/b' to='romeo@localhost/garden' type='chat'><body>x</body><no-copy xmlns='urn:xmpp:hints'/></message>`,
			"", "original", ""},
		{"headline", `<message from='juliet@capulet.example/b' to='romeo@localhost' type='headline'><body>x</body></message>`,
			"original", "original", "original"},
		{"groupchat", `<message from='room@muc.example/nick' to='romeo@localhost/garden' type='groupchat'><body>x</body></message>`,
			"", "original", ""},
		{"MUC private message", `<message from='room@muc.example/nick' to='romeo@localhost/garden' type='chat'><body>x</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`,
			"", "original", ""},
	}
	for _, tc := range cases {
		f := newFixture(t)
		f.route(t, tc.xml)
		want := map[*fakeSession]string{f.orchard: tc.orchard, f.garden: tc.garden, f.bed: tc.bed}
		expect(t, tc.name, want, f.romeo()...)
	}
}

func TestPrivateRemovedBeforeDelivery(t *testing.T) {
	f := newFixture(t)
	f.route(t, `<message from='juliet@capulet.example/b' to='romeo@localhost/garden' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>`)
	got := f.garden.take()
	if len(got) != 1 {
		t.Fatalf("garden received %v, want the message", got)
	}
	if got[0].Child(NS, "private") != nil || got[0].Child("", "body") == nil {
		t.Errorf("delivered %s, want the body without <private/>", got[0])
	}
}

func TestSentCopies(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name                         string
		from                         *fakeSession
		xml                          string
		orchard, garden, bed, juliet string
	}{
		{"chat", f.orchard, `<message to='juliet@localhost/balcony' type='chat'><body>x</body></message>`,
			"", "sent", "", "original"},
		{"from a resource without carbons", f.bed, `<message to='juliet@localhost' type='chat'><body>x</body></message>`,
			"sent", "sent", "", "original"},
		{"private", f.orchard, `<message to='juliet@localhost' type='chat'><body>x</body><private xmlns='urn:xmpp:carbons:2'/></message>`,
			"", "", "", "original"},
		{"chat state", f.garden, `<message to='juliet@localhost'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			"sent", "", "", "original"},
		{"headline", f.orchard, `<message to='juliet@localhost' type='headline'><body>x</body></message>`,
			"", "", "", "original"},
		{"to own bare JID", f.garden, `<message to='romeo@localhost' type='chat'><body>x</body></message>`,
			"original", "", "", ""},
		{"to own other resource", f.orchard, `<message to='romeo@localhost/garden' type='chat'><body>x</body></message>`,
			"", "original", "", ""},
	}
	for _, tc := range cases {
		f.send(t, tc.from, tc.xml)
		want := map[*fakeSession]string{f.orchard: tc.orchard, f.garden: tc.garden, f.bed: tc.bed, f.juliet: tc.juliet}
		expect(t, tc.name, want, f.orchard, f.garden, f.bed, f.juliet)
	}
}
