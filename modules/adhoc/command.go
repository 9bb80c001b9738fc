package adhoc

import (
	"context"
	"slices"

	"mellium.im/xmpp/jid"

	"tern/stanza"
)

// Actions of a request (XEP-0050 §4.1).
const (
	ActionExecute  = "execute"
	ActionCancel   = "cancel"
	ActionPrev     = "prev"
	ActionNext     = "next"
	ActionComplete = "complete"
)

// Statuses of a command session (XEP-0050 §4.1).
const (
	StatusExecuting = "executing"
	StatusCompleted = "completed"
	StatusCanceled  = "canceled"
)

// Note types (XEP-0050 §4.3).
const (
	NoteInfo  = "info"
	NoteWarn  = "warn"
	NoteError = "error"
)

// Errors of XEP-0050 §4.4: a defined condition with an application
// condition in NS that names the problem. Handlers return ErrBadPayload
// (with a text naming the field) for a form they cannot accept.
var (
	ErrBadPayload     = stanza.BadRequest.WithApp(stanza.NewElement(NS, "bad-payload"))
	errBadAction      = stanza.BadRequest.WithApp(stanza.NewElement(NS, "bad-action"))
	errMalformed      = stanza.BadRequest.WithApp(stanza.NewElement(NS, "malformed-action"))
	errBadSessionID   = stanza.BadRequest.WithApp(stanza.NewElement(NS, "bad-sessionid"))
	errSessionExpired = stanza.NotAllowed.WithApp(stanza.NewElement(NS, "session-expired"))
)

// Handler runs one stage of a command. It returns the response for the
// requester, or a *stanza.Error (such as ErrBadPayload) that is sent as
// the error response. Any other error is logged and sent as
// internal-server-error, and ends the session.
type Handler func(ctx context.Context, req *Request) (*Response, error)

// Request is one stage of a command, as passed to its handler.
type Request struct {
	// Requester is the full JID that sent the command.
	Requester jid.JID
	// Target is the server domain the command was sent to.
	Target jid.JID
	// Action is ActionExecute for the first stage of a session, and
	// ActionNext, ActionPrev or ActionComplete after that. A requester's
	// "execute" in a later stage arrives as the default action of the
	// previous response, and the action is always one that response
	// allowed. Cancel never reaches the handler: the session just ends.
	Action string
	// Command is the <command/> element as received; Form returns its
	// submitted data form.
	Command *stanza.Element
	// Session is the execution session, which keeps the handler's state
	// from one stage to the next.
	Session *Session
	// Lang is the xml:lang of the request, "" when absent.
	Lang string
}

// Form returns the values of the data form submitted with the command,
// or nil when it carries none.
func (r *Request) Form() Values { return submittedForm(r.Command) }

// Response is what a handler returns for one stage.
type Response struct {
	// Status is StatusExecuting while the command waits for the next
	// stage; the zero value means StatusCompleted, which ends the session.
	Status string
	// Actions are the actions allowed for the next stage, from
	// ActionPrev, ActionNext and ActionComplete. Empty while executing
	// means ActionComplete only.
	Actions []string
	// Execute is the default action among Actions; empty means the last
	// of Actions.
	Execute string
	// Payload are the elements sent in the <command/>, such as a data
	// form built with NewForm.
	Payload []*stanza.Element
	// Notes are shown to the user. A command that completes but failed
	// carries a note of type NoteError (XEP-0050 §3.4).
	Notes []Note
}

// Note is a message for the user (XEP-0050 §4.3).
type Note struct {
	// Type is NoteInfo, NoteWarn or NoteError; empty means NoteInfo.
	Type string
	Text string
}

// Completed returns a response that ends the session with notes.
func Completed(notes ...Note) *Response { return &Response{Status: StatusCompleted, Notes: notes} }

// Failed returns a response that ends the session with an error note,
// because XEP-0050 §3.4 requires a command that completes but fails to
// carry one.
func Failed(text string) *Response {
	return Completed(Note{Type: NoteError, Text: text})
}

// normalize fills the defaults of a handler's response.
func (r *Response) normalize() {
	if r.Status == "" {
		r.Status = StatusCompleted
	}
	if r.Status != StatusExecuting {
		r.Actions, r.Execute = nil, ""
		return
	}
	if len(r.Actions) == 0 {
		r.Actions = []string{ActionComplete}
	}
	if r.Execute == "" || !slices.Contains(r.Actions, r.Execute) {
		r.Execute = r.Actions[len(r.Actions)-1]
	}
}

// parseAction checks the action attribute of a request; absent means
// execute.
func parseAction(a string) (string, error) {
	switch a {
	case "":
		return ActionExecute, nil
	case ActionExecute, ActionCancel, ActionPrev, ActionNext, ActionComplete:
		return a, nil
	}
	return "", errMalformed.WithText("unknown action " + a)
}

// render builds the <command/> of a response.
func render(node, sid string, r *Response) *stanza.Element {
	c := stanza.NewElement(NS, "command", "node", node, "sessionid", sid, "status", r.Status)
	if len(r.Actions) > 0 {
		acts := stanza.NewElement(NS, "actions", "execute", r.Execute)
		for _, a := range r.Actions {
			acts.Add(stanza.NewElement(NS, a))
		}
		c.Add(acts)
	}
	for _, p := range r.Payload {
		c.Add(p)
	}
	for _, n := range r.Notes {
		typ := n.Type
		if typ == "" {
			typ = NoteInfo
		}
		c.Add(stanza.NewElement(NS, "note", "type", typ).AddText(n.Text))
	}
	return c
}
