package admin

import (
	"context"
	"errors"
	"fmt"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// RosterEditor is the roster module's service for server-side roster
// changes; the running server provides it under the name "roster".
type RosterEditor interface {
	SetItem(ctx context.Context, user, contact jid.JID, name string, groups []string) error
	RemoveItem(ctx context.Context, user, contact jid.JID) error
}

// rosterEditor returns the running server's roster service. A roster
// change must reach the user's online clients as a roster push, so it
// cannot be made on the storage alone.
func (s *Service) rosterEditor() (RosterEditor, error) {
	l, ok := s.sessions.(interface{ Lookup(string) any })
	if !ok {
		return nil, ErrNotRunning
	}
	ed, ok := l.Lookup("roster").(RosterEditor)
	if !ok {
		return nil, fmt.Errorf("%w: roster; remove it from modules.disabled to change rosters", ErrModuleDisabled)
	}
	return ed, nil
}

// SetRosterItem adds contact to user's roster, or updates its name and
// groups, and pushes the change to user's clients (RFC 6121 §2.1.6).
func (s *Service) SetRosterItem(ctx context.Context, user, contact, name string, groups []string) error {
	u, err := s.userJID(user)
	if err != nil {
		return err
	}
	c, err := parseJID(contact)
	if err != nil {
		return err
	}
	if err := s.checkExists(ctx, u); err != nil {
		return err
	}
	ed, err := s.rosterEditor()
	if err != nil {
		return err
	}
	return ed.SetItem(ctx, u, c.Bare(), name, groups)
}

// RemoveRosterItem removes contact from user's roster. It returns
// ErrNotFound when user has no account and ErrNotInRoster when contact
// is not on user's roster.
func (s *Service) RemoveRosterItem(ctx context.Context, user, contact string) error {
	u, err := s.userJID(user)
	if err != nil {
		return err
	}
	c, err := parseJID(contact)
	if err != nil {
		return err
	}
	if err := s.checkExists(ctx, u); err != nil {
		return err
	}
	ed, err := s.rosterEditor()
	if err != nil {
		return err
	}
	err = ed.RemoveItem(ctx, u, c.Bare())
	var se *stanza.Error
	if errors.As(err, &se) && se.Condition == stanza.ItemNotFound.Condition {
		return fmt.Errorf("%w of %s: %s", ErrNotInRoster, u, c.Bare())
	}
	return err
}

// checkExists returns ErrNotFound when the account u does not exist.
func (s *Service) checkExists(ctx context.Context, u jid.JID) error {
	_, err := s.accounts.GetAccount(ctx, owner(u))
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, u)
	}
	if err != nil {
		return fmt.Errorf("look up account %s: %w", u, err)
	}
	return nil
}
