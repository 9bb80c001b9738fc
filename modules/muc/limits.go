package muc

import (
	"context"
	"fmt"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// errRateLimited is returned for a message over muc.max_messages_per_second.
// Type wait means the client may send again later.
var errRateLimited = &stanza.Error{
	Type:      stanza.ErrWait,
	Condition: "policy-violation",
	Text:      "you are sending messages too fast; wait a moment",
}

// tokenBucket limits how often an occupant may send messages: it holds up
// to rate tokens, refilled at rate tokens per second.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// allow takes a token if one is left, refilling first. A rate of zero
// allows everything.
func (b *tokenBucket) allow(now time.Time, rate int) bool {
	if rate <= 0 {
		return true
	}
	limit := float64(rate)
	if b.last.IsZero() {
		b.tokens = limit
	} else {
		b.tokens = min(limit, b.tokens+now.Sub(b.last).Seconds()*limit)
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// mayCreate applies muc.create to a user who wants to create a room.
func (m *module) mayCreate(real jid.JID) bool {
	switch m.cfg.Create {
	case "everyone":
		return true
	case "local":
		return m.host.IsLocal(real.Domainpart())
	default: // "admins"
		return m.admins[real.Bare().String()]
	}
}

// create makes the room exist, locked, with the requesting user as its
// owner (XEP-0045 §10.1.1). The room is stored once it is configured as
// persistent.
func (r *room) create(ctx context.Context, creator jid.JID) error {
	m := r.svc.mod
	if !m.mayCreate(creator) {
		return errCreateDenied
	}
	bare := creator.Bare().String()
	if max := m.cfg.MaxRoomsPerUser; max > 0 && !m.admins[bare] {
		n, err := r.svc.ownedRooms(ctx, bare)
		if err != nil {
			return err
		}
		if n >= max {
			return errTooManyRooms
		}
	}
	r.exists, r.locked = true, true
	r.created = m.now().UTC()
	r.config = defaultConfig(m.cfg)
	r.affiliations[bare] = affiliationRecord{aff: affOwner}
	return nil
}

// ownedRooms counts the rooms of the service that bare owns: the stored
// ones and the temporary ones in memory.
func (svc *service) ownedRooms(ctx context.Context, bare string) (int, error) {
	stored, err := svc.mod.rooms.AffiliatedRooms(ctx, svc.domain, bare)
	if err != nil {
		return 0, fmt.Errorf("count rooms of %s: %w", bare, err)
	}
	owned := map[string]bool{}
	for _, a := range stored {
		if a.Affiliation == affOwner.String() {
			owned[a.Room] = true
		}
	}
	for name, s := range svc.summaries() {
		if !s.exists || s.persistent {
			continue
		}
		for _, o := range s.owners {
			if o == bare {
				owned[name] = true
			}
		}
	}
	return len(owned), nil
}
