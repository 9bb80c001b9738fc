package disco

import (
	"context"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
)

// Node is what a node handler returns for one requester: the disco#info
// of the node (identities and features) and its disco#items.
type Node struct {
	Identities []router.Identity
	Features   []string
	Items      []Item
}

// Item is an entry of a node's disco#items (XEP-0030 §4.1).
type Item struct {
	JID, Node, Name string
}

// NodeHandler returns the node's information for requester, the full JID
// that sent the query, when target (the JID the query was addressed to)
// is queried. It returns a *stanza.Error, such as stanza.Forbidden or
// stanza.ItemNotFound, to reject the query; disco sends it as the error
// response.
type NodeHandler func(ctx context.Context, requester, target jid.JID) (Node, error)

// serviceName is the name under which the node table of a host is
// provided (router.Host.Provide).
const serviceName = "disco.nodes"

// nodeTable holds the node handlers registered on one host.
type nodeTable struct {
	mu       sync.RWMutex
	handlers map[nodeKey]NodeHandler // guarded by mu
}

type nodeKey struct {
	scope router.Scope
	node  string
}

// HandleNode registers handler for disco#info and disco#items queries
// on node at the addresses of scope: the server's domains for
// router.ScopeServer, an account's bare JID for router.ScopeAccount.
// For account nodes, disco first checks that the requester may discover
// the account at all. A later registration of the same node replaces an
// earlier one. HandleNode may be called before or after the disco module
// starts, and while the server runs. Queries for nodes nobody registered
// get item-not-found.
func HandleNode(h router.Host, scope router.Scope, node string, handler NodeHandler) {
	t := nodesOf(h)
	t.mu.Lock()
	t.handlers[nodeKey{scope, node}] = handler
	t.mu.Unlock()
}

// nodesOf returns the node table of h, creating it on first use. Modules
// start one at a time, so the lookup and the creation do not race.
func nodesOf(h router.Host) *nodeTable {
	if t, ok := h.Lookup(serviceName).(*nodeTable); ok {
		return t
	}
	t := &nodeTable{handlers: make(map[nodeKey]NodeHandler)}
	h.Provide(serviceName, t)
	return t
}

func (t *nodeTable) handler(scope router.Scope, node string) NodeHandler {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.handlers[nodeKey{scope, node}]
}

// queryNode runs the handler registered for the node of query q, which
// must have a node attribute.
func queryNode(ctx context.Context, h router.Host, scope router.Scope, iq *stanza.Stanza, q *stanza.Element) (Node, error) {
	handler := nodesOf(h).handler(scope, q.AttrValue("node"))
	if handler == nil {
		return Node{}, stanza.ItemNotFound
	}
	target := iq.To
	if stanza.IsZero(target) {
		target = iq.From.Bare()
	}
	return handler(ctx, iq.From, target)
}

// nodeInfo returns the disco#info <query/> of a node.
func nodeInfo(node string, n Node) *stanza.Element {
	q := stanza.NewElement(NSInfo, "query", "node", node)
	for _, id := range n.Identities {
		el := stanza.NewElement(NSInfo, "identity", "category", id.Category, "type", id.Type)
		if id.Name != "" {
			el.SetAttr("name", id.Name)
		}
		q.Add(el)
	}
	for _, f := range n.Features {
		q.Add(stanza.NewElement(NSInfo, "feature", "var", f))
	}
	return q
}

// nodeItems returns the disco#items <query/> of a node.
func nodeItems(node string, n Node) *stanza.Element {
	q := stanza.NewElement(NSItems, "query", "node", node)
	for _, it := range n.Items {
		el := stanza.NewElement(NSItems, "item", "jid", it.JID)
		if it.Node != "" {
			el.SetAttr("node", it.Node)
		}
		if it.Name != "" {
			el.SetAttr("name", it.Name)
		}
		q.Add(el)
	}
	return q
}
