package pep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// request is a pubsub iq addressed to an account's service.
type request struct {
	iq        *stanza.Stanza
	owner     jid.JID // the account whose service is asked
	requester jid.JID // the sender's full JID
}

func newRequest(iq *stanza.Stanza) request {
	owner := iq.From.Bare()
	if !stanza.IsZero(iq.To) {
		owner = iq.To.Bare()
	}
	return request{iq: iq, owner: owner, requester: iq.From}
}

// byOwner reports whether the account itself sent the request.
func (r request) byOwner() bool { return r.requester.Bare().Equal(r.owner) }

// handlePubSub serves requests in the pubsub namespace (XEP-0060 §6, §7).
func (m *module) handlePubSub(ctx context.Context, iq *stanza.Stanza, ps *stanza.Element) (*stanza.Stanza, error) {
	if ps.Name.Local != "pubsub" {
		return nil, stanza.BadRequest
	}
	r := newRequest(iq)
	var action *stanza.Element
	for _, el := range ps.Elements() {
		if el.Name.Space == NS && el.Name.Local != "publish-options" && el.Name.Local != "configure" {
			action = el
			break
		}
	}
	if action == nil {
		return nil, stanza.BadRequest.WithText("no pubsub action")
	}
	switch {
	case iq.Type == "get" && action.Name.Local == "items":
		return m.items(ctx, r, action)
	case iq.Type == "set" && action.Name.Local == "publish":
		return m.publish(ctx, r, action, ps.Child(NS, "publish-options"))
	case iq.Type == "set" && action.Name.Local == "retract":
		return m.retract(ctx, r, action)
	case iq.Type == "set" && action.Name.Local == "create":
		return m.create(ctx, r, action, ps.Child(NS, "configure"))
	}
	switch action.Name.Local {
	case "items", "publish", "retract", "create":
		return nil, stanza.BadRequest.WithText(action.Name.Local + " is not defined for iq type " + iq.Type)
	}
	// Subscriptions to PEP nodes are implicit, from presence and entity
	// capabilities, so subscribe, options and the like are not supported.
	return nil, unsupported(action.Name.Local)
}

// items returns a node's items (XEP-0060 §6.5): all of them, the newest
// max_items, or the ones with the requested ids.
func (m *module) items(ctx context.Context, r request, req *stanza.Element) (*stanza.Stanza, error) {
	name := req.AttrValue("node")
	if name == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	if isLegacyBookmarks(name) {
		return m.legacyBookmarksItems(ctx, r)
	}
	n, cfg, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	if err := m.checkAccess(ctx, r.owner, r.requester, n, cfg); err != nil {
		return nil, err
	}
	var stored []storage.PubSubItem
	if ids := req.ChildrenNamed(NS, "item"); len(ids) > 0 {
		stored, err = m.itemsByID(ctx, r.owner, name, ids)
	} else {
		stored, err = m.store.GetItems(ctx, owner(r.owner), name, maxItemsAttr(req))
	}
	if err != nil {
		return nil, fmt.Errorf("pep: read items: %w", err)
	}
	return m.itemsResult(r.iq, name, stored), nil
}

// maxItemsAttr returns the max_items of an items request, 0 for all.
func maxItemsAttr(req *stanza.Element) int {
	n, err := strconv.Atoi(req.AttrValue("max_items"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// itemsByID returns the requested items that exist, in request order.
func (m *module) itemsByID(ctx context.Context, account jid.JID, node string, ids []*stanza.Element) ([]storage.PubSubItem, error) {
	var out []storage.PubSubItem
	for _, el := range ids {
		it, err := m.store.GetItem(ctx, owner(account), node, el.AttrValue("id"))
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, nil
}

func (m *module) itemsResult(iq *stanza.Stanza, node string, stored []storage.PubSubItem) *stanza.Stanza {
	items := make([]item, len(stored))
	for i, it := range stored {
		items[i] = item{ID: it.ID, Payload: it.Payload}
	}
	res := stanza.Result(iq)
	res.Inner = wrap("pubsub", NS, appendItems(nil, node, items))
	return res
}

// create creates a node explicitly (XEP-0060 §8.1), with the
// configuration form that may come with it.
func (m *module) create(ctx context.Context, r request, req, configure *stanza.Element) (*stanza.Stanza, error) {
	if !r.byOwner() {
		return nil, stanza.Forbidden
	}
	name := req.AttrValue("node")
	if name == "" {
		// Instant nodes are a feature of generic pubsub services.
		return nil, pubsubError(stanza.NotAcceptable, "nodeid-required")
	}
	cfg := defaultConfig()
	if configure != nil {
		f, err := parseForm(configure)
		if err != nil {
			return nil, err
		}
		if f != nil && f.typ == formTypeSubmit {
			if cfg, err = cfg.apply(f.fields); err != nil {
				return nil, stanza.NotAcceptable.WithText(err.Error())
			}
		}
	}
	unlock := m.nodes.lock(r.owner, name)
	defer unlock()
	err := m.store.CreateNode(ctx, owner(r.owner), storage.PubSubNode{Name: name, Config: cfg.stored()})
	if errors.Is(err, storage.ErrExists) {
		return nil, stanza.Conflict.WithText("the node exists")
	}
	if err != nil {
		return nil, fmt.Errorf("pep: create node: %w", err)
	}
	return stanza.Result(r.iq), nil
}

// loadNode returns a node and its configuration, or item-not-found.
func (m *module) loadNode(ctx context.Context, account jid.JID, name string) (storage.PubSubNode, nodeConfig, error) {
	n, err := m.store.GetNode(ctx, owner(account), name)
	if errors.Is(err, storage.ErrNotFound) {
		return n, nodeConfig{}, stanza.ItemNotFound
	}
	if err != nil {
		return n, nodeConfig{}, fmt.Errorf("pep: read node: %w", err)
	}
	return n, configFromStored(n.Config), nil
}

// pubsubError returns base with an application condition in the pubsub
// errors namespace (XEP-0060 §7.1.3 and following).
func pubsubError(base *stanza.Error, condition string) *stanza.Error {
	return base.WithApp(stanza.NewElement(NSErrors, condition))
}

// unsupported returns feature-not-implemented naming the feature.
func unsupported(feature string) *stanza.Error {
	return stanza.FeatureNotImplemented.WithApp(stanza.NewElement(NSErrors, "unsupported", "feature", feature))
}

func owner(bare jid.JID) storage.Owner {
	return storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()}
}

// newID returns a random item or stanza id.
func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// nodeLocks serializes changes to one node, so that its notifications go
// out in the order the changes were stored. Nodes share a fixed set of
// mutexes by hash.
type nodeLocks struct{ mu [64]sync.Mutex }

func newNodeLocks() *nodeLocks { return &nodeLocks{} }

// lock locks the node's mutex and returns the function that unlocks it.
func (l *nodeLocks) lock(account jid.JID, node string) func() {
	h := fnv.New32a()
	h.Write([]byte(account.String()))
	h.Write([]byte{0})
	h.Write([]byte(node))
	mu := &l.mu[h.Sum32()%uint32(len(l.mu))]
	mu.Lock()
	return mu.Unlock
}
