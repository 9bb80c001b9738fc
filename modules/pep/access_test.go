package pep

import (
	"testing"

	"tern/storage"
)

func TestMayAccess(t *testing.T) {
	presence := defaultConfig()
	open := mustApply(t, fieldAccessModel, AccessOpen)
	whitelist := mustApply(t, fieldAccessModel, AccessWhitelist)
	roster, err := defaultConfig().apply(map[string][]string{
		fieldAccessModel: {AccessRoster}, fieldRosterGroups: {"Friends"},
	})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	stranger := viewer{subscription: storage.SubNone}
	follower := viewer{subscription: storage.SubFrom}
	both := viewer{subscription: storage.SubBoth}
	followed := viewer{subscription: storage.SubTo}
	friend := viewer{subscription: storage.SubNone, groups: []string{"Work", "Friends"}}
	colleague := viewer{subscription: storage.SubBoth, groups: []string{"Work"}}
	member := viewer{subscription: storage.SubNone, affiliation: "member"}
	outcast := viewer{subscription: storage.SubBoth, affiliation: "outcast"}
	self := viewer{self: true}

	cases := []struct {
		name      string
		cfg       nodeConfig
		v         viewer
		condition string // "" when allowed
		app       string
	}{
		{"open, stranger", open, stranger, "", ""},
		{"open, outcast", open, outcast, "forbidden", ""},
		{"presence, stranger", presence, stranger, "not-authorized", "presence-subscription-required"},
		{"presence, subscription to only", presence, followed, "not-authorized", "presence-subscription-required"},
		{"presence, subscription from", presence, follower, "", ""},
		{"presence, subscription both", presence, both, "", ""},
		{"presence, self", presence, self, "", ""},
		{"roster, in an allowed group", roster, friend, "", ""},
		{"roster, other group", roster, colleague, "not-authorized", "not-in-roster-group"},
		{"roster, no group", roster, both, "not-authorized", "not-in-roster-group"},
		{"whitelist, contact", whitelist, both, "not-allowed", "closed-node"},
		{"whitelist, member", whitelist, member, "", ""},
		{"whitelist, self", whitelist, self, "", ""},
	}
	for _, tc := range cases {
		err := mayAccess(tc.cfg, tc.v)
		switch {
		case tc.condition == "" && err != nil:
			t.Errorf("%s: denied with %v", tc.name, err)
		case tc.condition != "" && err == nil:
			t.Errorf("%s: allowed, want %s", tc.name, tc.condition)
		case err != nil && err.Condition != tc.condition:
			t.Errorf("%s: condition %s, want %s", tc.name, err.Condition, tc.condition)
		case err != nil && tc.app != "" && (err.App == nil || err.App.Name.Local != tc.app || err.App.Name.Space != NSErrors):
			t.Errorf("%s: application condition %v, want %s", tc.name, err.App, tc.app)
		}
	}
}

func mustApply(t *testing.T, field, value string) nodeConfig {
	t.Helper()
	cfg, err := defaultConfig().apply(map[string][]string{field: {value}})
	if err != nil {
		t.Fatalf("apply %s=%s: %v", field, value, err)
	}
	return cfg
}
