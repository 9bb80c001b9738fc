package admin

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"mellium.im/xmpp/jid"

	"tern/router"
	"tern/stanza"
	"tern/storage"
	"tern/storage/sqlite"
	"tern/stream"
)

// testIterations keeps key derivation cheap in unit tests.
const testIterations = 16

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tern.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newService(t *testing.T, accounts storage.Accounts, sessions SessionTable) *Service {
	return New(accounts, Options{
		Domains:    []string{"example.com", "example.org"},
		Iterations: testIterations,
		Sessions:   sessions,
	})
}

// fakeSession is a router.Session that records how it was closed.
type fakeSession struct {
	jid      jid.JID
	presence *stanza.Stanza
	addr     net.Addr

	mu     sync.Mutex
	closed *stream.Error
}

func (f *fakeSession) ID() string                   { return "fake-" + f.jid.String() }
func (f *fakeSession) JID() jid.JID                 { return f.jid }
func (f *fakeSession) Deliver(*stanza.Stanza)       {}
func (f *fakeSession) Presence() *stanza.Stanza     { return f.presence }
func (f *fakeSession) SetPresence(p *stanza.Stanza) { f.presence = p }
func (f *fakeSession) RosterRequested() bool        { return false }
func (f *fakeSession) Value(any) any                { return nil }
func (f *fakeSession) SetValue(any, any)            {}
func (f *fakeSession) Close(err *stream.Error) {
	f.mu.Lock()
	f.closed = err
	f.mu.Unlock()
}

// addrSession is a fakeSession that exposes a remote address.
type addrSession struct{ *fakeSession }

func (a addrSession) RemoteAddr() net.Addr { return a.addr }

// fakeTable is a SessionTable over a fixed list of sessions.
type fakeTable []router.Session

func (ft fakeTable) Sessions(bare jid.JID) []router.Session {
	var out []router.Session
	for _, s := range ft {
		if s.JID().Bare().Equal(bare) {
			out = append(out, s)
		}
	}
	return out
}

func (ft fakeTable) EachSession(f func(router.Session)) {
	for _, s := range ft {
		f(s)
	}
}

func (ft fakeTable) SessionCount() int { return len(ft) }

// plainAccounts hides the batch method of a backend, so AddUsers takes
// the one-at-a-time path.
type plainAccounts struct{ storage.Accounts }

func TestAddUsersCreatesAccounts(t *testing.T) {
	for _, tc := range []struct {
		name     string
		accounts func(*sqlite.Store) storage.Accounts
	}{
		{"batch", func(st *sqlite.Store) storage.Accounts { return st }},
		{"one by one", func(st *sqlite.Store) storage.Accounts { return plainAccounts{st} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			svc := newService(t, tc.accounts(st), nil)
			users := []NewUser{
				{JID: "Alice@Example.COM", Password: "pw-a"},
				{JID: "bob@example.org", Password: "pw b with spaces"},
				{JID: "carol@example.com", Password: "pw-c"},
			}
			if err := svc.AddUsers(context.Background(), users); err != nil {
				t.Fatalf("AddUsers: %v", err)
			}
			a, err := st.GetAccount(context.Background(), storage.Owner{Domain: "example.com", Local: "alice"})
			if err != nil {
				t.Fatalf("GetAccount alice: %v", err)
			}
			if len(a.Keys) != 3 {
				t.Errorf("alice has %d keys, want 3 (SHA-1, SHA-256, SHA-512)", len(a.Keys))
			}
			if a.Keys[0].Iterations != testIterations {
				t.Errorf("iterations = %d, want %d", a.Keys[0].Iterations, testIterations)
			}
			got, err := svc.ListUsers(context.Background(), "")
			if err != nil {
				t.Fatalf("ListUsers: %v", err)
			}
			want := []string{"alice@example.com", "carol@example.com", "bob@example.org"}
			if !slices.Equal(got, want) {
				t.Errorf("ListUsers = %q, want %q", got, want)
			}
		})
	}
}

