package announce

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/modules/adhoc"
	"tern/router"
	"tern/stanza"
	"tern/storage"
)

// MOTDKey is the storage.KV key of a domain's message of the day. It is
// stored under the owner {Domain: domain, Local: ""}, which no account
// has, as an element <motd xmlns='urn:tern:motd'> holding the text.
const MOTDKey = "motd"

// nsMOTD is the namespace of the stored message of the day.
const nsMOTD = "urn:tern:motd"

// motdSentKey marks a session that has received the message of the day,
// so that it gets it once per login, as XEP-0133 §4.23 describes, even
// when it sends initial presence again after going unavailable.
type motdSentKey struct{}

func domainOwner(domain string) storage.Owner { return storage.Owner{Domain: domain} }

// motdCacheTTL is how long a node keeps a message of the day it read
// from storage, which every login would otherwise read. A change made
// through another node of a cluster reaches this node's logins within
// this time.
const motdCacheTTL = 5 * time.Second

// motdCache holds the messages of the day this node read or stored last.
type motdCache struct {
	mu      sync.Mutex
	entries map[string]motdEntry // by domain
}

type motdEntry struct {
	text   string
	loaded time.Time
}

func (c *motdCache) get(domain string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[domain]
	if !ok || time.Since(e.loaded) > motdCacheTTL {
		return "", false
	}
	return e.text, true
}

func (c *motdCache) put(domain, text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]motdEntry)
	}
	c.entries[domain] = motdEntry{text: text, loaded: time.Now()}
}

// MOTD returns the message of the day of domain, or "" when none is set.
func (s *Service) MOTD(ctx context.Context, domain string) (string, error) {
	if text, ok := s.motd.get(domain); ok {
		return text, nil
	}
	text, err := s.loadMOTD(ctx, domain)
	if err != nil {
		return "", err
	}
	s.motd.put(domain, text)
	return text, nil
}

func (s *Service) loadMOTD(ctx context.Context, domain string) (string, error) {
	data, err := s.store.GetValue(ctx, domainOwner(domain), MOTDKey)
	if errors.Is(err, storage.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("announce: load message of the day of %s: %w", domain, err)
	}
	el, err := stanza.ParseElement(data, nsMOTD)
	if err != nil {
		return "", fmt.Errorf("announce: stored message of the day of %s: %w", domain, err)
	}
	return el.Text(), nil
}

// SetMOTD stores text as the message of the day of domain.
func (s *Service) SetMOTD(ctx context.Context, domain, text string) error {
	el := stanza.NewElement(nsMOTD, "motd").AddText(text)
	if err := s.store.PutValue(ctx, domainOwner(domain), MOTDKey, []byte(el.String())); err != nil {
		return fmt.Errorf("announce: store message of the day of %s: %w", domain, err)
	}
	s.motd.put(domain, text)
	return nil
}

// DeleteMOTD removes the message of the day of domain.
func (s *Service) DeleteMOTD(ctx context.Context, domain string) error {
	if err := s.store.DeleteValue(ctx, domainOwner(domain), MOTDKey); err != nil {
		return fmt.Errorf("announce: delete message of the day of %s: %w", domain, err)
	}
	s.motd.put(domain, "")
	return nil
}

// sendMOTD sends the message of the day to a session that has just sent
// initial presence, unless it got it earlier in this login.
func (s *Service) sendMOTD(ctx context.Context, sess router.Session) {
	if sess.Value(motdSentKey{}) != nil {
		return
	}
	domain := sess.JID().Domainpart()
	text, err := s.MOTD(ctx, domain)
	if err != nil {
		s.log.Error("message of the day not sent", "err", err, "domain", domain)
		return
	}
	if text != "" {
		s.deliverMOTD(sess, text)
	}
}

// deliverMOTD sends text to sess as a normal message from its domain and
// marks the session.
func (s *Service) deliverMOTD(sess router.Session, text string) {
	sess.SetValue(motdSentKey{}, true)
	from, err := jid.New("", sess.JID().Domainpart(), "")
	if err != nil {
		return
	}
	sess.Deliver(Announcement{Body: text}.message("normal", newID(), from, sess.JID()))
}

// motdOf reads the message of the day from a submitted form.
func motdOf(v adhoc.Values) (string, error) {
	text := v.Text("motd")
	if strings.TrimSpace(text) == "" {
		return "", adhoc.ErrBadPayload.WithText("the message of the day is empty")
	}
	return text, nil
}

// submitSetMOTD stores the message of the day and, as XEP-0133 §4.23
// describes, sends it at once to the available sessions of the domain.
func (s *Service) submitSetMOTD(ctx context.Context, req *adhoc.Request, v adhoc.Values) (*adhoc.Response, error) {
	text, err := motdOf(v)
	if err != nil {
		return nil, err
	}
	domain := req.Target.Domainpart()
	if err := s.SetMOTD(ctx, domain, text); err != nil {
		return nil, err
	}
	var online []router.Session
	s.host.EachSession(func(sess router.Session) {
		if sess.JID().Domainpart() == domain && router.Available(sess) {
			online = append(online, sess)
		}
	})
	for _, sess := range online {
		s.deliverMOTD(sess, text)
	}
	s.log.Info("message of the day set", "admin", req.Requester.Bare().String(), "domain", domain, "sessions", len(online))
	return adhoc.Completed(adhoc.Note{Text: "Message of the day set and sent to " + plural(len(online), "session") + "."}), nil
}

// editMOTDForm returns the form with the current message of the day.
func (s *Service) editMOTDForm(ctx context.Context, req *adhoc.Request) (*stanza.Element, error) {
	text, err := s.MOTD(ctx, req.Target.Domainpart())
	if err != nil {
		return nil, err
	}
	var lines []string
	if text != "" {
		lines = strings.Split(text, "\n")
	}
	return adhoc.NewForm("Editing the Message of the Day",
		"Fill out this form to edit the message of the day.",
		formType, motdField(lines)), nil
}

// submitEditMOTD replaces the stored message of the day. Unlike setting
// it, editing sends nothing to sessions that are online: they keep the
// version they got, and later logins get the new one.
func (s *Service) submitEditMOTD(ctx context.Context, req *adhoc.Request, v adhoc.Values) (*adhoc.Response, error) {
	text, err := motdOf(v)
	if err != nil {
		return nil, err
	}
	if err := s.SetMOTD(ctx, req.Target.Domainpart(), text); err != nil {
		return nil, err
	}
	s.log.Info("message of the day edited", "admin", req.Requester.Bare().String(), "domain", req.Target.Domainpart())
	return adhoc.Completed(adhoc.Note{Text: "Message of the day updated."}), nil
}

// deleteMOTD is the single-stage delete-motd command.
func (s *Service) deleteMOTD(ctx context.Context, req *adhoc.Request) (*adhoc.Response, error) {
	if err := s.DeleteMOTD(ctx, req.Target.Domainpart()); err != nil {
		return nil, err
	}
	s.log.Info("message of the day deleted", "admin", req.Requester.Bare().String(), "domain", req.Target.Domainpart())
	return adhoc.Completed(adhoc.Note{Text: "Message of the day deleted."}), nil
}
