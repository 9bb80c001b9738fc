package c2s

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"time"

	"mellium.im/xmpp/jid"

	"tern/c2s/sasl"
	"tern/router"
	"tern/stanza"
	"tern/storage"
	"tern/stream"
)

// tlsPending reports whether the stream must still negotiate TLS.
func (c *conn) tlsPending() bool { return !c.secure && c.srv.cfg.TLS.Required }

// features returns the <stream:features/> element for the current state.
// appendFeatures appends c's stream features. The features after
// authentication are the same for every stream once the modules are
// registered, so they are serialized once.
func (c *conn) appendFeatures(b []byte) []byte {
	if c.tlsPending() || !c.authed {
		return c.features().AppendXML(b, "")
	}
	bound := &c.srv.boundFeatures
	bound.once.Do(func() { bound.xml = c.features().AppendXML(nil, "") })
	return append(b, bound.xml...)
}

func (c *conn) features() *stanza.Element {
	f := stanza.NewElement(stream.NS, "features")
	f.Name.Space = "" // written with the stream: prefix below
	f.Name.Local = "stream:features"
	switch {
	case c.tlsPending():
		// RFC 6120 §5.3.1: with TLS required, offer nothing else, so no
		// client authenticates or compresses in the clear.
		f.Add(stanza.NewElement(nsTLS, "starttls").Add(stanza.NewElement(nsTLS, "required")))
	case !c.authed:
		if !c.secure && !c.ws {
			f.Add(stanza.NewElement(nsTLS, "starttls"))
		}
		mechs := stanza.NewElement(nsSASL, "mechanisms")
		cfg := c.saslConfig()
		for _, m := range sasl.Mechanisms(cfg) {
			mechs.Add(stanza.NewElement(nsSASL, "mechanism").AddText(m))
		}
		f.Add(mechs)
		if types := sasl.ChannelBindingTypes(cfg); len(types) > 0 {
			cb := stanza.NewElement(sasl.NSChannelBinding, "sasl-channel-binding")
			for _, t := range types {
				cb.Add(stanza.NewElement(sasl.NSChannelBinding, "channel-binding", "type", t))
			}
			f.Add(cb)
		}
		for _, e := range c.srv.router.StreamFeatures(true) {
			f.Add(e)
		}
	default:
		f.Add(stanza.NewElement(nsBind, "bind"))
		f.Add(stanza.NewElement(nsSession, "session").Add(stanza.NewElement(nsSession, "optional")))
		f.Add(stanza.NewElement(nsSM, "sm"))
		f.Add(stanza.NewElement(nsCSI, "csi"))
		for _, e := range c.srv.router.StreamFeatures(false) {
			f.Add(e)
		}
	}
	return f
}

// negotiate handles one element before bind. It reports whether the
// stream restarts.
func (c *conn) negotiate(el *stanza.Stanza) (restart bool, err error) {
	switch {
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
	case el.Space == nsSASL && !c.authed:
		return c.authenticate(el)
	case el.Space == stanza.NSClient && el.Name == stanza.IQ && !c.authed:
		return false, c.preAuthIQ(el)
	case el.Space == stanza.NSClient && el.Name == stanza.IQ:
		return false, c.bindIQ(el)
	}
	if el.Space == nsSM && c.authed {
		return false, c.smPreBind(el)
	}
	if h := c.srv.preBind[el.Space]; h != nil && c.authed {
		return false, h(context.Background(), c, el)
	}
	return false, stream.NotAuthorized
}

