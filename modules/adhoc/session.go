package adhoc

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// Session limits. A session without a request for sessionTTL ends, as
// XEP-0050 §3.4 leaves the lifetime to the responder.
const (
	sessionTTL = 10 * time.Minute
	// maxSessionsPerRequester bounds the open sessions of one bare JID.
	maxSessionsPerRequester = 10
	// maxSessions bounds the open sessions of the server.
	maxSessions = 10000
)

// Session is one execution of a command. The handler owns Stage and Data,
// which the framework keeps unchanged between stages.
type Session struct {
	// ID is the sessionid sent to the requester.
	ID string
	// Stage is the handler's record of where the command is; it starts
	// at 0.
	Stage int
	// Data keeps values from earlier stages, such as submitted fields.
	Data map[string][]string

	requester jid.JID // full JID the session belongs to
	node      string
	actions   []string // allowed by the last response
	execute   string   // default action of the last response
	expires   time.Time
}

// resolve maps a requested action to the one the handler runs, and checks
// that the last response allowed it (XEP-0050 §3.4).
func (s *Session) resolve(action string) (string, error) {
	if action == ActionExecute {
		action = s.execute
	}
	if !slices.Contains(s.actions, action) {
		return "", errBadAction.WithText("the action " + action + " is not allowed at this stage")
	}
	return action, nil
}

// sessionTable holds the sessions waiting for their next stage. A session
// being run by a handler is out of the table, so one session never runs
// twice at once.
type sessionTable struct {
	now func() time.Time

	mu   sync.Mutex
	byID map[string]*Session // guarded by mu
}

func newSessionTable() *sessionTable {
	return &sessionTable{now: time.Now, byID: make(map[string]*Session)}
}

// create starts a session of node for requester. It returns
// resource-constraint when the requester or the server has too many open
// sessions.
func (t *sessionTable) create(requester jid.JID, node string) (*Session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked()
	if len(t.byID) >= maxSessions {
		return nil, stanza.ResourceConstraint.WithText("too many command sessions are open; try again later")
	}
	bare := requester.Bare()
	n := 0
	for _, s := range t.byID {
		if s.requester.Bare().Equal(bare) {
			n++
		}
	}
	if n >= maxSessionsPerRequester {
		return nil, stanza.ResourceConstraint.WithText("too many open command sessions; complete or cancel one first")
	}
	return &Session{ID: newSessionID(), requester: requester, node: node}, nil
}

// take removes the session sid from the table for a request of requester
// on node. It returns bad-sessionid for a session of another requester or
// command, and session-expired for an unknown one: session ids are
// random, so an unknown id is most likely one that ended.
func (t *sessionTable) take(sid string, requester jid.JID, node string) (*Session, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.byID[sid]
	if s == nil || t.now().After(s.expires) {
		delete(t.byID, sid)
		return nil, errSessionExpired.WithText("the command session has ended")
	}
	if !s.requester.Equal(requester) || s.node != node {
		return nil, errBadSessionID.WithText("the sessionid belongs to another requester or command")
	}
	delete(t.byID, sid)
	return s, nil
}

// put stores a session until its next stage.
func (t *sessionTable) put(s *Session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s.expires = t.now().Add(sessionTTL)
	t.byID[s.ID] = s
}

// sweepLocked removes expired sessions. The caller holds t.mu.
func (t *sessionTable) sweepLocked() {
	now := t.now()
	for id, s := range t.byID {
		if now.After(s.expires) {
			delete(t.byID, id)
		}
	}
}

// newSessionID returns a random, unguessable session id.
func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
