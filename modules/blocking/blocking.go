// Package blocking implements the Blocking Command (XEP-0191, namespace
// urn:xmpp:blocking): each account keeps a list of JIDs it blocks, reads
// and changes it with iqs to its own account, and the server enforces it
// in both directions.
//
// Enforcement runs in router hooks at router.OrderBlocking, before the
// roster, carbons and archive modules see a stanza:
//   - Inbound: stanzas from a blocked JID never reach the account. A
//     message or an iq get/set gets a cancel <service-unavailable/> error
//     from the account's bare JID, the same whether the account is online
//     or not. The message is not stored offline. Presence of any type is
//     dropped with no response.
//   - Outbound: a stanza that a client sends to a blocked JID is not
//     routed; the client gets <not-acceptable/> with
//     <blocked xmlns='urn:xmpp:blocking:errors'/>.
//   - Inbound, for stanzas other than errors that modules route on behalf
//     of a local account (presence broadcasts, probe responses, PEP
//     notifications): when the sending account blocks the local
//     recipient, the stanza is dropped.
//
// TODO: presence that modules send on an account's behalf to a blocked
// contact on another server still goes out, because the router runs no
// hook for stanzas routed to remote domains.
//
// A blocked bare JID matches every resource of it, a full JID matches only
// itself, and a domain matches the domain, every JID at it and every
// subdomain (XEP-0191, "JID Matching"). Stanzas between resources of the
// same account are never blocked.
//
// Other modules ask whether a JID is blocked through a Checker: For(host)
// returns the one of a running server.
package blocking

import (
	"fmt"
	"log/slog"
	"sync"

	"tern/modules"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// Namespaces of XEP-0191.
const (
	// NS is the namespace of the blocklist, block and unblock elements.
	NS = "urn:xmpp:blocking"
	// NSErrors is the namespace of the <blocked/> error condition.
	NSErrors = "urn:xmpp:blocking:errors"
)

func init() {
	modules.Register(modules.Module{Name: "blocking", New: start})
}

// Store is the storage the blocking module needs.
type Store interface {
	storage.Blocklist
	storage.Roster
}

// module handles the blocklist iqs and enforces the lists.
type module struct {
	host    router.Host
	store   Store
	checker *Checker
	log     *slog.Logger
}

// Default is the Checker of the server that started last in this process,
// or nil when no server runs the blocking module. Code that has a
// router.Host should call For instead, which stays correct when a process
// runs several servers, as tests do. The methods of a nil *Checker report
// that nothing is blocked.
var Default *Checker

var (
	checkersMu sync.Mutex
	checkers   = map[router.Host]*Checker{} // guarded by checkersMu
)

// For returns the Checker of the server whose modules received host, or
// nil when that server runs without the blocking module.
//
// NOTE: a stopped server's Checker stays in the map, because the host has
// no stop event; each costs a few kilobytes.
func For(host router.Host) *Checker {
	checkersMu.Lock()
	defer checkersMu.Unlock()
	return checkers[host]
}

func start(env *modules.Env) error {
	store, ok := env.Store.(Store)
	if !ok {
		return fmt.Errorf("blocking: the storage backend %T does not implement storage.Blocklist",
			env.Store)
	}
	m := newModule(env.Host, store)
	checkersMu.Lock()
	checkers[env.Host] = m.checker
	Default = m.checker
	checkersMu.Unlock()
	return nil
}

// newModule registers the module's handlers and hooks with host.
func newModule(host router.Host, store Store) *module {
	log := host.Logger("blocking")
	m := &module{
		host:    host,
		store:   store,
		checker: newChecker(host, store, log),
		log:     log,
	}
	host.HandleIQ(router.ScopeAccount, NS, m.handleIQ)
	for _, kind := range []string{stanza.Message, stanza.Presence, stanza.IQ} {
		host.Hook(router.Inbound, kind, router.OrderBlocking, m.inbound)
		host.Hook(router.Outbound, kind, router.OrderBlocking, m.outbound)
	}
	host.OnSession(router.SessionClosed, m.checker.evictIfOffline)
	host.AddFeature(router.ScopeServer, NS)
	return m
}
