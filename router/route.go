package router

import (
	"context"
	"errors"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// RouteFromSession routes a stanza sent by a local client session. The
// session has validated the addresses and stamped 'from'.
func (r *Router) RouteFromSession(ctx context.Context, sess Session, s *stanza.Stanza) {
	if r.fire(ctx, Outbound, s, sess) == Stop {
		return
	}
	if stanza.IsZero(s.To) {
		switch s.Name {
		case stanza.IQ:
			r.accountIQ(ctx, s)
			return
		case stanza.Message:
			// RFC 6120 §10.3.1: a message with no 'to' is for the
			// sender's own bare JID.
			s.To = s.From.Bare()
		default:
			return // presence broadcast is the presence module's work
		}
	}
	r.Route(ctx, s)
}

// Route sends s to its destination. 'from' must be set.
func (r *Router) Route(ctx context.Context, s *stanza.Stanza) {
	domain := s.To.Domainpart()
	kind := kindIndex(s.Name)
	if r.local[domain] {
		r.stats.routed[kind][destLocal].Add(1)
		r.routeLocal(ctx, s)
		return
	}
	r.mu.RLock()
	comp := r.components[domain]
	rem := r.remote
	r.mu.RUnlock()
	var err error
	switch {
	case comp != nil:
		r.stats.routed[kind][destComponent].Add(1)
		err = comp.Send(ctx, s)
	case rem != nil:
		r.stats.routed[kind][destRemote].Add(1)
		err = rem.Send(ctx, s)
	default:
		err = stanza.RemoteServerNotFound
	}
	if err != nil {
		r.bounce(ctx, s, err)
	}
}

func (r *Router) routeLocal(ctx context.Context, s *stanza.Stanza) {
	if s.To.Localpart() == "" {
		r.routeToServer(ctx, s)
		return
	}
	if !r.AccountExists(ctx, s.To.Bare()) {
		// RFC 6121 §8.5.1: no such account.
		switch s.Name {
		case stanza.Message, stanza.IQ:
			r.bounce(ctx, s, stanza.ServiceUnavailable)
		}
		return
	}
	if r.fire(ctx, Inbound, s, nil) == Stop {
		return
	}
	r.Deliver(ctx, s)
}

// Deliver applies the delivery rules of RFC 6121 §8.5 to a stanza for a
// local account, after the Inbound hooks.
func (r *Router) Deliver(ctx context.Context, s *stanza.Stanza) {
	if s.To.Resourcepart() != "" {
		r.deliverFull(ctx, s)
		return
	}
	switch s.Name {
	case stanza.Message:
		r.deliverMessageToBare(ctx, s)
	case stanza.Presence:
		for _, sess := range r.sessions.all(s.To) {
			if Available(sess) {
				sess.Deliver(s)
			}
		}
	case stanza.IQ:
		r.accountIQ(ctx, s)
	}
}

func (r *Router) deliverFull(ctx context.Context, s *stanza.Stanza) {
	if sess := r.sessions.get(s.To); sess != nil {
		sess.Deliver(s)
		return
	}
	// RFC 6121 §8.5.3.2: no session has this resource.
	switch s.Name {
	case stanza.Message:
		switch s.Type {
		case "", "normal", "chat":
			bare := s.Copy()
			bare.To = s.To.Bare()
			r.deliverMessageToBare(ctx, bare)
		case "groupchat":
			r.bounce(ctx, s, stanza.ServiceUnavailable)
		}
	case stanza.Presence:
		switch s.Type {
		case "subscribe", "subscribed", "unsubscribe", "unsubscribed", "probe":
			// Subscription states are per account; the Inbound hooks
			// have handled these already.
		}
	case stanza.IQ:
		if s.Type == "get" || s.Type == "set" {
			r.bounce(ctx, s, stanza.ServiceUnavailable)
		}
	}
}

// deliverMessageToBare follows RFC 6121 §8.5.2.1.1: chat and normal
// messages go to the available resources with the highest non-negative
// priority, headline messages to every such resource.
func (r *Router) deliverMessageToBare(ctx context.Context, s *stanza.Stanza) {
	if s.Type == "error" {
		return
	}
	if s.Type == "groupchat" {
		r.bounce(ctx, s, stanza.ServiceUnavailable)
		return
	}
	targets := r.messageTargets(s)
	if len(targets) == 0 {
		if r.fire(ctx, Undeliverable, s, nil) == Stop {
			return
		}
		if s.Type != "headline" {
			r.bounce(ctx, s, stanza.ServiceUnavailable)
		}
		return
	}
	for _, sess := range targets {
		sess.Deliver(s)
	}
}

// MessageTargets returns the sessions a message to a bare JID is delivered
// to (RFC 6121 §8.5.2.1.1).
func (r *Router) messageTargets(s *stanza.Stanza) []Session {
	var best []Session
	top := -1
	for _, sess := range r.sessions.all(s.To.Bare()) {
		if !Available(sess) {
			continue
		}
		p := Priority(sess)
		if p < 0 {
			continue
		}
		if s.Type == "headline" {
			best = append(best, sess)
			continue
		}
		switch {
		case p > top:
			top = p
			best = append(best[:0], sess)
		case p == top:
			best = append(best, sess)
		}
	}
	return best
}

// routeToServer handles stanzas addressed to a local domain.
func (r *Router) routeToServer(ctx context.Context, s *stanza.Stanza) {
	if s.Name != stanza.IQ {
		r.fire(ctx, Inbound, s, nil)
		return
	}
	switch s.Type {
	case "result", "error":
		r.pending.resolve(s)
		return
	}
	if s.To.Resourcepart() != "" {
		r.bounce(ctx, s, stanza.ServiceUnavailable)
		return
	}
	r.handleIQ(ctx, ScopeServer, s)
}

// accountIQ handles an iq to a bare account JID (or with no 'to').
func (r *Router) accountIQ(ctx context.Context, s *stanza.Stanza) {
	switch s.Type {
	case "result", "error":
		r.pending.resolve(s)
		return
	}
	if !stanza.IsZero(s.To) && !r.AccountExists(ctx, s.To) {
		r.bounce(ctx, s, stanza.ServiceUnavailable)
		return
	}
	r.handleIQ(ctx, ScopeAccount, s)
}

func (r *Router) handleIQ(ctx context.Context, scope Scope, s *stanza.Stanza) {
	if s.Type != "get" && s.Type != "set" {
		r.bounce(ctx, s, stanza.BadRequest)
		return
	}
	children := s.Children()
	if len(children) != 1 {
		r.bounce(ctx, s, stanza.BadRequest.WithText("an iq request has exactly one child element"))
		return
	}
	h := r.iq[iqKey{scope, children[0].Name.Space}]
	if h == nil {
		r.bounce(ctx, s, stanza.ServiceUnavailable)
		return
	}
	resp, err := h(ctx, s, children[0])
	if err != nil {
		r.bounce(ctx, s, err)
		return
	}
	if resp != nil {
		r.Route(ctx, resp)
	}
}

// bounce returns an error for s to its sender. Errors are never answered
// with errors (RFC 6120 §8.3.1).
func (r *Router) bounce(ctx context.Context, s *stanza.Stanza, err error) {
	if s.Type == "error" || stanza.IsZero(s.From) {
		return
	}
	if s.Name == stanza.IQ && s.Type != "get" && s.Type != "set" {
		return
	}
	if s.Name == stanza.Presence && s.Type != "" && s.Type != "unavailable" {
		return
	}
	r.stats.bounced[kindIndex(s.Name)].Add(1)
	var se *stanza.Error
	if !errors.As(err, &se) {
		r.log.Warn("routing failed", "to", s.To.String(), "kind", s.Name, "err", err)
		se = stanza.InternalServerError
	}
	reply := stanza.ErrorReply(s, se, s.To)
	if stanza.IsZero(reply.From) {
		reply.From = jid.MustParse(s.From.Domainpart())
	}
	r.Route(ctx, reply)
}

// Bounce returns an error for s to its sender, as the router does when it
// cannot deliver s.
func (r *Router) Bounce(ctx context.Context, s *stanza.Stanza, err error) { r.bounce(ctx, s, err) }
