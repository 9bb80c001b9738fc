// Package router decides where each stanza goes: to sessions on this node
// following RFC 6121 §8, to a module that registered for it, to an external
// component, or to a remote domain. It owns the session table and the host
// interface that modules register with; it knows nothing of rosters, rooms
// or archives.
package router

import (
	"context"
	"log/slog"
	"sort"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/stream"
)

// Remote sends stanzas to domains this server does not host (s2s).
type Remote interface {
	Send(ctx context.Context, s *stanza.Stanza) error
}

// Component is a connected external component (XEP-0114) or an internal
// service with its own domain.
type Component interface {
	Send(ctx context.Context, s *stanza.Stanza) error
}

// AccountChecker reports whether a local account exists.
type AccountChecker func(ctx context.Context, bare jid.JID) bool

// Router routes stanzas and implements Host.
type Router struct {
	log      *slog.Logger
	domains  []string
	local    map[string]bool
	accounts AccountChecker
	sessions *table

	mu         sync.RWMutex
	remote     Remote               // guarded by mu
	components map[string]Component // guarded by mu

	// Registration happens before the server starts; these are read
	// without locks afterwards.
	iq          map[iqKey]IQHandler
	hooks       map[hookKey][]hookEntry
	sessHooks   map[SessionEvent][]SessionHook
	features    map[Scope][]string
	identities  map[Scope][]Identity
	streamFeats []Feature
	preAuthIQ   map[string]PreAuthIQHandler
	items       []Item
	services    sync.Map // name → service, see Provide
	stopHooks   []func(context.Context)

	pending pendingIQs
	stats   routeStats
}

type iqKey struct {
	scope Scope
	ns    string
}

type hookKey struct {
	stage Stage
	kind  string
}

type hookEntry struct {
	order int
	h     Hook
}

// Identity is a disco identity (XEP-0030 §3.1).
type Identity struct {
	Category, Type, Name string
}

// New returns a router for the given local domains.
func New(log *slog.Logger, domains []string, accounts AccountChecker) *Router {
	r := &Router{
		log:        log,
		domains:    append([]string(nil), domains...),
		local:      make(map[string]bool),
		accounts:   accounts,
		sessions:   newTable(),
		components: make(map[string]Component),
		iq:         make(map[iqKey]IQHandler),
		hooks:      make(map[hookKey][]hookEntry),
		sessHooks:  make(map[SessionEvent][]SessionHook),
		features:   make(map[Scope][]string),
		identities: make(map[Scope][]Identity),
		preAuthIQ:  make(map[string]PreAuthIQHandler),
	}
	for _, d := range domains {
		r.local[d] = true
	}
	r.pending.m = make(map[string]chan *stanza.Stanza)
	return r
}

// SetRemote installs the s2s sender.
func (r *Router) SetRemote(rem Remote) {
	r.mu.Lock()
	r.remote = rem
	r.mu.Unlock()
}

// AddComponent routes every stanza for domain to c. It returns false if
// the domain is taken.
func (r *Router) AddComponent(domain string, c Component) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.local[domain] || r.components[domain] != nil {
		return false
	}
	r.components[domain] = c
	return true
}

// RemoveComponent stops routing domain to c.
func (r *Router) RemoveComponent(domain string, c Component) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.components[domain] == c {
		delete(r.components, domain)
	}
}

// HasComponent reports whether domain is served by a component.
func (r *Router) HasComponent(domain string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.components[domain] != nil
}

// Bind adds a session to the table. A session already bound to the same
// full JID is closed with a conflict stream error (RFC 6120 §7.7.2.2).
func (r *Router) Bind(ctx context.Context, s Session) {
	if old := r.sessions.bind(s); old != nil && old != s {
		old.Close(stream.Conflict.WithText("replaced by a new connection"))
		r.endSession(ctx, old)
	}
	r.FireSession(ctx, SessionBound, s)
}

// Unbind removes a session that ended. It sends unavailable presence on
// the session's behalf when it was available.
func (r *Router) Unbind(ctx context.Context, s Session) {
	if !r.sessions.unbind(s) {
		return
	}
	r.endSession(ctx, s)
}

func (r *Router) endSession(ctx context.Context, s Session) {
	if Available(s) {
		s.SetPresence(nil)
		r.FireSession(ctx, SessionUnavailable, s)
	}
	r.FireSession(ctx, SessionClosed, s)
}

// SessionCount returns the number of bound sessions.
func (r *Router) SessionCount() int { return r.sessions.len() }

// Domains returns the local domains.
func (r *Router) Domains() []string { return r.domains }

// IsLocal reports whether domain is a local user domain.
func (r *Router) IsLocal(domain string) bool { return r.local[domain] }

// AccountExists reports whether a local account exists.
func (r *Router) AccountExists(ctx context.Context, bare jid.JID) bool {
	if r.sessions.has(bare) {
		return true
	}
	return r.accounts != nil && r.accounts(ctx, bare)
}

