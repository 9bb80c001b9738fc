package muc

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"sync"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// service is the chat service of one server domain. It implements
// router.Component.
type service struct {
	mod    *module
	domain string
	jid    jid.JID
	// idKey is the secret of the occupant identifiers (XEP-0421), stored
	// in the KV repository under the service's domain.
	idKey []byte

	mu    sync.Mutex
	rooms map[string]*room // loaded rooms by name; guarded by mu
	// where is the set of room names per real full JID of an occupant
	// session, so that a closed session can leave them. Guarded by mu.
	where map[string]map[string]bool
}

// task is one unit of work on a room, run by the goroutine that drains
// the room's queue.
type task func(ctx context.Context, r *room)

func newService(ctx context.Context, m *module, domain string) (*service, error) {
	svc := &service{
		mod:    m,
		domain: domain,
		jid:    jid.MustParse(domain),
		rooms:  make(map[string]*room),
		where:  make(map[string]map[string]bool),
	}
	key, err := loadKey(ctx, m.kv, domain)
	if err != nil {
		return nil, err
	}
	svc.idKey = key
	return svc, nil
}

// loadKey returns the service's occupant identifier secret, creating it
// on first use.
func loadKey(ctx context.Context, kv storage.KV, domain string) ([]byte, error) {
	o := storage.Owner{Domain: domain}
	key, err := kv.GetValue(ctx, o, occupantIDKey)
	if err == nil && len(key) >= 32 {
		return key, nil
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("load occupant id key of %s: %w", domain, err)
	}
	key = make([]byte, 32)
	rand.Read(key)
	if err := kv.PutValue(ctx, o, occupantIDKey, key); err != nil {
		return nil, fmt.Errorf("store occupant id key of %s: %w", domain, err)
	}
	return key, nil
}

// occupantID returns the XEP-0421 identifier of a real bare JID in a
// room: an HMAC of both under the service secret, so it is stable for the
// user in that room, differs between rooms, and does not reveal the JID.
func (svc *service) occupantID(room, realBare string) string {
	mac := hmac.New(sha256.New, svc.idKey)
	mac.Write([]byte(room))
	mac.Write([]byte{0})
	mac.Write([]byte(realBare))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Send implements router.Component. It queues stanzas for a room on the
// room, and handles stanzas for the service domain itself at once.
func (svc *service) Send(ctx context.Context, s *stanza.Stanza) error {
	name := s.To.Localpart()
	if name == "" {
		return svc.handleServiceStanza(ctx, s)
	}
	svc.post(ctx, name, func(ctx context.Context, r *room) { r.handle(ctx, s) })
	return nil
}

// post queues fn on the named room, loading the room object if needed,
// and runs the queue on the calling goroutine unless another goroutine is
// already running it. Tasks of one room thus run one at a time and in
// order, and a task that routes a stanza back to its own room (an error
// bounced by the router, say) only queues it instead of deadlocking.
func (svc *service) post(ctx context.Context, name string, fn task) {
	svc.mu.Lock()
	r := svc.rooms[name]
	if r == nil {
		r = newRoom(svc, name)
		svc.rooms[name] = r
	}
	r.queue = append(r.queue, fn)
	if r.running {
		svc.mu.Unlock()
		return
	}
	r.running = true
	svc.mu.Unlock()
	r.drain(context.WithoutCancel(ctx))
}

// drain runs the room's queued tasks until the queue is empty. A room with
// no occupants left is then dropped from memory; a persistent room is
// loaded from storage again on its next stanza.
func (r *room) drain(ctx context.Context) {
	svc := r.svc
	for {
		svc.mu.Lock()
		if len(r.queue) == 0 {
			r.running = false
			if len(r.occupants) == 0 {
				delete(svc.rooms, r.name)
			}
			svc.mu.Unlock()
			return
		}
		fn := r.queue[0]
		r.queue[0] = nil
		r.queue = r.queue[1:]
		svc.mu.Unlock()
		fn(ctx, r)
		r.publish()
	}
}

// trackSession records that a real full JID joined (in true) or left a
// room, for sessionClosed.
func (svc *service) trackSession(full jid.JID, room string, in bool) {
	key := full.String()
	svc.mu.Lock()
	defer svc.mu.Unlock()
	set := svc.where[key]
	if in {
		if set == nil {
			set = make(map[string]bool)
			svc.where[key] = set
		}
		set[room] = true
		return
	}
	delete(set, room)
	if len(set) == 0 {
		delete(svc.where, key)
	}
}

// sessionClosed removes a local session that ended from every room it is
// in. The presence module normally sends unavailable presence first; this
// covers sessions that joined a room without sending initial presence.
func (svc *service) sessionClosed(ctx context.Context, full jid.JID) {
	svc.mu.Lock()
	var names []string
	for name := range svc.where[full.String()] {
		names = append(names, name)
	}
	svc.mu.Unlock()
	for _, name := range names {
		svc.post(ctx, name, func(ctx context.Context, r *room) { r.sessionGone(ctx, full) })
	}
}

// summaries returns the published summaries of the loaded rooms.
func (svc *service) summaries() map[string]*roomSummary {
	svc.mu.Lock()
	defer svc.mu.Unlock()
	out := make(map[string]*roomSummary, len(svc.rooms))
	for name, r := range svc.rooms {
		if s := r.summary.Load(); s != nil {
			out[name] = s
		}
	}
	return out
}

// shutdown removes every occupant of every loaded room with status code
// 332, which tells occupants that the service is shutting down (XEP-0045).
func (svc *service) shutdown(ctx context.Context) {
	svc.mu.Lock()
	names := make([]string, 0, len(svc.rooms))
	for name := range svc.rooms {
		names = append(names, name)
	}
	svc.mu.Unlock()
	for _, name := range names {
		svc.post(ctx, name, func(ctx context.Context, r *room) {
			for _, o := range r.occupants {
				r.removeOccupant(ctx, o, presenceChange{codes: []int{332}})
			}
		})
	}
}