func TestAddUsersRejectsInvalid(t *testing.T) {
	for i, tc := range []struct {
		users []NewUser
		want  error
	}{
		0: {nil, ErrInvalidJID},
		1: {[]NewUser{{JID: "example.com", Password: "x"}}, ErrInvalidJID},
		2: {[]NewUser{{JID: "a@example.com/res", Password: "x"}}, ErrInvalidJID},
		3: {[]NewUser{{JID: "a@b@example.com", Password: "x"}}, ErrInvalidJID},
		4: {[]NewUser{{JID: "", Password: "x"}}, ErrInvalidJID},
		5: {[]NewUser{{JID: "a@other.example", Password: "x"}}, ErrUnknownDomain},
		6: {[]NewUser{{JID: "a@example.com", Password: ""}}, ErrInvalidPassword},
		7: {[]NewUser{{JID: "a@example.com", Password: "\u0007bell"}}, ErrInvalidPassword},
		8: {[]NewUser{{JID: "a@example.com", Password: "x"}, {JID: "A@example.com", Password: "y"}}, ErrInvalidJID},
		// A valid user before an invalid one is not created either.
		9: {[]NewUser{{JID: "ok@example.com", Password: "x"}, {JID: "bad@nowhere.example", Password: "y"}}, ErrUnknownDomain},
	} {
		st := openStore(t)
		svc := newService(t, st, nil)
		err := svc.AddUsers(context.Background(), tc.users)
		if !errors.Is(err, tc.want) {
			t.Errorf("%d: AddUsers = %v, want %v", i, err, tc.want)
		}
		n, _ := st.CountAccounts(context.Background(), "example.com")
		if n != 0 {
			t.Errorf("%d: %d accounts created after a rejected batch, want 0", i, n)
		}
	}
}

func TestAddUsersExistingCreatesNone(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st, nil)
	ctx := context.Background()
	if err := svc.AddUsers(ctx, []NewUser{{JID: "bob@example.com", Password: "x"}}); err != nil {
		t.Fatalf("AddUsers bob: %v", err)
	}
	err := svc.AddUsers(ctx, []NewUser{{JID: "new@example.com", Password: "x"}, {JID: "bob@example.com", Password: "y"}})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("AddUsers with an existing account = %v, want ErrExists", err)
	}
	if n, _ := st.CountAccounts(ctx, "example.com"); n != 1 {
		t.Errorf("example.com has %d accounts, want 1", n)
	}
}

func TestAddUsersCanceled(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := svc.AddUsers(ctx, []NewUser{{JID: "a@example.com", Password: "x"}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("AddUsers with a canceled context = %v, want context.Canceled", err)
	}
}

func TestDeleteUserClosesSessions(t *testing.T) {
	st := openStore(t)
	alice1 := &fakeSession{jid: jid.MustParse("alice@example.com/one")}
	alice2 := &fakeSession{jid: jid.MustParse("alice@example.com/two")}
	bob := &fakeSession{jid: jid.MustParse("bob@example.com/one")}
	svc := newService(t, st, fakeTable{alice1, alice2, bob})
	ctx := context.Background()
	users := []NewUser{{JID: "alice@example.com", Password: "x"}, {JID: "bob@example.com", Password: "y"}}
	if err := svc.AddUsers(ctx, users); err != nil {
		t.Fatalf("AddUsers: %v", err)
	}
	if err := svc.DeleteUser(ctx, "alice@example.com"); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	for _, s := range []*fakeSession{alice1, alice2} {
		if s.closed == nil || s.closed.Condition != "not-authorized" {
			t.Errorf("%s closed with %v, want not-authorized", s.jid, s.closed)
		}
	}
	if bob.closed != nil {
		t.Errorf("bob's session closed with %v, want open", bob.closed)
	}
	if _, err := st.GetAccount(ctx, storage.Owner{Domain: "example.com", Local: "alice"}); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetAccount after delete = %v, want ErrNotFound", err)
	}
	if err := svc.DeleteUser(ctx, "alice@example.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteUser = %v, want ErrNotFound", err)
	}
}

