// Package vcard stores and serves vcard-temp profiles (XEP-0054). Anyone
// may read a local account's vCard; only the account itself may change it.
// The server's own vCard is empty.
package vcard

import (
	"context"
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// NS is the XEP-0054 namespace.
const NS = "vcard-temp"

// Key is the storage.KV key under which an account's vCard is stored, as
// the serialized <vCard/> element. The stanza size limit bounds its size.
const Key = "vcard-temp"

func init() {
	modules.Register(modules.Module{Name: "vcard", New: start})
}

type service struct {
	kv storage.KV
}

func start(env *modules.Env) error {
	s := &service{kv: env.Store}
	h := env.Host
	h.HandleIQ(router.ScopeServer, NS, serverVCard)
	h.HandleIQ(router.ScopeAccount, NS, s.accountVCard)
	h.AddFeature(router.ScopeServer, NS)
	h.AddFeature(router.ScopeAccount, NS)
	return nil
}

func serverVCard(_ context.Context, iq *stanza.Stanza, v *stanza.Element) (*stanza.Stanza, error) {
	if v.Name.Local != "vCard" {
		return nil, stanza.BadRequest
	}
	if iq.Type != "get" {
		return nil, stanza.NotAllowed.WithText("the server's vCard cannot be changed")
	}
	return stanza.Result(iq, stanza.NewElement(NS, "vCard")), nil
}

func (s *service) accountVCard(ctx context.Context, iq *stanza.Stanza, v *stanza.Element) (*stanza.Stanza, error) {
	if v.Name.Local != "vCard" {
		return nil, stanza.BadRequest
	}
	account := iq.From.Bare()
	if !stanza.IsZero(iq.To) {
		account = iq.To.Bare()
	}
	if iq.Type == "get" {
		return s.get(ctx, iq, account)
	}
	if !account.Equal(iq.From.Bare()) {
		return nil, stanza.Forbidden.WithText("only the account itself may change its vCard")
	}
	return s.set(ctx, iq, account, v)
}

// get returns the stored vCard, or an empty one when none is stored.
// XEP-0054 §3.1 also allows item-not-found. Prosody's mod_vcard_legacy
// returns an empty vCard too.
func (s *service) get(ctx context.Context, iq *stanza.Stanza, account jid.JID) (*stanza.Stanza, error) {
	b, err := s.kv.GetValue(ctx, owner(account), Key)
	if errors.Is(err, storage.ErrNotFound) {
		return stanza.Result(iq, stanza.NewElement(NS, "vCard")), nil
	}
	if err != nil {
		return nil, fmt.Errorf("vcard: read: %w", err)
	}
	v, err := stanza.ParseElement(b, "")
	if err != nil {
		return nil, fmt.Errorf("vcard: parse stored vCard: %w", err)
	}
	return stanza.Result(iq, v), nil
}

// set stores v as the account's vCard. A vCard without child elements
// deletes the stored one.
func (s *service) set(ctx context.Context, iq *stanza.Stanza, account jid.JID, v *stanza.Element) (*stanza.Stanza, error) {
	var err error
	if len(v.Elements()) == 0 {
		err = s.kv.DeleteValue(ctx, owner(account), Key)
	} else {
		err = s.kv.PutValue(ctx, owner(account), Key, []byte(v.String()))
	}
	if err != nil {
		return nil, fmt.Errorf("vcard: store: %w", err)
	}
	return stanza.Result(iq), nil
}

func owner(bare jid.JID) storage.Owner {
	return storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()}
}
