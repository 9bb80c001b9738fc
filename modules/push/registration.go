package push

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// registration is one enabled app server node.
type registration struct {
	Service jid.JID
	Node    string
	// Options is the publish-options data form the client supplied, sent
	// with every notification. It is nil when there is none.
	Options *stanza.Element
}

// key returns the storage.KV key of the registration. Keys are never
// parsed back, so a colon inside the service or node does no harm.
func (r registration) key() string { return keyFor(r.Service, r.Node) }

func keyFor(service jid.JID, node string) string {
	return keyPrefix + service.String() + ":" + node
}

// element returns the stored form of the registration: the <enable/>
// element with the normalised JID.
func (r registration) element() *stanza.Element {
	e := stanza.NewElement(NS, "enable", "jid", r.Service.String(), "node", r.Node)
	if r.Options != nil {
		e.Add(r.Options)
	}
	return e
}

// parseEnable validates an <enable/> request.
func parseEnable(el *stanza.Element) (registration, error) {
	service, err := parseService(el)
	if err != nil {
		return registration{}, err
	}
	node := el.AttrValue("node")
	if node == "" {
		return registration{}, stanza.BadRequest.WithText("enable needs the node the app server provided")
	}
	reg := registration{Service: service, Node: node}
	forms := el.ChildrenNamed(nsData, "x")
	switch len(forms) {
	case 0:
	case 1:
		if reg.Options, err = publishOptions(forms[0]); err != nil {
			return registration{}, err
		}
	default:
		return registration{}, stanza.BadRequest.WithText("enable takes at most one publish-options form")
	}
	return reg, nil
}

// publishOptions checks a publish-options form and returns it as a form of
// type submit, because the pubsub publish carries it as a submitted form.
func publishOptions(form *stanza.Element) (*stanza.Element, error) {
	switch form.AttrValue("type") {
	case "":
		form.SetAttr("type", "submit")
	case "submit":
	default:
		return nil, stanza.BadRequest.WithText("the publish-options form must be of type submit")
	}
	if formType(form) != formPublishOptions {
		return nil, stanza.BadRequest.WithText("the form's FORM_TYPE must be " + formPublishOptions)
	}
	return form, nil
}

func formType(form *stanza.Element) string {
	for _, f := range form.ChildrenNamed(nsData, "field") {
		if f.AttrValue("var") == "FORM_TYPE" {
			return f.Child(nsData, "value").Text()
		}
	}
	return ""
}

// parseDisable validates a <disable/> request. An empty node disables
// every node of the service.
func parseDisable(el *stanza.Element) (jid.JID, string, error) {
	service, err := parseService(el)
	if err != nil {
		return jid.JID{}, "", err
	}
	return service, el.AttrValue("node"), nil
}

func parseService(el *stanza.Element) (jid.JID, error) {
	raw := el.AttrValue("jid")
	if raw == "" {
		return jid.JID{}, stanza.BadRequest.WithText("the jid of the push service is missing")
	}
	service, err := stanza.ParseJID(raw)
	if err != nil {
		return jid.JID{}, stanza.JIDMalformed.WithText("the jid of the push service is invalid")
	}
	return service, nil
}

// Keys in storage.KV. The index lists the registrations of an account,
// and each registration is stored under its own key as well.
const (
	indexKey  = "push"
	keyPrefix = "push:"
)

var errTooMany = stanza.NotAllowed.WithText(fmt.Sprintf(
	"an account may enable at most %d push services; disable one first", MaxRegistrations))

// registry stores registrations in storage.KV: an index under indexKey
// and one value per registration under its key.
type registry struct {
	kv storage.KV
	// locks serialise changes to one account's index. An account uses
	// the lock its bare JID hashes to.
	locks [64]sync.Mutex
}

func (r *registry) lock(o storage.Owner) *sync.Mutex {
	h := fnv.New32a()
	h.Write([]byte(o.String()))
	return &r.locks[h.Sum32()%uint32(len(r.locks))]
}

