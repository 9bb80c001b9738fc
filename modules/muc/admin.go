package muc

import (
	"context"
	"sort"
	"strings"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// affiliationChange is one validated item of a muc#admin request that
// changes an affiliation.
type affiliationChange struct {
	key    string // bare JID or domain
	next   affiliation
	nick   string
	reason string
}

// roleChange is one validated item of a muc#admin request that changes
// an occupant's role.
type roleChange struct {
	target *occupant
	next   role
	reason string
}

// adminIQ handles muc#admin requests (XEP-0045 §8 to §10): list
// retrieval with get, and role and affiliation changes with set.
func (r *room) adminIQ(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if !r.exists {
		return nil, stanza.ItemNotFound
	}
	items := q.ChildrenNamed(NSAdmin, "item")
	if len(items) == 0 {
		return nil, stanza.BadRequest.WithText("expected at least one <item/>")
	}
	if iq.Type == "get" {
		return r.adminList(iq, items[0])
	}
	return r.adminSet(ctx, iq, items)
}

// adminList returns the JIDs with one affiliation, or the occupants with
// one role. Admins and owners may read every affiliation list and the
// moderator list; moderators may read the participant (voice) list.
func (r *room) adminList(iq *stanza.Stanza, item *stanza.Element) (*stanza.Stanza, error) {
	actorAff := r.affiliationOf(iq.From)
	actor := r.occupantBySession(iq.From)
	q := stanza.NewElement(NSAdmin, "query")
	if name := item.AttrValue("affiliation"); name != "" {
		aff, ok := parseAffiliation(name)
		if !ok || aff == affNone {
			return nil, stanza.BadRequest.WithText("unknown affiliation list " + name)
		}
		if actorAff < affAdmin {
			return nil, errNotAdmin
		}
		for _, key := range sortedKeys(r.affiliations) {
			rec := r.affiliations[key]
			if rec.aff != aff {
				continue
			}
			it := stanza.NewElement(NSAdmin, "item", "affiliation", aff.String(), "jid", key)
			if rec.nick != "" {
				it.SetAttr("nick", rec.nick)
			}
			if rec.reason != "" {
				it.Add(stanza.NewElement(NSAdmin, "reason").AddText(rec.reason))
			}
			q.Add(it)
		}
		return stanza.Result(iq, q), nil
	}
	want, ok := parseRole(item.AttrValue("role"))
	if !ok || want == roleNone {
		return nil, stanza.BadRequest.WithText("expected an affiliation or role list")
	}
	switch {
	case want == roleModerator && actorAff < affAdmin:
		return nil, errNeedAdmin
	case actor == nil || actor.role != roleModerator:
		return nil, errNotModerator
	}
	for _, nick := range sortedKeys(r.occupants) {
		o := r.occupants[nick]
		if o.role != want {
			continue
		}
		it := stanza.NewElement(NSAdmin, "item", "nick", nick, "role", o.role.String(),
			"affiliation", r.affiliationOf(o.real).String())
		if r.canSeeJIDs(actor) {
			it.SetAttr("jid", o.sessions[0].String())
		}
		q.Add(it)
	}
	return stanza.Result(iq, q), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// adminSet validates every item of a change request first and applies
// none of them if one is rejected (XEP-0045 §9.2 requires this for bans,
// and the room applies it to every list). Affiliation changes are stored before
// anything is applied.
func (r *room) adminSet(ctx context.Context, iq *stanza.Stanza, items []*stanza.Element) (*stanza.Stanza, error) {
	affs, roles, err := r.planChanges(iq.From, items)
	if err != nil {
		return nil, err
	}
	if err := r.persistAffiliations(ctx, affs); err != nil {
		return nil, err
	}
	actor := ""
	if o := r.occupantBySession(iq.From); o != nil {
		actor = o.nick
	}
	r.route(ctx, stanza.Result(iq))
	for _, c := range affs {
		r.applyAffiliation(ctx, c, actor)
	}
	for _, c := range roles {
		if r.occupants[c.target.nick] == c.target {
			r.applyRole(ctx, c, actor)
		}
	}
	r.afterLeave(ctx)
	return nil, nil
}

// planChanges parses and checks every item of a muc#admin set.
func (r *room) planChanges(from jid.JID, items []*stanza.Element) ([]affiliationChange, []roleChange, error) {
	actor := r.occupantBySession(from)
	actorAff := r.affiliationOf(from)
	actorRole := roleNone
	if actor != nil {
		actorRole = actor.role
	}
	var affs []affiliationChange
	var roles []roleChange
	planned := map[string]affiliation{}
	for _, item := range items {
		reason := item.Child(NSAdmin, "reason").Text()
		affName, roleName := item.AttrValue("affiliation"), item.AttrValue("role")
		switch {
		case affName != "" && roleName == "":
			c, err := r.planAffiliation(item, affName, from, actorAff)
			if err != nil {
				return nil, nil, err
			}
			c.reason = reason
			planned[c.key] = c.next
			affs = append(affs, c)
		case roleName != "" && affName == "":
			c, err := r.planRole(item, roleName, actor, actorAff, actorRole)
			if err != nil {
				return nil, nil, err
			}
			c.reason = reason
			roles = append(roles, c)
		default:
			return nil, nil, stanza.BadRequest.WithText("each <item/> sets either an affiliation or a role")
		}
	}
	if len(affs) > 0 && !r.keepsOwner(planned) {
		return nil, nil, errLastOwner
	}
	return affs, roles, nil
}

// planAffiliation checks one affiliation item. The target is the item's
// 'jid' (a bare JID, or a domain for bans), or the occupant its 'nick'
// names.
func (r *room) planAffiliation(item *stanza.Element, name string, from jid.JID, actorAff affiliation) (affiliationChange, error) {
	next, ok := parseAffiliation(name)
	if !ok {
		return affiliationChange{}, stanza.BadRequest.WithText("unknown affiliation " + name)
	}
	key, err := r.itemTarget(item)
	if err != nil {
		return affiliationChange{}, err
	}
	current := r.keyAffiliation(key)
	if err := checkAffiliationChange(actorAff, key == from.Bare().String(), current, next); err != nil {
		return affiliationChange{}, err
	}
	c := affiliationChange{key: key, next: next}
	if next >= affMember {
		c.nick = item.AttrValue("nick")
		if c.nick != "" && item.AttrValue("jid") == "" {
			c.nick = "" // the nick only named the occupant
		}
	}
	return c, nil
}

// itemTarget returns the affiliation key an admin item names.
func (r *room) itemTarget(item *stanza.Element) (string, error) {
	if raw := item.AttrValue("jid"); raw != "" {
		j, err := stanza.ParseJID(raw)
		if err != nil {
			return "", stanza.JIDMalformed.WithText("invalid jid " + raw)
		}
		return j.Bare().String(), nil
	}
	if nick := item.AttrValue("nick"); nick != "" {
		o := r.occupants[nick]
		if o == nil {
			return "", stanza.ItemNotFound.WithText("no occupant has the nickname " + nick)
		}
		return o.real.String(), nil
	}
	return "", stanza.BadRequest.WithText("an affiliation item needs a jid or a nick")
}

// keyAffiliation returns the affiliation stored for a key; server admins
// are owners.
func (r *room) keyAffiliation(key string) affiliation {
	if r.svc.mod.admins[key] {
		return affOwner
	}
	if rec, ok := r.affiliations[key]; ok {
		return rec.aff
	}
	return affNone
}

// keepsOwner reports whether the room still has an owner after the
// planned affiliation changes (XEP-0045 §10.5: a room has at least one).
func (r *room) keepsOwner(planned map[string]affiliation) bool {
	for key, rec := range r.affiliations {
		next, changed := planned[key]
		if (changed && next == affOwner) || (!changed && rec.aff == affOwner) {
			return true
		}
	}
	for _, next := range planned {
		if next == affOwner {
			return true
		}
	}
	return false
}

// planRole checks one role item, which names an occupant by nick.
func (r *room) planRole(item *stanza.Element, name string, actor *occupant, actorAff affiliation, actorRole role) (roleChange, error) {
	next, ok := parseRole(name)
	if !ok {
		return roleChange{}, stanza.BadRequest.WithText("unknown role " + name)
	}
	nick := item.AttrValue("nick")
	if nick == "" {
		return roleChange{}, stanza.BadRequest.WithText("a role item needs a nick")
	}
	target := r.occupants[nick]
	if target == nil {
		if actorRole != roleModerator {
			return roleChange{}, errNotModerator
		}
		return roleChange{}, stanza.ItemNotFound.WithText("no occupant has the nickname " + nick)
	}
	t := roleTarget{aff: r.affiliationOf(target.real), role: target.role, self: target == actor}
	if err := checkRoleChange(actorAff, actorRole, t, next); err != nil {
		return roleChange{}, err
	}
	return roleChange{target: target, next: next}, nil
}

// applyAffiliation records a change in memory and updates or removes the
// occupants it concerns: 301 for a ban, 321 for a member removed from a
// members-only room (XEP-0045 §9.1 and §9.4).
func (r *room) applyAffiliation(ctx context.Context, c affiliationChange, actor string) {
	prev := r.keyAffiliation(c.key)
	if c.next == affNone {
		delete(r.affiliations, c.key)
	} else {
		r.affiliations[c.key] = affiliationRecord{aff: c.next, nick: c.nick, reason: c.reason}
	}
	for _, o := range r.occupantsOf(c.key) {
		ch := presenceChange{actor: actor, reason: c.reason}
		switch {
		case c.next == affOutcast:
			ch.codes = []int{301}
			r.removeOccupant(ctx, o, ch)
		case r.config.MembersOnly && c.next < affMember:
			ch.codes = []int{321}
			r.removeOccupant(ctx, o, ch)
		default:
			o.role = roleAfterAffiliation(o.role, prev, c.next, r.config.Moderated)
			r.broadcastPresence(ctx, o, ch)
		}
	}
}

// roleAfterAffiliation returns an occupant's role once its affiliation
// changed: admins and owners are moderators, a new member of a moderated
// room gets voice, and an admin or owner who lost that affiliation gets
// the default role of the new one (XEP-0045 §5.1.2).
func roleAfterAffiliation(current role, prev, next affiliation, moderated bool) role {
	switch {
	case next >= affAdmin:
		return roleModerator
	case prev >= affAdmin:
		return defaultRole(next, moderated)
	case next == affMember && current == roleVisitor:
		return roleParticipant
	}
	return current
}

// applyRole changes an occupant's role; role none kicks it with 307
// (XEP-0045 §8.2).
func (r *room) applyRole(ctx context.Context, c roleChange, actor string) {
	ch := presenceChange{actor: actor, reason: c.reason}
	if c.next == roleNone {
		ch.codes = []int{307}
		r.removeOccupant(ctx, c.target, ch)
		return
	}
	c.target.role = c.next
	r.broadcastPresence(ctx, c.target, ch)
}

// isDomainKey reports whether an affiliation key is a domain.
func isDomainKey(key string) bool { return !strings.Contains(key, "@") }
