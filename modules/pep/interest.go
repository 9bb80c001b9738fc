package pep

import (
	"context"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// resolveTimeout bounds the work that follows a presence: the caps query
// and sending the last published items.
const resolveTimeout = capsTimeout + 20*time.Second

// interestKey is the session value holding the session's *interest.
type interestKey struct{}

// interest is the entity capabilities of one local session and, once
// known, its features.
type interest struct {
	mu       sync.Mutex
	ref      capsRef    // guarded by mu
	features featureSet // nil until resolved; guarded by mu
}

// interestOf returns the session's interest, creating it on first use.
// Sessions that never sent caps have an empty one.
func interestOf(s router.Session) *interest {
	if in, ok := s.Value(interestKey{}).(*interest); ok {
		return in
	}
	in := &interest{}
	s.SetValue(interestKey{}, in)
	return in
}

// peekInterest returns the session's interest, or nil when the session
// never sent presence.
func peekInterest(s router.Session) *interest {
	in, _ := s.Value(interestKey{}).(*interest)
	return in
}

// has reports whether the resolved features include feature; a nil
// interest has none.
func (in *interest) has(feature string) bool {
	if in == nil {
		return false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.features.has(feature)
}

// update records the caps of a new presence and reports whether they
// differ from the previous ones.
func (in *interest) update(ref capsRef) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if ref == in.ref && in.features != nil {
		return false
	}
	in.ref, in.features = ref, nil
	return true
}

// resolved stores the features of ref unless newer caps replaced ref
// meanwhile, and reports whether it stored them.
func (in *interest) resolved(ref capsRef, fs featureSet) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.ref != ref {
		return false
	}
	in.features = fs
	return true
}

func (in *interest) current() capsRef {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.ref
}

// outboundPresence handles presence a local session sends: it adds the
// avatar hash (XEP-0398), and records the caps of broadcast presence.
// When the caps of an available session change, it resolves the new
// features and sends the last items they call for. For initial presence,
// sessionAvailable does that after the presence broadcast.
func (m *module) outboundPresence(ctx context.Context, ev *router.Event) router.Result {
	p := ev.Stanza
	if p.Type != "" {
		return router.Continue
	}
	m.addPhotoHash(ctx, p, true)
	if !stanza.IsZero(p.To) || ev.Session == nil {
		return router.Continue
	}
	ref, _ := capsOf(p)
	changed := interestOf(ev.Session).update(ref)
	if changed && router.Available(ev.Session) {
		go m.resolveLocal(ev.Session)
	}
	return router.Continue
}

func (m *module) sessionAvailable(_ context.Context, s router.Session) {
	go m.resolveLocal(s)
}

func (m *module) sessionUnavailable(_ context.Context, s router.Session) {
	if in := peekInterest(s); in != nil {
		in.update(capsRef{})
	}
}

// resolveLocal learns the features of a local session and sends it the
// last items of its own account's nodes and of the local accounts that
// share their presence with it. It runs on its own goroutine, because
// the caps query waits for the session's own reader.
func (m *module) resolveLocal(s router.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	in := interestOf(s)
	ref := in.current()
	if ref.ver == "" {
		in.resolved(ref, featureSet{})
		return
	}
	full := s.JID()
	fs, err := m.caps.features(ctx, full.Domainpart(), full, ref)
	if err != nil {
		m.log.Debug("resolve caps", "err", err, "jid", full.String())
		return
	}
	if !in.resolved(ref, fs) || !router.Available(s) {
		return
	}
	// NOTE: from here on the session receives notifications, so an item
	// published before sendLastItems reads its node reaches the session
	// twice, first as a notification and then as the last item.
	for _, account := range m.publishersFor(ctx, full.Bare()) {
		m.sendLastItems(ctx, account, full, fs)
	}
}

// publishersFor returns the local accounts whose notifications a local
// account may receive: itself and the local contacts it is subscribed to.
func (m *module) publishersFor(ctx context.Context, user jid.JID) []jid.JID {
	out := []jid.JID{user}
	items, _, err := m.store.GetRoster(ctx, owner(user))
	if err != nil {
		m.log.Error("load roster for last items", "err", err, "jid", user.String())
		return out
	}
	for _, it := range items {
		if it.Subscription != storage.SubTo && it.Subscription != storage.SubBoth {
			continue
		}
		if c, err := jid.Parse(it.JID); err == nil && m.host.IsLocal(c.Domainpart()) && !c.Equal(user) {
			out = append(out, c)
		}
	}
	return out
}

// inboundPresence records the caps of presence that remote entities send
// to local accounts; presence from local sessions is handled when they
// send it. Only contacts that receive the account's presence are
// tracked, because only they get notifications (XEP-0163 §4.1), so
// presence from others, such as room occupants, leads to no disco#info
// query.
func (m *module) inboundPresence(ctx context.Context, ev *router.Event) router.Result {
	p := ev.Stanza
	// Only remote contacts are tracked here; presence from this server's
	// own services, such as chat room occupants, is skipped before any
	// storage lookup.
	from := p.From.Domainpart()
	if m.host.IsLocal(from) || m.host.HasComponent(from) || p.From.Resourcepart() == "" || p.To.Localpart() == "" {
		return router.Continue
	}
	account := p.To.Bare()
	switch p.Type {
	case "":
		if !sharesPresence(m.contactItem(ctx, account, p.From.Bare())) {
			m.remote.gone(p.From, account)
			return router.Continue
		}
		ref, _ := capsOf(p)
		if work := m.remote.seen(p.From, account, ref); work != nil {
			go m.resolveRemote(p.From, work)
		}
	case "unavailable":
		m.remote.gone(p.From, account)
	}
	return router.Continue
}

// resolveRemote learns the features of a remote entity when needed and
// sends it the last items of the accounts it became available to.
func (m *module) resolveRemote(full jid.JID, w *remoteWork) {
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	fs := w.features
	if fs == nil {
		var err error
		fs, err = m.caps.features(ctx, w.accounts[0].Domainpart(), full, w.ref)
		if err != nil {
			m.log.Debug("resolve caps", "err", err, "jid", full.String())
			m.remote.failed(full, w.ref)
			return
		}
		w.accounts = m.remote.resolved(full, w.ref, fs)
	}
	for _, account := range w.accounts {
		m.sendLastItems(ctx, account, full, fs)
	}
}

func (m *module) sessionClosed(_ context.Context, s router.Session) {
	if len(m.host.Sessions(s.JID().Bare())) == 0 {
		m.avatars.forget(s.JID().Bare())
	}
}
