package muc

import (
	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// affiliation is a long-lived relation of a bare JID with a room
// (XEP-0045 §5.2), ordered from least to most privileged.
type affiliation int

const (
	affOutcast affiliation = iota
	affNone
	affMember
	affAdmin
	affOwner
)

var affiliationNames = [...]string{"outcast", "none", "member", "admin", "owner"}

func (a affiliation) String() string { return affiliationNames[a] }

// parseAffiliation returns the affiliation named s.
func parseAffiliation(s string) (affiliation, bool) {
	for i, n := range affiliationNames {
		if n == s {
			return affiliation(i), true
		}
	}
	return affNone, false
}

// role is an occupant's temporary position in the room (XEP-0045 §5.1),
// ordered from least to most privileged.
type role int

const (
	roleNone role = iota
	roleVisitor
	roleParticipant
	roleModerator
)

var roleNames = [...]string{"none", "visitor", "participant", "moderator"}

func (r role) String() string { return roleNames[r] }

// parseRole returns the role named s.
func parseRole(s string) (role, bool) {
	for i, n := range roleNames {
		if n == s {
			return role(i), true
		}
	}
	return roleNone, false
}

// affiliationRecord is an affiliation as the room keeps it.
type affiliationRecord struct {
	aff    affiliation
	nick   string // reserved nickname
	reason string
}

// defaultRole is the role an occupant gets on entering (XEP-0045 §5.1.2).
func defaultRole(a affiliation, moderated bool) role {
	switch {
	case a >= affAdmin:
		return roleModerator
	case a == affMember || !moderated:
		return roleParticipant
	default:
		return roleVisitor
	}
}

// affiliationOf returns the affiliation of a real JID: the entry for its
// bare JID, else the entry for its domain (XEP-0045 §9.2 matches bans in
// that order), else none. Server admins are owners of every room.
func (r *room) affiliationOf(real jid.JID) affiliation {
	bare := real.Bare().String()
	if r.svc.mod.admins[bare] {
		return affOwner
	}
	if rec, ok := r.affiliations[bare]; ok {
		return rec.aff
	}
	if rec, ok := r.affiliations[real.Domainpart()]; ok {
		return rec.aff
	}
	return affNone
}

// Errors of the admin rules, with the conditions XEP-0045 §8 to §10 give.
var (
	errNotModerator = stanza.Forbidden.WithText("only moderators may change roles")
	errNotAdmin     = stanza.Forbidden.WithText("only admins and owners may change affiliations")
	errOwnerOnly    = stanza.Forbidden.WithText("only owners may grant or revoke owner and admin affiliations")
	errHigherAff    = stanza.NotAllowed.WithText("the target's affiliation is at or above yours")
	errSelfBan      = stanza.Conflict.WithText("you cannot ban yourself")
	errSelfKick     = stanza.Conflict.WithText("you cannot kick yourself")
	errLastOwner    = stanza.Conflict.WithText("a room must keep at least one owner")
	errNeedAdmin    = stanza.NotAllowed.WithText("only admins and owners may grant or revoke moderator status")
	errAdminVoice   = stanza.NotAllowed.WithText("admins and owners cannot lose voice or moderator status")
)

// checkAffiliationChange applies XEP-0045 §9 and §10 to one requested
// affiliation change by an actor with affiliation actor. self is true when
// the target is the actor's own bare JID. The "at least one owner" rule
// needs the whole request and is checked by the caller.
func checkAffiliationChange(actor affiliation, self bool, current, next affiliation) error {
	switch {
	case actor < affAdmin:
		return errNotAdmin
	case next == affOutcast && self:
		return errSelfBan
	case (next >= affAdmin || current >= affAdmin) && actor < affOwner:
		// An admin can neither grant admin or owner (§10.3) nor change
		// an owner or another admin (§9.1: not-allowed).
		if next >= affAdmin {
			return errOwnerOnly
		}
		return errHigherAff
	}
	return nil
}

// roleTarget is the part of the target occupant's state that
// checkRoleChange needs.
type roleTarget struct {
	aff  affiliation
	role role
	self bool // the target is the actor
}

// checkRoleChange applies XEP-0045 §8 and §9 to one requested role change
// by an actor with the given affiliation and role.
func checkRoleChange(actorAff affiliation, actorRole role, t roleTarget, next role) error {
	if actorRole != roleModerator {
		return errNotModerator
	}
	switch next {
	case roleNone:
		// §8.2: no kicking oneself, nor anyone of higher affiliation; a
		// moderator is kicked only by an admin or owner (§5.1.3).
		switch {
		case t.self:
			return errSelfKick
		case t.aff > actorAff:
			return errHigherAff
		case t.role == roleModerator && actorAff < affAdmin:
			return errNeedAdmin
		}
	case roleVisitor:
		// §8.4: voice cannot be revoked from admins and owners, nor by a
		// moderator from a user at or above its own affiliation.
		switch {
		case t.aff >= affAdmin:
			return errAdminVoice
		case t.aff >= actorAff && actorAff < affAdmin:
			return errHigherAff
		case t.role == roleModerator && actorAff < affAdmin:
			return errNeedAdmin
		}
	case roleParticipant:
		// Granting voice is open to moderators (§8.3); revoking moderator
		// status needs an admin and never applies to admins or owners
		// (§9.7).
		if t.role == roleModerator {
			if actorAff < affAdmin {
				return errNeedAdmin
			}
			if t.aff >= affAdmin {
				return errAdminVoice
			}
		}
	case roleModerator:
		if actorAff < affAdmin {
			return errNeedAdmin
		}
	}
	return nil
}
