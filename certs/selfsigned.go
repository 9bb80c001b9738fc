package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	// validity is the lifetime of a generated certificate.
	validity = 10 * 365 * 24 * time.Hour
	// renewBefore is how long before expiry a generated certificate is
	// replaced at start or reload.
	renewBefore = 30 * 24 * time.Hour
	// clockSkew backdates NotBefore so that peers whose clocks run a little
	// behind accept a certificate made just now.
	clockSkew = time.Hour
)

// loadOrCreate returns the self-signed certificate for name stored in dir,
// creating and storing a new one when there is none or it is not usable.
func loadOrCreate(dir, name string) (*tls.Certificate, error) {
	certPath, keyPath := generatedPaths(dir, name)
	cert, err := tls.LoadX509KeyPair(certPath, keyPath)
	switch {
	case err == nil && usable(cert.Leaf, name, time.Now()):
		return &cert, nil
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("certs: read generated certificate for %s: %w", name, err)
	}
	// The pair is missing, unparsable, for another name or expiring, so
	// replace it.
	certPEM, keyPEM, err := createSelfSigned(name, time.Now())
	if err != nil {
		return nil, fmt.Errorf("certs: create certificate for %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	// The key goes first: a crash between the two writes leaves no
	// certificate, so the next start creates both again.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certs: created certificate for %s: %w", name, err)
	}
	return &cert, nil
}

// generatedPaths returns the certificate and key file names for name.
func generatedPaths(dir, name string) (certPath, keyPath string) {
	base := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_' // IPv6 colons; names are already lower-case ASCII
	}, name)
	return filepath.Join(dir, base+".crt"), filepath.Join(dir, base+".key")
}

// usable reports whether leaf covers name and stays valid for longer than
// renewBefore after now.
func usable(leaf *x509.Certificate, name string, now time.Time) bool {
	if leaf == nil || leaf.VerifyHostname(name) != nil {
		return false
	}
	return now.After(leaf.NotBefore) && now.Add(renewBefore).Before(leaf.NotAfter)
}

// createSelfSigned returns PEM blocks of a new ECDSA P-256 key and of a
// self-signed certificate for name (and *.name unless name is an IP
// address) that is valid from now for the package's validity period.
func createSelfSigned(name string, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, nil, err
	}

	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(validity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	if ip := net.ParseIP(name); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{name, "*." + name}
	}

	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, so that readers see the old file or the new one, never a part.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
