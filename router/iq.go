package router

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"

	"tern/stanza"
)

// pendingIQs tracks iq requests the server sent and waits for.
type pendingIQs struct {
	mu sync.Mutex
	m  map[string]chan *stanza.Stanza // id → waiter; guarded by mu
}

func (p *pendingIQs) add(id string) chan *stanza.Stanza {
	ch := make(chan *stanza.Stanza, 1)
	p.mu.Lock()
	p.m[id] = ch
	p.mu.Unlock()
	return ch
}

func (p *pendingIQs) remove(id string) {
	p.mu.Lock()
	delete(p.m, id)
	p.mu.Unlock()
}

// resolve hands a response to its waiter; responses nobody waits for are
// dropped.
func (p *pendingIQs) resolve(s *stanza.Stanza) {
	p.mu.Lock()
	ch := p.m[s.ID]
	delete(p.m, s.ID)
	p.mu.Unlock()
	if ch != nil {
		ch <- s
	}
}

// SendIQ sends an iq request from the server and waits for its response.
// The request's id is replaced by a random one.
func (r *Router) SendIQ(ctx context.Context, iq *stanza.Stanza) (*stanza.Stanza, error) {
	var b [12]byte
	rand.Read(b[:])
	iq = iq.Copy()
	iq.ID = "tern-" + base64.RawURLEncoding.EncodeToString(b[:])
	ch := r.pending.add(iq.ID)
	defer r.pending.remove(iq.ID)
	r.Route(ctx, iq)
	select {
	case resp := <-ch:
		if resp.Type == "error" {
			if e := stanza.ErrorOf(resp); e != nil {
				return resp, e
			}
		}
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ResolveIQ hands an iq response addressed to a server-originated request
// to its waiter. It reports whether someone waited for it.
func (r *Router) ResolveIQ(s *stanza.Stanza) bool {
	r.pending.mu.Lock()
	_, ok := r.pending.m[s.ID]
	r.pending.mu.Unlock()
	if ok {
		r.pending.resolve(s)
	}
	return ok
}
