package admin

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"tern/c2s/sasl"
	"tern/storage"
	"tern/stream"
)

// NewUser is one account to create: its bare JID and password.
type NewUser struct {
	JID      string `json:"jid"`
	Password string `json:"password"`
}

// BatchCreator is implemented by storage backends that can store many
// accounts in one transaction. AddUsers uses it when the backend has it.
type BatchCreator interface {
	// CreateAccounts stores every account or none. It returns an error
	// wrapping storage.ErrExists if one of them exists.
	CreateAccounts(ctx context.Context, accounts []storage.Account) error
}

// AddUsers creates an account for each user. Every JID must be the bare
// JID of a user on a served domain and appear once, and every password
// must have at least Options.MinPasswordLength characters. Otherwise
// AddUsers creates nothing. When some of the
// accounts exist already, it creates nothing and returns ErrExists naming
// them.
//
// Deriving the SCRAM keys (PBKDF2) is most of the cost, so it runs on
// GOMAXPROCS goroutines. The accounts are then stored in one transaction
// when the backend implements BatchCreator. Other backends store them one
// at a time, so there an account created concurrently by someone else can
// make AddUsers fail with the accounts before it already stored.
func (s *Service) AddUsers(ctx context.Context, users []NewUser) error {
	jids, err := s.checkNewUsers(users)
	if err != nil {
		return err
	}
	if err := s.checkAbsent(ctx, jids); err != nil {
		return err
	}
	start := time.Now()
	accounts, err := deriveAccounts(ctx, jids, users, s.iterations, s.hashes)
	if err != nil {
		return err
	}
	derived := time.Since(start)
	if err := s.store(ctx, accounts); err != nil {
		if errors.Is(err, storage.ErrExists) {
			// Another client created some of the accounts meanwhile.
			return s.existsError(ctx, jids, err)
		}
		return fmt.Errorf("store %d accounts: %w", len(accounts), err)
	}
	for _, j := range jids {
		s.log.Info("account created", "jid", j.String())
	}
	s.log.Info("accounts created", "count", len(accounts),
		"derive_keys", derived.Round(time.Millisecond), "total", time.Since(start).Round(time.Millisecond))
	return nil
}

// checkNewUsers parses and checks every user before any work starts.
func (s *Service) checkNewUsers(users []NewUser) ([]jid.JID, error) {
	if len(users) == 0 {
		return nil, fmt.Errorf("%w: no users given", ErrInvalidJID)
	}
	jids := make([]jid.JID, len(users))
	seen := make(map[string]bool, len(users))
	for i, u := range users {
		j, err := s.userJID(u.JID)
		if err != nil {
			return nil, err
		}
		if seen[j.String()] {
			return nil, fmt.Errorf("%w: %s is listed more than once", ErrInvalidJID, j)
		}
		seen[j.String()] = true
		if err := s.checkPassword(j.String(), u.Password); err != nil {
			return nil, err
		}
		jids[i] = j
	}
	return jids, nil
}

// maxNamed is how many existing accounts an ErrExists error names.
const maxNamed = 5

// checkAbsent returns ErrExists naming the accounts of jids that exist.
func (s *Service) checkAbsent(ctx context.Context, jids []jid.JID) error {
	var found []string
	count := 0
	for _, j := range jids {
		_, err := s.accounts.GetAccount(ctx, owner(j))
		switch {
		case err == nil:
			count++
			if len(found) < maxNamed {
				found = append(found, j.String())
			}
		case !errors.Is(err, storage.ErrNotFound):
			return fmt.Errorf("look up %s: %w", j, err)
		}
	}
	switch {
	case count == 0:
		return nil
	case count > len(found):
		return fmt.Errorf("%w: %s and %d more", ErrExists, strings.Join(found, ", "), count-len(found))
	default:
		return fmt.Errorf("%w: %s", ErrExists, strings.Join(found, ", "))
	}
}

// existsError returns an ErrExists error that names the existing
// accounts of jids, after err from the backend reported one.
func (s *Service) existsError(ctx context.Context, jids []jid.JID, err error) error {
	if named := s.checkAbsent(ctx, jids); named != nil {
		return named
	}
	return fmt.Errorf("%w: %w", ErrExists, err)
}

// store saves accounts in one batch when the backend allows it.
func (s *Service) store(ctx context.Context, accounts []storage.Account) error {
	if b, ok := s.accounts.(BatchCreator); ok {
		return b.CreateAccounts(ctx, accounts)
	}
	for _, a := range accounts {
		if err := s.accounts.CreateAccount(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// DeleteUser removes the account and everything it owns, then closes its
// sessions on this server with a <not-authorized/> stream error.
//
// NOTE: only sessions in this server's table are closed; in a cluster the
// account's sessions on other nodes stay open until they end.
func (s *Service) DeleteUser(ctx context.Context, account string) error {
	j, err := s.userJID(account)
	if err != nil {
		return err
	}
	err = s.accounts.DeleteAccount(ctx, owner(j))
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, j)
	}
	if err != nil {
		return fmt.Errorf("delete account %s: %w", j, err)
	}
	closed := 0
	if s.sessions != nil {
		for _, sess := range s.sessions.Sessions(j) {
			sess.Close(stream.NotAuthorized.WithText("account removed"))
			closed++
		}
	}
	s.log.Info("account deleted", "jid", j.String(), "sessions_closed", closed)
	return nil
}

// SetPassword replaces the account's SCRAM keys with keys derived from
// password, which must have at least Options.MinPasswordLength
// characters. Sessions that are already authenticated stay open.
func (s *Service) SetPassword(ctx context.Context, account, password string) error {
	j, err := s.userJID(account)
	if err != nil {
		return err
	}
	if err := s.checkPassword(j.String(), password); err != nil {
		return err
	}
	keys, err := sasl.NewKeys(password, s.iterations, s.hashes)
	if err != nil {
		return fmt.Errorf("derive keys for %s: %w", j, err)
	}
	err = s.accounts.SetKeys(ctx, owner(j), keys)
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %s", ErrNotFound, j)
	}
	if err != nil {
		return fmt.Errorf("store keys of %s: %w", j, err)
	}
	s.log.Info("password changed", "jid", j.String())
	return nil
}

// ListUsers returns the bare JIDs of the accounts on domain, sorted by
// localpart in byte order. An empty domain lists every served domain, in
// the order of server.domains.
func (s *Service) ListUsers(ctx context.Context, domain string) ([]string, error) {
	domains := s.domains
	if domain != "" {
		d, err := s.servedDomain(domain)
		if err != nil {
			return nil, err
		}
		domains = []string{d}
	}
	var out []string
	for _, d := range domains {
		locals, err := s.accounts.ListAccounts(ctx, d)
		if err != nil {
			return nil, fmt.Errorf("list accounts of %s: %w", d, err)
		}
		for _, l := range locals {
			out = append(out, l+"@"+d)
		}
	}
	return out, nil
}
