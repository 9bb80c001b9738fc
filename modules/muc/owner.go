package muc

import (
	"context"
	"reflect"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// ownerIQ handles the muc#owner requests of XEP-0045 §10: the
// configuration form, its submission or cancellation, and destroying the
// room. Only owners may send them.
func (r *room) ownerIQ(ctx context.Context, iq *stanza.Stanza, q *stanza.Element) (*stanza.Stanza, error) {
	if !r.exists {
		return nil, stanza.ItemNotFound
	}
	if r.affiliationOf(iq.From) != affOwner {
		return nil, stanza.Forbidden.WithText("only owners may configure or destroy the room")
	}
	cfg := r.svc.mod.cfg
	if iq.Type == "get" {
		title := "Configuration of " + r.jid.String()
		form := r.config.form(title, cfg.MaxOccupants, cfg.HistoryLength)
		return stanza.Result(iq, stanza.NewElement(NSOwner, "query").Add(form)), nil
	}
	if d := q.Child(NSOwner, "destroy"); d != nil {
		r.destroyByOwner(ctx, d)
		return stanza.Result(iq), nil
	}
	x := q.Child(nsDataForm, "x")
	if x == nil {
		return nil, stanza.BadRequest.WithText("expected a data form or <destroy/>")
	}
	switch x.AttrValue("type") {
	case "submit":
		return r.submitConfig(ctx, iq, x)
	case "cancel":
		if r.locked {
			// XEP-0045 §10.1.3: cancelling the first configuration
			// destroys the new room.
			r.destroyByOwner(ctx, stanza.NewElement(NSOwner, "destroy"))
		}
		return stanza.Result(iq), nil
	}
	return nil, stanza.BadRequest.WithText("the form type must be submit or cancel")
}

// submitConfig applies a submitted configuration form, unlocks a new room
// and notifies the occupants of what changed (XEP-0045 §10.2.1).
func (r *room) submitConfig(ctx context.Context, iq *stanza.Stanza, x *stanza.Element) (*stanza.Stanza, error) {
	cfg := r.svc.mod.cfg
	next, err := r.config.applyForm(x, cfg.MaxOccupants, cfg.HistoryLength)
	if err != nil {
		return nil, err
	}
	prev, wasLocked := r.config, r.locked
	if err := r.persistConfig(ctx, next); err != nil {
		return nil, err
	}
	r.config, r.locked = next, false
	r.history.trim(next.HistoryLength)
	r.route(ctx, stanza.Result(iq))
	if !wasLocked {
		r.notifyConfigChange(ctx, prev, next)
	}
	if next.MembersOnly && !prev.MembersOnly {
		// §10.2.1: non-members leave a room that became members-only.
		for _, o := range r.occupants {
			if r.affiliationOf(o.real) < affMember {
				r.removeOccupant(ctx, o, presenceChange{codes: []int{322}})
			}
		}
	}
	r.afterLeave(ctx)
	return nil, nil
}

// notifyConfigChange sends occupants a message with the status codes of
// XEP-0045 §10.2.1: 170 or 171 when logging changed, 172 or 173 when the
// room became non-anonymous or semi-anonymous, and 104 for any other
// change.
func (r *room) notifyConfigChange(ctx context.Context, prev, next roomConfig) {
	var codes []string
	if prev.Logging != next.Logging {
		codes = append(codes, map[bool]string{true: "170", false: "171"}[next.Logging])
	}
	if prev.WhoIs != next.WhoIs {
		codes = append(codes, map[bool]string{true: "172", false: "173"}[next.WhoIs == whoisAnyone])
	}
	a, b := prev, next
	a.Logging, a.WhoIs, b.Logging, b.WhoIs = false, "", false, ""
	if !reflect.DeepEqual(a, b) {
		codes = append(codes, "104")
	}
	if len(codes) == 0 {
		return
	}
	x := stanza.NewElement(NSUser, "x")
	for _, c := range codes {
		x.Add(stanza.NewElement(NSUser, "status", "code", c))
	}
	msg := stanza.New(stanza.Message, "groupchat", jid.JID{}, r.jid, x)
	msg.ID = randomID()
	r.broadcastMessage(ctx, r.withStanzaID(msg, randomID()))
}

// destroyByOwner destroys the room (XEP-0045 §10.9): every occupant gets
// an unavailable self-presence with the <destroy/> element, which names
// the alternate venue and the reason when the owner gave them.
func (r *room) destroyByOwner(ctx context.Context, d *stanza.Element) {
	notice := stanza.NewElement(NSUser, "destroy")
	if alt := d.AttrValue("jid"); alt != "" {
		if j, err := jid.Parse(alt); err == nil {
			notice.SetAttr("jid", j.String())
		}
	}
	if reason := d.Child(NSOwner, "reason").Text(); reason != "" {
		notice.Add(stanza.NewElement(NSUser, "reason").AddText(reason))
	}
	ch := presenceChange{typ: "unavailable", destroy: notice}
	for _, o := range r.occupants {
		for _, s := range o.sessions {
			p := r.occupantPresence(o, ch, s, true)
			r.sendTo(ctx, p, []jid.JID{s})
		}
	}
	r.destroy(ctx)
}