func TestSetPassword(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st, nil)
	ctx := context.Background()
	if err := svc.AddUsers(ctx, []NewUser{{JID: "alice@example.com", Password: "old"}}); err != nil {
		t.Fatalf("AddUsers: %v", err)
	}
	o := storage.Owner{Domain: "example.com", Local: "alice"}
	before, _ := st.GetAccount(ctx, o)
	if err := svc.SetPassword(ctx, "alice@example.com", "new"); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	after, _ := st.GetAccount(ctx, o)
	if string(before.Keys[1].StoredKey) == string(after.Keys[1].StoredKey) {
		t.Error("StoredKey unchanged after SetPassword")
	}
	for i, tc := range []struct {
		account, password string
		want              error
	}{
		0: {"nobody@example.com", "x", ErrNotFound},
		1: {"alice@example.com", "", ErrInvalidPassword},
		2: {"alice@nowhere.example", "x", ErrUnknownDomain},
		3: {"alice@example.com/r", "x", ErrInvalidJID},
	} {
		if err := svc.SetPassword(ctx, tc.account, tc.password); !errors.Is(err, tc.want) {
			t.Errorf("%d: SetPassword(%q) = %v, want %v", i, tc.account, err, tc.want)
		}
	}
}

func TestKeysOfConfiguredHashes(t *testing.T) {
	keyHashes := func(t *testing.T, st *sqlite.Store, local string) []string {
		t.Helper()
		a, err := st.GetAccount(context.Background(), storage.Owner{Domain: "example.com", Local: local})
		if err != nil {
			t.Fatalf("GetAccount %s: %v", local, err)
		}
		var hashes []string
		for _, k := range a.Keys {
			hashes = append(hashes, k.Hash)
		}
		return hashes
	}
	tests := []struct {
		name   string
		hashes []string
		want   []string
	}{
		{"nil means all", nil, []string{"SHA-1", "SHA-256", "SHA-512"}},
		{"SHA-256", []string{"SHA-256"}, []string{"SHA-256"}},
		{"SHA-512 and SHA-1", []string{"SHA-512", "SHA-1"}, []string{"SHA-1", "SHA-512"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := openStore(t)
			svc := New(st, Options{Domains: []string{"example.com"}, Iterations: testIterations, Hashes: tt.hashes})
			ctx := context.Background()
			users := []NewUser{{JID: "alice@example.com", Password: "pw-a"}, {JID: "bob@example.com", Password: "pw-b"}}
			if err := svc.AddUsers(ctx, users); err != nil {
				t.Fatalf("AddUsers: %v", err)
			}
			if got := keyHashes(t, st, "bob"); !slices.Equal(got, tt.want) {
				t.Errorf("after AddUsers: key hashes %q, want %q", got, tt.want)
			}
			// An account stored with one key only gets the configured ones
			// at its password change.
			o := storage.Owner{Domain: "example.com", Local: "alice"}
			a, _ := st.GetAccount(ctx, o)
			if err := st.SetKeys(ctx, o, a.Keys[:1]); err != nil {
				t.Fatalf("SetKeys: %v", err)
			}
			if err := svc.SetPassword(ctx, "alice@example.com", "new"); err != nil {
				t.Fatalf("SetPassword: %v", err)
			}
			if got := keyHashes(t, st, "alice"); !slices.Equal(got, tt.want) {
				t.Errorf("after SetPassword: key hashes %q, want %q", got, tt.want)
			}
		})
	}
}

func TestListUsersDomain(t *testing.T) {
	st := openStore(t)
	svc := newService(t, st, nil)
	ctx := context.Background()
	users := []NewUser{{JID: "b@example.com", Password: "x"}, {JID: "a@example.com", Password: "x"}, {JID: "c@example.org", Password: "x"}}
	if err := svc.AddUsers(ctx, users); err != nil {
		t.Fatalf("AddUsers: %v", err)
	}
	got, err := svc.ListUsers(ctx, "EXAMPLE.com")
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	if want := []string{"a@example.com", "b@example.com"}; !slices.Equal(got, want) {
		t.Errorf("ListUsers = %q, want %q", got, want)
	}
	for _, d := range []string{"nowhere.example", "u@example.com", "[bad"} {
		if _, err := svc.ListUsers(ctx, d); !errors.Is(err, ErrUnknownDomain) {
			t.Errorf("ListUsers(%q) = %v, want ErrUnknownDomain", d, err)
		}
	}
}

