package pep

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// handleOwner serves the owner use cases of XEP-0060 §8: node
// configuration, default configuration, deletion, purge and affiliations.
// Only the account itself may use them.
func (m *module) handleOwner(ctx context.Context, iq *stanza.Stanza, ps *stanza.Element) (*stanza.Stanza, error) {
	if ps.Name.Local != "pubsub" {
		return nil, stanza.BadRequest
	}
	r := newRequest(iq)
	if !r.byOwner() {
		return nil, stanza.Forbidden
	}
	els := ps.Elements()
	if len(els) != 1 || els[0].Name.Space != NSOwner {
		return nil, stanza.BadRequest.WithText("a pubsub owner request has one action")
	}
	action := els[0]
	if action.Name.Local == "default" && iq.Type == "get" {
		q := stanza.NewElement(NSOwner, "pubsub").Add(stanza.NewElement(NSOwner, "default").Add(configForm(defaultConfig())))
		return stanza.Result(iq, q), nil
	}
	name := action.AttrValue("node")
	if name == "" {
		return nil, pubsubError(stanza.BadRequest, "nodeid-required")
	}
	switch {
	case action.Name.Local == "configure" && iq.Type == "get":
		return m.getConfig(ctx, r, name)
	case action.Name.Local == "configure" && iq.Type == "set":
		return m.setConfig(ctx, r, name, action)
	case action.Name.Local == "delete" && iq.Type == "set":
		return m.deleteNode(ctx, r, name)
	case action.Name.Local == "purge" && iq.Type == "set":
		return m.purgeNode(ctx, r, name)
	case action.Name.Local == "affiliations" && iq.Type == "get":
		return m.getAffiliations(ctx, r, name)
	case action.Name.Local == "affiliations" && iq.Type == "set":
		return m.setAffiliations(ctx, r, name, action)
	}
	return nil, unsupported(action.Name.Local)
}

func (m *module) getConfig(ctx context.Context, r request, name string) (*stanza.Stanza, error) {
	_, cfg, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	q := stanza.NewElement(NSOwner, "pubsub").Add(
		stanza.NewElement(NSOwner, "configure", "node", name).Add(configForm(cfg)))
	return stanza.Result(r.iq, q), nil
}

// setConfig applies a submitted configuration form (XEP-0060 §8.2.4).
// Lowering max_items removes the oldest items at once, and turning
// persist_items off removes every stored item.
func (m *module) setConfig(ctx context.Context, r request, name string, req *stanza.Element) (*stanza.Stanza, error) {
	f, err := parseForm(req)
	if err != nil {
		return nil, err
	}
	if f == nil {
		return nil, stanza.BadRequest.WithText("no configuration form")
	}
	if f.typ == formTypeCancel {
		return stanza.Result(r.iq), nil
	}
	if f.typ != formTypeSubmit || (f.formType != "" && f.formType != FormNodeConfig) {
		return nil, stanza.BadRequest.WithText("want a submitted " + FormNodeConfig + " form")
	}
	unlock := m.nodes.lock(r.owner, name)
	defer unlock()
	n, cfg, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	if cfg, err = cfg.apply(f.fields); err != nil {
		return nil, stanza.NotAcceptable.WithText(err.Error())
	}
	n.Config = cfg.stored()
	if err := m.store.ConfigureNode(ctx, owner(r.owner), n, cfg.maxItems()); err != nil {
		return nil, fmt.Errorf("pep: configure node: %w", err)
	}
	if !cfg.persistItems() {
		if err := m.store.PurgeNode(ctx, owner(r.owner), name); err != nil {
			return nil, fmt.Errorf("pep: remove items of a node that no longer persists them: %w", err)
		}
	}
	m.afterChange(ctx, r.owner, name)
	return stanza.Result(r.iq), nil
}

// deleteNode deletes a node and its items (XEP-0060 §8.4), notifying the
// entities that may see it when notify_delete is set.
func (m *module) deleteNode(ctx context.Context, r request, name string) (*stanza.Stanza, error) {
	unlock := m.nodes.lock(r.owner, name)
	defer unlock()
	n, cfg, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	// The entities to notify are computed while the node still exists.
	targets := m.notifyTargets(ctx, r.owner, n, cfg)
	if err := m.store.DeleteNode(ctx, owner(r.owner), name); err != nil {
		return nil, fmt.Errorf("pep: delete node: %w", err)
	}
	if cfg.notifyDelete() {
		m.sendEvent(ctx, r.owner, targets, []byte("<delete node='"+xmlEscaper.Replace(name)+"'/>"))
	}
	m.afterChange(ctx, r.owner, name)
	return stanza.Result(r.iq), nil
}

// purgeNode removes every item of a node (XEP-0060 §8.5), notifying the
// entities that may see it when notify_retract is set.
func (m *module) purgeNode(ctx context.Context, r request, name string) (*stanza.Stanza, error) {
	unlock := m.nodes.lock(r.owner, name)
	defer unlock()
	n, cfg, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	if err := m.store.PurgeNode(ctx, owner(r.owner), name); err != nil {
		return nil, fmt.Errorf("pep: purge node: %w", err)
	}
	if cfg.notifyRetract() {
		m.notify(ctx, r.owner, n, cfg, []byte("<purge node='"+xmlEscaper.Replace(name)+"'/>"))
	}
	m.afterChange(ctx, r.owner, name)
	return stanza.Result(r.iq), nil
}

func (m *module) getAffiliations(ctx context.Context, r request, name string) (*stanza.Stanza, error) {
	n, _, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	affs := stanza.NewElement(NSOwner, "affiliations", "node", name)
	affs.Add(stanza.NewElement(NSOwner, "affiliation", "jid", r.owner.String(), "affiliation", "owner"))
	for _, j := range sortedKeys(n.Affiliations) {
		affs.Add(stanza.NewElement(NSOwner, "affiliation", "jid", j, "affiliation", n.Affiliations[j]))
	}
	return stanza.Result(r.iq, stanza.NewElement(NSOwner, "pubsub").Add(affs)), nil
}

// setAffiliations changes affiliations (XEP-0060 §8.9.2). A PEP node has
// one owner and one publisher, the account, so the affiliations it
// accepts are member (may read a whitelist node), outcast (may read
// nothing) and none (removes the entry).
func (m *module) setAffiliations(ctx context.Context, r request, name string, req *stanza.Element) (*stanza.Stanza, error) {
	unlock := m.nodes.lock(r.owner, name)
	defer unlock()
	n, cfg, err := m.loadNode(ctx, r.owner, name)
	if err != nil {
		return nil, err
	}
	affs := maps.Clone(n.Affiliations)
	if affs == nil {
		affs = make(map[string]string)
	}
	for _, el := range req.ChildrenNamed(NSOwner, "affiliation") {
		j, err := jid.Parse(el.AttrValue("jid"))
		if err != nil {
			return nil, stanza.JIDMalformed
		}
		bare := j.Bare().String()
		if j.Bare().Equal(r.owner) {
			return nil, stanza.NotAcceptable.WithText("the account's own affiliation cannot change")
		}
		switch a := el.AttrValue("affiliation"); a {
		case "member", "outcast":
			affs[bare] = a
		case "none":
			delete(affs, bare)
		default:
			return nil, stanza.NotAcceptable.WithText("affiliation " + a + " is not supported; use member, outcast or none")
		}
	}
	n.Affiliations = affs
	if err := m.store.ConfigureNode(ctx, owner(r.owner), n, cfg.maxItems()); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, stanza.ItemNotFound
		}
		return nil, fmt.Errorf("pep: store affiliations: %w", err)
	}
	return stanza.Result(r.iq), nil
}
