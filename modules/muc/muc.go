// Package muc implements Multi-User Chat (XEP-0045): one chat service per
// server domain (muc.service in the configuration, such as
// conference.example.com), with instant and reserved rooms, persistent and
// temporary rooms, affiliations and roles, moderation, invitations, private
// messages and discussion history.
//
// Each room also supports occupant identifiers (XEP-0421), self-ping
// optimization (XEP-0410), message retraction by the author (XEP-0424) and
// by moderators (XEP-0425), stanza ids assigned by the room (XEP-0359) and,
// for persistent rooms, a message archive (XEP-0313).
//
// Each service is a router component: every stanza for its domain reaches
// Service.Send. Stanzas for one room are handled one at a time, in the
// order they arrive, by whichever goroutine finds the room idle; see
// service.post. Room state other than occupants (configuration, subject,
// affiliations) is stored through storage.Rooms, so persistent rooms
// survive a restart, and occupants are kept in memory.
package muc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"tern/config"
	"tern/modules"
	"tern/router"
	"tern/storage"
)

// Namespaces of XEP-0045.
const (
	NS      = "http://jabber.org/protocol/muc"
	NSUser  = NS + "#user"
	NSAdmin = NS + "#admin"
	NSOwner = NS + "#owner"
)

// Namespaces of the other protocols the rooms use, and names of the
// module's stored and listed values.
const (
	nsRoomConfig = NS + "#roomconfig"
	nsRoomInfo   = NS + "#roominfo"
	nsStableID   = NS + "#stable_id"
	nsSelfPing   = NS + "#self-ping-optimization"
	nsOccupantID = "urn:xmpp:occupant-id:0"
	nsStanzaID   = "urn:xmpp:sid:0"
	nsRetract    = "urn:xmpp:message-retract:1"
	nsModerate   = "urn:xmpp:message-moderate:1"
	// Version 0 of XEP-0425 wraps requests and notices in XEP-0422's
	// <apply-to/>. slixmpp 1.8.3 (Debian 12) speaks only that version.
	nsModerate0     = "urn:xmpp:message-moderate:0"
	nsRetract0      = "urn:xmpp:message-retract:0"
	nsFasten        = "urn:xmpp:fasten:0"
	nsDataForm      = "jabber:x:data"
	nsDiscoInfo     = "http://jabber.org/protocol/disco#info"
	nsDiscoItems    = "http://jabber.org/protocol/disco#items"
	nsPing          = "urn:xmpp:ping"
	nsVCard         = "vcard-temp"
	nsDelay         = "urn:xmpp:delay"
	occupantIDKey   = "muc:occupant-id-key"
	serviceItemName = "Chatrooms"
)

func init() {
	modules.Register(modules.Module{Name: "muc", Order: 60, New: start})
}

// module holds what every service of the module shares.
type module struct {
	host    router.Host
	rooms   storage.Rooms
	archive storage.Archive // nil when the backend keeps no archives
	kv      storage.KV
	cfg     config.MUC
	admins  map[string]bool // server.admins, bare JIDs
	// maxPage is the largest page of an archive query (archive.max_page).
	maxPage int
	log     *slog.Logger
	now     func() time.Time
}

// start creates one service per server domain and registers it with the
// router as a component and in the server's disco#items.
func start(env *modules.Env) error {
	rooms, ok := env.Store.(storage.Rooms)
	if !ok {
		return errors.New("the storage backend does not store chat rooms")
	}
	m := &module{
		host:    env.Host,
		rooms:   rooms,
		kv:      env.Store,
		cfg:     env.Config.MUC,
		maxPage: env.Config.Archive.MaxPage,
		admins:  make(map[string]bool),
		log:     env.Host.Logger("muc"),
		now:     time.Now,
	}
	m.archive, _ = env.Store.(storage.Archive)
	for _, a := range env.Config.Server.Admins {
		m.admins[a] = true
	}
	var services []*service
	for _, d := range env.Host.Domains() {
		domain := m.cfg.ServiceDomain(d)
		if domain == "" {
			return fmt.Errorf("muc.service %q gives no valid domain for %s", m.cfg.Service, d)
		}
		svc, err := newService(context.Background(), m, domain)
		if err != nil {
			return err
		}
		if !env.Host.AddComponent(domain, svc) {
			return fmt.Errorf("chat service domain %s is already served", domain)
		}
		env.Host.AddItem(domain, serviceItemName)
		services = append(services, svc)
	}
	env.Host.OnStop(func(ctx context.Context) {
		for _, svc := range services {
			svc.shutdown(ctx)
		}
	})
	env.Host.OnSession(router.SessionClosed, func(ctx context.Context, s router.Session) {
		for _, svc := range services {
			svc.sessionClosed(ctx, s.JID())
		}
	})
	return nil
}
