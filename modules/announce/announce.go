// Package announce implements the announcement commands of Service
// Administration (XEP-0133 §4.21 to §4.25) as ad-hoc commands that only
// the administrators in server.admins may see and run:
//
//   - NodeAnnounce sends a headline message to every available session on
//     the domain the command was sent to.
//   - NodeAnnounceAll, a Tern extension, sends a normal message to every
//     account of the domain, so that accounts with no session receive it
//     from offline storage when they next log in.
//   - NodeSetMOTD, NodeEditMOTD and NodeDeleteMOTD manage the domain's
//     message of the day, which every session of the domain receives once
//     after its initial presence.
//
// The module also provides a Service under the name "announce" that the
// admin operations (ternctl broadcast, POST /api/v1/broadcast) use.
package announce

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/modules/adhoc"
	"tern/router"
	"tern/storage"
)

// Command nodes. The first four are those XEP-0133 names; XEP-0133 has
// no command that reaches offline accounts, so NodeAnnounceAll is Tern's.
const (
	NodeAnnounce    = "http://jabber.org/protocol/admin#announce"
	NodeAnnounceAll = "urn:tern:admin#announce-all"
	NodeSetMOTD     = "http://jabber.org/protocol/admin#set-motd"
	NodeEditMOTD    = "http://jabber.org/protocol/admin#edit-motd"
	NodeDeleteMOTD  = "http://jabber.org/protocol/admin#delete-motd"
)

// FormType is the FORM_TYPE of the XEP-0133 forms.
const FormType = "http://jabber.org/protocol/admin"

// ServiceName is the name under which the module provides its Service
// (router.Host.Provide).
const ServiceName = "announce"

func init() {
	modules.Register(modules.Module{Name: "announce", Order: adhoc.Order + 10, New: start})
}

// store is the part of storage the module uses.
type store interface {
	storage.KV
	ListAccounts(ctx context.Context, domain string) ([]string, error)
}

// Service sends announcements and manages the message of the day.
type Service struct {
	host   router.Host
	store  store
	admins map[string]bool // bare JIDs of server.admins
	log    *slog.Logger
	motd   motdCache
}

func start(env *modules.Env) error {
	s := &Service{host: env.Host, store: env.Store, admins: adminSet(env.Config.Server.Admins), log: env.Host.Logger("announce")}
	env.Host.Provide(ServiceName, s)
	env.Host.OnSession(router.SessionAvailable, s.sendMOTD)
	for _, c := range s.commands() {
		if err := adhoc.Register(env.Host, c); err != nil {
			// Without the adhoc module the commands are unreachable, but
			// the admin API and the message of the day still work.
			s.log.Warn("announcement commands not available", "err", err)
			return nil
		}
	}
	return nil
}

// adminSet returns the bare JIDs of admins in normalized form. Entries
// that do not parse, which config validation rejects, are left out.
func adminSet(admins []string) map[string]bool {
	set := make(map[string]bool, len(admins))
	for _, a := range admins {
		if j, err := jid.Parse(a); err == nil {
			set[j.Bare().String()] = true
		}
	}
	return set
}

// isAdmin reports whether requester's bare JID is in server.admins.
func (s *Service) isAdmin(requester jid.JID) bool { return s.admins[requester.Bare().String()] }

// commands returns the ad-hoc commands of the module.
func (s *Service) commands() []adhoc.Command {
	return []adhoc.Command{
		{Node: NodeAnnounce, Name: "Send Announcement to Online Users", Allowed: s.isAdmin,
			Handler: formCommand(announceForm, s.submitAnnounce)},
		{Node: NodeAnnounceAll, Name: "Send Announcement to All Users", Allowed: s.isAdmin,
			Handler: formCommand(announceAllForm, s.submitAnnounceAll)},
		{Node: NodeSetMOTD, Name: "Set Message of the Day", Allowed: s.isAdmin,
			Handler: formCommand(setMOTDForm, s.submitSetMOTD)},
		{Node: NodeEditMOTD, Name: "Edit Message of the Day", Allowed: s.isAdmin,
			Handler: formCommand(s.editMOTDForm, s.submitEditMOTD)},
		{Node: NodeDeleteMOTD, Name: "Delete Message of the Day", Allowed: s.isAdmin,
			Handler: s.deleteMOTD},
	}
}

func (s *Service) submitAnnounce(ctx context.Context, req *adhoc.Request, v adhoc.Values) (*adhoc.Response, error) {
	a, err := announcementOf(v)
	if err != nil {
		return nil, err
	}
	n := s.SendOnline(ctx, req.Target.Domainpart(), a)
	s.log.Info("announcement sent to online users", "admin", req.Requester.Bare().String(), "domain", req.Target.Domainpart(), "sessions", n)
	return adhoc.Completed(adhoc.Note{Text: "Sent to " + plural(n, "session") + "."}), nil
}

func (s *Service) submitAnnounceAll(ctx context.Context, req *adhoc.Request, v adhoc.Values) (*adhoc.Response, error) {
	a, err := announcementOf(v)
	if err != nil {
		return nil, err
	}
	n, err := s.SendAll(ctx, req.Target.Domainpart(), a)
	if err != nil {
		return nil, err
	}
	s.log.Info("announcement sent to all users", "admin", req.Requester.Bare().String(), "domain", req.Target.Domainpart(), "accounts", n)
	return adhoc.Completed(adhoc.Note{Text: "Sent to " + plural(n, "account") + "."}), nil
}

// Broadcast sends an announcement with subject and body on domain, or on
// every served domain when domain is "". With allAccounts it goes to
// every account (through offline storage for those with no session), and
// Broadcast returns the number of accounts. Otherwise it goes to every
// available session, and Broadcast returns the number of sessions.
func (s *Service) Broadcast(ctx context.Context, domain, subject, body string, allAccounts bool) (int, error) {
	a := Announcement{Subject: subject, Body: body}
	domains := s.host.Domains()
	if domain != "" {
		domains = []string{domain}
	}
	total := 0
	for _, d := range domains {
		if !allAccounts {
			total += s.SendOnline(ctx, d, a)
			continue
		}
		n, err := s.SendAll(ctx, d, a)
		total += n
		if err != nil {
			return total, fmt.Errorf("announce: broadcast on %s: %w", d, err)
		}
	}
	return total, nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
