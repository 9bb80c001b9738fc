package config

import (
	"fmt"
	"strings"
)

// MUCDomainPlaceholder is replaced by each server domain in muc.service.
const MUCDomainPlaceholder = "{domain}"

// MUC is the [muc] table: the multi-user chat service (XEP-0045).
type MUC struct {
	// Service is the domain of the chat service of each server domain, in
	// which MUCDomainPlaceholder stands for the server domain, such as
	// "conference.{domain}". Without the placeholder every server domain
	// would get the same service, so it is then allowed only with one
	// server domain.
	Service string `toml:"service"`
	// Create selects who may create rooms: "everyone", "local" (accounts of
	// the server's domains) or "admins" (server.admins).
	Create string `toml:"create"`
	// MaxOccupants is the number of occupants a new room allows, and the
	// largest number a room owner may configure; zero means no limit.
	MaxOccupants int `toml:"max_occupants"`
	// MaxRoomsPerUser is how many rooms one bare JID may own on a service;
	// zero means no limit. Server admins have no limit.
	MaxRoomsPerUser int `toml:"max_rooms_per_user"`
	// MaxMessagesPerSecond is how many messages one occupant may send to a
	// room per second, with bursts of up to that many at once. Zero means
	// no limit.
	MaxMessagesPerSecond int `toml:"max_messages_per_second"`
	// HistoryLength is how many messages a new room sends to an entering
	// occupant, and the largest number a room owner may configure.
	HistoryLength int `toml:"history_length"`
}

// defaultMUC returns the defaults of the [muc] table.
func defaultMUC() MUC {
	return MUC{
		Service:              "conference." + MUCDomainPlaceholder,
		Create:               "local",
		MaxOccupants:         200,
		MaxRoomsPerUser:      10,
		MaxMessagesPerSecond: 5,
		HistoryLength:        20,
	}
}

// ServiceDomain returns the chat service domain for a server domain, in
// normalized form. It returns "" when the result is not a valid domain,
// which Validate reports.
func (m MUC) ServiceDomain(serverDomain string) string {
	return serviceDomain(m.Service, MUCDomainPlaceholder, serverDomain)
}

// serviceDomain replaces placeholder in pattern with serverDomain and
// returns the result in normalized form, or "" when it is not a valid
// domain.
func serviceDomain(pattern, placeholder, serverDomain string) string {
	d, err := normalizeDomain(strings.ReplaceAll(pattern, placeholder, serverDomain))
	if err != nil {
		return ""
	}
	return d
}

func (v *validator) muc(c *Config) {
	m := &c.MUC
	v.oneOf("muc.create", m.Create, "everyone", "local", "admins")
	v.atLeast("muc.max_occupants", m.MaxOccupants, 0)
	v.atLeast("muc.max_rooms_per_user", m.MaxRoomsPerUser, 0)
	v.atLeast("muc.max_messages_per_second", m.MaxMessagesPerSecond, 0)
	v.atLeast("muc.history_length", m.HistoryLength, 0)
	v.mucService(c)
}

// mucService checks that muc.service gives each server domain a distinct
// valid domain that nothing else serves.
func (v *validator) mucService(c *Config) {
	m := &c.MUC
	if m.Service == "" {
		v.add("muc.service", `must not be empty (use a domain such as "conference.{domain}", or add "muc" to modules.disabled)`)
		return
	}
	if !strings.Contains(m.Service, MUCDomainPlaceholder) && len(c.Server.Domains) > 1 {
		v.add("muc.service", "%q has no %s, so all %d server domains would share one service",
			m.Service, MUCDomainPlaceholder, len(c.Server.Domains))
		return
	}
	usedBy := takenDomains(c)
	checked := map[string]bool{}
	for _, d := range c.Server.Domains {
		if norm, err := normalizeDomain(d); err != nil || norm != d || checked[d] {
			continue // the server.domains checks report these
		}
		checked[d] = true
		raw := strings.ReplaceAll(m.Service, MUCDomainPlaceholder, d)
		norm, err := normalizeDomain(raw)
		if err != nil {
			v.add("muc.service", "%q gives %q for server domain %q, which %v", m.Service, raw, d, err)
			return
		}
		if user, dup := usedBy[norm]; dup {
			v.add("muc.service", "%q gives %q for server domain %q, which is already %s", m.Service, norm, d, user)
			return
		}
		usedBy[norm] = fmt.Sprintf("the chat service of %q", d)
	}
}

// takenDomains returns the server and component domains, each with what
// uses it, for the checks that a service domain differs from them.
func takenDomains(c *Config) map[string]string {
	usedBy := map[string]string{}
	for _, d := range c.Server.Domains {
		usedBy[d] = "a server domain"
	}
	for _, s := range c.Component.Services {
		usedBy[s.Domain] = "a component.service domain"
	}
	return usedBy
}
