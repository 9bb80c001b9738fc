package register

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"mellium.im/xmpp/jid"

	"tern/c2s/sasl"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// create registers the account that q describes on info.Domain. It
// returns a *stanza.Error for every request the client can correct.
func (s *service) create(ctx context.Context, info router.ConnInfo, q *stanza.Element) error {
	username, password, err := credentials(q)
	if err != nil {
		return err
	}
	account, err := jid.New(username, info.Domain, "")
	if err != nil || account.Localpart() == "" {
		return stanza.JIDMalformed.WithText("the username is not a valid JID localpart")
	}
	if err := s.checkPassword(password); err != nil {
		return err
	}
	// The rate limit comes first, so an address over it learns nothing
	// about which names exist. A taken name gives its slot back and costs
	// no PBKDF2 work.
	slot, ok := s.limit.reserve(info.RemoteIP)
	if !ok {
		return stanza.ResourceConstraint.WithText("too many registrations from this address; try again later")
	}
	if _, err := s.accounts.GetAccount(ctx, owner(account)); err == nil {
		s.limit.release(info.RemoteIP, slot)
		return stanza.Conflict.WithText("the username is taken")
	} else if !errors.Is(err, storage.ErrNotFound) {
		s.limit.release(info.RemoteIP, slot)
		return fmt.Errorf("register: look up account: %w", err)
	}
	if err := s.store(ctx, account, password); err != nil {
		s.limit.release(info.RemoteIP, slot)
		return err
	}
	s.log.Info("account registered", "jid", account.String(), "ip", info.RemoteIP)
	return nil
}

// store derives the SCRAM keys for password and creates the account.
func (s *service) store(ctx context.Context, account jid.JID, password string) error {
	keys, err := sasl.NewKeys(password, s.iterations, s.hashes)
	if err != nil {
		return stanza.NotAcceptable.WithText("the password contains characters that are not allowed")
	}
	err = s.accounts.CreateAccount(ctx, storage.Account{Owner: owner(account), Keys: keys, CreatedAt: time.Now()})
	if errors.Is(err, storage.ErrExists) {
		return stanza.Conflict.WithText("the username is taken")
	}
	if err != nil {
		return fmt.Errorf("register: create account: %w", err)
	}
	return nil
}

// credentials returns the username and password of a registration or
// password change request. Both are required, and XEP-0077 §3.1
// specifies not-acceptable for a registration that lacks one.
func credentials(q *stanza.Element) (username, password string, err error) {
	u, p := q.Child(NS, "username"), q.Child(NS, "password")
	if u.Text() == "" || p.Text() == "" {
		return "", "", stanza.NotAcceptable.WithText("a username and a password are required")
	}
	return u.Text(), p.Text(), nil
}

// checkPassword applies registration.min_password_length, counted in
// Unicode code points.
func (s *service) checkPassword(password string) error {
	if n := s.reg.MinPasswordLength; utf8.RuneCountInString(password) < n {
		return stanza.NotAcceptable.WithText("the password must have at least " + strconv.Itoa(n) + " characters")
	}
	return nil
}
