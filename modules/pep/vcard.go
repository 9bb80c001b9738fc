package pep

import (
	"context"
	"errors"

	"mellium.im/xmpp/jid"

	"tern/modules/vcard"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// outboundVCard handles a vcard-temp get that a client sends with no
// 'to', for its own account, and inboundVCard one addressed to a local
// account's bare JID. Both leave the request to the vcard module unless
// answerVCard adds the PEP avatar.
func (m *module) outboundVCard(ctx context.Context, ev *router.Event) router.Result {
	iq := ev.Stanza
	if !stanza.IsZero(iq.To) {
		return router.Continue
	}
	return m.answerVCard(ctx, iq, iq.From.Bare())
}

func (m *module) inboundVCard(ctx context.Context, ev *router.Event) router.Result {
	iq := ev.Stanza
	if iq.To.Localpart() == "" || iq.To.Resourcepart() != "" {
		return router.Continue
	}
	return m.answerVCard(ctx, iq, iq.To.Bare())
}

// answerVCard responds to a vcard-temp get for an account whose stored vCard
// has no PHOTO but whose PEP avatar the requester may see: the response
// is the stored vCard (or an empty one) with the avatar's image data as
// PHOTO. The stored vCard is not changed.
func (m *module) answerVCard(ctx context.Context, iq *stanza.Stanza, account jid.JID) router.Result {
	if iq.Type != "get" || iq.Child(vcard.NS, "vCard") == nil || len(iq.Children()) != 1 {
		return router.Continue
	}
	card := stanza.NewElement(vcard.NS, "vCard")
	b, err := m.store.GetValue(ctx, owner(account), vcard.Key)
	switch {
	case err == nil:
		stored, err := stanza.ParseElement(b, "")
		if err != nil || stored.Child(vcard.NS, "PHOTO") != nil {
			return router.Continue
		}
		card = stored
	case !errors.Is(err, storage.ErrNotFound):
		return router.Continue
	}
	photo := m.pepPhoto(ctx, account, iq.From)
	if photo == nil {
		return router.Continue
	}
	card.Add(photo)
	m.host.Route(ctx, stanza.Result(iq, card))
	return router.Stop
}

// pepPhoto returns the vCard PHOTO for the account's PEP avatar, or nil
// when there is none or requester may not see the avatar data node.
func (m *module) pepPhoto(ctx context.Context, account, requester jid.JID) *stanza.Element {
	meta, err := m.avatarMetadata(ctx, account)
	if err != nil || meta == nil {
		return nil
	}
	info := preferredInfo(meta)
	if info == nil {
		return nil
	}
	n, cfg, err := m.loadNode(ctx, account, NSAvatarData)
	if err != nil || m.checkAccess(ctx, account, requester, n, cfg) != nil {
		return nil
	}
	it, err := m.store.GetItem(ctx, owner(account), NSAvatarData, info.AttrValue("id"))
	if err != nil {
		return nil
	}
	data, err := stanza.ParseElement(it.Payload, "")
	if err != nil || data.Name.Space != NSAvatarData || data.Name.Local != "data" {
		return nil
	}
	typ := info.AttrValue("type")
	if typ == "" {
		typ = "image/png"
	}
	return stanza.NewElement(vcard.NS, "PHOTO").Add(
		stanza.NewElement(vcard.NS, "TYPE").AddText(typ),
		stanza.NewElement(vcard.NS, "BINVAL").AddText(data.Text()),
	)
}
