package e2e

import (
	"testing"

	"tern/internal/xmpptest"
)

func TestSmokeChat(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret1")
	s.AddUser("juliet", "secret2")
	r := s.Login("romeo", "secret1", "orchard")
	j := s.Login("juliet", "secret2", "balcony")
	r.Send("<message to='juliet@localhost' type='chat' id='m1'><body>hello</body></message>")
	m := j.Expect(xmpptest.IsMessage("hello"))
	if got := m.From.String(); got != "romeo@localhost/orchard" {
		t.Errorf("from = %q, want romeo@localhost/orchard", got)
	}
}
