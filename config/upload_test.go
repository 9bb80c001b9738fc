package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateUpload(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		msg    string // "" when the change is valid
		key    string
	}{
		{"default", func(c *Config) {}, "", ""},
		{"zero max size", func(c *Config) { c.Upload.MaxFileSize = 0 }, "must be at least 1 byte", "upload.max_file_size"},
		{"negative quota", func(c *Config) { c.Upload.QuotaPerUser = -1 }, "must not be negative", "upload.quota_per_user"},
		{"quota", func(c *Config) { c.Upload.QuotaPerUser = GiB }, "", ""},
		{"empty directory", func(c *Config) { c.Upload.Directory = "" }, "must not be empty", "upload.directory"},
		{"negative expiry", func(c *Config) { c.Upload.Expiry = -1 }, "must not be negative", "upload.expiry"},
		{"no expiry", func(c *Config) { c.Upload.Expiry = 0 }, "", ""},
		{"https url", func(c *Config) { c.Upload.PublicURL = "https://upload.example.com/files/" }, "", ""},
		{"ftp url", func(c *Config) { c.Upload.PublicURL = "ftp://upload.example.com" }, "must start with https://", "upload.public_url"},
		{"relative url", func(c *Config) { c.Upload.PublicURL = "/files" }, "must start with https://", "upload.public_url"},
		{"url with query", func(c *Config) { c.Upload.PublicURL = "https://example.com/?a=b" }, "must be a scheme, a host", "upload.public_url"},
		{"url without host", func(c *Config) { c.Upload.PublicURL = "https:///x" }, "must be a scheme, a host", "upload.public_url"},
		{"empty service", func(c *Config) { c.Upload.Service = "" }, "must not be empty", "upload.service"},
		{"empty service, disabled", func(c *Config) {
			c.Upload.Service = ""
			c.Upload.Enabled = false
		}, "", ""},
		{"fixed service, two domains", func(c *Config) {
			c.Server.Domains = []string{"a.example", "b.example"}
			c.Upload.Service = "upload.example.com"
		}, "would share one service", "upload.service"},
		{"invalid service", func(c *Config) { c.Upload.Service = "up..{domain}" }, "empty label", "upload.service"},
		{"service is the server domain", func(c *Config) { c.Upload.Service = "{domain}" }, "is already a server domain", "upload.service"},
		{"service is the chat service", func(c *Config) { c.Upload.Service = "conference.{domain}" }, "is already a muc.service domain", "upload.service"},
		{"service is a component", func(c *Config) {
			c.Component.Services = []ComponentService{{Domain: "upload.localhost", Secret: "s"}}
		}, "is already a component.service domain", "upload.service"},
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

func TestUploadServiceDomain(t *testing.T) {
	u := Upload{Service: "upload.{domain}"}
	if got := u.ServiceDomain("Example.COM"); got != "upload.example.com" {
		t.Errorf("ServiceDomain(Example.COM) = %q, want upload.example.com", got)
	}
	u.Service = "up..{domain}"
	if got := u.ServiceDomain("example.com"); got != "" {
		t.Errorf("ServiceDomain with an empty label = %q, want \"\"", got)
	}
}
