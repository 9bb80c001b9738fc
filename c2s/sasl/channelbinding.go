package sasl

import (
	"crypto"
	_ "crypto/sha256" // registers SHA-256 for crypto.Hash.New
	_ "crypto/sha512" // registers SHA-384 and SHA-512 for crypto.Hash.New
	"crypto/tls"
	"crypto/x509"
	"errors"
)

// Channel binding type names, as registered in the IANA channel-binding
// types registry (RFC 5056).
const (
	TLSExporter       = "tls-exporter"
	TLSServerEndPoint = "tls-server-end-point"
	TLSUnique         = "tls-unique" // recognized only to reject it
)

// exporterLabel and exporterLength are the TLS keying material export
// parameters of tls-exporter (RFC 9266). The context is absent.
const (
	exporterLabel  = "EXPORTER-Channel-Binding"
	exporterLength = 32
)

// ChannelBindingTypes returns the channel binding types available on cfg's
// connection, for the XEP-0440 <sasl-channel-binding/> feature and the -PLUS
// mechanisms:
//
//   - tls-exporter when the TLS stack can export keying material, which
//     crypto/tls allows for TLS 1.3 and for TLS 1.2 with the extended master
//     secret (RFC 7627), as RFC 9266 requires. NOTE: running with
//     GODEBUG=tlsunsafeekm=1 makes crypto/tls export without the extended
//     master secret too, and this function cannot detect that.
//   - tls-server-end-point when cfg.ServerCertificate is set and its
//     signature algorithm names a single hash function (RFC 5929 §4.1).
//
// It returns nil when cfg.TLS is nil or the handshake is not complete.
// tls-unique is never offered.
func ChannelBindingTypes(cfg Config) []string {
	if cfg.TLS == nil || !cfg.TLS.HandshakeComplete {
		return nil
	}
	var types []string
	if _, err := exporterData(cfg.TLS); err == nil {
		types = append(types, TLSExporter)
	}
	if _, ok := endPointHash(cfg.ServerCertificate); ok {
		types = append(types, TLSServerEndPoint)
	}
	return types
}

// bindingData returns the channel binding data of the given type, or
// ok=false if the type is not available for cfg.
func bindingData(cfg Config, cbType string) (data []byte, ok bool) {
	switch cbType {
	case TLSExporter:
		if cfg.TLS == nil || !cfg.TLS.HandshakeComplete {
			return nil, false
		}
		data, err := exporterData(cfg.TLS)
		return data, err == nil
	case TLSServerEndPoint:
		if cfg.TLS == nil || !cfg.TLS.HandshakeComplete {
			return nil, false
		}
		h, ok := endPointHash(cfg.ServerCertificate)
		if !ok {
			return nil, false
		}
		d := h.New()
		d.Write(cfg.ServerCertificate.Raw)
		return d.Sum(nil), true
	}
	return nil, false
}

// exporterData returns the tls-exporter binding data. A ConnectionState
// built by hand instead of returned by crypto/tls has no exporter and makes
// ExportKeyingMaterial panic; that counts as unavailable.
func exporterData(cs *tls.ConnectionState) (data []byte, err error) {
	if cs.Version != tls.VersionTLS13 && cs.Version != tls.VersionTLS12 {
		return nil, errExporterUnavailable
	}
	defer func() {
		if recover() != nil {
			data, err = nil, errExporterUnavailable
		}
	}()
	return cs.ExportKeyingMaterial(exporterLabel, nil, exporterLength)
}

var errExporterUnavailable = errors.New("sasl: tls-exporter is unavailable on this connection")

// endPointHash returns the hash function of tls-server-end-point for cert
// (RFC 5929 §4.1): the hash of its signature algorithm, with MD5 and SHA-1
// replaced by SHA-256. Algorithms with no single hash function, such as
// Ed25519, leave the binding undefined and return ok=false.
func endPointHash(cert *x509.Certificate) (h crypto.Hash, ok bool) {
	if cert == nil || len(cert.Raw) == 0 {
		return 0, false
	}
	switch cert.SignatureAlgorithm {
	case x509.MD5WithRSA, x509.SHA1WithRSA, x509.DSAWithSHA1, x509.ECDSAWithSHA1,
		x509.SHA256WithRSA, x509.DSAWithSHA256, x509.ECDSAWithSHA256, x509.SHA256WithRSAPSS:
		return crypto.SHA256, true
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		return crypto.SHA384, true
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		return crypto.SHA512, true
	}
	return 0, false
}
