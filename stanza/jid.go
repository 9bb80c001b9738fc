package stanza

import (
	"errors"
	"strings"

	"mellium.im/xmpp/jid"
)

var errEmptyLabel = errors.New("stanza: domainpart has an empty label")

// ParseJID parses an address received on the wire (RFC 7622). On top of
// the checks of mellium.im/xmpp/jid it rejects domainparts with an empty
// label, such as ".." (which that package reduces to "." after removing
// the trailing dot) or "a..b", so every accepted JID parses again from its
// string form.
func ParseJID(s string) (jid.JID, error) {
	j, err := jid.Parse(s)
	if err != nil {
		return jid.JID{}, err
	}
	d := j.Domainpart()
	if strings.HasPrefix(d, "[") {
		return j, nil // IP literal, checked by jid.Parse
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return jid.JID{}, errEmptyLabel
		}
	}
	return j, nil
}
