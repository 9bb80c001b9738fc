package muc

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/modules/mam"
	"tern/stanza"
)

// handleIQ handles an iq to the room or to an occupant JID.
func (r *room) handleIQ(ctx context.Context, iq *stanza.Stanza) {
	if iq.To.Resourcepart() != "" {
		r.occupantIQ(ctx, iq)
		return
	}
	if iq.Type != "get" && iq.Type != "set" {
		return // the room sends no requests of its own
	}
	children := iq.Children()
	if len(children) != 1 {
		r.sendError(ctx, iq, stanza.BadRequest.WithText("an iq request has exactly one child element"))
		return
	}
	resp, err := r.roomIQ(ctx, iq, children[0])
	switch {
	case err != nil:
		r.sendError(ctx, iq, err)
	case resp != nil:
		r.route(ctx, resp)
	}
}

// roomIQ dispatches an iq request to the room by namespace. A handler
// that returns neither a response nor an error has sent its response.
func (r *room) roomIQ(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	switch q.Name.Space {
	case NSAdmin:
		return r.adminIQ(ctx, iq, q)
	case NSOwner:
		return r.ownerIQ(ctx, iq, q)
	case nsDiscoInfo:
		return r.discoInfo(iq, q)
	case nsDiscoItems:
		return r.discoItems(iq, q)
	case mam.NS:
		return r.mamIQ(ctx, iq, q)
	case nsModerate:
		return r.moderateIQ(ctx, iq, q, q.AttrValue("id"))
	case nsFasten:
		m := q.Child(nsModerate0, "moderate")
		if m == nil {
			return nil, stanza.FeatureNotImplemented.WithText("<apply-to/> is supported only for moderation")
		}
		return r.moderateIQ(ctx, iq, m, q.AttrValue("id"))
	case nsPing:
		if !r.exists {
			return nil, stanza.ItemNotFound
		}
		return stanza.Result(iq), nil
	}
	return nil, stanza.ServiceUnavailable
}

// occupantIQ handles an iq to an occupant JID. The room returns the
// result of a self-ping itself (XEP-0410). It relays other requests to
// the target's session, with the requester's occupant JID as sender, and
// relays the responses back.
func (r *room) occupantIQ(ctx context.Context, iq *stanza.Stanza) {
	if iq.Type == "result" || iq.Type == "error" {
		r.relayResponse(ctx, iq)
		return
	}
	sender := r.occupantBySession(iq.From)
	if sender == nil {
		r.sendError(ctx, iq, errNotOccupant)
		return
	}
	target := r.occupants[iq.To.Resourcepart()]
	if target == nil {
		r.sendError(ctx, iq, errNoSuchNick)
		return
	}

	children := iq.Children()
	if len(children) != 1 {
		r.sendError(ctx, iq, stanza.BadRequest.WithText("an iq request has exactly one child element"))
		return
	}
	if target == sender && children[0].Name.Space == nsPing {
		r.route(ctx, stanza.Result(iq))
		return
	}

	// vCards belong to accounts, so a vCard request goes to the bare JID
	// (XEP-0054 §3.3); everything else to the occupant's first session.
	to := target.sessions[0]
	if children[0].Name.Space == nsVCard {
		to = target.real
	}
	id, ok := r.iqs.add(pendingIQ{requester: iq.From, id: iq.ID, target: to, targetNick: target.nick})
	if !ok {
		r.sendError(ctx, iq, stanza.ResourceConstraint.WithText("too many relayed requests are waiting for responses"))
		return
	}
	out := iq.Copy()
	out.ID, out.From, out.To = id, r.occupantJID(sender.nick), to
	r.route(ctx, out)
}

// relayResponse returns the response to a relayed request to the session
// that sent the request.
func (r *room) relayResponse(ctx context.Context, iq *stanza.Stanza) {
	p, ok := r.iqs.take(iq.ID, iq.From)
	if !ok {
		return
	}
	out := iq.Copy()
	out.ID, out.From, out.To = p.id, r.occupantJID(p.targetNick), p.requester
	r.route(ctx, out)
}

// maxPendingIQs bounds the relayed requests a room waits for.
const maxPendingIQs = 1000

// pendingIQ is a request relayed between occupants.
type pendingIQ struct {
	requester  jid.JID // real full JID that sent the request
	id         string  // the request's original id
	target     jid.JID // real JID the request went to
	targetNick string
}

// forwardedIQs maps the ids of relayed requests to their origin.
type forwardedIQs struct {
	m map[string]pendingIQ
}

// add records a relayed request and returns the id it goes out with, or
// false when too many are waiting.
func (f *forwardedIQs) add(p pendingIQ) (string, bool) {
	if f.m == nil {
		f.m = make(map[string]pendingIQ)
	}
	if len(f.m) >= maxPendingIQs {
		return "", false
	}
	id := randomID()
	f.m[id] = p
	return id, true
}

// take returns and removes the request that a response belongs to. The response
// must come from the JID the request went to.
func (f *forwardedIQs) take(id string, from jid.JID) (pendingIQ, bool) {
	p, ok := f.m[id]
	if !ok || !p.target.Equal(from) {
		return pendingIQ{}, false
	}
	delete(f.m, id)
	return p, true
}

// forget drops the requests a session sent or received, when it leaves.
func (f *forwardedIQs) forget(full jid.JID) {
	for id, p := range f.m {
		if p.requester.Equal(full) || p.target.Equal(full) {
			delete(f.m, id)
		}
	}
}
