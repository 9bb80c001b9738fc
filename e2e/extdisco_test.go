package e2e

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"tern/component/componenttest"
	"tern/config"
	"tern/internal/xmpptest"
	"tern/stanza"
)

const (
	nsExtDisco = "urn:xmpp:extdisco:2"
	turnSecret = "turn-s3cret"
	turnTTL    = 2 * time.Hour
)

// startExtDisco starts a server that lists a STUN and a TURN server, the
// latter with a shared secret, and accepts the component push.localhost.
func startExtDisco(t *testing.T) *xmpptest.Server {
	t.Helper()
	s := xmpptest.Start(t, func(c *config.Config) {
		c.ExternalServices = []config.ExternalService{
			{Type: "stun", Host: "stun.example.net"},
			{Type: "turn", Host: "turn.example.net", Secret: turnSecret, TTL: turnTTL},
			{Type: "turns", Host: "turn.example.net", Port: 443, Restricted: true},
		}
		c.Component.Services = append(c.Component.Services,
			config.ComponentService{Domain: pushDomain, Secret: pushSecret})
	})
	s.AddUser("romeo", "r-secret")
	return s
}

func extServices(el *stanza.Stanza, wrapper string) []*stanza.Element {
	return el.Child(nsExtDisco, wrapper).ChildrenNamed(nsExtDisco, "service")
}

// checkTURNCredentials verifies the TURN REST credentials of svc for
// romeo@localhost with its own HMAC computation, and that they expire
// turnTTL after a time between before and after.
func checkTURNCredentials(t *testing.T, svc *stanza.Element, before, after time.Time) {
	t.Helper()
	username, password := svc.AttrValue("username"), svc.AttrValue("password")
	stamp, user, ok := strings.Cut(username, ":")
	if !ok || user != "romeo@localhost" {
		t.Fatalf("username %q, want <expiry>:romeo@localhost", username)
	}

	mac := hmac.New(sha1.New, []byte(turnSecret))
	mac.Write([]byte(username))
	if want := base64.StdEncoding.EncodeToString(mac.Sum(nil)); password != want {
		t.Errorf("password %q, want base64 HMAC-SHA1 %q", password, want)
	}

	unix, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil {
		t.Fatalf("username expiry %q: %v", stamp, err)
	}
	expiry := time.Unix(unix, 0)
	lo, hi := before.Add(turnTTL).Truncate(time.Second), after.Add(turnTTL)
	if expiry.Before(lo) || expiry.After(hi) {
		t.Errorf("credentials expire at %v, want between %v and %v", expiry, lo, hi)
	}

	expires, err := time.Parse(time.RFC3339, svc.AttrValue("expires"))
	if err != nil {
		t.Fatalf("expires attribute: %v", err)
	}
	if !expires.Equal(expiry) {
		t.Errorf("expires attribute %v differs from the username's expiry %v", expires, expiry)
	}
	if svc.AttrValue("restricted") != "1" {
		t.Errorf("TURN service with credentials is not restricted: %s", svc)
	}
}

func TestExtDiscoListsServices(t *testing.T) {
	s := startExtDisco(t)
	romeo := s.Login("romeo", "r-secret", "phone")

	info := romeo.Request("<iq type='get' id='disco' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "disco")
	if !discoFeature(info, nsExtDisco) {
		t.Errorf("server disco#info lacks %s: %s", nsExtDisco, info)
	}

	before := time.Now()
	res := romeo.Request("<iq type='get' id='all' to='localhost'><services xmlns='urn:xmpp:extdisco:2'/></iq>", "all")
	after := time.Now()
	list := extServices(res, "services")
	want := []string{"stun stun.example.net 3478 udp", "turn turn.example.net 3478 udp", "turns turn.example.net 443 tcp"}
	if len(list) != len(want) {
		t.Fatalf("%d services, want %d: %s", len(list), len(want), res)
	}
	for i, svc := range list {
		got := strings.Join([]string{svc.AttrValue("type"), svc.AttrValue("host"), svc.AttrValue("port"), svc.AttrValue("transport")}, " ")
		if got != want[i] {
			t.Errorf("service %d = %q, want %q", i, got, want[i])
		}
	}
	if list[0].HasAttr("username") || list[0].HasAttr("restricted") {
		t.Errorf("STUN service carries credentials or a restriction: %s", list[0])
	}
	checkTURNCredentials(t, list[1], before, after)
	if list[2].AttrValue("restricted") != "1" || list[2].HasAttr("password") {
		t.Errorf("restricted service without a secret: %s", list[2])
	}

	res = romeo.Request("<iq type='get' id='stun' to='localhost'><services xmlns='urn:xmpp:extdisco:2' type='stun'/></iq>", "stun")
	if list := extServices(res, "services"); len(list) != 1 || list[0].AttrValue("type") != "stun" {
		t.Errorf("type='stun' returned %s", res)
	}
}

func TestExtDiscoCredentials(t *testing.T) {
	s := startExtDisco(t)
	romeo := s.Login("romeo", "r-secret", "phone")

	before := time.Now()
	res := romeo.Request("<iq type='get' id='cred' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net' type='turn'/></credentials></iq>", "cred")
	after := time.Now()
	list := extServices(res, "credentials")
	if len(list) != 1 {
		t.Fatalf("%d services with credentials, want 1: %s", len(list), res)
	}
	checkTURNCredentials(t, list[0], before, after)

	res = romeo.Request("<iq type='get' id='nocred' to='localhost'><credentials xmlns='urn:xmpp:extdisco:2'><service host='stun.example.net' type='stun'/></credentials></iq>", "nocred")
	if res.Type != "error" || stanza.ErrorOf(res).Condition != "item-not-found" {
		t.Errorf("credentials for STUN: %s, want item-not-found", res)
	}
}

func TestExtDiscoRejectsOtherDomains(t *testing.T) {
	s := startExtDisco(t)
	comp := componenttest.Connect(t, s.Addr("component"), pushDomain, pushSecret)
	requests := []string{
		"<services xmlns='urn:xmpp:extdisco:2'/>",
		"<credentials xmlns='urn:xmpp:extdisco:2'><service host='turn.example.net' type='turn'/></credentials>",
	}
	for i, payload := range requests {
		for _, from := range []string{"bot@" + pushDomain, pushDomain} {
			id := "x" + strconv.Itoa(i) + from
			comp.Sendf("<iq type='get' id='%s' from='%s' to='localhost'>%s</iq>", id, from, payload)
			res := comp.Expect(func(el *stanza.Stanza) bool { return el.Name == stanza.IQ && el.ID == id })
			if res.Type != "error" || stanza.ErrorOf(res).Condition != "forbidden" {
				t.Errorf("request %d from %s: %s, want forbidden", i, from, res)
			}
			if strings.Contains(res.String(), "password") {
				t.Errorf("request %d from %s: the error carries credentials: %s", i, from, res)
			}
		}
	}
}

func TestExtDiscoOffWithoutServices(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "r-secret")
	romeo := s.Login("romeo", "r-secret", "phone")
	info := romeo.Request("<iq type='get' id='disco' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>", "disco")
	if discoFeature(info, nsExtDisco) {
		t.Errorf("disco#info lists %s with no services configured", nsExtDisco)
	}
	res := romeo.Request("<iq type='get' id='all' to='localhost'><services xmlns='urn:xmpp:extdisco:2'/></iq>", "all")
	if res.Type != "error" || stanza.ErrorOf(res).Condition != "service-unavailable" {
		t.Errorf("services request with none configured: %s, want service-unavailable", res)
	}
}
