package multicast

import (
	"sync"

	"mellium.im/xmpp/jid"
)

// presenceTracker remembers, per sender full JID, the entities that got
// the sender's available presence through the service, so that they get
// its unavailable presence too (XEP-0033 §4.6).
type presenceTracker struct {
	mu   sync.Mutex
	sent map[string]map[string]jid.JID // sender → recipient → recipient JID; guarded by mu
}

func newPresenceTracker() *presenceTracker {
	return &presenceTracker{sent: make(map[string]map[string]jid.JID)}
}

// record notes presence of type typ multicast by sender: available
// presence adds the recipients, unavailable presence removes them. Other
// types change nothing.
func (t *presenceTracker) record(sender jid.JID, typ string, recipients []recipient) {
	key := sender.String()
	t.mu.Lock()
	defer t.mu.Unlock()
	switch typ {
	case "":
		set := t.sent[key]
		if set == nil {
			set = make(map[string]jid.JID, len(recipients))
			t.sent[key] = set
		}
		for _, r := range recipients {
			set[r.jid.String()] = r.jid
		}
	case "unavailable":
		set := t.sent[key]
		for _, r := range recipients {
			delete(set, r.jid.String())
		}
		if len(set) == 0 {
			delete(t.sent, key)
		}
	}
}

// take removes and returns the recipients of sender's available presence.
func (t *presenceTracker) take(sender jid.JID) []jid.JID {
	key := sender.String()
	t.mu.Lock()
	set := t.sent[key]
	delete(t.sent, key)
	t.mu.Unlock()
	out := make([]jid.JID, 0, len(set))
	for _, j := range set {
		out = append(out, j)
	}
	return out
}
