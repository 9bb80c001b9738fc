// Package admin implements the server's administrative operations on
// accounts and sessions: creating accounts in bulk, deleting them,
// changing passwords, and listing accounts, sessions and counts.
//
// The operations do not depend on a transport. The HTTP API (package
// httpd) calls them for remote requests, and ternctl calls them directly
// on the storage when no server runs.
package admin

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/secure/precis"
	"mellium.im/xmpp/jid"

	"tern/c2s/sasl"
	"tern/router"
	"tern/storage"
)

// Errors returned by Service. Callers match them with errors.Is; the
// returned errors wrap them with the value that caused them.
var (
	// ErrInvalidJID reports a JID that cannot be parsed or is not the
	// bare JID of a user (localpart@domain).
	ErrInvalidJID = errors.New("invalid JID")
	// ErrUnknownDomain reports a domain that is not in server.domains.
	ErrUnknownDomain = errors.New("domain not served by this server")
	// ErrInvalidPassword reports an empty password or one that the PRECIS
	// OpaqueString profile (RFC 8265) rejects.
	ErrInvalidPassword = errors.New("invalid password")
	// ErrNotFound reports an account that does not exist.
	ErrNotFound = errors.New("account does not exist")
	// ErrNotInRoster reports a contact that is not on the roster of an
	// existing account.
	ErrNotInRoster = errors.New("contact is not on the roster")
	// ErrExists reports an account that exists already.
	ErrExists = errors.New("account already exists")
	// ErrNotRunning reports an operation that needs the session table of
	// a running server, on a Service built without one.
	ErrNotRunning = errors.New("server is not running")
	// ErrModuleDisabled reports an operation that needs a module that
	// modules.disabled turns off.
	ErrModuleDisabled = errors.New("module is disabled")
)

// SessionTable is the part of the router that the session operations
// use. *router.Router implements it.
type SessionTable interface {
	Sessions(bare jid.JID) []router.Session
	EachSession(f func(router.Session))
	SessionCount() int
}

// Options configure a Service.
type Options struct {
	// Domains are the served domains (server.domains) in normalized
	// form. Accounts can only be created and listed on these.
	Domains []string
	// Iterations is the PBKDF2 iteration count of new SCRAM keys
	// (auth.scram_iterations).
	Iterations int
	// MinPasswordLength is the shortest password that account creation
	// and password changes accept, in Unicode code points
	// (registration.min_password_length). Zero accepts any non-empty
	// password.
	MinPasswordLength int
	// Hashes are the hash families of new SCRAM keys
	// (auth.scram_hashes). Nil means every family sasl.Hashes lists.
	Hashes []string
	// Sessions is the live session table, or nil when no server runs:
	// then DeleteUser closes no session, and Sessions returns
	// ErrNotRunning. When it also has the method Lookup(name string) any,
	// as *router.Router does, the roster operations and Broadcast reach
	// the services that modules provide through it.
	Sessions SessionTable
	// Log receives one record per change; nil discards them.
	Log *slog.Logger
}

// Service runs the administrative operations. It is safe for concurrent
// use.
type Service struct {
	accounts   storage.Accounts
	domains    []string
	served     map[string]bool
	iterations int
	minLength  int
	hashes     []string
	sessions   SessionTable
	log        *slog.Logger
}

// New returns a Service that stores accounts in accounts.
func New(accounts storage.Accounts, opts Options) *Service {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hashes := slices.Clone(opts.Hashes)
	if hashes == nil {
		hashes = sasl.Hashes()
	}
	s := &Service{
		accounts:   accounts,
		domains:    append([]string(nil), opts.Domains...),
		served:     make(map[string]bool, len(opts.Domains)),
		iterations: opts.Iterations,
		minLength:  opts.MinPasswordLength,
		hashes:     hashes,
		sessions:   opts.Sessions,
		log:        log,
	}
	for _, d := range opts.Domains {
		s.served[d] = true
	}
	return s
}

// Domains returns the served domains.
func (s *Service) Domains() []string { return append([]string(nil), s.domains...) }

// userJID parses raw as the bare JID of an account on a served domain.
func (s *Service) userJID(raw string) (jid.JID, error) {
	j, err := parseJID(raw)
	if err != nil {
		return jid.JID{}, err
	}
	if j.Localpart() == "" {
		return jid.JID{}, fmt.Errorf("%w %q: a user JID needs a localpart, as in user@%s", ErrInvalidJID, raw, j.Domainpart())
	}
	if j.Resourcepart() != "" {
		return jid.JID{}, fmt.Errorf("%w %q: use the bare JID, without a resource", ErrInvalidJID, raw)
	}
	if !s.served[j.Domainpart()] {
		return jid.JID{}, fmt.Errorf("%w: %s in %s; the served domains are %s", ErrUnknownDomain, j.Domainpart(), raw, strings.Join(s.domains, ", "))
	}
	return j, nil
}

// servedDomain normalizes raw and checks that it is a served domain.
func (s *Service) servedDomain(raw string) (string, error) {
	j, err := jid.Parse(raw)
	if err != nil || j.Localpart() != "" || j.Resourcepart() != "" {
		return "", fmt.Errorf("%w: %q is not a domain", ErrUnknownDomain, raw)
	}
	if !s.served[j.Domainpart()] {
		return "", fmt.Errorf("%w: %s; the served domains are %s", ErrUnknownDomain, raw, strings.Join(s.domains, ", "))
	}
	return j.Domainpart(), nil
}

// owner returns the storage key of the account with bare JID j.
func owner(j jid.JID) storage.Owner {
	return storage.Owner{Domain: j.Domainpart(), Local: j.Localpart()}
}

// checkPassword rejects a password shorter than the minimum, or one that
// sasl.NewKeys would reject, before any key is derived. It counts code
// points, as in-band registration does.
func (s *Service) checkPassword(account, password string) error {
	if password == "" {
		return fmt.Errorf("%w for %s: the password is empty", ErrInvalidPassword, account)
	}
	if _, err := precis.OpaqueString.String(password); err != nil {
		return fmt.Errorf("%w for %s: the password contains a character that passwords may not contain, such as a control character", ErrInvalidPassword, account)
	}
	if utf8.RuneCountInString(password) < s.minLength {
		return fmt.Errorf("%w for %s: the password must have at least %d characters (registration.min_password_length)",
			ErrInvalidPassword, account, s.minLength)
	}
	return nil
}
