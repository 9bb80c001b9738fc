package blocking

import (
	"context"
	"hash/maphash"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/storage"
)

// Checker reports whether an account blocks a JID. It caches the lists of
// accounts that have a session on this node, loading each on first use
// and updating it on every change, so that routing reads no storage for
// them. Lists of accounts without a session are read from storage on each
// call and not kept.
//
// A Checker is safe for concurrent use. The methods of a nil *Checker
// report that nothing is blocked.
type Checker struct {
	host  router.Host
	store storage.Blocklist
	log   *slog.Logger

	mu    sync.RWMutex
	lists map[storage.Owner]list // guarded by mu; never changed in place

	// stripes order the loads and changes of one owner's list, so that a
	// load never installs a list older than a change made meanwhile.
	seed    maphash.Seed
	stripes [64]sync.Mutex
}

func newChecker(host router.Host, store storage.Blocklist, log *slog.Logger) *Checker {
	return &Checker{
		host:  host,
		store: store,
		log:   log,
		lists: make(map[storage.Owner]list),
		seed:  maphash.MakeSeed(),
	}
}

// IsBlocked reports whether owner's blocklist matches j: j itself, its bare
// JID, its domain or a parent domain of it is on the list. When the list
// cannot be read it logs the error and returns true, so that a storage
// failure never lets a stanza through to a contact the owner may have
// blocked.
func (c *Checker) IsBlocked(ctx context.Context, owner storage.Owner, j jid.JID) bool {
	if c == nil {
		return false
	}
	l, err := c.list(ctx, owner)
	if err != nil {
		c.log.Error("read blocklist", "err", err, "owner", owner.String())
		return true
	}
	return l.matches(j)
}

// blocked is IsBlocked for an account given by its JID.
func (c *Checker) blocked(ctx context.Context, account, j jid.JID) bool {
	return c.IsBlocked(ctx, ownerOf(account), j)
}

// Blocklist returns owner's blocked JIDs, sorted in byte order.
func (c *Checker) Blocklist(ctx context.Context, owner storage.Owner) ([]string, error) {
	if c == nil {
		return nil, nil
	}
	l, err := c.list(ctx, owner)
	if err != nil {
		return nil, err
	}
	return l.sorted(), nil
}

// list returns owner's list from the cache, or from storage; it keeps a
// list read from storage when the owner has a session.
func (c *Checker) list(ctx context.Context, o storage.Owner) (list, error) {
	if l, ok := c.cached(o); ok {
		return l, nil
	}
	if !c.online(o) {
		return c.load(ctx, o)
	}
	lock := c.stripe(o)
	lock.Lock()
	defer lock.Unlock()
	return c.current(ctx, o)
}

// current returns owner's list from the cache or storage and caches it if
// the owner has a session. The caller holds owner's stripe lock.
func (c *Checker) current(ctx context.Context, o storage.Owner) (list, error) {
	if l, ok := c.cached(o); ok {
		return l, nil
	}
	l, err := c.load(ctx, o)
	if err != nil {
		return nil, err
	}
	c.install(o, l)
	return l, nil
}

func (c *Checker) load(ctx context.Context, o storage.Owner) (list, error) {
	jids, err := c.store.GetBlocklist(ctx, o)
	if err != nil {
		return nil, err
	}
	return newList(jids), nil
}

func (c *Checker) cached(o storage.Owner) (list, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	l, ok := c.lists[o]
	return l, ok
}

// install caches l if the owner has a session; the caller holds owner's
// stripe lock.
func (c *Checker) install(o storage.Owner, l list) {
	if !c.online(o) {
		return
	}
	c.mu.Lock()
	c.lists[o] = l
	c.mu.Unlock()
}

