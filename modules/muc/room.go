package muc

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"mellium.im/xmpp/jid"

	"tern/stanza"
	"tern/storage"
)

// room is one chat room. service.mu guards the queue fields. All other
// fields are used only by the goroutine that drains the queue (see
// service.post), so they need no lock.
type room struct {
	svc  *service
	name string
	jid  jid.JID // the room's bare JID

	queue   []task // guarded by svc.mu
	running bool   // a goroutine drains the queue; guarded by svc.mu

	// summary is the room state that the service reads for disco#items
	// and room counts without entering the queue. Every task replaces it.
	summary atomic.Pointer[roomSummary]

	loaded  bool
	exists  bool // created: stored, or temporary with occupants
	stored  bool // in storage (a persistent room)
	locked  bool // created and waiting for its first configuration
	created time.Time
	config  roomConfig
	subject subject
	// affiliations maps a bare JID or domain to its affiliation record;
	// "none" is never kept.
	affiliations map[string]affiliationRecord
	occupants    map[string]*occupant // by nick
	sessions     map[string]*occupant // by real full JID
	history      history
	invites      invitations
	iqs          forwardedIQs
	// archived is true when the room may have messages in the archive,
	// which destroying the room must delete.
	archived bool
}

// roomSummary is the part of a room's state that the service reads
// outside the room's queue.
type roomSummary struct {
	exists     bool
	locked     bool
	persistent bool
	public     bool
	title      string
	occupants  int
	owners     []string
}

// subject is the room subject and who set it when.
type subject struct {
	text string
	by   string // nick, or "" for the room itself
	at   time.Time
}

func newRoom(svc *service, name string) *room {
	r := &room{svc: svc, name: name}
	r.jid, _ = jid.New(name, svc.domain, "")
	r.occupants = make(map[string]*occupant)
	r.sessions = make(map[string]*occupant)
	r.affiliations = make(map[string]affiliationRecord)
	return r
}

// owner returns the storage key of the room.
func (r *room) owner() storage.Owner {
	return storage.Owner{Domain: r.svc.domain, Local: r.name}
}

// handle processes one stanza addressed to the room or to an occupant.
func (r *room) handle(ctx context.Context, s *stanza.Stanza) {
	if err := r.load(ctx); err != nil {
		r.svc.mod.log.Error("load room", "room", r.jid.String(), "err", err)
		r.sendError(ctx, s, stanza.InternalServerError)
		return
	}
	switch s.Name {
	case stanza.Presence:
		r.handlePresence(ctx, s)
	case stanza.Message:
		r.handleMessage(ctx, s)
	case stanza.IQ:
		r.handleIQ(ctx, s)
	}
}

// load reads a persistent room from storage the first time the room
// object is used. A room that is not stored does not exist yet.
func (r *room) load(ctx context.Context) error {
	if r.loaded {
		return nil
	}
	st := r.svc.mod.rooms
	rec, err := st.GetRoom(ctx, r.owner())
	if errors.Is(err, storage.ErrNotFound) {
		r.loaded = true
		return nil
	}
	if err != nil {
		return err
	}

	cfg, err := decodeConfig(rec.Config)
	if err != nil {
		return err
	}
	affs, err := st.GetAffiliations(ctx, r.owner())
	if err != nil {
		return err
	}
	for _, a := range affs {
		if aff, ok := parseAffiliation(a.Affiliation); ok && aff != affNone {
			r.affiliations[a.JID] = affiliationRecord{aff: aff, nick: a.Nick, reason: a.Reason}
		}
	}

	r.config = cfg
	r.subject = subject{text: rec.Subject, by: rec.SubjectBy, at: rec.SubjectTime}
	r.created = rec.Created
	r.exists, r.stored, r.archived, r.loaded = true, true, true, true
	return nil
}

// publish replaces the room's summary after a task.
func (r *room) publish() {
	s := &roomSummary{
		exists:     r.exists,
		locked:     r.locked,
		persistent: r.config.Persistent,
		public:     r.config.Public,
		title:      r.config.Name,
		occupants:  len(r.occupants),
	}
	for j, a := range r.affiliations {
		if a.aff == affOwner {
			s.owners = append(s.owners, j)
		}
	}
	r.summary.Store(s)
}

// route sends a stanza from the room.
func (r *room) route(ctx context.Context, s *stanza.Stanza) {
	r.svc.mod.host.Route(ctx, s)
}

// sendError sends an error response to s, unless s is itself an error or
// an iq response (RFC 6120 §8.3.1). err should be a *stanza.Error. Any
// other error is logged and sent as internal-server-error.
func (r *room) sendError(ctx context.Context, s *stanza.Stanza, err error) {
	if s.Type == "error" || (s.Name == stanza.IQ && s.Type != "get" && s.Type != "set") {
		return
	}
	var se *stanza.Error
	if !errors.As(err, &se) {
		r.svc.mod.log.Error("room request failed", "room", r.jid.String(), "kind", s.Name, "err", err)
		se = stanza.InternalServerError
	}
	r.route(ctx, stanza.ErrorReply(s, se, s.To))
}

// occupantJID returns the room JID of a nick.
func (r *room) occupantJID(nick string) jid.JID {
	j, err := r.jid.WithResource(nick)
	if err != nil {
		return r.jid
	}
	return j
}

// destroy removes the room: from storage when stored, with its archive,
// and from memory once its queue is empty. Occupants must have been sent
// their unavailable presence already.
func (r *room) destroy(ctx context.Context) {
	mod := r.svc.mod
	if r.stored {
		if err := mod.rooms.DeleteRoom(ctx, r.owner()); err != nil && !errors.Is(err, storage.ErrNotFound) {
			mod.log.Error("delete room", "room", r.jid.String(), "err", err)
		}
	}
	if r.archived {
		r.purgeArchive(ctx)
	}
	for full := range r.sessions {
		if j, err := jid.Parse(full); err == nil {
			r.svc.trackSession(j, r.name, false)
		}
	}
	r.exists, r.stored, r.locked, r.archived = false, false, false, false
	r.config, r.subject = roomConfig{}, subject{}
	r.affiliations = make(map[string]affiliationRecord)
	r.occupants = make(map[string]*occupant)
	r.sessions = make(map[string]*occupant)
	r.history, r.invites, r.iqs = history{loaded: true}, invitations{}, forwardedIQs{}
}
