package s2s

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"tern/stanza"
	"tern/stream"
)

// maxDialbackPending bounds the dialback verifications one incoming
// stream may have running, since each opens a connection to another
// server.
const maxDialbackPending = 8

// handle processes one top-level element of an incoming stream. It
// reports whether the stream restarts.
func (c *inConn) handle(el *stanza.Stanza) (restart bool, err error) {
	switch {
	case el.Space == stream.NS && el.Name == "error":
		// The peer ends the stream, and finish sends our closing tag.
		return false, fmt.Errorf("s2s: peer sent stream error %s: %w", streamErrorCondition(el), stream.ErrClosed)
	case el.Space == nsTLS && el.Name == "starttls":
		return c.startTLS()
	case el.Space == nsCompress:
		// Compression (XEP-0138) is never offered: it would weaken TLS and,
		// before TLS, bypass the TLS requirement.
		cond := "unsupported-method"
		if c.tlsPending() {
			cond = "setup-failed"
		}
		return false, c.send(stanza.NewElement(nsCompress, "failure").Add(stanza.NewElement(nsCompress, cond)))
	case c.tlsPending():
		if el.Space == nsSASL && el.Name == "auth" {
			return false, c.send(saslFailure("encryption-required", "TLS is required"))
		}
		return false, stream.NotAuthorizedNoTLS
	case el.Space == nsSASL:
		return c.sasl(el)
	case el.Space == nsDialback && el.Name == "result":
		return false, c.dialbackResult(el)
	case el.Space == nsDialback && el.Name == "verify":
		return false, c.dialbackVerify(el)
	case el.Space == stanza.NSServer:
		return false, c.stanza(el)
	case !c.anyAuthed():
		return false, stream.NotAuthorized
	}
	return false, stream.UnsupportedStanzaType
}

func (c *inConn) startTLS() (bool, error) {
	if c.secure {
		return false, stream.PolicyViolation.WithText("TLS is already established")
	}
	c.mu.Lock()
	started := len(c.authed) > 0 || len(c.pending) > 0
	c.mu.Unlock()
	if started {
		return false, stream.PolicyViolation.WithText("STARTTLS after authentication")
	}
	if err := c.send(stanza.NewElement(nsTLS, "proceed")); err != nil {
		return false, err
	}
	if err := c.handshake(); err != nil {
		return false, err
	}
	c.br = bufio.NewReaderSize(c.nc, 4096)
	c.rd.Reset(c.br)
	return true, nil
}

// handshake runs the TLS server handshake for STARTTLS or direct TLS. It
// requests the peer's certificate, which crypto/tls leaves unverified so
// that a peer without a valid one can still use dialback.
func (c *inConn) handshake() error {
	cfg := c.srv.tls.Clone()
	cfg.ClientAuth = tls.RequestClientCert
	fallback := cfg.GetCertificate
	cfg.GetCertificate = func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == "" && c.local != "" {
			if cert := c.srv.certs.Certificate(c.local); cert != nil {
				return cert, nil
			}
		}
		return fallback(hello)
	}
	tc := tls.Server(c.nc, cfg)
	ctx, cancel := context.WithTimeout(c.srv.ctx, writeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	c.writeMu.Lock()
	c.nc = tc
	c.writeMu.Unlock()
	c.secure = true
	c.chain = tc.ConnectionState().PeerCertificates
	return nil
}

func saslFailure(cond, text string) *stanza.Element {
	f := stanza.NewElement(nsSASL, "failure").Add(stanza.NewElement(nsSASL, cond))
	if text != "" {
		f.Add(stanza.NewElement(nsSASL, "text").AddText(text))
	}
	return f
}

// sasl handles SASL EXTERNAL (RFC 6120 §6, XEP-0178): the peer's
// certificate must verify for the authorization identity, which defaults
// to the stream's 'from'.
func (c *inConn) sasl(el *stanza.Stanza) (bool, error) {
	switch {
	case el.Name == "abort":
		return false, c.send(saslFailure("aborted", ""))
	case el.Name != "auth":
		return false, stream.NotAuthorized
	case c.saslDone:
		return false, c.send(saslFailure("not-authorized", "already authenticated"))
	}
	p, err := el.Payload()
	if err != nil {
		return false, stream.BadFormat
	}

	if p.AttrValue("mechanism") != "EXTERNAL" {
		return false, c.send(saslFailure("invalid-mechanism", ""))
	}
	authzid, err := decodeSASL(p.Text())
	if err != nil {
		return false, c.send(saslFailure("incorrect-encoding", ""))
	}
	domain, cond := c.checkExternal(string(authzid))
	if cond != "" {
		return false, c.send(saslFailure(cond, ""))
	}

	if err := c.send(stanza.NewElement(nsSASL, "success")); err != nil {
		return false, err
	}
	c.saslDone = true
	c.authenticate(c.local, domain, "EXTERNAL")
	c.rd.Reset(c.br)
	return true, nil
}