// Sessions returns the sessions of a bare JID. The slice is shared and
// must not be modified.
func (r *Router) Sessions(bare jid.JID) []Session { return r.sessions.all(bare) }

// Session returns the session bound to a full JID, or nil.
func (r *Router) Session(full jid.JID) Session { return r.sessions.get(full) }

// EachSession calls f for every session on this node.
func (r *Router) EachSession(f func(Session)) { r.sessions.each(f) }

// HandleIQ registers an IQ handler. It must be called before the server
// starts.
func (r *Router) HandleIQ(scope Scope, ns string, h IQHandler) {
	r.iq[iqKey{scope, ns}] = h
}

// Hook registers a stanza hook for kind ("message", "presence" or "iq").
func (r *Router) Hook(stage Stage, kind string, order int, h Hook) {
	k := hookKey{stage, kind}
	r.hooks[k] = append(r.hooks[k], hookEntry{order, h})
	sort.SliceStable(r.hooks[k], func(i, j int) bool { return r.hooks[k][i].order < r.hooks[k][j].order })
}

// OnSession registers a session hook.
func (r *Router) OnSession(ev SessionEvent, h SessionHook) {
	r.sessHooks[ev] = append(r.sessHooks[ev], h)
}

// FireSession runs the hooks of a session event in registration order.
func (r *Router) FireSession(ctx context.Context, ev SessionEvent, s Session) {
	for _, h := range r.sessHooks[ev] {
		h(ctx, s)
	}
}

// AddFeature adds a disco feature for a scope.
func (r *Router) AddFeature(scope Scope, feature string) {
	r.features[scope] = append(r.features[scope], feature)
}

// AddIdentity adds a disco identity for a scope.
func (r *Router) AddIdentity(scope Scope, category, typ, name string) {
	r.identities[scope] = append(r.identities[scope], Identity{category, typ, name})
}

// Features returns the disco features of a scope, sorted.
func (r *Router) Features(scope Scope) []string {
	f := append([]string(nil), r.features[scope]...)
	sort.Strings(f)
	return f
}

// AddItem lists a service in the server's disco#items.
func (r *Router) AddItem(jid, name string) { r.items = append(r.items, Item{jid, name}) }

// Items returns the services listed in the server's disco#items.
func (r *Router) Items() []Item { return r.items }

// Identities returns the disco identities of a scope.
func (r *Router) Identities(scope Scope) []Identity { return r.identities[scope] }

// AddStreamFeature adds a stream feature offered to clients.
func (r *Router) AddStreamFeature(f Feature) { r.streamFeats = append(r.streamFeats, f) }

// StreamFeatures returns the module stream features for a stage.
func (r *Router) StreamFeatures(preAuth bool) []*stanza.Element {
	var out []*stanza.Element
	for _, f := range r.streamFeats {
		if f.PreAuth == preAuth {
			out = append(out, f.Element)
		}
	}
	return out
}

// HandlePreAuthIQ registers a handler for unauthenticated iqs.
func (r *Router) HandlePreAuthIQ(ns string, h PreAuthIQHandler) { r.preAuthIQ[ns] = h }

// PreAuthIQ returns the handler for unauthenticated iqs in ns, or nil.
func (r *Router) PreAuthIQ(ns string) PreAuthIQHandler { return r.preAuthIQ[ns] }

// OnStop registers a function that Stop runs.
func (r *Router) OnStop(f func(ctx context.Context)) { r.stopHooks = append(r.stopHooks, f) }

// Stop runs the stop hooks, last registered first. The server calls it at
// shutdown before closing client streams.
func (r *Router) Stop(ctx context.Context) {
	for i := len(r.stopHooks) - 1; i >= 0; i-- {
		r.stopHooks[i](ctx)
	}
}

// Provide registers a service under name for other modules.
func (r *Router) Provide(name string, service any) { r.services.Store(name, service) }

// Lookup returns the service registered under name, or nil.
func (r *Router) Lookup(name string) any {
	v, _ := r.services.Load(name)
	return v
}

// Logger returns a logger for a module.
func (r *Router) Logger(module string) *slog.Logger { return r.log.With("module", module) }

// events holds Events for fire to reuse: every stanza that passes through
// the router runs at least one stage of hooks.
var events = sync.Pool{New: func() any { return new(Event) }}

// fire runs the hooks of stage for s, sent by sess (nil unless s comes
// from a local session).
func (r *Router) fire(ctx context.Context, stage Stage, s *stanza.Stanza, sess Session) Result {
	ev := events.Get().(*Event)
	ev.Stanza, ev.Session = s, sess
	result := r.runHooks(ctx, stage, ev)
	*ev = Event{}
	events.Put(ev)
	return result
}

func (r *Router) runHooks(ctx context.Context, stage Stage, ev *Event) Result {
	result := Continue
	for _, e := range r.hooks[hookKey{stage, ev.Stanza.Name}] {
		if e.h(ctx, ev) == Stop {
			result = Stop
			break
		}
	}
	after := ev.after
	ev.after = nil
	for _, f := range after {
		f(ctx)
	}
	return result
}
