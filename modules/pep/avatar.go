package pep

import (
	"context"
	"errors"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// Namespaces of User Avatar (XEP-0084) and vCard-Based Avatars
// (XEP-0153).
const (
	NSAvatarData     = "urn:xmpp:avatar:data"
	NSAvatarMetadata = "urn:xmpp:avatar:metadata"
	NSVCardUpdate    = "vcard-temp:x:update"
)

// photoState is the avatar state that an account's metadata node
// records: set is false when the node has no item, and hash is empty when
// the item is an empty <metadata/>, which disables the avatar.
type photoState struct {
	set  bool
	hash string // SHA-1 of the image, hex, as the info id carries it
}

// photoCache keeps the photoState of accounts with a session on this
// node, so that presence does not read storage each time.
//
// NOTE: in a cluster, another node's cache is not updated when the
// account publishes a new avatar there, until the account's last session
// on this node ends.
type photoCache struct {
	mu    sync.Mutex
	state map[string]photoState // by bare JID; guarded by mu
}

func newPhotoCache() *photoCache { return &photoCache{state: make(map[string]photoState)} }

func (c *photoCache) get(bare jid.JID) (photoState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, ok := c.state[bare.String()]
	return st, ok
}

func (c *photoCache) put(bare jid.JID, st photoState) {
	c.mu.Lock()
	c.state[bare.String()] = st
	c.mu.Unlock()
}

func (c *photoCache) forget(bare jid.JID) {
	c.mu.Lock()
	delete(c.state, bare.String())
	c.mu.Unlock()
}

// photoOf returns the account's photoState, from the cache or storage.
func (m *module) photoOf(ctx context.Context, account jid.JID) photoState {
	if st, ok := m.avatars.get(account); ok {
		return st
	}
	st := photoState{}
	meta, err := m.avatarMetadata(ctx, account)
	if err == nil && meta != nil {
		st.set = true
		if info := preferredInfo(meta); info != nil {
			st.hash = info.AttrValue("id")
		}
	}
	if err == nil {
		m.avatars.put(account, st)
	}
	return st
}

// avatarMetadata returns the payload of the account's last metadata item,
// or nil when there is none.
func (m *module) avatarMetadata(ctx context.Context, account jid.JID) (*stanza.Element, error) {
	items, err := m.store.GetItems(ctx, owner(account), NSAvatarMetadata, 1)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && len(items) == 0) {
		return nil, nil
	}
	if err != nil {
		m.log.Error("read avatar metadata", "err", err, "jid", account.String())
		return nil, err
	}
	meta, err := stanza.ParseElement(items[0].Payload, "")
	if err != nil || meta.Name.Space != NSAvatarMetadata || meta.Name.Local != "metadata" {
		return nil, nil
	}
	return meta, nil
}

// preferredInfo returns the <info/> of an image kept in the avatar data
// node, that is one without a url, as XEP-0398 ("From PEP to vCard")
// requires. It prefers image/png, which every vCard client can show.
func preferredInfo(meta *stanza.Element) *stanza.Element {
	var first *stanza.Element
	for _, info := range meta.ChildrenNamed(NSAvatarMetadata, "info") {
		if info.HasAttr("url") {
			continue
		}
		if info.AttrValue("type") == "image/png" {
			return info
		}
		if first == nil {
			first = info
		}
	}
	return first
}

// addPhotoHash puts the account's avatar hash in an available presence as
// <x xmlns='vcard-temp:x:update'><photo>HASH</photo></x>, replacing the
// one the client sent, as XEP-0398 ("Presence Broadcast") describes. A
// presence with an empty <photo/>, which a client sends while it has no
// avatar to announce, is left as it is, and so is the presence of an
// account without avatar metadata. When fromClient is set and the
// metadata disables the PEP avatar (no <info/>), the client's own hash is
// kept too: it names the vCard photo of a client that sets its avatar
// only with vcard-temp (XEP-0153), such as slixmpp 1.8.3. It reports
// whether p changed.
func (m *module) addPhotoHash(ctx context.Context, p *stanza.Stanza, fromClient bool) bool {
	st := m.photoOf(ctx, p.From.Bare())
	if !st.set {
		return false
	}
	el, err := p.Payload()
	if err != nil {
		return false
	}
	if xs := el.ChildrenNamed(NSVCardUpdate, "x"); len(xs) == 1 {
		if photo := xs[0].Child(NSVCardUpdate, "photo"); photo != nil && (photo.Text() == "" || photo.Text() == st.hash || fromClient && st.hash == "") {
			return false
		}
	}
	el.RemoveChildren(NSVCardUpdate, "x")
	el.Add(stanza.NewElement(NSVCardUpdate, "x").Add(stanza.NewElement(NSVCardUpdate, "photo").AddText(st.hash)))
	p.SetPayload(el)
	return true
}

// updatePhoto brings the avatar hash of a presence in line with the
// account's metadata: the hash when there is metadata, and no
// vcard-temp:x:update element once the metadata is gone. It reports
// whether p changed.
func (m *module) updatePhoto(ctx context.Context, p *stanza.Stanza) bool {
	if m.photoOf(ctx, p.From.Bare()).set {
		return m.addPhotoHash(ctx, p, false)
	}
	el, err := p.Payload()
	if err != nil || el.Child(NSVCardUpdate, "x") == nil {
		return false
	}
	el.RemoveChildren(NSVCardUpdate, "x")
	p.SetPayload(el)
	return true
}

// avatarChanged reloads the account's avatar hash and sends the presence
// of each available resource again with the new hash, to the contacts
// that receive its presence and to the account's resources. When the
// metadata is gone, the presence goes out without a hash.
func (m *module) avatarChanged(ctx context.Context, account jid.JID) {
	m.avatars.forget(account)
	var contacts []jid.JID
	items, _, err := m.store.GetRoster(ctx, owner(account))
	if err != nil {
		m.log.Error("load roster for presence", "err", err, "jid", account.String())
	}
	for _, it := range items {
		if sharesPresence(it) {
			if c, err := jid.Parse(it.JID); err == nil {
				contacts = append(contacts, c)
			}
		}
	}
	sessions := m.host.Sessions(account)
	for _, s := range sessions {
		cur := s.Presence()
		if cur == nil {
			continue
		}
		p := cur.Copy()
		p.From = s.JID()
		if !m.updatePhoto(ctx, p) {
			continue
		}
		s.SetPresence(p)
		m.rebroadcast(ctx, p, contacts, sessions)
	}
}

// rebroadcast sends an updated presence to contacts and to the account's
// available resources.
func (m *module) rebroadcast(ctx context.Context, p *stanza.Stanza, contacts []jid.JID, sessions []router.Session) {
	for _, c := range contacts {
		out := p.Copy()
		out.To = c
		m.host.Route(ctx, out)
	}
	for _, s := range sessions {
		if router.Available(s) {
			out := p.Copy()
			out.To = s.JID()
			s.Deliver(out)
		}
	}
}

// afterPublish, afterRetract and afterChange keep the state derived from
// particular nodes in step: the avatar hash in presence and the legacy
// bookmarks node.
func (m *module) afterPublish(ctx context.Context, r request, p publication) {
	m.afterChange(ctx, r.owner, p.node)
}

func (m *module) afterRetract(ctx context.Context, r request, node, _ string) {
	m.afterChange(ctx, r.owner, node)
}

func (m *module) afterChange(ctx context.Context, account jid.JID, node string) {
	switch node {
	case NSAvatarMetadata:
		m.avatarChanged(ctx, account)
	case NSBookmarks:
		m.bookmarksChanged(ctx, account)
	}
}