func TestSessionsAndStats(t *testing.T) {
	st := openStore(t)
	avail := stanza.New(stanza.Presence, "", jid.JID{}, jid.JID{}, stanza.NewElement(stanza.NSClient, "priority").AddText("5"))
	a := &fakeSession{jid: jid.MustParse("bob@example.com/phone")}
	b := addrSession{&fakeSession{jid: jid.MustParse("alice@example.com/laptop"), presence: avail,
		addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4000}}}
	svc := newService(t, st, fakeTable{a, b})
	ctx := context.Background()
	if err := svc.AddUsers(ctx, []NewUser{{JID: "alice@example.com", Password: "x"}}); err != nil {
		t.Fatalf("AddUsers: %v", err)
	}

	got, err := svc.Sessions(ctx)
	if err != nil {
		t.Fatalf("Sessions: %v", err)
	}
	want := []SessionInfo{
		{JID: "alice@example.com/laptop", Resource: "laptop", Priority: 5, Available: true, Address: "127.0.0.1:4000"},
		{JID: "bob@example.com/phone", Resource: "phone"},
	}
	if len(got) != len(want) {
		t.Fatalf("Sessions = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("session %d = %+v, want %+v", i, got[i], want[i])
		}
	}

	stats, err := svc.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if !stats.Running || stats.Sessions != 2 {
		t.Errorf("Stats running=%v sessions=%d, want true 2", stats.Running, stats.Sessions)
	}
	if stats.Accounts["example.com"] != 1 || stats.Accounts["example.org"] != 0 {
		t.Errorf("Stats accounts = %v, want example.com:1 example.org:0", stats.Accounts)
	}
}

func TestSessionsWithoutServer(t *testing.T) {
	svc := newService(t, openStore(t), nil)
	if _, err := svc.Sessions(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("Sessions without a table = %v, want ErrNotRunning", err)
	}
	stats, err := svc.Stats(context.Background())
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if stats.Running {
		t.Error("Stats.Running = true without a session table")
	}
}

func TestMinPasswordLength(t *testing.T) {
	st := openStore(t)
	svc := New(st, Options{Domains: []string{"example.com"}, Iterations: testIterations, MinPasswordLength: 8})
	ctx := context.Background()

	// Eight code points in ten bytes reach the minimum; seven code points
	// in fourteen bytes do not, because the length counts code points.
	if err := svc.AddUsers(ctx, []NewUser{{JID: "alice@example.com", Password: "pässwörd"}}); err != nil {
		t.Fatalf("AddUsers with 8 code points: %v", err)
	}
	for i, tc := range []struct{ jid, password string }{
		0: {"bob@example.com", "ääääääää"[:14]},
		1: {"bob@example.com", "x"},
	} {
		err := svc.AddUsers(ctx, []NewUser{{JID: tc.jid, Password: tc.password}})
		if !errors.Is(err, ErrInvalidPassword) {
			t.Errorf("%d: AddUsers = %v, want ErrInvalidPassword", i, err)
		}
		want := "invalid password for bob@example.com: the password must have at least 8 characters (registration.min_password_length)"
		if err != nil && err.Error() != want {
			t.Errorf("%d: error %q, want %q", i, err, want)
		}
	}
	if n, _ := st.CountAccounts(ctx, "example.com"); n != 1 {
		t.Errorf("example.com has %d accounts, want 1", n)
	}

	if err := svc.SetPassword(ctx, "alice@example.com", "short"); !errors.Is(err, ErrInvalidPassword) {
		t.Errorf("SetPassword with 5 characters = %v, want ErrInvalidPassword", err)
	}
	if err := svc.SetPassword(ctx, "alice@example.com", "long enough"); err != nil {
		t.Errorf("SetPassword with 11 characters: %v", err)
	}
}
