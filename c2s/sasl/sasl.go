// Package sasl implements the server side of SASL for XMPP client streams
// (RFC 6120 §6): SCRAM-SHA-1, SCRAM-SHA-256 and SCRAM-SHA-512 with and
// without channel binding (RFC 5802, RFC 7677, RFC 5056), and PLAIN
// (RFC 4616).
//
// The server stores only SCRAM verifiers (StoredKey and ServerKey, see
// [NewKeys]), never a password or a salted password. SCRAM checks the client
// proof against those verifiers; PLAIN recomputes StoredKey from the password
// it receives.
//
// Channel binding supports tls-exporter (RFC 9266) and tls-server-end-point
// (RFC 5929), advertised through XEP-0440. It never offers tls-unique, which
// is unsafe for TLS 1.2 without the extended master secret and undefined for
// TLS 1.3.
//
// The package performs no I/O and never logs; the caller decodes the base64
// of <auth/> and <response/>, encodes the replies and reports a [*Failure] as
// <failure/>.
package sasl

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"slices"

	"tern/storage"
)

// NSChannelBinding is the namespace of the XEP-0440 stream feature element
// <sasl-channel-binding/> that lists [ChannelBindingTypes].
const NSChannelBinding = "urn:xmpp:sasl-cb:0"

// Mechanism names, strongest first.
const (
	ScramSHA512Plus = "SCRAM-SHA-512-PLUS"
	ScramSHA256Plus = "SCRAM-SHA-256-PLUS"
	ScramSHA1Plus   = "SCRAM-SHA-1-PLUS"
	ScramSHA512     = "SCRAM-SHA-512"
	ScramSHA256     = "SCRAM-SHA-256"
	ScramSHA1       = "SCRAM-SHA-1"
	Plain           = "PLAIN"
)

// DefaultIterations is the PBKDF2 iteration count shown to unknown users
// when [Config.FakeIterations] is zero. RFC 7677 says the iteration count
// SHOULD be at least 4096.
const DefaultIterations = 4096

// Config describes one authentication exchange.
type Config struct {
	// TLS is the state of the stream's TLS connection, or nil on an
	// unencrypted stream. Channel binding needs it.
	TLS *tls.ConnectionState

	// Lookup returns the account's SCRAM verifiers. Its username argument is
	// the authcid as the client sent it, prepared with the PRECIS
	// UsernameCasePreserved profile (RFC 8265). The caller normalizes it
	// further as a JID localpart.
	//
	// For an unknown user Lookup returns an error matching
	// storage.ErrNotFound. A [*Failure] it returns (for example
	// account-disabled) reaches the client unchanged. Any other error becomes
	// temporary-auth-failure.
	Lookup func(ctx context.Context, username string) ([]storage.ScramKey, error)

	// AllowPlain enables PLAIN. Set it only on an encrypted stream.
	AllowPlain bool

	// ServerCertificate is the certificate the server presented on this
	// connection, used for tls-server-end-point. Nil disables that type.
	ServerCertificate *x509.Certificate

	// Domain is the domainpart the stream serves. An authzid is accepted
	// only if it is the bare JID authcid@Domain; with Domain empty every
	// non-empty authzid is rejected with invalid-authzid.
	Domain string

	// FakeIterations is the iteration count sent to unknown users, so that
	// they cannot be distinguished from real accounts. Set it to the count
	// passed to NewKeys. Zero means DefaultIterations.
	FakeIterations int

	// Hashes are the hash families ([HashSHA1], [HashSHA256], [HashSHA512])
	// whose SCRAM mechanisms are offered. Set it to the list passed to
	// NewKeys. Empty offers all three. An account without a key for an
	// offered family fails that mechanism as a wrong password does. PLAIN
	// accepts a key of any family and tries these families first.
	Hashes []string
}

// offersHash reports whether the SCRAM mechanisms of h are offered.
func (cfg Config) offersHash(h hashFunc) bool {
	return len(cfg.Hashes) == 0 || slices.Contains(cfg.Hashes, h.name)
}

// mechanism describes one supported SASL mechanism.
type mechanism struct {
	name  string
	hash  *hashFunc // nil for PLAIN
	plus  bool      // channel binding required
	plain bool
}

var mechanismTable = []mechanism{
	{name: ScramSHA512Plus, hash: &sha512Hash, plus: true},
	{name: ScramSHA256Plus, hash: &sha256Hash, plus: true},
	{name: ScramSHA1Plus, hash: &sha1Hash, plus: true},
	{name: ScramSHA512, hash: &sha512Hash},
	{name: ScramSHA256, hash: &sha256Hash},
	{name: ScramSHA1, hash: &sha1Hash},
	{name: Plain, plain: true},
}