// block adds jids (normalized) to owner's list in storage and the cache.
// It returns the JIDs that were not blocked before.
func (c *Checker) block(ctx context.Context, o storage.Owner, jids []string) ([]string, error) {
	lock := c.stripe(o)
	lock.Lock()
	defer lock.Unlock()
	cur, err := c.current(ctx, o)
	if err != nil {
		return nil, err
	}
	var added []string
	seen := make(map[string]bool, len(jids))
	for _, j := range jids {
		if !cur.has(j) && !seen[j] {
			added = append(added, j)
		}
		seen[j] = true
	}
	if err := c.store.Block(ctx, o, jids); err != nil {
		return nil, err
	}
	c.replace(o, cur.with(added))
	return added, nil
}

// unblock removes jids (normalized) from owner's list, or every entry when
// jids is empty. It returns the JIDs that were blocked before.
func (c *Checker) unblock(ctx context.Context, o storage.Owner, jids []string) ([]string, error) {
	lock := c.stripe(o)
	lock.Lock()
	defer lock.Unlock()
	cur, err := c.current(ctx, o)
	if err != nil {
		return nil, err
	}
	removed := cur.sorted()
	if len(jids) > 0 {
		asked := newList(jids)
		removed = slices.DeleteFunc(removed, func(j string) bool { return !asked.has(j) })
	}
	if err := c.store.Unblock(ctx, o, jids); err != nil {
		return nil, err
	}
	c.replace(o, cur.without(removed))
	return removed, nil
}

// replace updates a cached list after a change; the caller holds owner's
// stripe lock. A list that is not cached stays uncached.
func (c *Checker) replace(o storage.Owner, l list) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.lists[o]; ok {
		c.lists[o] = l
	}
}

// evictIfOffline drops the cached list of a session's account once the
// account has no session left on this node.
func (c *Checker) evictIfOffline(_ context.Context, s router.Session) {
	o := ownerOf(s.JID())
	lock := c.stripe(o)
	lock.Lock()
	defer lock.Unlock()
	if c.online(o) {
		return
	}
	c.mu.Lock()
	delete(c.lists, o)
	c.mu.Unlock()
}

func (c *Checker) online(o storage.Owner) bool {
	bare, err := jid.New(o.Local, o.Domain, "")
	return err == nil && len(c.host.Sessions(bare)) > 0
}

func (c *Checker) stripe(o storage.Owner) *sync.Mutex {
	return &c.stripes[maphash.Comparable(c.seed, o)%uint64(len(c.stripes))]
}

func ownerOf(j jid.JID) storage.Owner {
	return storage.Owner{Domain: j.Domainpart(), Local: j.Localpart()}
}

// list is a set of normalized JIDs. A list is never changed once built;
// with and without return new ones.
type list map[string]struct{}

func newList(jids []string) list {
	l := make(list, len(jids))
	for _, j := range jids {
		l[j] = struct{}{}
	}
	return l
}

func (l list) has(j string) bool {
	_, ok := l[j]
	return ok
}

// matches applies the JID matching rules of XEP-0191: a full JID entry
// matches itself, a bare JID entry its resources too, and a domain entry
// the domain, every address at it and every subdomain.
func (l list) matches(j jid.JID) bool {
	if len(l) == 0 {
		return false
	}
	if l.has(j.String()) {
		return true
	}
	if j.Localpart() != "" && j.Resourcepart() != "" && l.has(j.Bare().String()) {
		return true
	}
	for d := j.Domainpart(); ; {
		if l.has(d) {
			return true
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return false
		}
		d = d[i+1:]
	}
}

func (l list) with(jids []string) list {
	n := make(list, len(l)+len(jids))
	for j := range l {
		n[j] = struct{}{}
	}
	for _, j := range jids {
		n[j] = struct{}{}
	}
	return n
}

func (l list) without(jids []string) list {
	drop := newList(jids)
	n := make(list, len(l))
	for j := range l {
		if !drop.has(j) {
			n[j] = struct{}{}
		}
	}
	return n
}

// sorted returns the entries in byte order, as storage returns them.
func (l list) sorted() []string {
	out := make([]string, 0, len(l))
	for j := range l {
		out = append(out, j)
	}
	slices.Sort(out)
	return out
}
