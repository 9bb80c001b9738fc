package sasl

import (
	"bytes"
	"crypto/hmac"

	"golang.org/x/text/secure/precis"
)

// stepPlain handles the PLAIN message "authzid NUL authcid NUL password"
// (RFC 4616) and checks the password against one stored SCRAM verifier,
// chosen as plainHashes orders them.
func (e *Exchange) stepPlain(in []byte) ([]byte, bool, error) {
	if len(in) == 0 {
		if e.state != stateInitial {
			return nil, true, fail(MalformedRequest, "empty PLAIN message")
		}
		e.state = stateClientFirst
		return []byte{}, false, nil
	}

	authzid, authcid, password, err := parsePlain(in)
	if err != nil {
		return nil, true, err
	}
	username, err := prepareUsername(authcid)
	if err != nil {
		return nil, true, err
	}
	if err := checkAuthzid(authzid, username, e.cfg.Domain); err != nil {
		return nil, true, err
	}
	// Set before the check, so that AttemptedUsername names the account a
	// wrong password was tried against.
	e.username = username
	if err := e.verifyPassword(username, password); err != nil {
		return nil, true, err
	}
	return nil, true, nil
}

// parsePlain splits a PLAIN message into its three fields. Syntax errors
// yield malformed-request.
func parsePlain(in []byte) (authzid, authcid, password string, err error) {
	if err := checkMessage(in); err != nil {
		return "", "", "", err
	}
	fields := bytes.Split(in, []byte{0})
	if len(fields) != 3 {
		return "", "", "", fail(MalformedRequest, "PLAIN message must have three NUL-separated fields")
	}
	authzid, authcid, password = string(fields[0]), string(fields[1]), string(fields[2])
	if authcid == "" || password == "" {
		return "", "", "", fail(MalformedRequest, "empty authcid or password")
	}
	return authzid, authcid, password, nil
}

// verifyPassword recomputes StoredKey from password and compares it with
// the stored one. For an unknown user it does the same work against a fake
// verifier, so the response time does not reveal whether the account
// exists.
func (e *Exchange) verifyPassword(username, password string) error {
	key, h, known, err := e.lookupKey(username, plainHashes(e.cfg)...)
	if err != nil {
		return err
	}
	prepared, err := precis.OpaqueString.String(password)
	if err != nil {
		return fail(NotAuthorized, "")
	}
	clientKey, _, err := clientServerKeys(h, prepared, key.Salt, key.Iterations)
	if err != nil {
		return &Failure{Condition: TemporaryAuthFailure, Err: err}
	}
	if !hmac.Equal(h.sum(clientKey), key.StoredKey) || !known {
		return fail(NotAuthorized, "")
	}
	return nil
}

// plainHashes returns the hash families whose verifier PLAIN checks, in
// order of preference: SHA-256, SHA-1, SHA-512, with the families in
// cfg.Hashes before the others. The fake verifier of an unknown user is of
// the first family, so it costs the same PBKDF2 work as the verifier of an
// account created under the current configuration.
func plainHashes(cfg Config) []hashFunc {
	var offered, others []hashFunc
	for _, h := range []hashFunc{sha256Hash, sha1Hash, sha512Hash} {
		if cfg.offersHash(h) {
			offered = append(offered, h)
		} else {
			others = append(others, h)
		}
	}
	return append(offered, others...)
}
