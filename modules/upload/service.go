package upload

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
	nsDataForm   = "jabber:x:data"
	nsPing       = "urn:xmpp:ping"
)

// defaultContentType is the type of a file whose slot request names none.
const defaultContentType = "application/octet-stream"

// maxContentTypeLength bounds the content-type attribute of a request.
const maxContentTypeLength = 255

// service is the upload service of one server domain. It implements
// router.Component.
type service struct {
	mod          *module
	domain       string
	serverDomain string
}

// Send implements router.Component: it responds to disco, ping and slot
// requests to the service domain, and returns an error for anything else.
func (svc *service) Send(ctx context.Context, s *stanza.Stanza) error {
	if s.Name == stanza.Presence || s.Type == "error" || s.Type == "result" {
		return nil
	}
	if s.Name != stanza.IQ || s.To.Localpart() != "" || s.To.Resourcepart() != "" {
		return stanza.ServiceUnavailable
	}
	children := s.Children()
	if len(children) != 1 {
		return stanza.BadRequest.WithText("an iq request has exactly one child element")
	}
	q := children[0]
	if s.Type != "get" {
		return stanza.ServiceUnavailable
	}
	var resp *stanza.Stanza
	switch q.Name.Space {
	case nsDiscoInfo:
		if q.AttrValue("node") != "" {
			return stanza.ItemNotFound
		}
		resp = stanza.Result(s, svc.discoInfo())
	case nsDiscoItems:
		if q.AttrValue("node") != "" {
			return stanza.ItemNotFound
		}
		resp = stanza.Result(s, stanza.NewElement(nsDiscoItems, "query"))
	case nsPing:
		resp = stanza.Result(s)
	case NS:
		if q.Name.Local != "request" {
			return stanza.BadRequest.WithText("expected a <request/> element")
		}
		slot, err := svc.requestSlot(ctx, s.From, q)
		if err != nil {
			return err
		}
		resp = stanza.Result(s, slot)
	default:
		return stanza.ServiceUnavailable
	}
	svc.mod.host.Route(ctx, resp)
	return nil
}

// discoInfo returns the service's identity, features and the XEP-0128
// form with max-file-size (XEP-0363 §3).
func (svc *service) discoInfo() *stanza.Element {
	info := stanza.NewElement(nsDiscoInfo, "query").
		Add(stanza.NewElement(nsDiscoInfo, "identity", "category", "store", "type", "file", "name", serviceItemName))
	for _, f := range []string{nsDiscoInfo, nsDiscoItems, nsPing, NS} {
		info.Add(stanza.NewElement(nsDiscoInfo, "feature", "var", f))
	}
	form := stanza.NewElement(nsDataForm, "x", "type", "result").
		Add(stanza.NewElement(nsDataForm, "field", "var", "FORM_TYPE", "type", "hidden").
			Add(stanza.NewElement(nsDataForm, "value").AddText(NS))).
		Add(stanza.NewElement(nsDataForm, "field", "var", "max-file-size").
			Add(stanza.NewElement(nsDataForm, "value").AddText(strconv.FormatInt(int64(svc.mod.cfg.MaxFileSize), 10))))
	return info.Add(form)
}

// requestSlot checks a slot request (XEP-0363 §4) and returns the <slot/>
// element, or the stanza error of XEP-0363 §5.
func (svc *service) requestSlot(ctx context.Context, from jid.JID, req *stanza.Element) (*stanza.Element, error) {
	m := svc.mod
	if from.Localpart() == "" || from.Domainpart() != svc.serverDomain || !m.host.AccountExists(ctx, from.Bare()) {
		return nil, stanza.NotAllowed.WithText(fmt.Sprintf("only accounts of %s may upload files here", svc.serverDomain))
	}
	name := req.AttrValue("filename")
	if err := checkFilename(name); err != nil {
		return nil, stanza.BadRequest.WithText("invalid filename: " + err.Error())
	}
	size, err := strconv.ParseInt(req.AttrValue("size"), 10, 64)
	if err != nil || size < 0 {
		return nil, stanza.BadRequest.WithText(fmt.Sprintf("invalid size %q: expected a number of bytes", req.AttrValue("size")))
	}
	maxSize := int64(m.cfg.MaxFileSize)
	if size > maxSize {
		app := stanza.NewElement(NS, "file-too-large").
			Add(stanza.NewElement(NS, "max-file-size").AddText(strconv.FormatInt(maxSize, 10)))
		return nil, stanza.NotAcceptable.
			WithText(fmt.Sprintf("the file is too large: the maximum file size is %d bytes", maxSize)).
			WithApp(app)
	}
	contentType, err := normalizeContentType(req.AttrValue("content-type"))
	if err != nil {
		return nil, stanza.BadRequest.WithText(err.Error())
	}

	now := m.now()
	meta := fileMeta{Owner: from.Bare().String(), Filename: name, Size: size, ContentType: contentType}
	id, err := m.store.reserve(meta, int64(m.cfg.QuotaPerUser), now, now.Add(slotTimeout))
	switch {
	case errors.Is(err, errQuota):
		return nil, stanza.ResourceConstraint.WithText(fmt.Sprintf(
			"the file does not fit in your upload quota of %d bytes; delete old files or wait until they expire", m.cfg.QuotaPerUser))
	case errors.Is(err, errTooManySlots):
		return nil, stanza.ResourceConstraint.WithText(err.Error())
	case err != nil:
		return nil, err
	}
	m.log.Debug("upload slot created", "id", id, "owner", meta.Owner, "size", size)

	getURL := m.baseURL(svc.serverDomain) + httpPrefix + id + "/" + url.PathEscape(name)
	putURL := getURL + "?token=" + m.signer.token(id)
	return stanza.NewElement(NS, "slot").
		Add(stanza.NewElement(NS, "put", "url", putURL)).
		Add(stanza.NewElement(NS, "get", "url", getURL)), nil
}

// normalizeContentType returns the media type of a slot request in
// canonical form, or defaultContentType when it is empty.
func normalizeContentType(raw string) (string, error) {
	if raw == "" {
		return defaultContentType, nil
	}
	if len(raw) > maxContentTypeLength {
		return "", fmt.Errorf("invalid content-type: longer than %d bytes", maxContentTypeLength)
	}
	mediaType, params, err := mime.ParseMediaType(raw)
	if err != nil {
		return "", fmt.Errorf("invalid content-type %q: %v", raw, err)
	}
	formatted := mime.FormatMediaType(mediaType, params)
	if formatted == "" || !strings.Contains(mediaType, "/") {
		return "", fmt.Errorf("invalid content-type %q", raw)
	}
	return formatted, nil
}
