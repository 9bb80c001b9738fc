package storage

import (
	"context"
	"time"
)

// Room is the stored state of a persistent multi-user chat room
// (XEP-0045). Temporary rooms are never stored.
type Room struct {
	// Owner is the room's address: Domain is the MUC service's domain and
	// Local the room's name.
	Owner Owner
	// Config is the room configuration as the MUC module encodes it;
	// backends store it as given.
	Config []byte
	// Subject is the room subject, empty when none is set.
	Subject string
	// SubjectBy is the nickname of the occupant that set the subject,
	// empty when the room itself set it.
	SubjectBy string
	// SubjectTime is when the subject was set; the zero time (stored as
	// no value) when it never was.
	SubjectTime time.Time
	// Created is when the room was stored first.
	Created time.Time
}

// Affiliation values stored for rooms (XEP-0045 §5.2). "none" is the
// absence of an affiliation and is never stored.
const (
	AffiliationOwner   = "owner"
	AffiliationAdmin   = "admin"
	AffiliationMember  = "member"
	AffiliationOutcast = "outcast"
	AffiliationNone    = "none"
)

// RoomAffiliation is the long-lived affiliation of a bare JID, or of a
// whole domain, with a room.
type RoomAffiliation struct {
	// JID is a normalized bare JID or domain.
	JID string
	// Affiliation is AffiliationOwner, AffiliationAdmin, AffiliationMember
	// or AffiliationOutcast. In SetAffiliations, AffiliationNone or ""
	// removes the JID's affiliation.
	Affiliation string
	// Nick is the nickname the JID reserved in the room, if any.
	Nick string
	// Reason is the text given when the affiliation was set, such as the
	// reason for a ban.
	Reason string
}

// AffiliatedRoom names a room of a service in which a JID has an
// affiliation.
type AffiliatedRoom struct {
	Room        string // the room's name
	Affiliation string
}

// Rooms stores persistent multi-user chat rooms and their affiliations.
// Rooms are keyed by (service domain, room name) in Room.Owner, like the
// accounts of other repositories. Occupants are not stored.
type Rooms interface {
	// CreateRoom stores a new room with its affiliations in one
	// transaction. It returns ErrExists if a room with the same owner is
	// stored, and then stores nothing. A zero Created is stored as the
	// current time.
	CreateRoom(ctx context.Context, r Room, affiliations []RoomAffiliation) error
	// UpdateRoom replaces the configuration and subject of a stored room;
	// Created is kept. It returns ErrNotFound for a room that is not
	// stored.
	UpdateRoom(ctx context.Context, r Room) error
	// GetRoom returns ErrNotFound for a room that is not stored.
	GetRoom(ctx context.Context, o Owner) (Room, error)
	// DeleteRoom removes a room and its affiliations. It returns
	// ErrNotFound for a room that is not stored.
	DeleteRoom(ctx context.Context, o Owner) error
	// ListRooms returns the stored rooms of a service, sorted by name in
	// byte order.
	ListRooms(ctx context.Context, service string) ([]Room, error)
	// GetAffiliations returns a room's affiliations, sorted by JID in byte
	// order. It returns ErrNotFound for a room that is not stored.
	GetAffiliations(ctx context.Context, o Owner) ([]RoomAffiliation, error)
	// SetAffiliations applies changes to a room's affiliations in one
	// transaction: an entry with AffiliationNone or "" removes the JID's
	// affiliation, any other replaces it. When two entries name the same
	// JID the last one wins. It returns ErrNotFound for a room that is not
	// stored, and then changes nothing.
	SetAffiliations(ctx context.Context, o Owner, changes []RoomAffiliation) error
	// AffiliatedRooms returns the rooms of a service in which jid has an
	// affiliation, sorted by room name in byte order.
	AffiliatedRooms(ctx context.Context, service, jid string) ([]AffiliatedRoom, error)
}