// checkExternal returns the domain that SASL EXTERNAL authenticates for
// authzid, or the SASL failure condition.
func (c *inConn) checkExternal(authzid string) (domain, cond string) {
	if authzid == "" {
		authzid = c.peer
	}
	domain, ok := parseDomain(authzid)
	if !ok || (c.peer != "" && domain != c.peer) {
		return "", "invalid-authzid"
	}
	if !c.secure || c.srv.serves(domain) || !c.srv.roots.verify(c.chain, domain) {
		return "", "not-authorized"
	}
	return domain, ""
}

// decodeSASL decodes the base64 text of <auth/>; "=" is an empty
// response (RFC 6120 §6.4.2).
func decodeSASL(s string) ([]byte, error) {
	if s == "" || s == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// dialbackResult handles a dialback request (XEP-0220): the peer
// claims the domain in 'from' for stanzas to the local domain in 'to'.
// The verdict is sent later, once the authoritative server has checked
// the key, unless the claim can be decided at once.
func (c *inConn) dialbackResult(el *stanza.Stanza) error {
	if !c.srv.cfg.S2S.Dialback {
		return stream.NotAuthorized.WithText("dialback is disabled")
	}
	if el.Type != "" {
		return nil // a verdict belongs on streams this server opened
	}
	remote, okFrom := parseDomain(el.RawFrom)
	local, okTo := parseDomain(el.RawTo)
	key := elementText(el)

	switch {
	case !okFrom || !okTo || key == "":
		return c.send(dbErrorElement("result", el.RawTo, el.RawFrom, "", stanza.BadRequest))
	case !c.srv.serves(local):
		return c.send(dbErrorElement("result", el.RawTo, el.RawFrom, "", stanza.ItemNotFound))
	case c.srv.serves(remote):
		return c.send(dbElement("result", local, remote, "", dbInvalid, ""))
	case c.isAuthed(remote):
		return c.send(dbElement("result", local, remote, "", dbValid, ""))
	case c.secure && c.srv.roots.verify(c.chain, remote):
		// The certificate proves the domain already (XEP-0344).
		c.authenticate(local, remote, "dialback with certificate")
		return c.send(dbElement("result", local, remote, "", dbValid, ""))
	}

	c.mu.Lock()
	busy := c.pending[remote]
	full := !busy && len(c.pending) >= maxDialbackPending
	if !busy && !full {
		c.pending[remote] = true
	}
	c.mu.Unlock()
	switch {
	case full:
		return c.send(dbErrorElement("result", local, remote, "", stanza.ResourceConstraint))
	case !busy:
		c.verifyInBackground(local, remote, c.id, key)
	}
	return nil
}

// verifyInBackground checks key with the authoritative server of remote
// and sends the verdict on this stream.
func (c *inConn) verifyInBackground(local, remote, streamID, key string) {
	c.srv.wg.Add(1) // the connection's own count keeps wg above zero here
	go func() {
		defer c.srv.wg.Done()
		ctx, cancel := context.WithTimeout(c.srv.ctx, negotiateTimeout)
		defer cancel()
		start := time.Now()
		valid, err := c.srv.verifyDialbackKey(ctx, local, remote, streamID, key)
		c.mu.Lock()
		delete(c.pending, remote)
		c.mu.Unlock()
		if err != nil {
			c.log.Info("dialback verification failed", "local", local, "remote", remote, "err", err)
			se := stanza.RemoteServerTimeout
			var ce *connectError
			if errors.As(err, &ce) {
				se = stanza.RemoteServerNotFound
			}
			c.send(dbErrorElement("result", local, remote, "", se))
			return
		}
		typ := dbInvalid
		if valid {
			typ = dbValid
			c.authenticate(local, remote, "dialback")
		} else {
			c.log.Info("dialback key invalid", "local", local, "remote", remote)
		}
		c.log.Debug("dialback verified", "remote", remote, "valid", valid, "took", time.Since(start))
		c.send(dbElement("result", local, remote, "", typ, ""))
	}()
}

// dialbackVerify answers the receiving server's question whether a key is
// one this server issued (XEP-0220). The request may come on a stream
// that is not authenticated.
func (c *inConn) dialbackVerify(el *stanza.Stanza) error {
	receiving, okFrom := parseDomain(el.RawFrom)
	originating, okTo := parseDomain(el.RawTo)
	key := elementText(el)
	switch {
	case !okFrom || !okTo || el.ID == "" || key == "":
		return c.send(dbErrorElement("verify", el.RawTo, el.RawFrom, el.ID, stanza.BadRequest))
	case !c.srv.serves(originating):
		return c.send(dbErrorElement("verify", el.RawTo, el.RawFrom, el.ID, stanza.ItemNotFound))
	}
	typ := dbInvalid
	if c.srv.checkDialbackKey(receiving, originating, el.ID, key) {
		typ = dbValid
	}
	return c.send(dbElement("verify", originating, receiving, el.ID, typ, ""))
}
