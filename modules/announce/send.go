package announce

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"

	"mellium.im/xmpp/jid"

	"tern/modules/adhoc"
	"tern/router"
	"tern/stanza"
)

// Announcement is the content of an announcement message.
type Announcement struct {
	// Subject is optional.
	Subject string
	Body    string
}

// announcementOf reads an announcement from a submitted form: the body
// from the XEP-0133 field "announcement", the subject from "subject".
func announcementOf(v adhoc.Values) (Announcement, error) {
	a := Announcement{Subject: strings.TrimSpace(v.Get("subject")), Body: v.Text("announcement")}
	if strings.TrimSpace(a.Body) == "" {
		return a, adhoc.ErrBadPayload.WithText("the announcement is empty")
	}
	return a, nil
}

// message builds an announcement message of type typ from the domain
// to to.
func (a Announcement) message(typ, id string, from, to jid.JID) *stanza.Stanza {
	var children []*stanza.Element
	if a.Subject != "" {
		children = append(children, stanza.NewElement(stanza.NSClient, "subject").AddText(a.Subject))
	}
	children = append(children, stanza.NewElement(stanza.NSClient, "body").AddText(a.Body))
	m := stanza.New(stanza.Message, typ, to, from, children...)
	m.ID = id
	return m
}

// SendOnline sends a as a headline message from domain to every session
// of domain that has sent available presence, and returns the number of
// sessions. Headline messages are not stored for later (RFC 6121
// §5.2.2), so sessions that come later do not get it.
func (s *Service) SendOnline(_ context.Context, domain string, a Announcement) int {
	from, err := jid.New("", domain, "")
	if err != nil {
		return 0
	}
	id := newID()
	var targets []router.Session
	s.host.EachSession(func(sess router.Session) {
		if sess.JID().Domainpart() == domain && router.Available(sess) {
			targets = append(targets, sess)
		}
	})
	for _, sess := range targets {
		sess.Deliver(a.message("headline", id, from, sess.JID()))
	}
	return len(targets)
}

// SendAll sends a as a normal message from domain to the bare JID of
// every account of domain, under the delivery rules of RFC 6121 §8.5. An
// account with available sessions gets it on those with the highest
// priority. One without gets it from offline storage at its next login,
// when offline storage is enabled and its queue is not full. SendAll
// returns the number of accounts.
func (s *Service) SendAll(ctx context.Context, domain string, a Announcement) (int, error) {
	from, err := jid.New("", domain, "")
	if err != nil {
		return 0, fmt.Errorf("announce: domain %q: %w", domain, err)
	}
	locals, err := s.store.ListAccounts(ctx, domain)
	if err != nil {
		return 0, fmt.Errorf("announce: list accounts of %s: %w", domain, err)
	}
	id := newID()
	n := 0
	for _, local := range locals {
		to, err := jid.New(local, domain, "")
		if err != nil {
			s.log.Warn("skip account with invalid JID", "local", local, "domain", domain, "err", err)
			continue
		}
		s.host.Deliver(ctx, a.message("normal", id, from, to))
		n++
	}
	return n, nil
}

// newID returns a random stanza id shared by the copies of one
// announcement.
func newID() string {
	var b [12]byte
	rand.Read(b[:])
	return "announce-" + base64.RawURLEncoding.EncodeToString(b[:])
}
