package config

import (
	"net/url"
	"strings"
	"time"
)

// UploadDomainPlaceholder is replaced by each server domain in
// upload.service.
const UploadDomainPlaceholder = "{domain}"

// Upload is the [upload] table: HTTP File Upload (XEP-0363).
type Upload struct {
	// Enabled runs an upload service for each server domain. The service
	// needs the http.listen listener; without one it is not started.
	Enabled bool `toml:"enabled"`
	// Service is the domain of the upload service of each server domain,
	// in which UploadDomainPlaceholder stands for the server domain.
	Service string `toml:"service"`
	// MaxFileSize is the largest file a client may upload.
	MaxFileSize ByteSize `toml:"max_file_size"`
	// Directory holds the uploaded files, relative to server.data_dir
	// unless absolute.
	Directory string `toml:"directory"`
	// Expiry is how long an uploaded file is kept; zero keeps files
	// forever.
	Expiry time.Duration `toml:"expiry"`
	// QuotaPerUser is the total size of the files one account may keep;
	// zero means no quota.
	QuotaPerUser ByteSize `toml:"quota_per_user"`
	// PublicURL is the base of the GET and PUT URLs handed to clients,
	// such as "https://upload.example.com". Empty derives it from
	// http.listen, which is right only when clients reach the listener
	// directly.
	PublicURL string `toml:"public_url"`
}

// defaultUpload returns the defaults of the [upload] table.
func defaultUpload() Upload {
	return Upload{
		Enabled:     true,
		Service:     "upload." + UploadDomainPlaceholder,
		MaxFileSize: 100 * MiB,
		Directory:   "uploads",
		Expiry:      30 * 24 * time.Hour,
	}
}

// ServiceDomain returns the upload service domain for a server domain,
// in normalized form, or "" when the result is not a valid domain.
func (u Upload) ServiceDomain(serverDomain string) string {
	return serviceDomain(u.Service, UploadDomainPlaceholder, serverDomain)
}

func (v *validator) upload(c *Config) {
	u := &c.Upload
	if u.MaxFileSize < 1 {
		v.add("upload.max_file_size", "%d must be at least 1 byte", u.MaxFileSize)
	}
	if u.QuotaPerUser < 0 {
		v.add("upload.quota_per_user", "%d must not be negative (use 0 for no quota)", u.QuotaPerUser)
	}
	if u.Directory == "" {
		v.add("upload.directory", `must not be empty (use a directory such as "uploads")`)
	}
	if u.Expiry < 0 {
		v.add("upload.expiry", "%q must not be negative (use \"0s\" to keep files forever)", u.Expiry.String())
	}
	if u.PublicURL != "" {
		v.uploadPublicURL(u.PublicURL)
	}
	v.uploadService(c)
}

// uploadPublicURL checks that upload.public_url is an absolute http or
// https URL without query or fragment.
func (v *validator) uploadPublicURL(raw string) {
	const key = "upload.public_url"
	u, err := url.Parse(raw)
	if err != nil {
		v.add(key, "%q is not a valid URL: %v", raw, err)
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		v.add(key, "%q must start with https:// or http://", raw)
		return
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		v.add(key, "%q must be a scheme, a host and an optional path, such as \"https://upload.example.com\"", raw)
	}
}

// uploadService checks that upload.service gives each server domain a
// distinct valid domain that nothing else serves.
func (v *validator) uploadService(c *Config) {
	const key = "upload.service"
	u := &c.Upload
	if !u.Enabled || !c.Modules.Enabled("upload") {
		return
	}
	if u.Service == "" {
		v.add(key, `must not be empty (use a domain such as "upload.{domain}", or set upload.enabled = false)`)
		return
	}
	if !strings.Contains(u.Service, UploadDomainPlaceholder) && len(c.Server.Domains) > 1 {
		v.add(key, "%q has no %s, so all %d server domains would share one service",
			u.Service, UploadDomainPlaceholder, len(c.Server.Domains))
		return
	}
	usedBy := takenDomains(c)
	if c.Modules.Enabled("muc") {
		for _, d := range c.Server.Domains {
			if m := c.MUC.ServiceDomain(d); m != "" {
				usedBy[m] = "a muc.service domain"
			}
		}
	}
	checked := map[string]bool{}
	for _, d := range c.Server.Domains {
		if norm, err := normalizeDomain(d); err != nil || norm != d || checked[d] {
			continue // the server.domains checks report these
		}
		checked[d] = true
		raw := strings.ReplaceAll(u.Service, UploadDomainPlaceholder, d)
		norm, err := normalizeDomain(raw)
		if err != nil {
			v.add(key, "%q gives %q for server domain %q, which %v", u.Service, raw, d, err)
			return
		}
		if user, dup := usedBy[norm]; dup {
			v.add(key, "%q gives %q for server domain %q, which is already %s", u.Service, norm, d, user)
			return
		}
		usedBy[norm] = "the upload service of " + d
	}
}
