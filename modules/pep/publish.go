package pep

import (
	"context"
	"errors"
	"fmt"

	"tern/stanza"
	"tern/storage"
)

// publication is one item to publish to a node.
type publication struct {
	node    string
	id      string
	payload []byte
	options map[string][]string // publish-options, nil when none
}

// publish handles a publish request (XEP-0060 §7.1), creating the node on
// first use (auto-create) and checking publish-options as preconditions
// (XEP-0223).
func (m *module) publish(ctx context.Context, r request, req, opts *stanza.Element) (*stanza.Stanza, error) {
	if !r.byOwner() {
		return nil, stanza.Forbidden.WithText("only the account itself publishes to its nodes")
	}
	p, err := parsePublish(r.iq, req, opts)
	if err != nil {
		return nil, err
	}
	if isLegacyBookmarks(p.node) {
		err = m.publishLegacyBookmarks(ctx, r, p)
	} else {
		err = m.publishItem(ctx, r, p)
	}
	if err != nil {
		return nil, err
	}
	res := stanza.NewElement(NS, "pubsub").Add(
		stanza.NewElement(NS, "publish", "node", p.node).Add(stanza.NewElement(NS, "item", "id", p.id)))
	return stanza.Result(r.iq, res), nil
}

// parsePublish reads the node, item id, payload and options of a publish
// request.
func parsePublish(iq *stanza.Stanza, req, opts *stanza.Element) (publication, error) {
	p := publication{node: req.AttrValue("node")}
	if p.node == "" {
		return p, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	items := req.ChildrenNamed(NS, "item")
	if len(items) != 1 {
		// A PEP node always delivers payloads, so an item is required,
		// and a publish request carries one item (XEP-0060 §7.1.3.7).
		return p, pubsubError(stanza.BadRequest, "item-required")
	}
	payloads := items[0].Elements()
	switch len(payloads) {
	case 0:
		return p, pubsubError(stanza.BadRequest, "payload-required")
	case 1:
	default:
		return p, pubsubError(stanza.BadRequest, "invalid-payload")
	}
	p.id = items[0].AttrValue("id")
	if p.id == "" {
		p.id = newID()
	}
	p.payload = rawPayload(iq, payloads[0])
	if opts != nil {
		f, err := parseForm(opts)
		if err != nil {
			return p, err
		}
		if f != nil && f.formType != "" && f.formType != FormPublishOpts {
			return p, stanza.BadRequest.WithText("publish-options has FORM_TYPE " + f.formType)
		}
		if f != nil {
			p.options = f.fields
		}
	}
	return p, nil
}

// publishItem stores an item and notifies the entities that may see it.
func (m *module) publishItem(ctx context.Context, r request, p publication) error {
	unlock := m.nodes.lock(r.owner, p.node)
	defer unlock()
	n, cfg, err := m.ensureNode(ctx, r, p.node, p.options)
	if err != nil {
		return err
	}
	if cfg.persistItems() {
		it := storage.PubSubItem{ID: p.id, Publisher: r.requester.String(), Payload: p.payload}
		if err := m.store.PublishItem(ctx, owner(r.owner), p.node, it, cfg.maxItems()); err != nil {
			return fmt.Errorf("pep: publish: %w", err)
		}
	}
	body := appendItems(nil, p.node, []item{{ID: p.id, Payload: p.payload}})
	m.notify(ctx, r.owner, n, cfg, body)
	m.afterPublish(ctx, r, p)
	return nil
}

// ensureNode returns the node, creating it with the publish-options (or
// the default configuration) when it does not exist. For an existing
// node, every option must match its configuration, or the request fails
// with conflict and precondition-not-met (XEP-0060 §7.1.5).
func (m *module) ensureNode(ctx context.Context, r request, name string, options map[string][]string) (storage.PubSubNode, nodeConfig, error) {
	n, cfg, err := m.loadNode(ctx, r.owner, name)
	if err == nil {
		if field := cfg.matches(options); field != "" {
			return n, cfg, preconditionError(field)
		}
		return n, cfg, nil
	}
	if !errors.Is(err, stanza.ItemNotFound) {
		return n, cfg, err
	}
	cfg = defaultConfig()
	if len(options) > 0 {
		if cfg, err = cfg.apply(options); err != nil {
			return n, cfg, preconditionError(fieldOf(err))
		}
	}
	n = storage.PubSubNode{Name: name, Config: cfg.stored()}
	if err := m.store.CreateNode(ctx, owner(r.owner), n); err != nil {
		return n, cfg, fmt.Errorf("pep: create node: %w", err)
	}
	return n, cfg, nil
}

func preconditionError(field string) *stanza.Error {
	return pubsubError(stanza.Conflict.WithText("publish option "+field+" does not match the node configuration"),
		"precondition-not-met")
}

// retract removes an item (XEP-0060 §7.2). The request's notify attribute
// decides whether the entities that may see the node are notified, and
// when it is absent the node's notify_retract does.
func (m *module) retract(ctx context.Context, r request, req *stanza.Element) (*stanza.Stanza, error) {
	if !r.byOwner() {
		return nil, stanza.Forbidden
	}
	name := req.AttrValue("node")
	if name == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	items := req.ChildrenNamed(NS, "item")
	if len(items) == 0 || items[0].AttrValue("id") == "" {
		return nil, pubsubError(stanza.BadRequest, "item-required")
	}
	if len(items) > 1 {
		return nil, stanza.BadRequest.WithText("retract one item per request")
	}
	id := items[0].AttrValue("id")

	if isLegacyBookmarks(name) {
		return nil, stanza.FeatureNotImplemented.WithText("retract bookmarks from " + NSBookmarks)
	}
	unlock := m.nodes.lock(r.owner, name)
	defer unlock()
	n, cfg, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	if err := m.store.RetractItem(ctx, owner(r.owner), name, id); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, stanza.ItemNotFound
		}
		return nil, fmt.Errorf("pep: retract: %w", err)
	}

	notify := cfg.notifyRetract()
	switch req.AttrValue("notify") {
	case "1", "true":
		notify = true
	case "0", "false":
		notify = false
	}
	if notify {
		m.notify(ctx, r.owner, n, cfg, retractBody(name, id))
	}
	m.afterRetract(ctx, r, name, id)
	return stanza.Result(r.iq), nil
}

// retractBody is the <items/> of a retraction notification.
func retractBody(node, id string) []byte {
	b := []byte("<items node='" + xmlEscaper.Replace(node) + "'><retract id='")
	b = append(b, xmlEscaper.Replace(id)...)
	return append(b, "'/></items>"...)
}
