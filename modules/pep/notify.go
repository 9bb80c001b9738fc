package pep

import (
	"context"
	"errors"
	"time"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// notify sends an event notification with the given content (an <items/>,
// <purge/> or <delete/> element) to every target of the node.
func (m *module) notify(ctx context.Context, account jid.JID, n storage.PubSubNode, cfg nodeConfig, body []byte) {
	m.sendEvent(ctx, account, m.notifyTargets(ctx, account, n, cfg), body)
}

// sendEvent sends a headline message with a pubsub event to each target,
// from the account's bare JID (XEP-0163 §4.3.1).
func (m *module) sendEvent(ctx context.Context, account jid.JID, targets []jid.JID, body []byte) {
	if len(targets) == 0 {
		return
	}
	inner := wrap("event", NSEvent, body)
	for _, to := range targets {
		msg := &stanza.Stanza{Name: stanza.Message, Type: "headline", ID: newID(), To: to, From: account, Inner: inner}
		m.host.Route(ctx, msg)
	}
}

// notifyTargets returns the full JIDs that get the node's notifications
// (XEP-0163 §4.1, §4.3). These are the account's own available resources
// and those of the contacts that may access the node and receive the
// account's presence. Only resources whose entity capabilities include
// NODE+notify are returned.
func (m *module) notifyTargets(ctx context.Context, account jid.JID, n storage.PubSubNode, cfg nodeConfig) []jid.JID {
	feature := n.Name + "+notify"
	targets := m.localInterested(account, feature)
	items, _, err := m.store.GetRoster(ctx, owner(account))
	if err != nil {
		m.log.Error("load roster for notifications", "err", err, "jid", account.String())
		return targets
	}
	for _, it := range items {
		v := viewerFromItem(it, n)
		if !v.sharesPresence() || mayAccess(cfg, v) != nil {
			continue
		}
		contact, err := jid.Parse(it.JID)
		if err != nil || contact.Equal(account) || m.blocked(ctx, account, contact) {
			continue
		}
		if m.host.IsLocal(contact.Domainpart()) {
			targets = append(targets, m.localInterested(contact, feature)...)
		} else {
			targets = append(targets, m.remote.interested(contact, account, feature)...)
		}
	}
	return targets
}

// localInterested returns the available resources of a local account
// whose capabilities include feature.
func (m *module) localInterested(bare jid.JID, feature string) []jid.JID {
	var out []jid.JID
	for _, s := range m.host.Sessions(bare) {
		if router.Available(s) && peekInterest(s).has(feature) {
			out = append(out, s.JID())
		}
	}
	return out
}

// sendLastItems sends to one full JID the last published item of each of
// the account's nodes that it is interested in and may access, as when it
// becomes available (XEP-0163 §4.3.4). Each carries a delay stamp with the
// time of publication.
func (m *module) sendLastItems(ctx context.Context, account, to jid.JID, notify featureSet) {
	if len(notify) == 0 {
		return
	}
	nodes, err := m.store.ListNodes(ctx, owner(account))
	if err != nil {
		m.log.Error("list nodes for last items", "err", err, "jid", account.String())
		return
	}
	var contact *storage.RosterItem // read on first use
	for _, n := range nodes {
		cfg := configFromStored(n.Config)
		if !notify.has(n.Name+"+notify") || !cfg.sendLastOnPresence() {
			continue
		}
		if !to.Bare().Equal(account) {
			if contact == nil {
				it := m.contactItem(ctx, account, to.Bare())
				contact = &it
			}
			v := viewerFromItem(*contact, n)
			if !v.sharesPresence() || mayAccess(cfg, v) != nil {
				continue
			}
		}
		m.sendLastItem(ctx, account, to, n.Name)
	}
}

// contactItem returns the roster item of contact in the account's roster,
// or an item with no subscription when there is none or it cannot be
// read.
func (m *module) contactItem(ctx context.Context, account, contact jid.JID) storage.RosterItem {
	it, err := m.store.GetRosterItem(ctx, owner(account), contact.String())
	if err != nil {
		if !errors.Is(err, storage.ErrNotFound) {
			m.log.Error("read roster item", "err", err, "jid", account.String())
		}
		it = storage.RosterItem{JID: contact.String(), Subscription: storage.SubNone}
	}
	return it
}

// sendLastItem sends the node's newest item to one full JID. It reads and
// routes the item under the node's lock, as publish and retract notify,
// so the item cannot arrive after the notification of a later change,
// such as the retraction of that same item.
func (m *module) sendLastItem(ctx context.Context, account, to jid.JID, node string) {
	unlock := m.nodes.lock(account, node)
	defer unlock()
	items, err := m.store.GetItems(ctx, owner(account), node, 1)
	if err != nil || len(items) == 0 {
		return
	}
	it := items[0]
	body := appendItems(nil, node, []item{{ID: it.ID, Payload: it.Payload}})
	inner := wrap("event", NSEvent, body)
	delay := stanza.NewElement(stanza.NSDelay, "delay",
		"from", account.String(), "stamp", it.Published.UTC().Format(time.RFC3339Nano))
	inner = delay.AppendXML(inner, "")
	msg := &stanza.Stanza{Name: stanza.Message, Type: "headline", ID: newID(), To: to, From: account, Inner: inner}
	m.host.Route(ctx, msg)
}
