package sasl

import (
	"crypto/hmac"
	"crypto/rand"
	"encoding/base64"
	"slices"
	"strconv"

	"tern/storage"
)

// scramState is the part of an Exchange that SCRAM keeps between messages.
type scramState struct {
	serverNonce string
	nonce       string // client nonce followed by serverNonce
	cbType      string // channel binding type, empty without binding
	// cbInput is the expected decoded value of the c= attribute, the GS2
	// header followed by the channel binding data (RFC 5802 §7).
	cbInput []byte
	// authPrefix is client-first-message-bare "," server-first-message, the
	// start of AuthMessage.
	authPrefix string
	key        storage.ScramKey
	known      bool // false when key is a fake for an unknown user
}

// newServerNonce returns 24 random printable characters.
func newServerNonce() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawStdEncoding.EncodeToString(b)
}

// stepSCRAM advances a SCRAM exchange by one client message.
func (e *Exchange) stepSCRAM(in []byte) ([]byte, bool, error) {
	switch e.state {
	case stateInitial:
		if len(in) == 0 {
			// An empty initial response: ask for client-first-message.
			e.state = stateClientFirst
			return []byte{}, false, nil
		}
		return e.clientFirst(in)
	case stateClientFirst:
		if len(in) == 0 {
			return nil, true, fail(MalformedRequest, "empty client-first-message")
		}
		return e.clientFirst(in)
	default:
		return e.clientFinal(in)
	}
}

// clientFirst handles client-first-message and returns server-first-message.
func (e *Exchange) clientFirst(in []byte) ([]byte, bool, error) {
	cf, err := parseClientFirst(in)
	if err != nil {
		return nil, true, err
	}
	if err := e.checkChannelBinding(cf); err != nil {
		return nil, true, err
	}
	username, err := prepareUsername(cf.username)
	if err != nil {
		return nil, true, err
	}
	if err := checkAuthzid(cf.authzid, username, e.cfg.Domain); err != nil {
		return nil, true, err
	}
	key, _, known, err := e.lookupKey(username, *e.mech.hash)
	if err != nil {
		return nil, true, err
	}
	e.username = username
	e.scram.key, e.scram.known = key, known
	e.scram.nonce = cf.nonce + e.scram.serverNonce
	serverFirst := "r=" + e.scram.nonce +
		",s=" + base64.StdEncoding.EncodeToString(key.Salt) +
		",i=" + strconv.Itoa(key.Iterations)
	e.scram.authPrefix = cf.bare + "," + serverFirst
	e.state = stateClientFinal
	return []byte(serverFirst), false, nil
}

// checkChannelBinding applies the channel binding rules of RFC 5802 §6 to
// the GS2 header and records the data that c= must carry.
func (e *Exchange) checkChannelBinding(cf clientFirst) error {
	e.scram.cbInput = []byte(cf.gs2Header)
	switch {
	case cf.cbFlag == 'p' && !e.mech.plus:
		return fail(MalformedRequest, "channel binding requested with a mechanism that has no -PLUS suffix")
	case cf.cbFlag != 'p' && e.mech.plus:
		return fail(MalformedRequest, e.mech.name+" requires channel binding")
	case cf.cbFlag == 'y' && len(ChannelBindingTypes(e.cfg)) > 0:
		// The client supports channel binding and believes the server does
		// not, although the server offered -PLUS: someone may have removed
		// the -PLUS mechanisms from the feature list.
		return fail(NotAuthorized, "channel binding was offered but not used")
	case cf.cbFlag != 'p':
		return nil
	}
	if cf.cbType == TLSUnique || !slices.Contains(ChannelBindingTypes(e.cfg), cf.cbType) {
		return fail(NotAuthorized, "unsupported channel binding type "+cf.cbType)
	}
	data, ok := bindingData(e.cfg, cf.cbType)
	if !ok {
		return fail(NotAuthorized, "channel binding type "+cf.cbType+" is unavailable")
	}
	e.scram.cbType = cf.cbType
	e.scram.cbInput = append(e.scram.cbInput, data...)
	return nil
}

// clientFinal verifies client-final-message and returns
// server-final-message.
func (e *Exchange) clientFinal(in []byte) ([]byte, bool, error) {
	cf, err := parseClientFinal(in)
	if err != nil {
		return nil, true, err
	}
	if cf.nonce != e.scram.nonce {
		return nil, true, fail(NotAuthorized, "nonce mismatch")
	}
	if !hmac.Equal(cf.channelBinding, e.scram.cbInput) {
		return nil, true, fail(NotAuthorized, "channel binding mismatch")
	}
	h := *e.mech.hash
	key := e.scram.key
	authMessage := []byte(e.scram.authPrefix + "," + cf.withoutProof)
	clientSignature := h.hmac(key.StoredKey, authMessage)
	if len(cf.proof) != len(clientSignature) {
		return nil, true, fail(NotAuthorized, "")
	}
	clientKey := make([]byte, len(clientSignature))
	for i := range clientKey {
		clientKey[i] = cf.proof[i] ^ clientSignature[i]
	}
	if !hmac.Equal(h.sum(clientKey), key.StoredKey) || !e.scram.known {
		return nil, true, fail(NotAuthorized, "")
	}
	serverSignature := h.hmac(key.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), true, nil
}
