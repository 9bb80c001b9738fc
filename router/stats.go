package router

import (
	"sync/atomic"

	"tern/stanza"
)

// Stanza kinds and destinations that the router counts.
var (
	statKinds        = [...]string{stanza.Message, stanza.Presence, stanza.IQ, "other"}
	statDestinations = [...]string{"local", "component", "remote"}
)

// routeStats counts the stanzas that Route handles since the router
// started. Counting is one atomic add per stanza.
type routeStats struct {
	routed  [len(statKinds)][len(statDestinations)]atomic.Uint64
	bounced [len(statKinds)]atomic.Uint64
}

const (
	destLocal = iota
	destComponent
	destRemote
)

// kindIndex returns the index in statKinds of a stanza's element name.
func kindIndex(name string) int {
	switch name {
	case stanza.Message:
		return 0
	case stanza.Presence:
		return 1
	case stanza.IQ:
		return 2
	}
	return 3
}

// RouteCount is the number of stanzas of one kind that the router sent
// toward one kind of destination since it started.
type RouteCount struct {
	Kind        string // "message", "presence", "iq" or "other"
	Destination string // "local", "component" or "remote"
	Stanzas     uint64
}

// RouteCounts returns the stanzas routed since start, by kind and
// destination: local addresses, components, and other servers.
func (r *Router) RouteCounts() []RouteCount {
	out := make([]RouteCount, 0, len(statKinds)*len(statDestinations))
	for k, kind := range statKinds {
		for d, dest := range statDestinations {
			out = append(out, RouteCount{Kind: kind, Destination: dest, Stanzas: r.stats.routed[k][d].Load()})
		}
	}
	return out
}

// BounceCounts returns, by kind, the stanzas that the router returned to
// their senders as errors because it could not deliver them.
func (r *Router) BounceCounts() map[string]uint64 {
	out := make(map[string]uint64, len(statKinds))
	for k, kind := range statKinds {
		out[kind] = r.stats.bounced[k].Load()
	}
	return out
}
