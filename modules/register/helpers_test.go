package register_test

import (
	"fmt"
	"testing"

	msasl "mellium.im/sasl"

	"tern/internal/xmpptest"
	"tern/stanza"
)

// preAuth opens a stream, negotiates TLS and stops before authentication.
func preAuth(t *testing.T, s *xmpptest.Server) *xmpptest.Client {
	t.Helper()
	c := xmpptest.Dial(t, s.Addr("c2s"), s.Domain())
	if err := c.Open(); err != nil {
		t.Fatalf("open stream: %v", err)
	}
	c.StartTLS()
	return c
}

// preAuthRequest sends an iq on a stream that has not authenticated and
// returns the next element the server sends.
func preAuthRequest(t *testing.T, c *xmpptest.Client, iq string) *stanza.Stanza {
	t.Helper()
	c.Send(iq)
	resp, err := c.Read()
	if err != nil {
		t.Fatalf("read response to %s: %v", iq, err)
	}
	return resp
}

// registerIQ is a registration request with the given id and credentials.
func registerIQ(id, username, password string) string {
	return fmt.Sprintf(`<iq type='set' id='%s'><query xmlns='jabber:iq:register'><username>%s</username><password>%s</password></query></iq>`,
		id, xmpptest.Escape(username), xmpptest.Escape(password))
}

// authenticate runs SASL on a new connection and returns its failure, or
// nil when the credentials are accepted.
func authenticate(t *testing.T, s *xmpptest.Server, user, password string) error {
	t.Helper()
	c := preAuth(t, s)
	defer c.Close()
	return c.Auth(msasl.ScramSha256, user, password)
}

func outcome(resp *stanza.Stanza) string {
	if resp.Type == "result" {
		return "result"
	}
	return xmpptest.ErrorCondition(resp)
}
