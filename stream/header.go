package stream

import (
	"crypto/rand"
	"encoding/base64"
)

// Header holds the attributes of a stream's opening tag (RFC 6120 §4.7).
type Header struct {
	To, From string
	ID       string
	Version  string
	Lang     string
	// NS is the content namespace declared as the default namespace:
	// jabber:client, jabber:server or jabber:component:accept.
	NS string
	// Dialback is true when the header declares the dialback prefix
	// (XEP-0220).
	Dialback bool
}

// NewID returns a random stream id.
func NewID() string {
	var b [12]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// AppendOpen appends an XML declaration and the opening tag of a stream
// with header h.
func AppendOpen(b []byte, h Header) []byte {
	b = append(b, "<?xml version='1.0'?><stream:stream xmlns='"...)
	b = append(b, h.NS...)
	b = append(b, "' xmlns:stream='"+NS+"'"...)
	if h.Dialback {
		b = append(b, " xmlns:db='jabber:server:dialback'"...)
	}
	b = appendAttr(b, "to", h.To)
	b = appendAttr(b, "from", h.From)
	b = appendAttr(b, "id", h.ID)
	b = appendAttr(b, "version", h.Version)
	b = appendAttr(b, "xml:lang", h.Lang)
	return append(b, '>')
}

// Close is the closing tag of a stream.
const Close = "</stream:stream>"

func appendAttr(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, "='"...)
	for i := 0; i < len(value); i++ {
		switch c := value[i]; c {
		case '\'':
			b = append(b, "&apos;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '&':
			b = append(b, "&amp;"...)
		default:
			b = append(b, c)
		}
	}
	return append(b, '\'')
}
