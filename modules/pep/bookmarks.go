package pep

import (
	"context"
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// Namespaces of PEP Native Bookmarks (XEP-0402) and of the single-item
// bookmarks node of XEP-0048.
const (
	NSBookmarks          = "urn:xmpp:bookmarks:1"
	NSLegacyBookmarks    = "storage:bookmarks"
	NSBookmarksCompatPEP = NSBookmarks + "#compat-pep"
)

// The "storage:bookmarks" node is not stored. Its one item, "current", is
// built from the items of "urn:xmpp:bookmarks:1" whenever it is read, and
// publishing it updates those items, so that clients of both
// specifications see the same bookmarks (XEP-0402 §5.3).
func isLegacyBookmarks(node string) bool { return node == NSLegacyBookmarks }

// bookmarksConfig is the configuration that XEP-0402 §3.3 publishes
// bookmarks with, used when a legacy publish creates the node.
func bookmarksConfig() nodeConfig {
	cfg, _ := defaultConfig().apply(map[string][]string{
		fieldAccessModel: {AccessWhitelist},
		fieldMaxItems:    {"max"},
		fieldSendLast:    {SendLastNever},
	})
	return cfg
}

// legacyBookmarksItems returns the "storage:bookmarks" node's item, which
// only the account may read.
func (m *module) legacyBookmarksItems(ctx context.Context, r request) (*stanza.Stanza, error) {
	if !r.byOwner() {
		return nil, pubsubError(stanza.NotAllowed, "closed-node")
	}
	items, err := m.store.GetItems(ctx, owner(r.owner), NSBookmarks, 0)
	if err != nil {
		return nil, stanza.ItemNotFound
	}
	res := stanza.Result(r.iq)
	res.Inner = wrap("pubsub", NS, appendItems(nil, NSLegacyBookmarks, []item{legacyItem(items)}))
	return res, nil
}

// legacyItem builds the "current" item of XEP-0048 from XEP-0402 items.
func legacyItem(items []storage.PubSubItem) item {
	st := stanza.NewElement(NSLegacyBookmarks, "storage")
	for _, it := range items {
		conf, err := stanza.ParseElement(it.Payload, "")
		if err != nil || conf.Name.Space != NSBookmarks || conf.Name.Local != "conference" {
			continue
		}
		out := stanza.NewElement(NSLegacyBookmarks, "conference", "jid", it.ID, "autojoin", boolText(conf.AttrValue("autojoin")))
		if name := conf.AttrValue("name"); name != "" {
			out.SetAttr("name", name)
		}
		for _, child := range []string{"nick", "password"} {
			if el := conf.Child(NSBookmarks, child); el != nil {
				out.Add(stanza.NewElement(NSLegacyBookmarks, child).AddText(el.Text()))
			}
		}
		st.Add(out)
	}
	return item{ID: "current", Payload: []byte(st.String())}
}

// publishLegacyBookmarks replaces the XEP-0402 bookmarks with the ones of
// a published XEP-0048 <storage/>.
func (m *module) publishLegacyBookmarks(ctx context.Context, r request, p publication) error {
	st, err := stanza.ParseElement(p.payload, "")
	if err != nil || st.Name.Space != NSLegacyBookmarks || st.Name.Local != "storage" {
		return pubsubError(stanza.BadRequest, "invalid-payload")
	}
	if field := bookmarksConfig().matches(p.options); field != "" {
		return preconditionError(field)
	}

	unlock := m.nodes.lock(r.owner, NSBookmarks)
	defer unlock()
	n, cfg, err := m.ensureNode(ctx, r, NSBookmarks, bookmarksConfig().stored())
	if err != nil {
		// An existing node with another configuration is used as it is.
		if n, cfg, err = m.loadNode(ctx, r.owner, NSBookmarks); err != nil {
			return err
		}
	}
	if err := m.syncBookmarks(ctx, r, n, cfg, st); err != nil {
		return err
	}
	m.bookmarksChanged(ctx, r.owner)
	return nil
}

// syncBookmarks makes the items of the bookmarks node match the
// conferences of st: new and changed conferences are published, missing
// ones retracted, and unchanged ones left alone with their extensions.
// Bookmark URLs of XEP-0048 are dropped. The caller holds the node's lock.
func (m *module) syncBookmarks(ctx context.Context, r request, n storage.PubSubNode, cfg nodeConfig, st *stanza.Element) error {
	old, err := m.store.GetItems(ctx, owner(r.owner), NSBookmarks, 0)
	if err != nil {
		return fmt.Errorf("pep: read bookmarks: %w", err)
	}
	byID := make(map[string]*stanza.Element, len(old))
	for _, it := range old {
		if conf, err := stanza.ParseElement(it.Payload, ""); err == nil {
			byID[it.ID] = conf
		}
	}

	listed := make(map[string]bool)
	for _, conf := range st.ChildrenNamed(NSLegacyBookmarks, "conference") {
		room, err := jid.Parse(conf.AttrValue("jid"))
		if err != nil {
			continue
		}
		id := room.Bare().String()
		listed[id] = true
		next := modernConference(conf, byID[id])
		if prev := byID[id]; prev != nil && sameConference(prev, next) {
			continue
		}
		if err := m.storeAndNotify(ctx, r, n, cfg, id, []byte(next.String())); err != nil {
			return err
		}
	}

	for _, it := range old {
		if listed[it.ID] {
			continue
		}
		if err := m.store.RetractItem(ctx, owner(r.owner), NSBookmarks, it.ID); err != nil {
			return fmt.Errorf("pep: retract bookmark: %w", err)
		}
		m.notify(ctx, r.owner, n, cfg, retractBody(NSBookmarks, it.ID))
	}
	return nil
}

// storeAndNotify publishes one item to a node whose lock the caller holds.
func (m *module) storeAndNotify(ctx context.Context, r request, n storage.PubSubNode, cfg nodeConfig, id string, payload []byte) error {
	it := storage.PubSubItem{ID: id, Publisher: r.requester.String(), Payload: payload}
	if err := m.store.PublishItem(ctx, owner(r.owner), n.Name, it, cfg.maxItems()); err != nil {
		return fmt.Errorf("pep: publish bookmark: %w", err)
	}
	m.notify(ctx, r.owner, n, cfg, appendItems(nil, n.Name, []item{{ID: id, Payload: payload}}))
	return nil
}

// modernConference converts a XEP-0048 conference to XEP-0402, keeping
// the <extensions/> of the previous version.
func modernConference(conf, prev *stanza.Element) *stanza.Element {
	out := stanza.NewElement(NSBookmarks, "conference", "autojoin", boolText(conf.AttrValue("autojoin")))
	if name := conf.AttrValue("name"); name != "" {
		out.SetAttr("name", name)
	}
	for _, child := range []string{"nick", "password"} {
		if el := conf.Child(NSLegacyBookmarks, child); el != nil {
			out.Add(stanza.NewElement(NSBookmarks, child).AddText(el.Text()))
		}
	}
	if ext := prev.Child(NSBookmarks, "extensions"); ext != nil {
		out.Add(ext)
	}
	return out
}

// sameConference compares what both specifications carry.
func sameConference(a, b *stanza.Element) bool {
	return a.AttrValue("name") == b.AttrValue("name") &&
		boolText(a.AttrValue("autojoin")) == boolText(b.AttrValue("autojoin")) &&
		a.Child(NSBookmarks, "nick").Text() == b.Child(NSBookmarks, "nick").Text() &&
		a.Child(NSBookmarks, "password").Text() == b.Child(NSBookmarks, "password").Text()
}

// boolText returns an xs:boolean as "true" or "false".
func boolText(v string) string {
	if v == "true" || v == "1" {
		return "true"
	}
	return "false"
}

// bookmarksChanged sends the rebuilt "storage:bookmarks" item to the
// account's resources that want its notifications.
func (m *module) bookmarksChanged(ctx context.Context, account jid.JID) {
	targets := m.localInterested(account, NSLegacyBookmarks+"+notify")
	if len(targets) == 0 {
		return
	}
	items, err := m.store.GetItems(ctx, owner(account), NSBookmarks, 0)
	if err != nil {
		items = nil
	}
	m.sendEvent(ctx, account, targets, appendItems(nil, NSLegacyBookmarks, []item{legacyItem(items)}))
}
