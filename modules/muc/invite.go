package muc

import (
	"context"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// maxInvitations bounds how many invitations a room remembers for routing
// declines; the oldest is forgotten first.
const maxInvitations = 256

// invitations remembers who invited whom, so that a decline reaches the
// inviter without the room relaying declines to arbitrary addresses.
type invitations struct {
	inviter map[string]jid.JID // invitee bare JID → inviter's real full JID
	order   []string
}

func (v *invitations) add(invitee string, inviter jid.JID) {
	if v.inviter == nil {
		v.inviter = make(map[string]jid.JID)
	}
	if _, ok := v.inviter[invitee]; !ok {
		v.order = append(v.order, invitee)
	}
	v.inviter[invitee] = inviter
	if len(v.order) > maxInvitations {
		delete(v.inviter, v.order[0])
		v.order = v.order[1:]
	}
}

// take returns and removes the inviter of invitee.
func (v *invitations) take(invitee string) (jid.JID, bool) {
	j, ok := v.inviter[invitee]
	if ok {
		delete(v.inviter, invitee)
		for i, k := range v.order {
			if k == invitee {
				v.order = append(v.order[:i:i], v.order[i+1:]...)
				break
			}
		}
	}
	return j, ok
}

// mayInvite decides who may send mediated invitations (XEP-0045
// §7.8.2). In an open room every occupant may. In a members-only room
// admins and owners may, and members too when the room allows invites;
// the invitation then makes the invitee a member.
func (r *room) mayInvite(o *occupant) (allowed, addsMember bool) {
	if !r.config.MembersOnly {
		return true, false
	}
	aff := r.affiliationOf(o.real)
	if aff >= affAdmin || (r.config.AllowInvites && aff >= affMember) {
		return true, true
	}
	return false, false
}

// invite relays mediated invitations from an occupant (XEP-0045 §7.8.2).
// Every invitee is checked before any invitation is sent.
func (r *room) invite(ctx context.Context, o *occupant, m *stanza.Stanza, invites []*stanza.Element) error {
	if o == nil {
		return errNotOccupant
	}
	allowed, addsMember := r.mayInvite(o)
	if !allowed {
		return stanza.Forbidden.WithText("only admins may invite to this members-only room")
	}
	invitees := make([]jid.JID, len(invites))
	for i, inv := range invites {
		j, err := stanza.ParseJID(inv.AttrValue("to"))
		if err != nil || j.Localpart() == "" {
			return stanza.JIDMalformed.WithText("an invitation needs the invitee's JID in 'to'")
		}
		invitees[i] = j
	}
	if addsMember {
		if err := r.addInvitedMembers(ctx, invitees); err != nil {
			return err
		}
	}
	for i, inv := range invites {
		r.sendInvitation(ctx, o, m, invitees[i], inv.Child(NSUser, "reason").Text())
	}
	return nil
}

// addInvitedMembers makes invitees without an affiliation members.
func (r *room) addInvitedMembers(ctx context.Context, invitees []jid.JID) error {
	var changes []affiliationChange
	for _, j := range invitees {
		key := j.Bare().String()
		if r.keyAffiliation(key) == affNone && r.affiliationOf(j) == affNone {
			changes = append(changes, affiliationChange{key: key, next: affMember})
		}
	}
	if err := r.persistAffiliations(ctx, changes); err != nil {
		return err
	}
	for _, c := range changes {
		r.affiliations[c.key] = affiliationRecord{aff: c.next}
	}
	return nil
}

// sendInvitation sends one invitation from the room, naming the inviter
// by real bare JID and adding the room password (XEP-0045 §7.8.2).
func (r *room) sendInvitation(ctx context.Context, o *occupant, m *stanza.Stanza, to jid.JID, reason string) {
	inv := stanza.NewElement(NSUser, "invite", "from", o.real.String())
	if reason != "" {
		inv.Add(stanza.NewElement(NSUser, "reason").AddText(reason))
	}
	x := stanza.NewElement(NSUser, "x").Add(inv)
	if r.config.PasswordProtected {
		x.Add(stanza.NewElement(NSUser, "password").AddText(r.config.Password))
	}
	out := stanza.New(stanza.Message, "", to, r.jid, x)
	out.ID = m.ID
	r.invites.add(to.Bare().String(), o.sessions[0])
	r.route(ctx, out)
}

// decline relays an invitee's decline to the inviter the room remembers;
// declines of invitations it did not send are dropped.
func (r *room) decline(ctx context.Context, m *stanza.Stanza, d *stanza.Element) {
	inviter, ok := r.invites.take(m.From.Bare().String())
	if !ok {
		return
	}
	dec := stanza.NewElement(NSUser, "decline", "from", m.From.Bare().String())
	if reason := d.Child(NSUser, "reason").Text(); reason != "" {
		dec.Add(stanza.NewElement(NSUser, "reason").AddText(reason))
	}
	out := stanza.New(stanza.Message, "", inviter, r.jid, stanza.NewElement(NSUser, "x").Add(dec))
	out.ID = m.ID
	r.route(ctx, out)
}