// Mechanisms returns the mechanisms to advertise for cfg, strongest first.
// SCRAM mechanisms are included only for the families in cfg.Hashes (all
// when it is empty), the -PLUS variants only when cfg.TLS is set and at
// least one channel binding type is available, and PLAIN only when
// cfg.AllowPlain is set.
func Mechanisms(cfg Config) []string {
	bindable := len(ChannelBindingTypes(cfg)) > 0
	var names []string
	for _, m := range mechanismTable {
		if m.plus && !bindable || m.plain && !cfg.AllowPlain {
			continue
		}
		if m.hash != nil && !cfg.offersHash(*m.hash) {
			continue
		}
		names = append(names, m.name)
	}
	return names
}

// exchangeState is the position of an Exchange in its message flow.
type exchangeState int

const (
	stateInitial     exchangeState = iota // no message received yet
	stateClientFirst                      // empty initial response seen
	stateClientFinal                      // server-first sent
	stateFinished                         // succeeded or failed
)

// Exchange is one server-side SASL authentication exchange. It is not safe
// for concurrent use.
type Exchange struct {
	ctx   context.Context
	cfg   Config
	mech  mechanism
	state exchangeState

	username string // prepared authcid
	success  bool

	scram scramState
}

// Start begins an exchange for the mechanism called name. The exchange keeps
// ctx for the Lookup call that a later Step makes. An unknown mechanism, or
// one that Mechanisms does not list for cfg, yields a *Failure with
// condition invalid-mechanism. PLAIN without AllowPlain on a stream with no
// TLS yields encryption-required instead.
func Start(ctx context.Context, name string, cfg Config) (*Exchange, error) {
	if name == Plain && !cfg.AllowPlain && cfg.TLS == nil {
		return nil, &Failure{Condition: EncryptionRequired, Text: "PLAIN requires an encrypted stream"}
	}
	if !slices.Contains(Mechanisms(cfg), name) {
		return nil, &Failure{Condition: InvalidMechanism}
	}
	i := slices.IndexFunc(mechanismTable, func(m mechanism) bool { return m.name == name })
	e := &Exchange{ctx: ctx, cfg: cfg, mech: mechanismTable[i]}
	if !e.mech.plain {
		e.scram.serverNonce = newServerNonce()
	}
	return e, nil
}

// Step processes the client's decoded message: nil or empty for an empty
// <auth/> or <response/>. It returns the server's reply, the payload of
// <challenge/> while done is false. When done is true and err is nil the
// client is authenticated and out holds the additional data for <success/>
// (the SCRAM server-final message "v=…", nothing for PLAIN). Every error is
// a *Failure. Both an error and success end the exchange, and a later Step
// call yields a malformed-request Failure.
func (e *Exchange) Step(in []byte) (out []byte, done bool, err error) {
	if e.state == stateFinished {
		return nil, true, &Failure{Condition: MalformedRequest, Text: "authentication exchange already finished"}
	}
	if e.mech.plain {
		out, done, err = e.stepPlain(in)
	} else {
		out, done, err = e.stepSCRAM(in)
	}
	if err != nil || done {
		e.state = stateFinished
		e.success = err == nil
	}
	return out, done, err
}

// Mechanism returns the name of the exchange's mechanism.
func (e *Exchange) Mechanism() string { return e.mech.name }

// Username returns the prepared authcid once the exchange has succeeded,
// and the empty string before that or after a failure.
func (e *Exchange) Username() string {
	if !e.success {
		return ""
	}
	return e.username
}

// AttemptedUsername returns the username the client sent, prepared as for
// Lookup, whether or not authentication succeeded; "" before the client's
// first message. Use it to count failures per account.
func (e *Exchange) AttemptedUsername() string { return e.username }

// ChannelBinding returns the channel binding type that a successful -PLUS
// exchange used, and the empty string otherwise.
func (e *Exchange) ChannelBinding() string {
	if !e.success {
		return ""
	}
	return e.scram.cbType
}

// fail returns a *Failure with the given condition and text.
func fail(condition, text string) error {
	return &Failure{Condition: condition, Text: text}
}

// asFailure returns err itself if it is a *Failure.
func asFailure(err error) (*Failure, bool) {
	var f *Failure
	ok := errors.As(err, &f)
	return f, ok
}
