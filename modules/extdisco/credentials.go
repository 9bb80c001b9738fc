package extdisco

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"mellium.im/xmpp/jid"

	"tern/config"
	"tern/stanza"
)

// Credentials returns a TURN REST username and password for user, valid
// until expires: the username is the expiry as Unix time, a colon and the
// bare JID, and the password is the base64 HMAC-SHA1 of the username
// keyed with secret. coturn checks them with use-auth-secret and
// static-auth-secret set to the same secret.
func Credentials(secret string, user jid.JID, expires time.Time) (username, password string) {
	username = strconv.FormatInt(expires.Unix(), 10) + ":" + user.Bare().String()
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// serviceElement describes svc. A service with a secret carries
// credentials for user that expire svc.TTL after now.
func serviceElement(svc config.ExternalService, user jid.JID, now time.Time) *stanza.Element {
	e := stanza.NewElement(NS, "service",
		"type", svc.Type,
		"host", svc.Host,
		"port", strconv.Itoa(svc.Port),
		"transport", svc.Transport)
	if svc.Restricted || svc.Secret != "" {
		e.SetAttr("restricted", "1")
	}
	if svc.Secret != "" {
		expires := now.Add(svc.TTL).UTC().Truncate(time.Second)
		username, password := Credentials(svc.Secret, user, expires)
		e.SetAttr("username", username)
		e.SetAttr("password", password)
		e.SetAttr("expires", expires.Format(time.RFC3339))
	}
	return e
}

// credentials handles a <credentials/> request (XEP-0215 §3.3): each
// <service/> in it names a host and type, and optionally a port. The
// result lists every matching service that the server has credentials
// for.
func (s *service) credentials(user jid.JID, el *stanza.Element) (*stanza.Element, error) {
	requested := el.ChildrenNamed(NS, "service")
	if len(requested) == 0 {
		return nil, stanza.BadRequest.WithText("name the service with <service host='…' type='…'/>")
	}
	res := stanza.NewElement(NS, "credentials")
	now := s.now()
	for _, req := range requested {
		host, typ := req.AttrValue("host"), req.AttrValue("type")
		if host == "" || typ == "" {
			return nil, stanza.BadRequest.WithText("a requested service needs host and type")
		}
		port := 0
		if p := req.AttrValue("port"); p != "" {
			n, err := strconv.Atoi(p)
			if err != nil || n < 1 || n > 65535 {
				return nil, stanza.BadRequest.WithText("invalid port")
			}
			port = n
		}
		for _, svc := range s.services {
			if svc.Secret != "" && svc.Type == typ && strings.EqualFold(svc.Host, host) && (port == 0 || svc.Port == port) {
				res.Add(serviceElement(svc, user, now))
			}
		}
	}
	if len(res.Children) == 0 {
		return nil, stanza.ItemNotFound.WithText("this server issues no credentials for that service")
	}
	return res, nil
}