// list returns the account's registrations in the order they were first
// enabled.
func (r *registry) list(ctx context.Context, o storage.Owner) ([]registration, error) {
	index, err := r.index(ctx, o)
	if err != nil {
		return nil, err
	}
	out := make([]registration, 0, len(index))
	for _, entry := range index {
		b, err := r.kv.GetValue(ctx, o, entry.key())
		if errors.Is(err, storage.ErrNotFound) {
			continue // removed between reading the index and the value
		}
		if err != nil {
			return nil, fmt.Errorf("push: read registration: %w", err)
		}
		el, err := stanza.ParseElement(b, "")
		if err != nil {
			return nil, fmt.Errorf("push: parse registration: %w", err)
		}
		reg, err := parseEnable(el)
		if err != nil {
			return nil, fmt.Errorf("push: stored registration: %w", err)
		}
		out = append(out, reg)
	}
	return out, nil
}

// index reads the index. Its entries carry no publish options.
func (r *registry) index(ctx context.Context, o storage.Owner) ([]registration, error) {
	b, err := r.kv.GetValue(ctx, o, indexKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("push: read index: %w", err)
	}
	root, err := stanza.ParseElement(b, "")
	if err != nil {
		return nil, fmt.Errorf("push: parse index: %w", err)
	}
	var out []registration
	for _, el := range root.ChildrenNamed(NS, "enable") {
		reg, err := parseEnable(el)
		if err != nil {
			return nil, fmt.Errorf("push: index entry: %w", err)
		}
		out = append(out, reg)
	}
	return out, nil
}

func (r *registry) writeIndex(ctx context.Context, o storage.Owner, index []registration) error {
	if len(index) == 0 {
		if err := r.kv.DeleteValue(ctx, o, indexKey); err != nil {
			return fmt.Errorf("push: delete index: %w", err)
		}
		return nil
	}
	root := stanza.NewElement(NS, "push")
	for _, reg := range index {
		root.Add(registration{Service: reg.Service, Node: reg.Node}.element())
	}
	if err := r.kv.PutValue(ctx, o, indexKey, root.AppendXML(nil, "")); err != nil {
		return fmt.Errorf("push: write index: %w", err)
	}
	return nil
}

// put stores reg, replacing the publish options of an earlier
// registration of the same service and node, as XEP-0357 asks. It returns
// errTooMany when the account has MaxRegistrations others.
func (r *registry) put(ctx context.Context, o storage.Owner, reg registration) error {
	mu := r.lock(o)
	mu.Lock()
	defer mu.Unlock()
	index, err := r.index(ctx, o)
	if err != nil {
		return err
	}
	known := false
	for _, e := range index {
		known = known || e.key() == reg.key()
	}
	if !known && len(index) >= MaxRegistrations {
		return errTooMany
	}
	// The value is written first, so that every index entry has one.
	if err := r.kv.PutValue(ctx, o, reg.key(), reg.element().AppendXML(nil, "")); err != nil {
		return fmt.Errorf("push: write registration: %w", err)
	}
	if known {
		return nil
	}
	return r.writeIndex(ctx, o, append(index, reg))
}

// remove deletes the registrations of service with the given node, or
// every node of service when node is empty. It returns how many it
// removed.
func (r *registry) remove(ctx context.Context, o storage.Owner, service jid.JID, node string) (int, error) {
	mu := r.lock(o)
	mu.Lock()
	defer mu.Unlock()
	index, err := r.index(ctx, o)
	if err != nil {
		return 0, err
	}
	var keep, gone []registration
	for _, e := range index {
		if e.Service.Equal(service) && (node == "" || e.Node == node) {
			gone = append(gone, e)
		} else {
			keep = append(keep, e)
		}
	}
	if len(gone) == 0 {
		return 0, nil
	}
	// The index is written first, so that no entry outlives its value.
	if err := r.writeIndex(ctx, o, keep); err != nil {
		return 0, err
	}
	for _, e := range gone {
		if err := r.kv.DeleteValue(ctx, o, e.key()); err != nil {
			return 0, fmt.Errorf("push: delete registration: %w", err)
		}
	}
	return len(gone), nil
}
