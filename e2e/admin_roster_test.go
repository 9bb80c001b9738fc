package e2e

import (
	"net/http"
	"strings"
	"testing"

	"tern/internal/xmpptest"
)

const adminToken = "an-admin-token-for-tests"

// TestAdminRosterPushShape: a roster change made through the admin API
// reaches every interested resource as a push shaped like a client's own
// change: no 'from' (or the bare JID) and an explicit subscription.
func TestAdminRosterPushShape(t *testing.T) {
	s := xmpptest.Start(t, func(c *configT) { c.HTTP.AdminToken = adminToken })
	s.AddUser("romeo", "r-secret")
	s.AddUser("juliet", "j-secret")
	orchard := s.Login("romeo", "r-secret", "orchard")
	garden := s.Login("romeo", "r-secret", "garden")
	getRoster(orchard, "-")
	getRoster(garden, "-")

	url := "http://" + s.Addr("http") + "/api/v1/users/romeo@localhost/roster/juliet@localhost"
	req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(`{"name":"Juliet","groups":["Capulets"]}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("PUT roster item: %s", resp.Status)
	}
	for _, c := range []*xmpptest.Client{orchard, garden} {
		push := c.Expect(isRosterPush("juliet@localhost"))
		if push.RawFrom != "" && push.RawFrom != "romeo@localhost" {
			t.Errorf("admin push to %s has from=%q", c.JID, push.RawFrom)
		}
		item := push.Child(nsRoster, "query").Child(nsRoster, "item")
		if item.AttrValue("subscription") != "none" {
			t.Errorf("admin push item lacks subscription='none': %s", item)
		}
		if g := item.Child(nsRoster, "group"); g == nil || g.Text() != "Capulets" {
			t.Errorf("admin push item group: %s", item)
		}
	}

	req, _ = http.NewRequest(http.MethodDelete, url, nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE roster item: %s", resp.Status)
	}
	push := orchard.Expect(isRosterPush("juliet@localhost"))
	if item := push.Child(nsRoster, "query").Child(nsRoster, "item"); item.AttrValue("subscription") != "remove" {
		t.Errorf("removal push: %s", item)
	}
}
