package extdisco

import (
	"context"
	"errors"
	"testing"
	"time"

	"mellium.im/xmpp/jid"

	"tern/config"
	"tern/router"
	"tern/stanza"
)

// localHost is a router.Host that serves the domain "localhost". The
// handler calls none of its other methods.
type localHost struct{ router.Host }

func (localHost) IsLocal(domain string) bool { return domain == "localhost" }

var testServices = []config.ExternalService{
	{Type: "stun", Host: "stun.example.net", Port: 3478, Transport: "udp"},
	{Type: "turn", Host: "turn.example.net", Port: 3478, Transport: "udp", Secret: "s3cret", TTL: time.Hour},
	{Type: "turn", Host: "turn.example.net", Port: 3478, Transport: "tcp", Secret: "s3cret", TTL: time.Hour},
	{Type: "turns", Host: "turn.example.net", Port: 5349, Transport: "tcp", Restricted: true},
}

var testNow = time.Date(2030, 1, 2, 3, 4, 5, 600, time.UTC)

func newTestService() *service {
	return &service{host: localHost{}, services: testServices, now: func() time.Time { return testNow }}
}

func request(t *testing.T, from, payload string) (*stanza.Stanza, error) {
	t.Helper()
	iq := &stanza.Stanza{Name: stanza.IQ, Type: "get", ID: "q1", From: jid.MustParse(from), To: jid.MustParse("localhost")}
	el, err := stanza.ParseElement([]byte(payload), "")
	if err != nil {
		t.Fatal(err)
	}
	return newTestService().handle(context.Background(), iq, el)
}

// wantPassword was computed outside Go with:
//
//	printf %s '1893553445:romeo@localhost' |
//	openssl dgst -sha1 -hmac s3cret -binary | base64
const wantPassword = "dehbC4A/L5uqnGqzFOkJCT2eci0="

func TestCredentialsKnownValue(t *testing.T) {
	user, pass := Credentials("s3cret", jid.MustParse("romeo@localhost/orchard"), time.Unix(1893553445, 0))
	if user != "1893553445:romeo@localhost" {
		t.Errorf("username = %q", user)
	}
	if pass != wantPassword {
		t.Errorf("password = %q, want %q", pass, wantPassword)
	}
}

func TestServicesList(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		hosts   []string // type host port transport of each listed service
	}{
		{"all", "<services xmlns='urn:xmpp:extdisco:2'/>", []string{
			"stun stun.example.net 3478 udp", "turn turn.example.net 3478 udp",
			"turn turn.example.net 3478 tcp", "turns turn.example.net 5349 tcp"}},
		{"turn only", "<services xmlns='urn:xmpp:extdisco:2' type='turn'/>", []string{
			"turn turn.example.net 3478 udp", "turn turn.example.net 3478 tcp"}},
		{"unknown type", "<services xmlns='urn:xmpp:extdisco:2' type='ftp'/>", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := request(t, "romeo@localhost/orchard", tc.payload)
			if err != nil {
				t.Fatal(err)
			}
			list := res.Child(NS, "services").ChildrenNamed(NS, "service")
			if len(list) != len(tc.hosts) {
				t.Fatalf("%d services, want %d: %s", len(list), len(tc.hosts), res)
			}
			for i, svc := range list {
				got := svc.AttrValue("type") + " " + svc.AttrValue("host") + " " + svc.AttrValue("port") + " " + svc.AttrValue("transport")
				if got != tc.hosts[i] {
					t.Errorf("service %d = %q, want %q", i, got, tc.hosts[i])
				}
			}
		})
	}
}

func TestServiceAttributes(t *testing.T) {
	res, err := request(t, "romeo@localhost/orchard", "<services xmlns='urn:xmpp:extdisco:2'/>")
	if err != nil {
		t.Fatal(err)
	}
	list := res.Child(NS, "services").ChildrenNamed(NS, "service")
	stun, turn, turns := list[0], list[1], list[3]
	for _, attr := range []string{"restricted", "username", "password", "expires"} {
		if stun.HasAttr(attr) {
			t.Errorf("stun service has %s: %s", attr, stun)
		}
	}
	if turn.AttrValue("restricted") != "1" {
		t.Errorf("turn with a secret is not restricted: %s", turn)
	}
	if got, want := turn.AttrValue("expires"), "2030-01-02T04:04:05Z"; got != want {
		t.Errorf("expires = %q, want %q", got, want)
	}
	user, pass := Credentials("s3cret", jid.MustParse("romeo@localhost"), testNow.Add(time.Hour).Truncate(time.Second))
	if turn.AttrValue("username") != user || turn.AttrValue("password") != pass {
		t.Errorf("credentials %q/%q, want %q/%q", turn.AttrValue("username"), turn.AttrValue("password"), user, pass)
	}
	if turns.AttrValue("restricted") != "1" || turns.HasAttr("username") {
		t.Errorf("restricted service without secret: %s", turns)
	}
}

func TestCredentialsRequest(t *testing.T) {
	cases := []struct {
		name    string
		payload string
		n       int    // services in the result
		cond    string // error condition, "" for success
	}{
		{"host and type", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net' type='turn'/></credentials>", 2, ""},
		{"host case", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='TURN.example.net' type='turn'/></credentials>", 2, ""},
		{"with port", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net' type='turn' port='3478'/></credentials>", 2, ""},
		{"other port", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net' type='turn' port='80'/></credentials>", 0, "item-not-found"},
		{"no secret", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net' type='turns'/></credentials>", 0, "item-not-found"},
		{"stun", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='stun.example.net' type='stun'/></credentials>", 0, "item-not-found"},
		{"unknown host", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='x.example.net' type='turn'/></credentials>", 0, "item-not-found"},
		{"no service", "<credentials xmlns='urn:xmpp:extdisco:2'/>", 0, "bad-request"},
		{"no type", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net'/></credentials>", 0, "bad-request"},
		{"bad port", "<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net' type='turn' port='x'/></credentials>", 0, "bad-request"},
		{"other element", "<service xmlns='urn:xmpp:extdisco:2'/>", 0, "bad-request"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := request(t, "romeo@localhost/orchard", tc.payload)
			if tc.cond != "" {
				var se *stanza.Error
				if !errors.As(err, &se) || se.Condition != tc.cond {
					t.Fatalf("error = %v, want %s", err, tc.cond)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			list := res.Child(NS, "credentials").ChildrenNamed(NS, "service")
			if len(list) != tc.n {
				t.Fatalf("%d services, want %d: %s", len(list), tc.n, res)
			}
			for _, svc := range list {
				if svc.AttrValue("username") == "" || svc.AttrValue("password") == "" {
					t.Errorf("service without credentials: %s", svc)
				}
			}
		})
	}
}

func TestRequesterMustBeLocalAccount(t *testing.T) {
	cases := []struct {
		from string
		ok   bool
	}{
		{"romeo@localhost/orchard", true},
		{"romeo@localhost", true},
		{"localhost", false},
		{"push.localhost", false},
		{"bot@push.localhost", false},
		{"juliet@example.org/balcony", false},
	}
	for _, tc := range cases {
		_, err := request(t, tc.from, "<services xmlns='urn:xmpp:extdisco:2'/>")
		var se *stanza.Error
		switch {
		case tc.ok && err != nil:
			t.Errorf("from %s: %v", tc.from, err)
		case !tc.ok && (!errors.As(err, &se) || se.Condition != "forbidden"):
			t.Errorf("from %s: error = %v, want forbidden", tc.from, err)
		}
	}
}
