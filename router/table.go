package router

import (
	"sync"

	"mellium.im/xmpp/jid"
)

// table is the set of sessions bound on this node, indexed by bare JID and
// resource.
type table struct {
	mu       sync.RWMutex
	sessions map[string]*account // bare JID → its sessions; guarded by mu
	count    int                 // guarded by mu
}

// account holds the sessions of one bare JID. list is rebuilt on every
// change and never modified afterwards, so all can hand it out without
// copying: routing a message looks the sessions up several times.
type account struct {
	byResource map[string]Session
	list       []Session
}

func newTable() *table {
	return &table{sessions: make(map[string]*account)}
}

// relist rebuilds a.list from a.byResource.
func (a *account) relist() {
	list := make([]Session, 0, len(a.byResource))
	for _, s := range a.byResource {
		list = append(list, s)
	}
	a.list = list
}

// bind adds s, returning the session it replaces under the same full JID,
// if any.
func (t *table) bind(s Session) Session {
	j := s.JID()
	bare := j.Bare().String()
	t.mu.Lock()
	defer t.mu.Unlock()
	a := t.sessions[bare]
	if a == nil {
		a = &account{byResource: make(map[string]Session, 1)}
		t.sessions[bare] = a
	}
	old := a.byResource[j.Resourcepart()]
	a.byResource[j.Resourcepart()] = s
	a.relist()
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
	a := t.sessions[bare]
	if a == nil || a.byResource[j.Resourcepart()] != s {
		return false
	}
	delete(a.byResource, j.Resourcepart())
	if len(a.byResource) == 0 {
		delete(t.sessions, bare)
	} else {
		a.relist()
	}
	t.count--
	return true
}

// get returns the session bound to a full JID.
func (t *table) get(j jid.JID) Session {
	bare, resource := j.Bare().String(), j.Resourcepart()
	t.mu.RLock()
	defer t.mu.RUnlock()
	if a := t.sessions[bare]; a != nil {
		return a.byResource[resource]
	}
	return nil
}

// has reports whether a bare JID has a session.
func (t *table) has(bare jid.JID) bool {
	return len(t.all(bare)) > 0
}

// all returns the sessions of a bare JID. The slice is shared: callers
// must not modify it.
func (t *table) all(bare jid.JID) []Session {
	key := bare.String()
	t.mu.RLock()
	defer t.mu.RUnlock()
	if a := t.sessions[key]; a != nil {
		return a.list
	}
	return nil
}

// each calls f for every session; f must not call back into the table.
func (t *table) each(f func(Session)) {
	t.mu.RLock()
	list := make([]Session, 0, t.count)
	for _, a := range t.sessions {
		list = append(list, a.list...)
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
