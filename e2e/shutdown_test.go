package e2e

import (
	"testing"

	"tern/internal/xmpptest"
)

func TestShutdownSendsSystemShutdown(t *testing.T) {
	s := newPair(t)
	r := s.Login("romeo", "r-secret", "orchard")
	j := s.Login("juliet", "j-secret", "balcony")
	j.Send("<message to='nurse@localhost' type='chat'><body>kept across restarts</body></message>")
	j.Barrier()
	s.Stop()
	for _, c := range []*xmpptest.Client{r, j} {
		if got := readStreamErrorBound(c); got != "system-shutdown" {
			t.Errorf("%s: stream error %q, want system-shutdown", c.JID, got)
		}
	}
	s = s.Restart()
	n := s.Login("nurse", "n-secret", "chamber")
	n.Expect(xmpptest.IsMessage("kept across restarts"))
}
