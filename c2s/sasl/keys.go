package sasl

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"

	"golang.org/x/text/secure/precis"

	"tern/storage"
)

// Hash names used in storage.ScramKey.Hash, in [NewKeys] and in
// [Config.Hashes].
const (
	HashSHA1   = "SHA-1"
	HashSHA256 = "SHA-256"
	HashSHA512 = "SHA-512"
)

// saltLength is the length in bytes of the salts NewKeys creates and of the
// fake salts shown to unknown users.
const saltLength = 16

// hashFunc is one hash function SCRAM can use.
type hashFunc struct {
	name string
	new  func() hash.Hash
}

var (
	sha1Hash   = hashFunc{name: HashSHA1, new: sha1.New}
	sha256Hash = hashFunc{name: HashSHA256, new: sha256.New}
	sha512Hash = hashFunc{name: HashSHA512, new: sha512.New}
)

// hashFuncs are the supported hash families, in the order NewKeys stores
// their keys.
var hashFuncs = []hashFunc{sha1Hash, sha256Hash, sha512Hash}

// Hashes returns the names of every supported hash family: SHA-1, SHA-256
// and SHA-512.
func Hashes() []string {
	names := make([]string, len(hashFuncs))
	for i, h := range hashFuncs {
		names[i] = h.name
	}
	return names
}

// fakeSaltSecret keys the HMAC that derives fake salts for unknown users.
// It is random per process, so the salts are stable while the server runs
// but cannot be predicted from outside.
var fakeSaltSecret = func() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}()

// NewKeys prepares password with the PRECIS OpaqueString profile (RFC 8265,
// the successor of SASLprep) and derives one SCRAM verifier for each hash
// family named in hashes, each with its own random 16-byte salt and the
// given PBKDF2 iteration count. The keys come in the order SHA-1, SHA-256,
// SHA-512 whatever the order of hashes, and a name listed twice gives one
// key. It rejects an empty hashes, a name other than [HashSHA1],
// [HashSHA256] and [HashSHA512], iterations < 1 and passwords that the
// profile does not allow, such as the empty string.
func NewKeys(password string, iterations int, hashes []string) ([]storage.ScramKey, error) {
	if iterations < 1 {
		return nil, fmt.Errorf("sasl: invalid iteration count %d: must be at least 1", iterations)
	}
	selected, err := selectHashes(hashes)
	if err != nil {
		return nil, err
	}
	prepared, err := precis.OpaqueString.String(password)
	if err != nil {
		return nil, fmt.Errorf("sasl: password rejected by OpaqueString preparation: %w", err)
	}
	keys := make([]storage.ScramKey, 0, len(selected))
	for _, h := range selected {
		salt := make([]byte, saltLength)
		rand.Read(salt)
		k, err := deriveKey(h, prepared, salt, iterations)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// selectHashes returns the hash functions named in names, in the order of
// hashFuncs.
func selectHashes(names []string) ([]hashFunc, error) {
	if len(names) == 0 {
		return nil, errors.New("sasl: no hash family given for the SCRAM keys")
	}
	for _, name := range names {
		if !slices.ContainsFunc(hashFuncs, func(h hashFunc) bool { return h.name == name }) {
			return nil, fmt.Errorf("sasl: unknown hash family %q (supported: %s)", name, strings.Join(Hashes(), ", "))
		}
	}
	var selected []hashFunc
	for _, h := range hashFuncs {
		if slices.Contains(names, h.name) {
			selected = append(selected, h)
		}
	}
	return selected, nil
}

// deriveKey computes the SCRAM verifier of an already prepared password
// (RFC 5802 §3).
func deriveKey(h hashFunc, password string, salt []byte, iterations int) (storage.ScramKey, error) {
	clientKey, serverKey, err := clientServerKeys(h, password, salt, iterations)
	if err != nil {
		return storage.ScramKey{}, err
	}
	return storage.ScramKey{
		Hash:       h.name,
		Salt:       salt,
		Iterations: iterations,
		StoredKey:  h.sum(clientKey),
		ServerKey:  serverKey,
	}, nil
}

// clientServerKeys returns ClientKey and ServerKey for a prepared password.
func clientServerKeys(h hashFunc, password string, salt []byte, iterations int) (clientKey, serverKey []byte, err error) {
	if iterations < 1 {
		return nil, nil, fmt.Errorf("sasl: invalid iteration count %d", iterations)
	}
	salted, err := pbkdf2.Key(h.new, password, salt, iterations, h.new().Size())
	if err != nil {
		return nil, nil, fmt.Errorf("sasl: PBKDF2 with %s failed: %w", h.name, err)
	}
	return h.hmac(salted, []byte("Client Key")), h.hmac(salted, []byte("Server Key")), nil
}

// sum returns H(data).
func (h hashFunc) sum(data []byte) []byte {
	d := h.new()
	d.Write(data)
	return d.Sum(nil)
}

// hmac returns HMAC(key, data).
func (h hashFunc) hmac(key, data []byte) []byte {
	m := hmac.New(h.new, key)
	m.Write(data)
	return m.Sum(nil)
}

// findKey returns the verifier for hash h among keys.
func findKey(keys []storage.ScramKey, h hashFunc) (storage.ScramKey, bool) {
	for _, k := range keys {
		if k.Hash == h.name {
			return k, true
		}
	}
	return storage.ScramKey{}, false
}

// fakeKey returns a verifier for a user that does not exist: its salt is
// derived from the hash name and the username, so repeated attempts see the
// same salt, and its keys are random, so no proof matches them.
func fakeKey(h hashFunc, username string, iterations int) storage.ScramKey {
	mac := hmac.New(sha256.New, fakeSaltSecret)
	mac.Write([]byte(h.name))
	mac.Write([]byte{0})
	mac.Write([]byte(username))
	size := h.new().Size()
	stored := make([]byte, size)
	server := make([]byte, size)
	rand.Read(stored)
	rand.Read(server)
	return storage.ScramKey{
		Hash:       h.name,
		Salt:       mac.Sum(nil)[:saltLength],
		Iterations: iterations,
		StoredKey:  stored,
		ServerKey:  server,
	}
}

// validKey reports whether a stored verifier fits hash h.
func validKey(k storage.ScramKey, h hashFunc) error {
	size := h.new().Size()
	switch {
	case k.Iterations < 1:
		return fmt.Errorf("sasl: stored %s key has invalid iteration count %d", h.name, k.Iterations)
	case len(k.Salt) == 0:
		return errors.New("sasl: stored " + h.name + " key has an empty salt")
	case len(k.StoredKey) != size || len(k.ServerKey) != size:
		return fmt.Errorf("sasl: stored %s key has StoredKey or ServerKey of the wrong length", h.name)
	}
	return nil
}
