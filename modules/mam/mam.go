// Package mam keeps a message archive for every local account and serves
// archive queries: Message Archive Management (XEP-0313, namespace
// urn:xmpp:mam:2, with the urn:xmpp:mam:2#extended fields, flipped pages
// and archive metadata), paged with Result Set Management (XEP-0059).
// Archived messages delivered to an account carry the archive id as a
// Unique and Stable Stanza ID (XEP-0359), and accounts choose what is
// archived with the preferences of XEP-0441.
//
// The query, result and stanza-id functions are exported so that a
// group chat service can serve its room archives with the same code.
package mam

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// Namespaces used by the archive protocol.
const (
	// NS is the namespace of XEP-0313 queries, results and preferences.
	NS = "urn:xmpp:mam:2"
	// NSExtended is the disco feature for the before-id, after-id and ids
	// fields, flipped pages and archive metadata.
	NSExtended = "urn:xmpp:mam:2#extended"
	// NSStanzaID is the namespace of XEP-0359 stanza ids.
	NSStanzaID = "urn:xmpp:sid:0"
	// NSForward is the namespace of XEP-0297 forwarded stanzas.
	NSForward = "urn:xmpp:forward:0"
	// NSRSM is the namespace of XEP-0059 result set management.
	NSRSM = "http://jabber.org/protocol/rsm"
	// NSData is the namespace of XEP-0004 data forms.
	NSData = "jabber:x:data"
	// NSHints is the namespace of XEP-0334 message processing hints.
	NSHints = "urn:xmpp:hints"
)

// PrefsKey is the storage.KV key under which an account's archiving
// preferences are stored, as the serialized <prefs/> element.
const PrefsKey = "mam:prefs"

// retentionInterval is how often expired messages are deleted.
const retentionInterval = time.Hour

func init() {
	modules.Register(modules.Module{Name: "mam", New: start})
}

// module archives the messages of local accounts.
type module struct {
	host        router.Host
	archive     storage.Archive
	kv          storage.KV
	roster      storage.Roster
	defaultMode string
	maxPage     int
	log         *slog.Logger

	// prefsCache keeps each account's preferences after the first read,
	// because every archived message needs them. setPrefs updates it.
	// NOTE: with several servers on one database, a change made through
	// another server is seen here only after a restart.
	prefsCache sync.Map // storage.Owner → Prefs
}

func start(env *modules.Env) error {
	cfg := env.Config.Archive
	if !cfg.Enabled {
		return nil
	}
	archive, ok := env.Store.(storage.Archive)
	if !ok {
		return fmt.Errorf("mam: the storage backend %T does not implement storage.Archive", env.Store)
	}
	m := &module{
		host:        env.Host,
		archive:     archive,
		kv:          env.Store,
		roster:      env.Store,
		defaultMode: cfg.DefaultMode,
		maxPage:     cfg.MaxPage,
		log:         env.Host.Logger("mam"),
	}

	h := env.Host
	h.HandleIQ(router.ScopeAccount, NS, m.handleIQ)
	h.Hook(router.Outbound, stanza.Message, router.OrderArchive, m.outbound)
	h.Hook(router.Inbound, stanza.Message, router.OrderArchive, m.inbound)
	h.AddFeature(router.ScopeAccount, NS)
	h.AddFeature(router.ScopeAccount, NSExtended)
	h.AddFeature(router.ScopeServer, NSStanzaID)

	if cfg.Retention > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		h.OnStop(func(context.Context) { cancel() })
		go ExpireEvery(ctx, archive, cfg.Retention, retentionInterval, m.log)
	}
	return nil
}

// handleIQ serves the archive's iqs. Only the account itself may send
// them, and anybody else gets forbidden, as XEP-0313 recommends.
func (m *module) handleIQ(ctx context.Context, iq *stanza.Stanza, payload *stanza.Element) (*stanza.Stanza, error) {
	account := iq.From.Bare()
	if !stanza.IsZero(iq.To) && !iq.To.Bare().Equal(account) {
		return nil, stanza.Forbidden.WithText("only the account itself may access its archive")
	}
	o := owner(account)
	switch {
	case payload.Name.Local == "query" && iq.Type == "get":
		return stanza.Result(iq, QueryForm()), nil
	case payload.Name.Local == "query":
		return m.query(ctx, iq, payload, o, account)
	case payload.Name.Local == "metadata" && iq.Type == "get":
		md, err := Metadata(ctx, m.archive, o)
		if err != nil {
			return nil, err
		}
		return stanza.Result(iq, md), nil
	case payload.Name.Local == "prefs" && iq.Type == "get":
		p, err := m.prefs(ctx, o)
		if err != nil {
			return nil, err
		}
		return stanza.Result(iq, p.Element()), nil
	case payload.Name.Local == "prefs":
		return m.setPrefs(ctx, iq, payload, o)
	}
	return nil, stanza.BadRequest.WithText("unknown archive request")
}

// query serves an archive query and sends the results to the session
// that sent it.
func (m *module) query(ctx context.Context, iq *stanza.Stanza, payload *stanza.Element, o storage.Owner, account jid.JID) (*stanza.Stanza, error) {
	sess := m.host.Session(iq.From)
	if sess == nil {
		return nil, nil // the requesting session has ended
	}
	return Answer(ctx, m.archive, o, account, iq, payload, m.maxPage, sess.Deliver)
}

// setPrefs stores new archiving preferences and returns them.
func (m *module) setPrefs(ctx context.Context, iq *stanza.Stanza, payload *stanza.Element, o storage.Owner) (*stanza.Stanza, error) {
	p, err := ParsePrefs(payload)
	if err != nil {
		return nil, err
	}
	el := p.Element()
	if err := m.kv.PutValue(ctx, o, PrefsKey, []byte(el.String())); err != nil {
		return nil, fmt.Errorf("mam: store preferences of %s: %w", o, err)
	}
	m.prefsCache.Store(o, p)
	return stanza.Result(iq, el), nil
}

// prefs returns the account's stored preferences, or the configured
// default when it stored none.
func (m *module) prefs(ctx context.Context, o storage.Owner) (Prefs, error) {
	if p, ok := m.prefsCache.Load(o); ok {
		return p.(Prefs), nil
	}
	p, err := m.loadPrefs(ctx, o)
	if err == nil {
		m.prefsCache.Store(o, p)
	}
	return p, err
}

func (m *module) loadPrefs(ctx context.Context, o storage.Owner) (Prefs, error) {
	b, err := m.kv.GetValue(ctx, o, PrefsKey)
	if errors.Is(err, storage.ErrNotFound) {
		return Prefs{Default: m.defaultMode}, nil
	}
	if err != nil {
		return Prefs{}, fmt.Errorf("mam: read preferences of %s: %w", o, err)
	}
	el, err := stanza.ParseElement(b, "")
	if err != nil {
		return Prefs{}, fmt.Errorf("mam: parse stored preferences of %s: %w", o, err)
	}
	return ParsePrefs(el)
}

// owner returns the storage owner of an account's bare JID.
func owner(bare jid.JID) storage.Owner {
	return storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()}
}
