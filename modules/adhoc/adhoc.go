// Package adhoc implements Ad-Hoc Commands (XEP-0050) on the server's
// domains. Other modules add commands with Register; this module lists
// them in disco#items on the node http://jabber.org/protocol/commands
// (only the commands the requester may run), returns disco#info for each
// command node, and runs commands in execution sessions. A session lets a
// command walk its requester through several data forms (XEP-0004) with
// the actions execute, next, prev, complete and cancel.
package adhoc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"mellium.im/xmpp/jid"

	"tern/modules"
	"tern/router"
	"tern/stanza"
)

// Namespaces used by ad-hoc commands.
const (
	// NS is the namespace of the <command/> element, the disco feature,
	// and the disco node that lists the commands.
	NS = "http://jabber.org/protocol/commands"
	// NSData is the namespace of data forms (XEP-0004).
	NSData = "jabber:x:data"
)

// Order is the module's start order. A module that registers commands
// starts after it, with a higher modules.Module.Order.
const Order = 30

// serviceName is the name under which the command registry is provided
// to other modules (router.Host.Provide).
const serviceName = "adhoc"

// Errors returned by Register.
var (
	// ErrDisabled reports that the adhoc module does not run on the host,
	// because it is disabled or has not started yet.
	ErrDisabled = errors.New("adhoc: module not running")
	// ErrInvalidCommand reports a command without a node or a handler,
	// or with a node that is registered already.
	ErrInvalidCommand = errors.New("adhoc: invalid command")
)

// Command is an ad-hoc command that a module offers on the server's
// domains.
type Command struct {
	// Node identifies the command; it is unique on the server.
	Node string
	// Name is the label clients show for the command.
	Name string
	// Allowed reports whether requester, a full JID, may see and run the
	// command. Nil allows everyone who can address the server.
	Allowed func(requester jid.JID) bool
	// Handler runs each stage of the command.
	Handler Handler
}

func (c *Command) allows(requester jid.JID) bool {
	return c.Allowed == nil || c.Allowed(requester)
}

func init() {
	modules.Register(modules.Module{Name: "adhoc", Order: Order, New: start})
}

// registry holds the commands of one host and their sessions.
type registry struct {
	host     router.Host
	log      *slog.Logger
	sessions *sessionTable

	mu       sync.RWMutex
	commands []*Command // in registration order; guarded by mu
}

func start(env *modules.Env) error {
	h := env.Host
	r := &registry{host: h, log: h.Logger("adhoc"), sessions: newSessionTable()}
	h.Provide(serviceName, r)
	h.AddFeature(router.ScopeServer, NS)
	h.HandleIQ(router.ScopeServer, NS, r.handleIQ)
	registerListNode(h, r)
	return nil
}

// Register adds cmd to the commands of the server that h belongs to. Call
// it from a module's constructor; the module must start after this one
// (see Order). It returns ErrDisabled when the adhoc module does not run,
// and ErrInvalidCommand for a command without node or handler or with a
// node that is taken.
func Register(h router.Host, cmd Command) error {
	r, ok := h.Lookup(serviceName).(*registry)
	if !ok {
		return fmt.Errorf("register command %q: %w", cmd.Node, ErrDisabled)
	}
	if cmd.Node == "" || cmd.Handler == nil {
		return fmt.Errorf("%w: command %q needs a node and a handler", ErrInvalidCommand, cmd.Name)
	}
	c := &cmd
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, other := range r.commands {
		if other.Node == c.Node {
			return fmt.Errorf("%w: node %q is registered already", ErrInvalidCommand, c.Node)
		}
	}
	r.commands = append(r.commands, c)
	registerCommandNode(h, c)
	return nil
}

// command returns the command registered for node, or nil.
func (r *registry) command(node string) *Command {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, c := range r.commands {
		if c.Node == node {
			return c
		}
	}
	return nil
}

