package pep

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// capsTimeout bounds the wait for a disco#info response to a caps query.
const capsTimeout = 10 * time.Second

// maxCachedVers bounds the verification strings kept in memory; past it,
// an arbitrary entry is dropped, and storage still has it.
const maxCachedVers = 10000

// capsKVPrefix starts the storage.KV keys of cached disco#info results.
// They are stored under the owner (first local domain, empty localpart),
// which no account has, so that every account shares them.
const capsKVPrefix = "caps "

// capsRef is the <c/> element of a presence (XEP-0115 §4).
type capsRef struct {
	node, ver, hash string
}

// capsOf returns the entity capabilities of a presence, if it has any.
func capsOf(p *stanza.Stanza) (capsRef, bool) {
	c := p.Child(NSCaps, "c")
	if c == nil {
		return capsRef{}, false
	}
	ref := capsRef{node: c.AttrValue("node"), ver: c.AttrValue("ver"), hash: c.AttrValue("hash")}
	return ref, ref.ver != ""
}

// key returns the cache key of ref, or "" when its ver is not a hash
// (the legacy format without 'hash', which cannot be verified).
func (r capsRef) key() string {
	if r.hash == "" {
		return ""
	}
	return r.hash + " " + r.ver
}

// featureSet is the set of disco features of an entity. A nil set has no
// features.
type featureSet map[string]bool

func (f featureSet) has(feature string) bool { return f[feature] }

// featuresOf returns the features of a disco#info <query/>.
func featuresOf(q *stanza.Element) featureSet {
	fs := make(featureSet)
	for _, el := range q.ChildrenNamed(NSDisco, "feature") {
		fs[el.AttrValue("var")] = true
	}
	return fs
}

// capsCache maps verified caps hashes to features, in memory and in
// storage, and queries the entities that announce unknown hashes.
type capsCache struct {
	host  router.Host
	kv    storage.KV
	log   *slog.Logger
	owner storage.Owner // owner of the stored cache entries

	mu       sync.Mutex
	known    map[string]featureSet    // by capsRef.key; guarded by mu
	inflight map[string]chan struct{} // queries under way, by key; guarded by mu
}

func newCapsCache(h router.Host, kv storage.KV, log *slog.Logger) *capsCache {
	c := &capsCache{
		host:     h,
		kv:       kv,
		log:      log,
		known:    make(map[string]featureSet),
		inflight: make(map[string]chan struct{}),
	}
	if d := h.Domains(); len(d) > 0 {
		c.owner = storage.Owner{Domain: d[0]}
	}
	return c
}

// features returns the features of the entity full that announced ref.
// It queries the entity with disco#info, from the server domain from,
// unless the hash is known; one query runs per hash at a time. A result
// whose hash does not match ref is used for this entity but not cached
// (XEP-0115 §5.4).
func (c *capsCache) features(ctx context.Context, from string, full jid.JID, ref capsRef) (featureSet, error) {
	key := ref.key()
	if key == "" {
		q, err := c.query(ctx, from, full, ref)
		if err != nil {
			return nil, err
		}
		return featuresOf(q), nil
	}
	if fs := c.lookup(ctx, key); fs != nil {
		return fs, nil
	}
	c.mu.Lock()
	wait, busy := c.inflight[key]
	if !busy {
		c.inflight[key] = make(chan struct{})
	}
	c.mu.Unlock()
	if busy {
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if fs := c.lookup(ctx, key); fs != nil {
			return fs, nil
		}
		// The other query failed or did not match its hash: ask this
		// entity itself, without registering.
		return c.queryUnshared(ctx, from, full, ref)
	}
	defer c.done(key)
	return c.queryUnshared(ctx, from, full, ref)
}

func (c *capsCache) done(key string) {
	c.mu.Lock()
	close(c.inflight[key])
	delete(c.inflight, key)
	c.mu.Unlock()
}

// queryUnshared queries the entity and caches the result if it matches
// the hash.
func (c *capsCache) queryUnshared(ctx context.Context, from string, full jid.JID, ref capsRef) (featureSet, error) {
	q, err := c.query(ctx, from, full, ref)
	if err != nil {
		return nil, err
	}
	fs := featuresOf(q)
	if !verifyCaps(q, ref.hash, ref.ver) {
		c.log.Debug("caps hash does not match disco#info", "jid", full.String(), "hash", ref.hash)
		return fs, nil
	}
	c.remember(ref.key(), fs)
	if c.owner.Domain != "" {
		if err := c.kv.PutValue(ctx, c.owner, capsKVPrefix+ref.key(), []byte(q.String())); err != nil {
			c.log.Warn("store caps", "err", err)
		}
	}
	return fs, nil
}

// lookup returns the features of a verified hash from memory or storage,
// or nil when neither has them.
func (c *capsCache) lookup(ctx context.Context, key string) featureSet {
	c.mu.Lock()
	fs := c.known[key]
	c.mu.Unlock()
	if fs != nil || c.owner.Domain == "" {
		return fs
	}
	b, err := c.kv.GetValue(ctx, c.owner, capsKVPrefix+key)
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			c.log.Warn("read caps", "err", err)
		}
		return nil
	}
	q, err := stanza.ParseElement(b, "")
	hashName, ver, _ := strings.Cut(key, " ")
	if err != nil || !verifyCaps(q, hashName, ver) {
		return nil
	}
	fs = featuresOf(q)
	c.remember(key, fs)
	return fs
}

func (c *capsCache) remember(key string, fs featureSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.known) >= maxCachedVers {
		for k := range c.known {
			delete(c.known, k)
			break
		}
	}
	c.known[key] = fs
}

// query sends a disco#info request for the caps node to the entity
// (XEP-0115 §6.2) and returns the <query/> of the response.
func (c *capsCache) query(ctx context.Context, from string, full jid.JID, ref capsRef) (*stanza.Element, error) {
	ctx, cancel := context.WithTimeout(ctx, capsTimeout)
	defer cancel()
	server, err := jid.Parse(from)
	if err != nil {
		return nil, fmt.Errorf("pep: caps query from %q: %w", from, err)
	}
	q := stanza.NewElement(NSDisco, "query")
	if ref.node != "" {
		q.SetAttr("node", ref.node+"#"+ref.ver)
	}
	resp, err := c.host.SendIQ(ctx, stanza.New(stanza.IQ, "get", full, server, q))
	if err != nil {
		return nil, fmt.Errorf("pep: caps query: %w", err)
	}
	res := resp.Child(NSDisco, "query")
	if res == nil {
		return nil, errors.New("pep: caps query: the response has no disco#info query")
	}
	return res, nil
}
