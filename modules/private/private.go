// Package private implements Private XML Storage (XEP-0049): an account
// stores XML fragments on the server, each under the namespace of its root
// element, and reads them back. Only the account itself may do either.
package private

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// NS is the XEP-0049 namespace.
const NS = "jabber:iq:private"

// KeyPrefix starts the storage.KV key of each stored namespace: a fragment
// in namespace ns is stored under KeyPrefix+ns.
const KeyPrefix = "private:"

// reserved are the namespaces rejected with not-acceptable. XEP-0049 lets
// a server reject every reserved namespace (those starting with "jabber:"
// or "http://jabber.org/", and vcard-temp). This server rejects only the
// stanza namespaces and NS itself, which the XEP-0049 schema excludes, so
// that data stored by existing clients keeps working. An element without
// its own xmlns inside <query/> is in NS.
var reserved = map[string]bool{
	stanza.NSClient: true,
	stanza.NSServer: true,
	NS:              true,
}

func init() {
	modules.Register(modules.Module{Name: "private", New: start})
}

type service struct {
	kv storage.KV
}

func start(env *modules.Env) error {
	s := &service{kv: env.Store}
	env.Host.HandleIQ(router.ScopeAccount, NS, s.handle)
	env.Host.AddFeature(router.ScopeAccount, NS)
	return nil
}

func (s *service) handle(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	account := iq.From.Bare()
	if !stanza.IsZero(iq.To) && !iq.To.Bare().Equal(account) {
		return nil, stanza.Forbidden.WithText("private storage belongs to its account only")
	}
	if q.Name.Local != "query" {
		return nil, stanza.BadRequest
	}
	children := q.Elements()
	for _, c := range children {
		if reserved[c.Name.Space] {
			return nil, stanza.NotAcceptable.WithText("namespace " + c.Name.Space + " cannot be stored")
		}
	}
	if iq.Type == "get" {
		return s.get(ctx, iq, account, children)
	}
	return s.set(ctx, iq, account, children)
}

// get returns the stored fragment of the one namespace requested, or the
// requested element unchanged when nothing is stored.
func (s *service) get(ctx context.Context, iq *stanza.Stanza, account jid.JID, children []*stanza.Element) (*stanza.Stanza, error) {
	if len(children) != 1 {
		// XEP-0049 recommends "Bad Format" (bad-request) for a get
		// without a child and forbids requesting several namespaces.
		return nil, stanza.BadRequest.WithText("a get request names exactly one element")
	}
	want := children[0]
	b, err := s.kv.GetValue(ctx, owner(account), KeyPrefix+want.Name.Space)
	if errors.Is(err, storage.ErrNotFound) {
		return stanza.Result(iq, stanza.NewElement(NS, "query").Add(want)), nil
	}
	if err != nil {
		return nil, fmt.Errorf("private: read: %w", err)
	}
	res, err := parseStored(b)
	if err != nil {
		return nil, fmt.Errorf("private: parse stored %s: %w", want.Name.Space, err)
	}
	return stanza.Result(iq, res), nil
}

// set stores the children grouped by namespace. Every element of one
// namespace in the request replaces what was stored for that namespace.
//
// NOTE: a request with several namespaces is stored one namespace at a
// time; if a write fails, the earlier ones stay stored.
func (s *service) set(ctx context.Context, iq *stanza.Stanza, account jid.JID, children []*stanza.Element) (*stanza.Stanza, error) {
	if len(children) == 0 {
		return nil, stanza.NotAcceptable.WithText("nothing to store")
	}
	var order []string
	byNS := make(map[string][]byte)
	for _, c := range children {
		ns := c.Name.Space
		if _, ok := byNS[ns]; !ok {
			order = append(order, ns)
		}
		byNS[ns] = c.AppendXML(byNS[ns], "")
	}
	for _, ns := range order {
		if err := s.kv.PutValue(ctx, owner(account), KeyPrefix+ns, byNS[ns]); err != nil {
			return nil, fmt.Errorf("private: store %s: %w", ns, err)
		}
	}
	return stanza.Result(iq), nil
}

// parseStored returns a <query/> holding the stored elements, which are
// serialized one after the other, each declaring its namespace.
func parseStored(b []byte) (*stanza.Element, error) {
	var buf bytes.Buffer
	buf.WriteString("<query xmlns='" + NS + "'>")
	buf.Write(b)
	buf.WriteString("</query>")
	return stanza.ParseElement(buf.Bytes(), "")
}

func owner(bare jid.JID) storage.Owner {
	return storage.Owner{Domain: bare.Domainpart(), Local: bare.Localpart()}
}
