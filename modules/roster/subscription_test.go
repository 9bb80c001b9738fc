package roster

import (
	"strings"
	"testing"

	"tern/storage"
)

// parseState reads the notation of RFC 6121 Appendix A: "None",
// "None+Out", "None+In", "None+Out+In", "To", "To+In", "From", "From+Out",
// "Both".
func parseState(t *testing.T, s string) state {
	t.Helper()
	parts := strings.Split(s, "+")
	st := state{Sub: strings.ToLower(parts[0])}
	for _, p := range parts[1:] {
		switch p {
		case "Out":
			st.PendingOut = true
		case "In":
			st.PendingIn = true
		default:
			t.Fatalf("bad state %q", s)
		}
	}
	return st
}

var allStates = []string{"None", "None+Out", "None+In", "None+Out+In", "To", "To+In", "From", "From+Out", "Both"}

// appendixA lists, for each table of RFC 6121 Appendix A, the state after
// the event for each of allStates ("" means no state change).
var appendixA = []struct {
	table string
	dir   string // "out": the account sends; "in": the contact sends
	typ   string
	next  []string
}{
	{"A.2.1", "out", "subscribe", []string{"None+Out", "", "None+Out+In", "", "", "", "From+Out", "", ""}},
	{"A.2.2", "in", "subscribe", []string{"None+In", "None+Out+In", "", "", "To+In", "", "", "", ""}},
	{"A.3.1", "out", "subscribed", []string{"", "", "From", "From+Out", "", "Both", "", "", ""}},
	{"A.3.2", "in", "subscribed", []string{"", "To", "", "To+In", "", "", "", "Both", ""}},
	{"A.4.1", "out", "unsubscribe", []string{"", "None", "", "None+In", "None", "None+In", "", "From", "From"}},
	{"A.4.2", "in", "unsubscribe", []string{"", "", "None", "None+Out", "", "To", "None", "None+Out", "To"}},
	{"A.5.1", "out", "unsubscribed", []string{"", "", "None", "None+Out", "", "To", "None", "None+Out", "To"}},
	{"A.5.2", "in", "unsubscribed", []string{"", "None", "", "None+In", "None", "None+In", "", "From", "From"}},
}

func TestSubscriptionAppendixA(t *testing.T) {
	for _, tab := range appendixA {
		for i, from := range allStates {
			t.Run(tab.table+"/"+from, func(t *testing.T) {
				before := parseState(t, from)
				want := before
				if tab.next[i] != "" {
					want = parseState(t, tab.next[i])
				}
				var got state
				if tab.dir == "out" {
					tr, _ := outbound(before, tab.typ)
					got = tr.next
				} else {
					tr, _ := inbound(before, tab.typ, false)
					got = tr.next
				}
				if got != want {
					t.Errorf("%s %s from %s: got %+v, want %+v", tab.dir, tab.typ, from, got, want)
				}
			})
		}
	}
}

func TestInboundSubscribeAutoReply(t *testing.T) {
	for _, from := range []string{"From", "From+Out", "Both"} {
		_, auto := inbound(parseState(t, from), "subscribe", false)
		if !auto {
			t.Errorf("subscribe with %s: want an automatic 'subscribed'", from)
		}
	}
	tr, auto := inbound(parseState(t, "None"), "subscribe", true)
	if !auto || tr.next.Sub != storage.SubFrom {
		t.Errorf("pre-approved subscribe: auto=%v state=%+v, want auto reply and From", auto, tr.next)
	}
	if tr.forward {
		t.Error("pre-approved subscribe must not be delivered to the account")
	}
}

func TestOutboundSubscribedPreApproval(t *testing.T) {
	for _, from := range []string{"None", "None+Out", "To"} {
		tr, pre := outbound(parseState(t, from), "subscribed")
		if !pre {
			t.Errorf("subscribed with %s: want a pre-approval", from)
		}
		if tr.forward {
			t.Errorf("subscribed with %s: a pre-approval is not routed", from)
		}
	}
}
