package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateMUC(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		msg    string // "" when the change is valid
		key    string
	}{
		{"default", func(c *Config) {}, "", ""},
		{"create", func(c *Config) { c.MUC.Create = "members" }, `"members" is not one of "everyone", "local", "admins"`, "muc.create"},
		{"create admins", func(c *Config) { c.MUC.Create = "admins" }, "", ""},
		{"negative occupants", func(c *Config) { c.MUC.MaxOccupants = -1 }, "-1 is less than 0", "muc.max_occupants"},
		{"negative rooms", func(c *Config) { c.MUC.MaxRoomsPerUser = -1 }, "-1 is less than 0", "muc.max_rooms_per_user"},
		{"negative rate", func(c *Config) { c.MUC.MaxMessagesPerSecond = -2 }, "-2 is less than 0", "muc.max_messages_per_second"},
		{"negative history", func(c *Config) { c.MUC.HistoryLength = -1 }, "-1 is less than 0", "muc.history_length"},
		{"limits off", func(c *Config) {
			c.MUC.MaxOccupants, c.MUC.MaxRoomsPerUser, c.MUC.MaxMessagesPerSecond, c.MUC.HistoryLength = 0, 0, 0, 0
		}, "", ""},
		{"empty service", func(c *Config) { c.MUC.Service = "" }, "must not be empty", "muc.service"},
		{"fixed service, one domain", func(c *Config) { c.MUC.Service = "chat.example.com" }, "", ""},
		{"fixed service, two domains", func(c *Config) {
			c.Server.Domains = []string{"a.example", "b.example"}
			c.MUC.Service = "chat.example.com"
		}, "would share one service", "muc.service"},
		{"invalid service", func(c *Config) { c.MUC.Service = "chat..{domain}" }, "empty label", "muc.service"},
		{"service is a server domain", func(c *Config) {
			c.Server.Domains = []string{"example.com", "chat.example.com"}
			c.MUC.Service = "chat.{domain}"
		}, `gives "chat.example.com" for server domain "example.com", which is already a server domain`, "muc.service"},
		{"service is the server domain", func(c *Config) { c.MUC.Service = "{domain}" }, "is already a server domain", "muc.service"},
		{"service is a component", func(c *Config) {
			c.Component.Services = []ComponentService{{Domain: "conference.localhost", Secret: "s"}}
		}, "is already a component.service domain", "muc.service"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.change(c)
			err := c.Validate()
			if tc.key == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Validate() = %v, want Errors", err)
			}
			e := findError(errs, tc.key)
			if e == nil {
				t.Fatalf("no error for %s in:\n%v", tc.key, errs)
			}
			if !strings.Contains(e.Message, tc.msg) {
				t.Errorf("message %q does not contain %q", e.Message, tc.msg)
			}
		})
	}
}

func TestMUCServiceDomain(t *testing.T) {
	cases := []struct{ service, domain, want string }{
		{"conference.{domain}", "example.com", "conference.example.com"},
		{"Chat.{domain}.", "Example.COM", "chat.example.com"},
		{"muc.example.net", "example.com", "muc.example.net"},
		{"a..{domain}", "example.com", ""},
	}
	for _, tc := range cases {
		if got := (MUC{Service: tc.service}).ServiceDomain(tc.domain); got != tc.want {
			t.Errorf("ServiceDomain(%q, %q) = %q, want %q", tc.service, tc.domain, got, tc.want)
		}
	}
}
