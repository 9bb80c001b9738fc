package roster

import "tern/storage"

// state is the subscription state of one contact from the account's point
// of view: the subscription, a pending outbound request (Pending Out) and
// a pending inbound request (Pending In), as in RFC 6121 Appendix A.
type state struct {
	Sub        string
	PendingOut bool
	PendingIn  bool
}

func stateOf(it storage.RosterItem) state {
	return state{Sub: it.Subscription, PendingOut: it.AskOut, PendingIn: it.PendingIn}
}

func (s state) apply(it *storage.RosterItem) {
	it.Subscription = s.Sub
	it.AskOut = s.PendingOut
	it.PendingIn = s.PendingIn
}

func hasTo(sub string) bool   { return sub == storage.SubTo || sub == storage.SubBoth }
func hasFrom(sub string) bool { return sub == storage.SubFrom || sub == storage.SubBoth }

func combine(to, from bool) string {
	switch {
	case to && from:
		return storage.SubBoth
	case to:
		return storage.SubTo
	case from:
		return storage.SubFrom
	}
	return storage.SubNone
}

// transition is the outcome of one subscription presence for the
// account's state: the new state, and whether the stanza is routed on
// (outbound) or delivered to the account (inbound).
type transition struct {
	next    state
	forward bool
}

// outbound returns the transition for a subscription presence the account
// sends to the contact (RFC 6121 Appendix A.2 and A.4, §3.1.2, §3.2.2,
// §3.3.2). preApprove reports that a 'subscribed' without a pending
// request records a pre-approval instead (§3.4).
func outbound(s state, typ string) (t transition, preApprove bool) {
	to, from := hasTo(s.Sub), hasFrom(s.Sub)
	n := s
	switch typ {
	case "subscribe":
		// Routed even when already subscribed: the contact's server
		// answers with 'subscribed' on its own (§3.1.3).
		if !to {
			n.PendingOut = true
		}
		return transition{n, true}, false
	case "subscribed":
		if from {
			return transition{s, false}, false
		}
		if !s.PendingIn {
			return transition{s, false}, true
		}
		n.Sub = combine(to, true)
		n.PendingIn = false
		return transition{n, true}, false
	case "unsubscribe":
		n.Sub = combine(false, from)
		n.PendingOut = false
		return transition{n, to || s.PendingOut}, false
	case "unsubscribed":
		n.Sub = combine(to, false)
		n.PendingIn = false
		return transition{n, from || s.PendingIn}, false
	}
	return transition{s, false}, false
}

// inbound returns the transition for a subscription presence the contact
// sends to the account (RFC 6121 Appendix A.3 and A.5). autoReply is true
// when the server answers 'subscribed' on the account's behalf because the
// contact is already subscribed or was pre-approved.
func inbound(s state, typ string, preApproved bool) (t transition, autoReply bool) {
	to, from := hasTo(s.Sub), hasFrom(s.Sub)
	n := s
	switch typ {
	case "subscribe":
		if from {
			return transition{s, false}, true
		}
		if preApproved {
			n.Sub = combine(to, true)
			n.PendingIn = false
			return transition{n, false}, true
		}
		n.PendingIn = true
		return transition{n, true}, false
	case "subscribed":
		if to || !s.PendingOut {
			return transition{s, false}, false
		}
		n.Sub = combine(true, from)
		n.PendingOut = false
		return transition{n, true}, false
	case "unsubscribe":
		if !from && !s.PendingIn {
			return transition{s, false}, false
		}
		n.Sub = combine(to, false)
		n.PendingIn = false
		return transition{n, true}, false
	case "unsubscribed":
		if !to && !s.PendingOut {
			return transition{s, false}, false
		}
		n.Sub = combine(false, from)
		n.PendingOut = false
		return transition{n, true}, false
	}
	return transition{s, false}, false
}