// visible returns the commands requester may run, in registration order.
func (r *registry) visible(requester jid.JID) []*Command {
	r.mu.RLock()
	defer r.mu.RUnlock()
	var out []*Command
	for _, c := range r.commands {
		if c.allows(requester) {
			out = append(out, c)
		}
	}
	return out
}

// handleIQ runs one stage of a command (XEP-0050 §3.4).
func (r *registry) handleIQ(ctx context.Context, iq *stanza.Stanza, el *stanza.Element) (*stanza.Stanza, error) {
	if iq.Type != "set" || el.Name.Local != "command" {
		return nil, stanza.BadRequest.WithText("commands are run with an iq of type set holding a <command/>")
	}
	node := el.AttrValue("node")
	if node == "" {
		return nil, stanza.BadRequest.WithText("the <command/> has no node")
	}
	cmd := r.command(node)
	if cmd == nil {
		return nil, stanza.ItemNotFound
	}
	if !cmd.allows(iq.From) {
		return nil, stanza.Forbidden
	}
	action, err := parseAction(el.AttrValue("action"))
	if err != nil {
		return nil, err
	}
	sid := el.AttrValue("sessionid")
	if sid == "" {
		return r.begin(ctx, iq, el, cmd, action)
	}
	return r.resume(ctx, iq, el, cmd, sid, action)
}

// begin starts a new session of cmd.
func (r *registry) begin(ctx context.Context, iq *stanza.Stanza, el *stanza.Element, cmd *Command, action string) (*stanza.Stanza, error) {
	switch action {
	case ActionExecute:
	case ActionCancel:
		return nil, errBadSessionID.WithText("cancel needs the sessionid of a running session")
	default:
		return nil, errBadAction.WithText("a new session starts with the action execute")
	}
	sess, err := r.sessions.create(iq.From, cmd.Node)
	if err != nil {
		return nil, err
	}
	return r.run(ctx, iq, el, cmd, sess, ActionExecute, false)
}

// resume continues the session sid of cmd.
func (r *registry) resume(ctx context.Context, iq *stanza.Stanza, el *stanza.Element, cmd *Command, sid, action string) (*stanza.Stanza, error) {
	sess, err := r.sessions.take(sid, iq.From, cmd.Node)
	if err != nil {
		return nil, err
	}
	if action == ActionCancel {
		return result(iq, render(cmd.Node, sess.ID, &Response{Status: StatusCanceled})), nil
	}
	action, err = sess.resolve(action)
	if err != nil {
		r.sessions.put(sess)
		return nil, err
	}
	return r.run(ctx, iq, el, cmd, sess, action, true)
}

// run calls the command's handler and keeps the session while the
// command executes. A stanza error from the handler goes to the
// requester. After such an error in a later stage the session stays open,
// so the requester can correct the form and submit it again.
func (r *registry) run(ctx context.Context, iq *stanza.Stanza, el *stanza.Element, cmd *Command, sess *Session, action string, keepOnError bool) (*stanza.Stanza, error) {
	req := &Request{Requester: iq.From, Target: iq.To, Action: action, Command: el, Session: sess, Lang: iq.Lang}
	resp, err := cmd.Handler(ctx, req)
	if err != nil {
		var se *stanza.Error
		if !errors.As(err, &se) {
			r.log.Error("command failed", "node", cmd.Node, "requester", iq.From.Bare().String(), "err", err)
			return nil, stanza.InternalServerError
		}
		if keepOnError {
			r.sessions.put(sess)
		}
		return nil, se
	}
	if resp == nil {
		resp = &Response{}
	}
	resp.normalize()
	if resp.Status == StatusExecuting {
		sess.actions, sess.execute = resp.Actions, resp.Execute
		r.sessions.put(sess)
	}
	return result(iq, render(cmd.Node, sess.ID, resp)), nil
}

// result returns the iq result carrying the <command/> c, in the
// language of the request.
func result(iq *stanza.Stanza, c *stanza.Element) *stanza.Stanza {
	res := stanza.Result(iq, c)
	res.Lang = iq.Lang
	return res
}
