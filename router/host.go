package router

import (
	"context"
	"log/slog"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// Stage is a point in a stanza's path at which modules can hook in.
type Stage int

const (
	// Outbound hooks see stanzas sent by a local client session, after
	// the session stamped 'from' and before routing.
	Outbound Stage = iota
	// Inbound hooks see stanzas addressed to a local account (bare or full
	// JID) before they are delivered, whatever their origin.
	Inbound
	// Undeliverable hooks see messages for a local account that has no
	// session able to take them (RFC 6121 §8.5.2.2); offline storage
	// hooks in here.
	Undeliverable
)

// Hook orders used by the built-in modules. Hooks run in ascending order;
// a hook that returns Stop ends the chain and the stanza is not routed
// further. Archiving runs before carbons so that carbon copies carry the
// archive's stanza-id, as XEP-0313 asks.
const (
	OrderFirst    = 0
	OrderBlocking = 100
	OrderRoster   = 200
	OrderArchive  = 300
	OrderCarbons  = 400
	OrderLast     = 1000
)

// Result is a hook's decision on whether the router goes on with a stanza.
type Result bool

const (
	// Continue passes the stanza to the next hook and then to delivery.
	Continue Result = false
	// Stop ends processing: the hook has delivered, answered or dropped
	// the stanza.
	Stop Result = true
)

// Event is the argument of a hook: the stanza and, for Outbound hooks,
// the session that sent it.
type Event struct {
	Stanza *stanza.Stanza
	// Session is the local session that sent the stanza, for Outbound
	// hooks; nil otherwise.
	Session Session

	after []func(context.Context)
}

// After makes f run once the hooks of the current stage are done with
// the stanza, whichever hook ended the chain. A push notification uses it
// to go out only after offline storage has kept the message that the
// woken client will fetch.
func (ev *Event) After(f func(context.Context)) { ev.after = append(ev.after, f) }

// Hook is a function run at a stage for one stanza kind. The router
// reuses ev once the hooks of the stage have run, so a hook must not keep
// ev or hand it to another goroutine. It may keep ev.Stanza.
type Hook func(ctx context.Context, ev *Event) Result

// Scope selects the addresses an IQ handler serves.
type Scope int

const (
	// ScopeServer handlers answer iqs addressed to a local domain.
	ScopeServer Scope = iota
	// ScopeAccount handlers answer iqs addressed to a local account's bare
	// JID, or sent by a client with no 'to', on the account's behalf
	// (RFC 6121 §8.5.1). The handler checks who may ask.
	ScopeAccount
)

// IQHandler answers an iq of type get or set whose first child element is
// in the namespace it registered for. It returns the response stanza, or a
// *stanza.Error which the router turns into an error response.
type IQHandler func(ctx context.Context, iq *stanza.Stanza, payload *stanza.Element) (*stanza.Stanza, error)

// SessionEvent is a change in a session's life that modules can observe.
type SessionEvent int

const (
	// SessionBound fires after resource binding.
	SessionBound SessionEvent = iota
	// SessionAvailable fires after the session's initial presence has
	// been broadcast (RFC 6121 §4.2).
	SessionAvailable
	// SessionUnavailable fires after a session sent unavailable presence
	// or ended while available.
	SessionUnavailable
	// SessionClosed fires after the session is removed from the table.
	SessionClosed
)

// SessionHook observes a session event.
type SessionHook func(ctx context.Context, s Session)

// Feature is a stream feature offered by a module.
type Feature struct {
	// PreAuth features are offered before authentication (after TLS when
	// TLS is required), others after authentication.
	PreAuth bool
	Element *stanza.Element
}

// Host is what modules receive: routing, registration of handlers and
// hooks, and facts about the server.
type Host interface {
	// Route sends a stanza from the server or a module to its
	// destination; 'from' must be set.
	Route(ctx context.Context, s *stanza.Stanza)
	// Deliver sends s to the sessions of a local account following the
	// delivery rules of RFC 6121 §8.5, skipping Inbound hooks.
	Deliver(ctx context.Context, s *stanza.Stanza)
	// SendIQ sends an iq request from the server and waits for the
	// response or ctx's end.
	SendIQ(ctx context.Context, iq *stanza.Stanza) (*stanza.Stanza, error)
	// Sessions returns the sessions of a bare JID in a shared slice that
	// must not be modified.
	Sessions(bare jid.JID) []Session
	Session(full jid.JID) Session
	EachSession(f func(Session))
	// IsLocal reports whether domain is served by this server as a user
	// domain (not a component).
	IsLocal(domain string) bool
	Domains() []string
	// AccountExists reports whether a local account exists.
	AccountExists(ctx context.Context, bare jid.JID) bool

	HandleIQ(scope Scope, ns string, h IQHandler)
	Hook(stage Stage, kind string, order int, h Hook)
	OnSession(ev SessionEvent, h SessionHook)
	// FireSession runs the hooks of a session event; the presence module
	// fires SessionAvailable and SessionUnavailable.
	FireSession(ctx context.Context, ev SessionEvent, s Session)
	AddFeature(scope Scope, feature string)
	AddIdentity(scope Scope, category, typ, name string)
	// Features and Identities return what modules added, for disco.
	Features(scope Scope) []string
	Identities(scope Scope) []Identity
	// AddComponent routes every stanza for domain to c, for services
	// such as multi-user chat that have their own domain. It returns false
	// if the domain is a local user domain or taken.
	AddComponent(domain string, c Component) bool
	// HasComponent reports whether domain is served by a component or a
	// module's service, such as the chat service.
	HasComponent(domain string) bool
	// AddItem lists a service (such as a MUC or upload domain) in the
	// server's disco#items.
	AddItem(jid, name string)
	Items() []Item
	AddStreamFeature(f Feature)
	// HandlePreAuthIQ registers a handler for iqs in namespace ns sent on
	// an encrypted stream before authentication.
	HandlePreAuthIQ(ns string, h PreAuthIQHandler)

	Logger(module string) *slog.Logger

	// OnStop registers f to run when the server stops, before client
	// streams close, so a module can still reach its users and end its
	// background work. Stop hooks run in reverse registration order.
	OnStop(f func(ctx context.Context))

	// Provide makes a module's service available to other modules and to
	// the admin operations under a name; Lookup returns it, or nil.
	Provide(name string, service any)
	Lookup(name string) any
}

// Item is an entry of the server's disco#items (XEP-0030 §4).
type Item struct {
	JID, Name string
}

// ConnInfo describes the connection an unauthenticated request came on.
type ConnInfo struct {
	RemoteIP string
	Domain   string
	Secure   bool
}

// PreAuthIQHandler answers an iq sent before authentication, such as an
// in-band registration request (XEP-0077). The iq has no 'from'.
type PreAuthIQHandler func(ctx context.Context, info ConnInfo, iq *stanza.Stanza, payload *stanza.Element) (*stanza.Stanza, error)
