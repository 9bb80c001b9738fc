package router

import (
	"sync"

	"mellium.im/xmpp/jid"
)

// table is the set of sessions bound on this node, indexed by bare JID and
// resource.
type table struct {
	mu       sync.RWMutex
	sessions map[string]map[string]Session // bare JID → resource → session; guarded by mu
	count    int                           // guarded by mu
}

func newTable() *table {
	return &table{sessions: make(map[string]map[string]Session)}
}

// bind adds s, returning the session it replaces under the same full JID,
// if any.
func (t *table) bind(s Session) Session {
	j := s.JID()
	bare := j.Bare().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	byRes := t.sessions[bare]
	if byRes == nil {
		byRes = make(map[string]Session, 1)
		t.sessions[bare] = byRes
	}
	old := byRes[j.Resourcepart()]
	byRes[j.Resourcepart()] = s
	if old == nil {
		t.count++
	}
	return old
}

// unbind removes s unless another session has replaced it already. It
// reports whether s was removed.
func (t *table) unbind(s Session) bool {
	j := s.JID()
	bare := j.Bare().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	byRes := t.sessions[bare]
	if byRes == nil || byRes[j.Resourcepart()] != s {
		return false
	}
	delete(byRes, j.Resourcepart())
	if len(byRes) == 0 {
		delete(t.sessions, bare)
	}
	t.count--
	return true
}

// get returns the session bound to a full JID.
func (t *table) get(j jid.JID) Session {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.sessions[j.Bare().String()][j.Resourcepart()]
}

// has reports whether a bare JID has a session, without copying them.
func (t *table) has(bare jid.JID) bool {
	key := bare.String()
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.sessions[key]) > 0
}

// all returns the sessions of a bare JID.
func (t *table) all(bare jid.JID) []Session {
	t.mu.RLock()
	defer t.mu.RUnlock()
	byRes := t.sessions[bare.String()]
	if len(byRes) == 0 {
		return nil
	}
	out := make([]Session, 0, len(byRes))
	for _, s := range byRes {
		out = append(out, s)
	}
	return out
}

// each calls f for every session; f must not call back into the table.
func (t *table) each(f func(Session)) {
	t.mu.RLock()
	list := make([]Session, 0, t.count)
	for _, byRes := range t.sessions {
		for _, s := range byRes {
			list = append(list, s)
		}
	}
	t.mu.RUnlock()
	for _, s := range list {
		f(s)
	}
}

func (t *table) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}
