package muc

import (
	"context"
	"errors"
	"fmt"

	"tern/storage"
)

// record returns the room as storage keeps it.
func (r *room) record(cfg roomConfig, subj subject) storage.Room {
	return storage.Room{
		Owner:       r.owner(),
		Config:      cfg.encode(),
		Subject:     subj.text,
		SubjectBy:   subj.by,
		SubjectTime: subj.at,
		Created:     r.created,
	}
}

// storedAffiliations returns the room's affiliations as storage keeps
// them.
func (r *room) storedAffiliations() []storage.RoomAffiliation {
	out := make([]storage.RoomAffiliation, 0, len(r.affiliations))
	for _, key := range sortedKeys(r.affiliations) {
		rec := r.affiliations[key]
		out = append(out, storage.RoomAffiliation{
			JID: key, Affiliation: rec.aff.String(), Nick: rec.nick, Reason: rec.reason,
		})
	}
	return out
}

// persistConfig stores a room whose new configuration makes it
// persistent, updates a stored one, and deletes one that becomes
// temporary. The room's archive stays until the room is destroyed.
func (r *room) persistConfig(ctx context.Context, next roomConfig) error {
	st := r.svc.mod.rooms
	var err error
	switch {
	case next.Persistent && !r.stored:
		err = st.CreateRoom(ctx, r.record(next, r.subject), r.storedAffiliations())
		if err == nil {
			r.stored, r.archived = true, true
			r.history.loaded = true // a new room has nothing archived yet
		}
	case next.Persistent:
		err = st.UpdateRoom(ctx, r.record(next, r.subject))
	case r.stored:
		err = st.DeleteRoom(ctx, r.owner())
		if err == nil || errors.Is(err, storage.ErrNotFound) {
			r.stored, err = false, nil
		}
	}
	if err != nil {
		return fmt.Errorf("store configuration of %s: %w", r.jid, err)
	}
	return nil
}

// persistSubject stores a new subject of a stored room.
func (r *room) persistSubject(ctx context.Context, next subject) error {
	if !r.stored {
		return nil
	}
	if err := r.svc.mod.rooms.UpdateRoom(ctx, r.record(r.config, next)); err != nil {
		return fmt.Errorf("store subject of %s: %w", r.jid, err)
	}
	return nil
}

// persistAffiliations stores affiliation changes of a stored room, all
// of them or none.
func (r *room) persistAffiliations(ctx context.Context, changes []affiliationChange) error {
	if !r.stored || len(changes) == 0 {
		return nil
	}
	recs := make([]storage.RoomAffiliation, len(changes))
	for i, c := range changes {
		recs[i] = storage.RoomAffiliation{JID: c.key, Affiliation: c.next.String(), Nick: c.nick, Reason: c.reason}
	}
	if err := r.svc.mod.rooms.SetAffiliations(ctx, r.owner(), recs); err != nil {
		return fmt.Errorf("store affiliations of %s: %w", r.jid, err)
	}
	return nil
}

// archiving reports whether the room archives its messages: persistent
// rooms do when the storage backend keeps archives.
func (r *room) archiving() bool {
	return r.config.Persistent && r.svc.mod.archive != nil
}

// purgeArchivePage is how many archived messages purgeArchive removes per
// round trip.
const purgeArchivePage = 500

// purgeArchive deletes every archived message of a destroyed room, so a
// new room of the same name starts empty.
func (r *room) purgeArchive(ctx context.Context) {
	ar := r.svc.mod.archive
	if ar == nil {
		return
	}
	for {
		page, err := ar.QueryArchive(ctx, r.owner(), storage.ArchiveQuery{Max: purgeArchivePage})
		if err == nil && len(page.Messages) > 0 {
			ids := make([]string, len(page.Messages))
			for i, m := range page.Messages {
				ids[i] = m.ID
			}
			err = ar.RemoveArchived(ctx, r.owner(), ids)
		}
		if err != nil {
			r.svc.mod.log.Error("delete room archive", "room", r.jid.String(), "err", err)
			return
		}
		if len(page.Messages) < purgeArchivePage {
			return
		}
	}
}
