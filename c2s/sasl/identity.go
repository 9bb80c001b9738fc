package sasl

import (
	"errors"
	"fmt"

	"golang.org/x/text/secure/precis"
	"mellium.im/xmpp/jid"

	"tern/storage"
)

// prepareUsername applies the PRECIS UsernameCasePreserved profile
// (RFC 8265) to an authcid. A name that the profile rejects cannot
// belong to any account, so the failure is not-authorized.
func prepareUsername(authcid string) (string, error) {
	name, err := precis.UsernameCasePreserved.String(authcid)
	if err != nil {
		return "", &Failure{Condition: NotAuthorized, Err: fmt.Errorf("sasl: invalid username: %w", err)}
	}
	return name, nil
}

// checkAuthzid accepts an empty authzid or the bare JID username@domain,
// compared after JID normalization. Anything else, including a full JID or
// any authzid when domain is empty, yields invalid-authzid.
func checkAuthzid(authzid, username, domain string) error {
	if authzid == "" {
		return nil
	}
	invalid := &Failure{Condition: InvalidAuthzid, Text: "authzid must be empty or the bare JID of the authenticating user"}
	if domain == "" {
		return invalid
	}
	want, err := jid.New(username, domain, "")
	if err != nil {
		return invalid
	}
	got, err := jid.Parse(authzid)
	if err != nil || got.Resourcepart() != "" || !got.Equal(want) {
		return invalid
	}
	return nil
}

// lookupKey returns the account's verifier for the first of hashes the
// account has. For an unknown account, or one with none of those hashes, it
// returns a fake verifier for hashes[0] and known=false, so the exchange can
// go on and fail only at the proof.
func (e *Exchange) lookupKey(username string, hashes ...hashFunc) (key storage.ScramKey, h hashFunc, known bool, err error) {
	if e.cfg.Lookup == nil {
		return key, h, false, &Failure{Condition: TemporaryAuthFailure, Err: errors.New("sasl: Config.Lookup is nil")}
	}
	keys, err := e.cfg.Lookup(e.ctx, username)
	switch f, isFailure := asFailure(err); {
	case errors.Is(err, storage.ErrNotFound):
		keys = nil
	case isFailure:
		return key, h, false, f
	case err != nil:
		return key, h, false, &Failure{Condition: TemporaryAuthFailure, Err: fmt.Errorf("sasl: account lookup failed: %w", err)}
	}
	for _, h := range hashes {
		key, ok := findKey(keys, h)
		if !ok {
			continue
		}
		if err := validKey(key, h); err != nil {
			return key, h, false, &Failure{Condition: TemporaryAuthFailure, Err: err}
		}
		return key, h, true, nil
	}
	iterations := e.cfg.FakeIterations
	if iterations <= 0 {
		iterations = DefaultIterations
	}
	return fakeKey(hashes[0], username, iterations), hashes[0], false, nil
}
