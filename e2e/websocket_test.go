package e2e

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"tern/internal/xmpptest"
	"tern/server"
	"tern/stanza"
)

// wsURL is the server's WebSocket endpoint on its HTTP listener.
func wsURL(s *xmpptest.Server) string {
	return "ws://" + s.Addr("http") + server.WebSocketPath
}

type wsClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialWS(t *testing.T, s *xmpptest.Server) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(s), &websocket.DialOptions{Subprotocols: []string{"xmpp"}})
	if err != nil {
		t.Fatalf("dial websocket: %v", err)
	}
	ws.SetReadLimit(1 << 22)
	t.Cleanup(func() { ws.CloseNow() })
	if ws.Subprotocol() != "xmpp" {
		t.Fatalf("subprotocol %q, want xmpp", ws.Subprotocol())
	}
	return &wsClient{t: t, ws: ws}
}

func (c *wsClient) send(msg string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
		c.t.Fatalf("websocket write: %v", err)
	}
}

// read returns the next message parsed as an element.
func (c *wsClient) read() *stanza.Element {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout)
	defer cancel()
	_, data, err := c.ws.Read(ctx)
	if err != nil {
		c.t.Fatalf("websocket read: %v", err)
	}
	el, err := stanza.ParseElement(data, "")
	if err != nil {
		c.t.Fatalf("message %q is not one XML element: %v", data, err)
	}
	return el
}

func (c *wsClient) open() *stanza.Element {
	c.t.Helper()
	c.send("<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='localhost' version='1.0'/>")
	if el := c.read(); el.Name.Local != "open" || el.AttrValue("from") != "localhost" {
		c.t.Fatalf("expected <open/>, got %s", el)
	}
	return c.read()
}

func (c *wsClient) login(user, password string) {
	c.t.Helper()
	c.open()
	auth := base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))
	c.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" + auth + "</auth>")
	if el := c.read(); el.Name.Local != "success" {
		c.t.Fatalf("auth: %s", el)
	}
	feats := c.open()
	if feats.Child("urn:ietf:params:xml:ns:xmpp-bind", "bind") == nil {
		c.t.Fatalf("no bind feature: %s", feats)
	}
	c.send("<iq xmlns='jabber:client' type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>web</resource></bind></iq>")
	if el := c.read(); el.AttrValue("type") != "result" {
		c.t.Fatalf("bind: %s", el)
	}
}

func TestWebSocketChat(t *testing.T) {
	s := newPair(t)
	j := s.Login("juliet", "j-secret", "balcony")
	c := dialWS(t, s)
	c.login("romeo", "r-secret")
	c.send("<message xmlns='jabber:client' to='juliet@localhost' type='chat'><body>over websocket</body></message>")
	m := j.Expect(xmpptest.IsMessage("over websocket"))
	if m.RawFrom != "romeo@localhost/web" {
		t.Errorf("from %q", m.RawFrom)
	}
	j.Send("<message to='romeo@localhost/web' type='chat'><body>back to the browser</body></message>")
	got := c.read()
	if got.Name.Local != "message" || got.Name.Space != "jabber:client" || got.Child("", "body").Text() != "back to the browser" {
		t.Errorf("received %s", got)
	}
	c.send("<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>")
	if el := c.read(); el.Name.Local != "close" {
		t.Errorf("expected <close/>, got %s", el)
	}
}

func TestWebSocketOversizedMessage(t *testing.T) {
	s := newPair(t)
	c := dialWS(t, s)
	c.login("romeo", "r-secret")
	c.send("<message xmlns='jabber:client' to='juliet@localhost'><body>" + strings.Repeat("A", 1<<20) + "</body></message>")
	el := c.read()
	if el.Name.Local != "error" || el.Child("urn:ietf:params:xml:ns:xmpp-streams", "policy-violation") == nil {
		t.Fatalf("got %s, want a policy-violation stream error", el)
	}
	if el := c.read(); el.Name.Local != "close" {
		t.Errorf("expected <close/> after the error, got %s", el)
	}
}

func TestWebSocketRequiresSubprotocol(t *testing.T) {
	s := newPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, wsURL(s), nil)
	if err != nil {
		return // refused at the handshake: fine
	}
	defer ws.CloseNow()
	_, _, err = ws.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusProtocolError {
		t.Errorf("without the xmpp subprotocol: %v, want a protocol error close", err)
	}
}
