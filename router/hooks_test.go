package router

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/stream"
)

// TestEventAfterRunsAfterChain: a function that a hook passes to
// Event.After runs after every later hook, also when a later hook stops
// the chain, and once per stanza.
func TestEventAfterRunsLast(t *testing.T) {
	r := New(slog.New(slog.NewTextHandler(io.Discard, nil)), []string{"example.test"}, nil)
	var order []string
	r.Hook(Undeliverable, "message", 100, func(_ context.Context, ev *Event) Result {
		order = append(order, "first")
		ev.After(func(context.Context) { order = append(order, "after") })
		return Continue
	})
	r.Hook(Undeliverable, "message", 200, func(context.Context, *Event) Result {
		order = append(order, "store")
		return Stop
	})
	r.Hook(Undeliverable, "message", 300, func(context.Context, *Event) Result {
		order = append(order, "never")
		return Continue
	})

	msg, err := stream.ParseStanza([]byte("<message to='a@example.test' type='chat'><body>hi</body></message>"))
	if err != nil {
		t.Fatal(err)
	}
	msg.From = jid.MustParse("b@example.test/r")

	ev := &Event{Stanza: msg}
	if got := r.runHooks(context.Background(), Undeliverable, ev); got != Stop {
		t.Errorf("runHooks = %v, want Stop", got)
	}
	if want := []string{"first", "store", "after"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}

	order = nil
	r.runHooks(context.Background(), Undeliverable, ev)
	if want := []string{"first", "store", "after"}; !slices.Equal(order, want) {
		t.Errorf("second run: order %v, want %v (each After once)", order, want)
	}
}
