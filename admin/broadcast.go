package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidMessage reports a broadcast whose body is empty or blank.
var ErrInvalidMessage = errors.New("broadcast message has an empty body")

// Broadcaster is the announce module's service, which the running server
// provides under the name "announce". Broadcast sends a message from
// domain (every served domain when it is "") to every available session,
// or with allAccounts to every account, and returns the number of
// sessions or accounts it went to.
type Broadcaster interface {
	Broadcast(ctx context.Context, domain, subject, body string, allAccounts bool) (int, error)
}

// Broadcast is a message to send to users; it is also the body of POST
// /api/v1/broadcast.
type Broadcast struct {
	// Body is the text of the message; it must not be empty or blank.
	Body string `json:"body"`
	// Subject is optional.
	Subject string `json:"subject,omitempty"`
	// Offline sends the message to every account instead of every
	// session, so accounts with no session get it from offline storage
	// when they next log in.
	Offline bool `json:"offline,omitempty"`
	// Domain limits the message to the users of one served domain; empty
	// means every served domain.
	Domain string `json:"domain,omitempty"`
}

// BroadcastResult is the outcome of a broadcast.
type BroadcastResult struct {
	// Recipients is the number of sessions the message went to, or with
	// Broadcast.Offline the number of accounts.
	Recipients int `json:"recipients"`
}

// Broadcast sends b from the server, as the announcement commands of
// XEP-0133 do: without Offline a headline message to every available
// session, with Offline a normal message to the bare JID of every
// account. It returns ErrInvalidMessage for an empty body,
// ErrUnknownDomain for a domain not served, ErrNotRunning when no server
// runs and ErrModuleDisabled when its announce module is disabled.
func (s *Service) Broadcast(ctx context.Context, b Broadcast) (BroadcastResult, error) {
	if strings.TrimSpace(b.Body) == "" {
		return BroadcastResult{}, ErrInvalidMessage
	}
	domain := ""
	if b.Domain != "" {
		d, err := s.servedDomain(b.Domain)
		if err != nil {
			return BroadcastResult{}, err
		}
		domain = d
	}
	bc, err := s.broadcaster()
	if err != nil {
		return BroadcastResult{}, err
	}
	n, err := bc.Broadcast(ctx, domain, strings.TrimSpace(b.Subject), b.Body, b.Offline)
	if err != nil {
		return BroadcastResult{Recipients: n}, fmt.Errorf("send broadcast: %w", err)
	}
	s.log.Info("broadcast sent", "domain", domain, "offline", b.Offline, "recipients", n)
	return BroadcastResult{Recipients: n}, nil
}

// broadcaster returns the running server's announce service. A broadcast
// reaches sessions, so it cannot be made on the storage alone.
func (s *Service) broadcaster() (Broadcaster, error) {
	l, ok := s.sessions.(interface{ Lookup(string) any })
	if !ok {
		return nil, ErrNotRunning
	}
	bc, ok := l.Lookup("announce").(Broadcaster)
	if !ok {
		return nil, fmt.Errorf("%w: announce; remove it from modules.disabled to send broadcasts", ErrModuleDisabled)
	}
	return bc, nil
}
