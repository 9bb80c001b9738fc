package register

import (
	"context"
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/c2s/sasl"
	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

// changePassword replaces the account's SCRAM keys (XEP-0077 §3.3). The
// username in the request must name the requesting account. Sessions that
// are already authenticated stay connected.
func (s *service) changePassword(ctx context.Context, iq *stanza.Stanza, q *stanza.Element, account jid.JID) (*stanza.Stanza, error) {
	username, password, err := credentials(q)
	if err != nil {
		// XEP-0077 §3.3 specifies bad-request for an incomplete password
		// change, unlike not-acceptable for an incomplete registration.
		return nil, stanza.BadRequest.WithText("a username and a password are required")
	}
	named, err := jid.New(username, account.Domainpart(), "")
	if err != nil || !named.Equal(account) {
		return nil, stanza.BadRequest.WithText("the username is not the authenticated account's")
	}
	if err := s.checkPassword(password); err != nil {
		return nil, err
	}
	keys, err := sasl.NewKeys(password, s.iterations, s.hashes)
	if err != nil {
		return nil, stanza.NotAcceptable.WithText("the password contains characters that are not allowed")
	}
	err = s.accounts.SetKeys(ctx, owner(account), keys)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, registrationRequired
	}
	if err != nil {
		return nil, fmt.Errorf("register: store new keys: %w", err)
	}
	s.log.Info("password changed", "jid", account.String())
	return stanza.Result(iq), nil
}

// cancel removes the account and everything it owns (XEP-0077 §3.2). It
// sends the result itself, because every session of the account is closed
// with a not-authorized stream error right after, and a session writes
// what was queued before the error.
//
// NOTE: only sessions on this node are closed; a cluster must also close
// the account's sessions on other nodes.
func (s *service) cancel(ctx context.Context, iq *stanza.Stanza, q *stanza.Element, account jid.JID) (*stanza.Stanza, error) {
	if len(q.Elements()) != 1 {
		return nil, stanza.BadRequest.WithText("<remove/> must be the only element of the request")
	}
	err := s.accounts.DeleteAccount(ctx, owner(account))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, registrationRequired
	}
	if err != nil {
		return nil, fmt.Errorf("register: delete account: %w", err)
	}
	s.log.Info("account deleted", "jid", account.String(), "by", "in-band registration")
	s.host.Route(ctx, stanza.Result(iq))
	for _, sess := range s.host.Sessions(account) {
		sess.Close(stream.NotAuthorized.WithText("account removed"))
	}
	return nil, nil
}
