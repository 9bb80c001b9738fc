package muc

import (
	"errors"
	"testing"

	"tern/stanza"
)

// condition returns the stanza error condition of err, or "" for nil.
func condition(err error) string {
	var se *stanza.Error
	if errors.As(err, &se) {
		return se.Condition
	}
	if err != nil {
		return "not a stanza error: " + err.Error()
	}
	return ""
}

func TestCheckAffiliationChange(t *testing.T) {
	cases := []struct {
		name                 string
		actor, current, next affiliation
		self                 bool
		want                 string
	}{
		{"member grants admin", affMember, affMember, affAdmin, true, "forbidden"},
		{"member bans", affMember, affNone, affOutcast, false, "forbidden"},
		{"none grants member", affNone, affNone, affMember, false, "forbidden"},
		{"admin grants owner to self", affAdmin, affAdmin, affOwner, true, "forbidden"},
		{"admin grants admin", affAdmin, affNone, affAdmin, false, "forbidden"},
		{"admin bans owner", affAdmin, affOwner, affOutcast, false, "not-allowed"},
		{"admin demotes admin", affAdmin, affAdmin, affMember, false, "not-allowed"},
		{"admin demotes self", affAdmin, affAdmin, affNone, true, "not-allowed"},
		{"admin bans self", affAdmin, affAdmin, affOutcast, true, "conflict"},
		{"admin grants member", affAdmin, affNone, affMember, false, ""},
		{"admin bans member", affAdmin, affMember, affOutcast, false, ""},
		{"admin unbans", affAdmin, affOutcast, affNone, false, ""},
		{"owner grants owner", affOwner, affNone, affOwner, false, ""},
		{"owner demotes owner", affOwner, affOwner, affAdmin, false, ""},
		{"owner bans admin", affOwner, affAdmin, affOutcast, false, ""},
		{"owner bans self", affOwner, affOwner, affOutcast, true, "conflict"},
		{"owner leaves ownership", affOwner, affOwner, affMember, true, ""},
	}
	for _, tc := range cases {
		err := checkAffiliationChange(tc.actor, tc.self, tc.current, tc.next)
		if got := condition(err); got != tc.want {
			t.Errorf("%s: condition %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestCheckRoleChange(t *testing.T) {
	cases := []struct {
		name      string
		actorAff  affiliation
		actorRole role
		target    roleTarget
		next      role
		want      string
	}{
		{"participant kicks", affMember, roleParticipant, roleTarget{aff: affNone, role: roleParticipant}, roleNone, "forbidden"},
		{"moderator kicks participant", affNone, roleModerator, roleTarget{aff: affNone, role: roleParticipant}, roleNone, ""},
		{"moderator kicks self", affOwner, roleModerator, roleTarget{aff: affOwner, role: roleModerator, self: true}, roleNone, "conflict"},
		{"member moderator kicks admin", affMember, roleModerator, roleTarget{aff: affAdmin, role: roleModerator}, roleNone, "not-allowed"},
		{"admin kicks owner", affAdmin, roleModerator, roleTarget{aff: affOwner, role: roleModerator}, roleNone, "not-allowed"},
		{"admin kicks admin", affAdmin, roleModerator, roleTarget{aff: affAdmin, role: roleModerator}, roleNone, ""},
		{"member moderator kicks moderator", affMember, roleModerator, roleTarget{aff: affNone, role: roleModerator}, roleNone, "not-allowed"},
		{"moderator revokes voice", affAdmin, roleModerator, roleTarget{aff: affMember, role: roleParticipant}, roleVisitor, ""},
		{"voice of admin", affOwner, roleModerator, roleTarget{aff: affAdmin, role: roleModerator}, roleVisitor, "not-allowed"},
		{"voice of equal member", affMember, roleModerator, roleTarget{aff: affMember, role: roleParticipant}, roleVisitor, "not-allowed"},
		{"member revokes voice of none", affMember, roleModerator, roleTarget{aff: affNone, role: roleParticipant}, roleVisitor, ""},
		{"moderator grants voice", affNone, roleModerator, roleTarget{aff: affNone, role: roleVisitor}, roleParticipant, ""},
		{"member grants moderator", affMember, roleModerator, roleTarget{aff: affNone, role: roleParticipant}, roleModerator, "not-allowed"},
		{"admin grants moderator", affAdmin, roleModerator, roleTarget{aff: affNone, role: roleParticipant}, roleModerator, ""},
		{"admin revokes moderator of owner", affAdmin, roleModerator, roleTarget{aff: affOwner, role: roleModerator}, roleParticipant, "not-allowed"},
		{"admin revokes moderator", affAdmin, roleModerator, roleTarget{aff: affNone, role: roleModerator}, roleParticipant, ""},
		{"member revokes moderator", affMember, roleModerator, roleTarget{aff: affNone, role: roleModerator}, roleParticipant, "not-allowed"},
	}
	for _, tc := range cases {
		err := checkRoleChange(tc.actorAff, tc.actorRole, tc.target, tc.next)
		if got := condition(err); got != tc.want {
			t.Errorf("%s: condition %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestDefaultRole(t *testing.T) {
	cases := []struct {
		aff       affiliation
		moderated bool
		want      role
	}{
		{affNone, false, roleParticipant},
		{affNone, true, roleVisitor},
		{affMember, true, roleParticipant},
		{affAdmin, false, roleModerator},
		{affOwner, true, roleModerator},
	}
	for _, tc := range cases {
		if got := defaultRole(tc.aff, tc.moderated); got != tc.want {
			t.Errorf("defaultRole(%s, moderated %v) = %s, want %s", tc.aff, tc.moderated, got, tc.want)
		}
	}
}

func TestRoleAfterAffiliation(t *testing.T) {
	cases := []struct {
		name       string
		current    role
		prev, next affiliation
		moderated  bool
		want       role
	}{
		{"made admin", roleParticipant, affNone, affAdmin, false, roleModerator},
		{"admin demoted in moderated room", roleModerator, affAdmin, affNone, true, roleVisitor},
		{"owner demoted to member", roleModerator, affOwner, affMember, false, roleParticipant},
		{"visitor made member", roleVisitor, affNone, affMember, true, roleParticipant},
		{"granted moderator keeps role", roleModerator, affNone, affMember, false, roleModerator},
	}
	for _, tc := range cases {
		if got := roleAfterAffiliation(tc.current, tc.prev, tc.next, tc.moderated); got != tc.want {
			t.Errorf("%s: role %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestParseNames(t *testing.T) {
	for _, a := range []affiliation{affOutcast, affNone, affMember, affAdmin, affOwner} {
		if got, ok := parseAffiliation(a.String()); !ok || got != a {
			t.Errorf("parseAffiliation(%q) = %v, %v", a, got, ok)
		}
	}
	for _, r := range []role{roleNone, roleVisitor, roleParticipant, roleModerator} {
		if got, ok := parseRole(r.String()); !ok || got != r {
			t.Errorf("parseRole(%q) = %v, %v", r, got, ok)
		}
	}
	if _, ok := parseAffiliation("king"); ok {
		t.Error("parseAffiliation accepted an unknown name")
	}
	if _, ok := parseRole("jester"); ok {
		t.Error("parseRole accepted an unknown name")
	}
}
