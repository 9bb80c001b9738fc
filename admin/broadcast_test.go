package admin

import (
	"context"
	"errors"
	"testing"
)

// broadcastCall records the arguments of one Broadcaster call.
type broadcastCall struct {
	domain, subject, body string
	allAccounts           bool
}

// fakeBroadcaster records its calls and reports n recipients.
type fakeBroadcaster struct {
	calls []broadcastCall
	n     int
}

func (f *fakeBroadcaster) Broadcast(_ context.Context, domain, subject, body string, allAccounts bool) (int, error) {
	f.calls = append(f.calls, broadcastCall{domain, subject, body, allAccounts})
	return f.n, nil
}

// serviceTable is a session table whose Lookup returns the services of a
// running server.
type serviceTable struct {
	fakeTable
	services map[string]any
}

func (t serviceTable) Lookup(name string) any { return t.services[name] }

func TestBroadcast(t *testing.T) {
	bc := &fakeBroadcaster{n: 3}
	svc := New(nil, Options{
		Domains:  []string{"a.example", "b.example"},
		Sessions: serviceTable{services: map[string]any{"announce": bc}},
	})
	ctx := context.Background()

	res, err := svc.Broadcast(ctx, Broadcast{Body: "maintenance at noon", Subject: " Notice ", Offline: true, Domain: "B.Example"})
	if err != nil {
		t.Fatalf("Broadcast: %v", err)
	}
	if res.Recipients != 3 {
		t.Errorf("recipients = %d, want 3", res.Recipients)
	}
	want := broadcastCall{"b.example", "Notice", "maintenance at noon", true}
	if len(bc.calls) != 1 || bc.calls[0] != want {
		t.Errorf("calls = %+v, want [%+v]", bc.calls, want)
	}

	tests := []struct {
		name string
		svc  *Service
		b    Broadcast
		want error
	}{
		{"empty body", svc, Broadcast{Body: " \n"}, ErrInvalidMessage},
		{"unknown domain", svc, Broadcast{Body: "x", Domain: "c.example"}, ErrUnknownDomain},
		{"no server", New(nil, Options{Domains: []string{"a.example"}}), Broadcast{Body: "x"}, ErrNotRunning},
		{"module disabled", New(nil, Options{Domains: []string{"a.example"}, Sessions: serviceTable{}}), Broadcast{Body: "x"}, ErrModuleDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.svc.Broadcast(ctx, tt.b); !errors.Is(err, tt.want) {
				t.Errorf("error = %v, want %v", err, tt.want)
			}
		})
	}
	if len(bc.calls) != 1 {
		t.Errorf("rejected broadcasts reached the service: %+v", bc.calls)
	}
}