func (c *conn) startTLS() (bool, error) {
	if c.secure {
		return false, stream.PolicyViolation.WithText("TLS is already established")
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

func (c *conn) saslConfig() sasl.Config {
	return sasl.Config{
		TLS:               c.tlsState,
		Lookup:            c.lookupKeys,
		AllowPlain:        c.secure && c.srv.cfg.Auth.AllowPlain,
		ServerCertificate: c.cert,
		Domain:            c.domain,
		FakeIterations:    c.srv.cfg.Auth.SCRAMIterations,
		Hashes:            c.srv.cfg.Auth.SCRAMHashes,
	}
}

func (c *conn) lookupKeys(ctx context.Context, username string) ([]storage.ScramKey, error) {
	j, err := jid.New(username, c.domain, "")
	if err != nil {
		return nil, storage.ErrNotFound
	}
	a, err := c.srv.accounts.GetAccount(ctx, storage.Owner{Domain: c.domain, Local: j.Localpart()})
	if err != nil {
		return nil, err
	}
	return a.Keys, nil
}

func saslFailure(cond, text string) *stanza.Element {
	f := stanza.NewElement(nsSASL, "failure").Add(stanza.NewElement(nsSASL, cond))
	if text != "" {
		f.Add(stanza.NewElement(nsSASL, "text").AddText(text))
	}
	return f
}

// authenticate runs a SASL exchange that starts with el (RFC 6120 §6.4).
func (c *conn) authenticate(el *stanza.Stanza) (bool, error) {
	if el.Name == "abort" {
		return false, c.send(saslFailure("aborted", ""))
	}
	if el.Name != "auth" {
		return false, stream.NotAuthorized
	}
	text, err := saslText(el)
	if err != nil {
		return false, err
	}
	if c.srv.throttle.blockedIP(c.ip) {
		return false, c.send(saslFailure("temporary-auth-failure", "too many failed attempts; try again later"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ex, err := sasl.Start(ctx, stream.AttrOf(el, "mechanism"), c.saslConfig())
	if err != nil {
		return false, c.failAuth(err, "", false)
	}
	in, err := decodeSASL(text)
	for step := 0; ; step++ {
		if err != nil {
			return false, c.send(saslFailure("incorrect-encoding", ""))
		}
		out, done, stepErr := ex.Step(in)
		if stepErr != nil {
			// Only a checked password or proof counts as a failed login:
			// PLAIN checks at once, SCRAM at its second message. Earlier
			// refusals (an unsupported channel binding, a malformed first
			// message) say nothing about the password.
			checked := ex.Mechanism() == sasl.Plain || step > 0
			return false, c.failAuth(stepErr, ex.AttemptedUsername(), checked)
		}
		if done {
			return c.authSucceeded(ex, out)
		}
		ch := stanza.NewElement(nsSASL, "challenge").AddText(base64.StdEncoding.EncodeToString(out))
		if err := c.send(ch); err != nil {
			return false, err
		}
		next, rerr := c.rd.Next()
		if rerr != nil {
			return false, rerr
		}
		if next.Space != nsSASL || (next.Name != "response" && next.Name != "abort") {
			return false, stream.NotAuthorized
		}
		if next.Name == "abort" {
			return false, c.send(saslFailure("aborted", ""))
		}
		if text, err = saslText(next); err != nil {
			return false, err
		}
		in, err = decodeSASL(text)
	}
}

// saslText returns the character data of <auth/> or <response/>. Their
// content is text only unless the client sent markup, which only the
// payload parser reads.
func saslText(el *stanza.Stanza) (string, error) {
	if text, ok := stream.TextOf(el); ok {
		return text, nil
	}
	p, err := el.Payload()
	if err != nil {
		return "", stream.BadFormat
	}
	return p.Text(), nil
}

// decodeSASL decodes the base64 text of <auth/> or <response/>; "=" is an
// empty response (RFC 6120 §6.4.2).
func decodeSASL(s string) ([]byte, error) {
	if s == "" || s == "=" {
		return nil, nil
	}
	return base64.StdEncoding.DecodeString(s)
}

// failAuth reports a SASL failure to the client. A failure after the
// credentials were checked counts towards the throttles and the limit of
// failures per stream, is logged for tools such as fail2ban, and is sent
// only after the account's delay.
func (c *conn) failAuth(err error, username string, checked bool) error {
	var f *sasl.Failure
	if !errors.As(err, &f) {
		f = &sasl.Failure{Condition: "temporary-auth-failure"}
	}
	if f.Condition == "not-authorized" && checked {
		account := ""
		if j, err := jid.New(username, c.domain, ""); err == nil && username != "" {
			account = j.String()
		}
		// The delay comes from the count before this failure, as on the
		// success path, so its length does not reveal the outcome.
		delay := c.srv.throttle.accountDelay(c.ip, account)
		c.log.Info("authentication failed", "account", account, "ip", c.ip, "delay", delay)
		ipLimit, accountLimit := c.srv.throttle.fail(c.ip, account)
		if ipLimit {
			c.log.Warn("address reached auth.max_failures_per_ip, so its logins are rejected until the window ends", "ip", c.ip, "window", c.srv.cfg.Auth.FailureWindow)
		}
		if accountLimit {
			c.log.Warn("account reached auth.max_failures_per_account, so logins from addresses without a recent login are delayed", "account", account, "window", c.srv.cfg.Auth.FailureWindow)
		}
		c.saslFails++
		time.Sleep(delay)
	} else {
		c.log.Debug("authentication refused", "condition", f.Condition, "text", f.Text)
	}
	if err := c.send(saslFailure(f.Condition, f.Text)); err != nil {
		return err
	}
	if c.saslFails >= 5 {
		return stream.PolicyViolation.WithText("too many failed authentication attempts")
	}
	return nil
}

func (c *conn) authSucceeded(ex *sasl.Exchange, out []byte) (bool, error) {
	j, err := jid.New(ex.Username(), c.domain, "")
	if err != nil {
		return false, c.send(saslFailure("not-authorized", ""))
	}
	account := j.String()
	delay := c.srv.throttle.accountDelay(c.ip, account)
	time.Sleep(delay)
	if !c.sharedAddress() {
		c.srv.throttle.succeeded(c.ip, account)
	}
	success := stanza.NewElement(nsSASL, "success")
	if len(out) > 0 {
		success.AddText(base64.StdEncoding.EncodeToString(out))
	}
	if err := c.send(success); err != nil {
		return false, err
	}
	c.authed = true
	c.user = j.Localpart()
	c.log = c.log.With("jid", account)
	// The conn attribute that c.log adds is also the ID of the session
	// that a bind creates.
	c.log.Info("authentication succeeded", "ip", c.ip, "mechanism", ex.Mechanism(), "delay", delay)
	c.rd.Restart()
	return true, nil
}

// sharedAddress reports whether the connection's address may be shared by
// many clients. A WebSocket connection from a loopback address comes
// through a reverse proxy on the same host, so its address is the proxy's,
// and a login over it must not exempt other clients of the proxy from an
// account's delay.
func (c *conn) sharedAddress() bool { return c.ws && isLoopback(c.raw.RemoteAddr()) }

// preAuthIQ passes an unauthenticated iq to the module registered for its
// namespace, such as in-band registration.
func (c *conn) preAuthIQ(el *stanza.Stanza) error {
	if el.RawFrom != "" || el.RawTo != "" && el.RawTo != c.domain {
		return c.write(c.stanzaBytes(stanza.ErrorReply(el, stanza.ServiceUnavailable, jid.JID{})))
	}
	children := el.Children()
	var h router.PreAuthIQHandler
	if len(children) == 1 {
		h = c.srv.router.PreAuthIQ(children[0].Name.Space)
	}
	if h == nil || (el.Type != "get" && el.Type != "set") {
		return c.write(c.stanzaBytes(stanza.ErrorReply(el, stanza.ServiceUnavailable, jid.JID{})))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info := router.ConnInfo{RemoteIP: c.ip, Domain: c.domain, Secure: c.secure}
	resp, err := h(ctx, info, el, children[0])
	if err != nil {
		se := stanza.InternalServerError
		errors.As(err, &se)
		resp = stanza.ErrorReply(el, se, jid.JID{})
	}
	if resp == nil {
		return nil
	}
	return c.write(c.stanzaBytes(resp))
}
