package last_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"tern/internal/xmpptest"
	"tern/modules/last"
	"tern/stanza"
	"tern/storage"
)

func TestServerUptime(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("romeo", "secret-romeo")
	c := s.Login("romeo", "secret-romeo", "orchard")

	resp := c.Request(`<iq type='get' id='u1' to='localhost'><query xmlns='jabber:iq:last'/></iq>`, "u1")
	if seconds(t, resp) < 0 {
		t.Errorf("uptime is negative: %s", resp)
	}
	resp = c.Request(`<iq type='set' id='u2' to='localhost'><query xmlns='jabber:iq:last'/></iq>`, "u2")
	if got := xmpptest.ErrorCondition(resp); got != "not-allowed" {
		t.Errorf("set: condition = %q, want not-allowed (%s)", got, resp)
	}
}

func TestAccountLastActivity(t *testing.T) {
	s := xmpptest.Start(t)
	for _, u := range []string{"juliet", "romeo", "paris", "nurse"} {
		s.AddUser(u, "secret-"+u)
	}
	putRoster(t, s, "juliet", "romeo@localhost", storage.SubFrom)
	putRoster(t, s, "juliet", "paris@localhost", storage.SubTo)
	putRoster(t, s, "nurse", "romeo@localhost", storage.SubBoth)
	juliet := s.Login("juliet", "secret-juliet", "balcony")
	romeo := s.Login("romeo", "secret-romeo", "orchard")
	paris := s.Login("paris", "secret-paris", "church")

	tests := []struct {
		name   string
		client *xmpptest.Client
		to     string
		want   string // "0" for an idle time of zero, or an error condition
	}{
		{"own account online", juliet, "", "0"},
		{"subscriber asks online account", romeo, "juliet@localhost", "0"},
		{"subscription to only", paris, "juliet@localhost", "forbidden"},
		{"no roster item", paris, "nurse@localhost", "forbidden"},
		{"never logged out", romeo, "nurse@localhost", "service-unavailable"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := fmt.Sprintf("l%d", i)
			to := ""
			if tt.to != "" {
				to = " to='" + tt.to + "'"
			}
			resp := tt.client.Request(fmt.Sprintf(`<iq type='get' id='%s'%s><query xmlns='jabber:iq:last'/></iq>`, id, to), id)
			got := xmpptest.ErrorCondition(resp)
			if resp.Type == "result" {
				got = strconv.FormatInt(seconds(t, resp), 10)
			}
			if got != tt.want {
				t.Errorf("outcome = %q, want %q (%s)", got, tt.want, resp)
			}
		})
	}
}

func TestLogoutWithStatus(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("juliet", "secret-juliet")
	s.AddUser("romeo", "secret-romeo")
	putRoster(t, s, "juliet", "romeo@localhost", storage.SubBoth)
	romeo := s.Login("romeo", "secret-romeo", "orchard")
	juliet := s.Login("juliet", "secret-juliet", "balcony")
	juliet.Sync()

	start := time.Now()
	juliet.Send(`<presence type='unavailable'><status>gone to Mantua</status></presence>`)
	juliet.Sync()

	resp := romeo.Request(`<iq type='get' id='l1' to='juliet@localhost'><query xmlns='jabber:iq:last'/></iq>`, "l1")
	if got := seconds(t, resp); got < 0 || got > int64(time.Since(start)/time.Second)+1 {
		t.Errorf("seconds = %d, want the time since the logout", got)
	}
	if got := resp.Child(last.NS, "query").Text(); got != "gone to Mantua" {
		t.Errorf("status = %q, want %q", got, "gone to Mantua")
	}
}

func TestDisconnectRecordsLogout(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("juliet", "secret-juliet")
	s.AddUser("romeo", "secret-romeo")
	putRoster(t, s, "juliet", "romeo@localhost", storage.SubBoth)
	romeo := s.Login("romeo", "secret-romeo", "orchard")
	juliet := s.Login("juliet", "secret-juliet", "balcony")
	juliet.Sync()

	juliet.Close()
	// The unavailable presence broadcast follows the record, because this
	// module's session hook runs before the roster module's.
	romeo.Expect(xmpptest.IsPresence("juliet@localhost/balcony", "unavailable"))

	a, err := s.Store().GetLastActivity(context.Background(), storage.Owner{Domain: "localhost", Local: "juliet"})
	if err != nil {
		t.Fatalf("last activity after disconnect: %v", err)
	}
	if a.Status != "" {
		t.Errorf("status = %q, want empty", a.Status)
	}
}

func TestOtherSessionKeepsAccountOnline(t *testing.T) {
	s := xmpptest.Start(t)
	s.AddUser("juliet", "secret-juliet")
	balcony := s.Login("juliet", "secret-juliet", "balcony")
	s.Login("juliet", "secret-juliet", "garden").Sync()

	balcony.Send(`<presence type='unavailable'/>`)
	balcony.Sync()

	_, err := s.Store().GetLastActivity(context.Background(), storage.Owner{Domain: "localhost", Local: "juliet"})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("last activity stored while another session is available: %v", err)
	}
	resp := balcony.Request(`<iq type='get' id='l1'><query xmlns='jabber:iq:last'/></iq>`, "l1")
	if got := seconds(t, resp); got != 0 {
		t.Errorf("seconds = %d, want 0", got)
	}
}

func putRoster(t *testing.T, s *xmpptest.Server, owner, contact, subscription string) {
	t.Helper()
	item := storage.RosterItem{JID: contact, Subscription: subscription, Listed: true}
	if _, err := s.Store().PutRosterItem(context.Background(), storage.Owner{Domain: "localhost", Local: owner}, item); err != nil {
		t.Fatalf("put roster item: %v", err)
	}
}

func seconds(t *testing.T, resp *stanza.Stanza) int64 {
	t.Helper()
	if resp.Type != "result" {
		t.Fatalf("last activity: %s", resp)
	}
	q := resp.Child(last.NS, "query")
	n, err := strconv.ParseInt(q.AttrValue("seconds"), 10, 64)
	if err != nil {
		t.Fatalf("seconds attribute of %s: %v", q, err)
	}
	return n
}
