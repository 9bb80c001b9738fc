package s2s

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"reflect"
	"testing"

	"tern/certs"
	"tern/config"
	"tern/stanza"
)

type fakeRouter struct{ local map[string]bool }

func (r fakeRouter) Route(context.Context, *stanza.Stanza)         {}
func (r fakeRouter) Bounce(context.Context, *stanza.Stanza, error) {}
func (r fakeRouter) IsLocal(domain string) bool                    { return r.local[domain] }
func (r fakeRouter) HasComponent(string) bool                      { return false }

func newTestServer(t *testing.T) *Server {
	t.Helper()
	cm, err := certs.NewManager(t.TempDir(), []string{"a.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Server.Domains = []string{"a.test"}
	return New(cfg, fakeRouter{map[string]bool{"a.test": true}}, cm, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func TestDialbackKey(t *testing.T) {
	s := newTestServer(t)
	key := s.dialbackKey("b.test", "a.test", "id1")
	if len(key) != 64 {
		t.Errorf("key %q has %d characters, want 64 hex digits", key, len(key))
	}
	if again := s.dialbackKey("b.test", "a.test", "id1"); again != key {
		t.Errorf("key changed between calls: %q, then %q", key, again)
	}
	tests := []struct {
		receiving, originating, id, key string
		want                            bool
	}{
		{"b.test", "a.test", "id1", key, true},
		{"b.test", "a.test", "id2", key, false},
		{"a.test", "b.test", "id1", key, false},
		{"c.test", "a.test", "id1", key, false},
		{"b.test", "a.test", "id1", key[:63], false},
		{"b.test", "a.test", "id1", "", false},
	}
	for i, tt := range tests {
		if got := s.checkDialbackKey(tt.receiving, tt.originating, tt.id, tt.key); got != tt.want {
			t.Errorf("%d: check(%s, %s, %s) = %v, want %v", i, tt.receiving, tt.originating, tt.id, got, tt.want)
		}
	}
	if other := newTestServer(t).dialbackKey("b.test", "a.test", "id1"); other == key {
		t.Errorf("two processes issued the same key; the secret is not random")
	}
}

func TestParseDomain(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"example.org", "example.org", true},
		{"Example.ORG", "example.org", true},
		{"", "", false},
		{"user@example.org", "", false},
		{"example.org/res", "", false},
		{"exa mple.org", "", false},
	}
	for _, tt := range tests {
		got, ok := parseDomain(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseDomain(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// srvAnswers maps "service name" to the records or error a fake lookup
// returns.
type srvAnswers map[string]struct {
	records []*net.SRV
	err     error
}

func (a srvAnswers) lookup(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	ans, ok := a[service+" "+name]
	if !ok {
		return "", nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return "", ans.records, ans.err
}

func TestResolve(t *testing.T) {
	temporary := &net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}
	type answer = struct {
		records []*net.SRV
		err     error
	}
	tests := []struct {
		name    string
		domain  string
		answers srvAnswers
		want    []target
		wantErr error
	}{
		{
			name:   "no records",
			domain: "b.test",
			want:   []target{{addr: "b.test:5269"}},
		},
		{
			name:   "xmpp-server only",
			domain: "b.test",
			answers: srvAnswers{"xmpp-server b.test": answer{records: []*net.SRV{
				{Target: "one.b.test.", Port: 5270, Priority: 1},
				{Target: "two.b.test.", Port: 5271, Priority: 2},
			}}},
			want: []target{
				{addr: "one.b.test:5270", priority: 1},
				{addr: "two.b.test:5271", priority: 2},
			},
		},
		{
			name:   "merged by priority, direct TLS first",
			domain: "b.test",
			answers: srvAnswers{
				"xmpp-server b.test": answer{records: []*net.SRV{
					{Target: "tcp5.b.test.", Port: 5269, Priority: 5},
					{Target: "tcp10.b.test.", Port: 5269, Priority: 10},
				}},
				"xmpps-server b.test": answer{records: []*net.SRV{
					{Target: "tls5.b.test.", Port: 5270, Priority: 5},
				}},
			},
			want: []target{
				{addr: "tls5.b.test:5270", directTLS: true, priority: 5},
				{addr: "tcp5.b.test:5269", priority: 5},
				{addr: "tcp10.b.test:5269", priority: 10},
			},
		},
		{
			name:    "service not offered",
			domain:  "b.test",
			answers: srvAnswers{"xmpp-server b.test": answer{records: []*net.SRV{{Target: "."}}}},
			wantErr: errNoService,
		},
		{
			name:    "temporary DNS failure",
			domain:  "b.test",
			answers: srvAnswers{"xmpp-server b.test": answer{err: temporary}},
			wantErr: temporary,
		},
		{
			name:   "internationalized domain",
			domain: "bücher.test",
			want:   []target{{addr: "xn--bcher-kva.test:5269"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t)
			s.lookupSRV = tt.answers.lookup
			got, err := s.resolve(context.Background(), tt.domain)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("resolve: %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestResolveOverride(t *testing.T) {
	s := newTestServer(t)
	s.lookupSRV = func(context.Context, string, string, string) (string, []*net.SRV, error) {
		t.Fatal("DNS looked up for a domain with a fixed address")
		return "", nil, nil
	}
	s.SetAddr("b.test", "127.0.0.1:15269")
	got, err := s.resolve(context.Background(), "b.test")
	if err != nil {
		t.Fatal(err)
	}
	if want := []target{{addr: "127.0.0.1:15269"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("targets = %+v, want %+v", got, want)
	}
}

func TestCheckStanza(t *testing.T) {
	tests := []struct {
		name, typ, id string
		valid         bool
	}{
		{stanza.Message, "", "", true},
		{stanza.Message, "chat", "", true},
		{stanza.Message, "bogus", "", false},
		{stanza.Presence, "probe", "", true},
		{stanza.Presence, "chat", "", false},
		{stanza.IQ, "get", "q1", true},
		{stanza.IQ, "get", "", false},
		{stanza.IQ, "", "q1", false},
	}
	for _, tt := range tests {
		el := &stanza.Stanza{Name: tt.name, Type: tt.typ, ID: tt.id}
		if got := checkStanza(el) == nil; got != tt.valid {
			t.Errorf("%s type %q id %q: valid = %v, want %v", tt.name, tt.typ, tt.id, got, tt.valid)
		}
	}
}
