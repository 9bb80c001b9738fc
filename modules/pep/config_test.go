package pep

import (
	"slices"
	"testing"
)

func TestPublishOptionsMatch(t *testing.T) {
	bookmarks := bookmarksConfig()
	roster, err := defaultConfig().apply(map[string][]string{
		fieldAccessModel:  {"roster"},
		fieldRosterGroups: {"Friends", "Family"},
	})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	cases := []struct {
		name    string
		cfg     nodeConfig
		options map[string][]string
		want    string // the mismatching field, "" for a match
	}{
		{"no options", defaultConfig(), nil, ""},
		{"default access model", defaultConfig(), map[string][]string{fieldAccessModel: {"presence"}}, ""},
		{"other access model", defaultConfig(), map[string][]string{fieldAccessModel: {"open"}}, fieldAccessModel},
		{"boolean spelled true", defaultConfig(), map[string][]string{fieldPersistItems: {"true"}}, ""},
		{"boolean differs", defaultConfig(), map[string][]string{fieldPersistItems: {"false"}}, fieldPersistItems},
		{"max equals the limit", bookmarks, map[string][]string{fieldMaxItems: {"1000"}}, ""},
		{"max", bookmarks, map[string][]string{fieldMaxItems: {"max"}, fieldSendLast: {"never"}}, ""},
		{"max items differ", defaultConfig(), map[string][]string{fieldMaxItems: {"2"}}, fieldMaxItems},
		{"unknown field", defaultConfig(), map[string][]string{"pubsub#color": {"red"}}, "pubsub#color"},
		{"invalid value", defaultConfig(), map[string][]string{fieldAccessModel: {"authorize"}}, fieldAccessModel},
		{"groups in another order", roster, map[string][]string{fieldRosterGroups: {"Family", "Friends"}}, ""},
		{"groups differ", roster, map[string][]string{fieldRosterGroups: {"Family"}}, fieldRosterGroups},
		{"only supported payload delivery", defaultConfig(), map[string][]string{fieldDeliver: {"0"}}, fieldDeliver},
	}
	for _, tc := range cases {
		if got := tc.cfg.matches(tc.options); got != tc.want {
			t.Errorf("%s: matches = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestConfigApply(t *testing.T) {
	cases := []struct {
		name    string
		fields  map[string][]string
		wantErr string // the field the error names, "" for success
	}{
		{"max items number", map[string][]string{fieldMaxItems: {"20"}}, ""},
		{"max items zero", map[string][]string{fieldMaxItems: {"0"}}, fieldMaxItems},
		{"max items over the limit", map[string][]string{fieldMaxItems: {"1001"}}, fieldMaxItems},
		{"max items text", map[string][]string{fieldMaxItems: {"many"}}, fieldMaxItems},
		{"access model whitelist", map[string][]string{fieldAccessModel: {"whitelist"}}, ""},
		{"two access models", map[string][]string{fieldAccessModel: {"open", "roster"}}, fieldAccessModel},
		{"boolean with no value", map[string][]string{fieldNotifyRetract: nil}, fieldNotifyRetract},
		{"send last on_sub", map[string][]string{fieldSendLast: {"on_sub"}}, ""},
		{"unknown field", map[string][]string{"pubsub#children": {"x"}}, "pubsub#children"},
	}
	for _, tc := range cases {
		_, err := defaultConfig().apply(tc.fields)
		if got := fieldOf(err); got != tc.wantErr {
			t.Errorf("%s: apply error %v names %q, want %q", tc.name, err, got, tc.wantErr)
		}
	}
}

func TestConfigDefaultsAndStorage(t *testing.T) {
	def := defaultConfig()
	if def.accessModel() != AccessPresence || def.maxItems() != 1 || !def.persistItems() ||
		!def.sendLastOnPresence() || !def.notifyRetract() {
		t.Errorf("default config = %v", def.fields)
	}

	cfg, err := def.apply(map[string][]string{fieldMaxItems: {"max"}, fieldRosterGroups: {"b", "a", "b"}})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if cfg.maxItems() != MaxItemsLimit {
		t.Errorf("max_items max = %d, want %d", cfg.maxItems(), MaxItemsLimit)
	}
	if !slices.Equal(cfg.rosterGroups(), []string{"a", "b"}) {
		t.Errorf("roster groups = %q, want [a b]", cfg.rosterGroups())
	}
	if def.maxItems() != 1 {
		t.Errorf("apply changed the configuration it was called on")
	}

	// A stored configuration with an unknown field and a missing one
	// reads back with the field dropped and the default filled in.
	stored := cfg.stored()
	stored["pubsub#removed"] = []string{"x"}
	delete(stored, fieldAccessModel)
	back := configFromStored(stored)
	if _, ok := back.fields["pubsub#removed"]; ok {
		t.Errorf("unknown stored field kept")
	}
	if back.accessModel() != AccessPresence || back.value(fieldMaxItems) != "max" {
		t.Errorf("config read back = %v", back.fields)
	}
}
