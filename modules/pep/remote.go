package pep

import (
	"sync"

	"mellium.im/xmpp/jid"
)

// remoteTable tracks the available resources of remote entities that
// send presence to local accounts, with their caps, so that notifications
// reach contacts on other servers.
//
// TODO: an entity whose server never sends unavailable presence, as when
// the server-to-server link breaks, stays in the table until restart.
type remoteTable struct {
	mu       sync.Mutex
	entities map[string]map[string]*remoteEntity // bare JID → resource → entity; guarded by mu
}

type remoteEntity struct {
	full      jid.JID
	ref       capsRef
	features  featureSet // nil until resolved
	resolving bool
	accounts  map[string]jid.JID // local accounts that got its available presence
}

// remoteWork is what a presence from a remote entity calls for: resolve
// its features (when features is nil), then send the last items of each
// account.
type remoteWork struct {
	ref      capsRef
	features featureSet
	accounts []jid.JID
}

func newRemoteTable() *remoteTable {
	return &remoteTable{entities: make(map[string]map[string]*remoteEntity)}
}

// seen records available presence from full to account and returns the
// work it calls for, or nil.
func (t *remoteTable) seen(full, account jid.JID, ref capsRef) *remoteWork {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entity(full, true)
	_, known := e.accounts[account.String()]
	e.accounts[account.String()] = account
	switch {
	case e.ref != ref || (e.features == nil && !e.resolving):
		e.ref, e.features = ref, nil
		if ref.ver == "" {
			e.features, e.resolving = featureSet{}, false
			return nil
		}
		e.resolving = true
		return &remoteWork{ref: ref, accounts: []jid.JID{account}}
	case e.resolving:
		// The query under way sends the items for every account.
		return nil
	case !known:
		return &remoteWork{ref: ref, features: e.features, accounts: []jid.JID{account}}
	}
	return nil
}

// resolved stores the features learned for ref and returns every account
// the entity is available to, or nil when its caps changed meanwhile.
func (t *remoteTable) resolved(full jid.JID, ref capsRef, fs featureSet) []jid.JID {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entity(full, false)
	if e == nil || e.ref != ref {
		return nil
	}
	e.features, e.resolving = fs, false
	out := make([]jid.JID, 0, len(e.accounts))
	for _, a := range e.accounts {
		out = append(out, a)
	}
	return out
}

// failed records that resolving ref failed, so that the next presence
// tries again.
func (t *remoteTable) failed(full jid.JID, ref capsRef) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e := t.entity(full, false); e != nil && e.ref == ref {
		e.resolving = false
	}
}

// gone records unavailable presence from full to account.
func (t *remoteTable) gone(full, account jid.JID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.entity(full, false)
	if e == nil {
		return
	}
	delete(e.accounts, account.String())
	if len(e.accounts) > 0 {
		return
	}
	res := t.entities[full.Bare().String()]
	delete(res, full.Resourcepart())
	if len(res) == 0 {
		delete(t.entities, full.Bare().String())
	}
}

// interested returns the resources of contact that are available to
// account and whose features include feature.
func (t *remoteTable) interested(contact, account jid.JID, feature string) []jid.JID {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []jid.JID
	for _, e := range t.entities[contact.String()] {
		if _, ok := e.accounts[account.String()]; ok && e.features.has(feature) {
			out = append(out, e.full)
		}
	}
	return out
}

// entity returns the entry of full, creating it when create is set.
// t.mu must be held.
func (t *remoteTable) entity(full jid.JID, create bool) *remoteEntity {
	bare := full.Bare().String()
	res := t.entities[bare]
	if res == nil {
		if !create {
			return nil
		}
		res = make(map[string]*remoteEntity)
		t.entities[bare] = res
	}
	e := res[full.Resourcepart()]
	if e == nil && create {
		e = &remoteEntity{full: full, accounts: make(map[string]jid.JID)}
		res[full.Resourcepart()] = e
	}
	return e
}
