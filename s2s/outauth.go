package s2s

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"

	"tern/stanza"
)

// errDialbackInvalid is returned when the receiving server reports the
// dialback key invalid.
var errDialbackInvalid = errors.New("s2s: dialback key rejected")

// authenticate proves the local domain to the peer: with SASL EXTERNAL
// when the peer offers it and the local certificate would verify, and
// otherwise, or when EXTERNAL fails, with dialback (XEP-0220). It returns
// the method that succeeded.
func (l *link) authenticate() (string, error) {
	if l.secure && offersMechanism(l.features, "EXTERNAL") && l.srv.ownCertVerifies(l.local) {
		ok, err := l.external()
		if err != nil {
			return "", err
		}
		if ok {
			return "EXTERNAL", nil
		}
	}
	if !l.srv.cfg.S2S.Dialback {
		return "", fmt.Errorf("s2s: cannot authenticate to %s: EXTERNAL is unavailable and dialback is disabled", l.remote)
	}
	if l.features.Child(nsDialbackFeature, "dialback") == nil && !l.header.Dialback {
		return "", fmt.Errorf("s2s: %s offers neither EXTERNAL nor dialback", l.remote)
	}
	return "dialback", l.dialback()
}

func offersMechanism(features *stanza.Element, name string) bool {
	mechs := features.Child(nsSASL, "mechanisms")
	if mechs == nil {
		return false
	}
	for _, m := range mechs.ChildrenNamed(nsSASL, "mechanism") {
		if m.Text() == name {
			return true
		}
	}
	return false
}

// external runs SASL EXTERNAL with the local domain as authorization
// identity (XEP-0178) and restarts the stream after success. It
// reports false when the peer sends a SASL failure.
func (l *link) external() (bool, error) {
	auth := stanza.NewElement(nsSASL, "auth", "mechanism", "EXTERNAL").
		AddText(base64.StdEncoding.EncodeToString([]byte(l.local)))
	if err := l.send(auth); err != nil {
		return false, err
	}
	el, err := l.next()
	if err != nil {
		return false, err
	}
	switch {
	case el.Space == nsSASL && el.Name == "success":
		l.rd.SetLimits(l.srv.limits(true))
		l.rd.Reset(l.br)
		return true, l.open()
	case el.Space == nsSASL && el.Name == "failure":
		l.log.Debug("SASL EXTERNAL failed; trying dialback")
		return false, nil
	}
	return false, fmt.Errorf("s2s: %s sent <%s/> in reply to SASL EXTERNAL", l.remote, el.Name)
}

// dialback sends the dialback key for the peer's stream id and waits for
// the receiving server's verdict.
func (l *link) dialback() error {
	key := l.srv.dialbackKey(l.remote, l.local, l.header.ID)
	if err := l.send(dbElement("result", l.local, l.remote, "", "", key)); err != nil {
		return err
	}
	for {
		el, err := l.next()
		if err != nil {
			return err
		}
		if el.Space != nsDialback || el.Name != "result" {
			continue
		}
		switch el.Type {
		case dbValid:
			l.rd.SetLimits(l.srv.limits(true))
			return nil
		case dbInvalid:
			return errDialbackInvalid
		default:
			return fmt.Errorf("s2s: dialback with %s failed: %s", l.remote, dbErrorCondition(el))
		}
	}
}

// verifyDialbackKey sends key to the authoritative server of remote, over
// a connection of its own, and returns whether that server issued it for
// the stream with the given id that remote opened to local (XEP-0220).
func (s *Server) verifyDialbackKey(ctx context.Context, local, remote, streamID, key string) (bool, error) {
	l, err := s.connect(ctx, local, remote)
	if err != nil {
		return false, err
	}
	defer l.close()
	if err := l.send(dbElement("verify", local, remote, streamID, "", key)); err != nil {
		return false, err
	}
	for {
		el, err := l.next()
		if err != nil {
			return false, err
		}
		if el.Space != nsDialback || el.Name != "verify" || el.ID != streamID {
			continue
		}
		switch el.Type {
		case dbValid:
			return true, nil
		case dbInvalid:
			return false, nil
		}
		return false, fmt.Errorf("s2s: %s could not verify the dialback key: %s", remote, dbErrorCondition(el))
	}
}
