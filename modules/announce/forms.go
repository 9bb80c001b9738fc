package announce

import (
	"context"

	"tern/modules/adhoc"
	"tern/stanza"
)

// formBuilder returns the form of a command's first stage.
type formBuilder func(ctx context.Context, req *adhoc.Request) (*stanza.Element, error)

// formSubmitter runs a command with the values of its submitted form.
type formSubmitter func(ctx context.Context, req *adhoc.Request, v adhoc.Values) (*adhoc.Response, error)

// formCommand returns the handler of a command with one form: the first
// request gets the form, and submitting it (with the action complete or
// execute) runs the command. A first request that carries a filled-in
// form already runs the command at once, which saves scripts a round
// trip.
func formCommand(build formBuilder, submit formSubmitter) adhoc.Handler {
	return func(ctx context.Context, req *adhoc.Request) (*adhoc.Response, error) {
		v := req.Form()
		if req.Action == adhoc.ActionExecute && v == nil {
			form, err := build(ctx, req)
			if err != nil {
				return nil, err
			}
			return &adhoc.Response{
				Status:  adhoc.StatusExecuting,
				Actions: []string{adhoc.ActionComplete},
				Payload: []*stanza.Element{form},
			}, nil
		}
		if v == nil {
			return nil, adhoc.ErrBadPayload.WithText("the submitted form is missing")
		}
		return submit(ctx, req, v)
	}
}

// formType is the hidden FORM_TYPE field of the XEP-0133 forms.
var formType = adhoc.Field{Var: "FORM_TYPE", Type: adhoc.FieldHidden, Values: []string{FormType}}

func announceFields() []adhoc.Field {
	return []adhoc.Field{
		formType,
		{Var: "subject", Type: adhoc.FieldTextSingle, Label: "Subject"},
		{Var: "announcement", Type: adhoc.FieldTextMulti, Label: "Announcement", Required: true},
	}
}

func announceForm(context.Context, *adhoc.Request) (*stanza.Element, error) {
	return adhoc.NewForm("Making an Announcement",
		"Fill out this form to make an announcement to all active users of this service.",
		announceFields()...), nil
}

func announceAllForm(context.Context, *adhoc.Request) (*stanza.Element, error) {
	return adhoc.NewForm("Making an Announcement to All Users",
		"Fill out this form to send an announcement to every user of this service. Users who are offline receive it when they next log in.",
		announceFields()...), nil
}

// motdField is the text field of the message-of-the-day forms, holding
// lines.
func motdField(lines []string) adhoc.Field {
	return adhoc.Field{Var: "motd", Type: adhoc.FieldTextMulti, Label: "Message of the Day", Required: true, Values: lines}
}

func setMOTDForm(context.Context, *adhoc.Request) (*stanza.Element, error) {
	return adhoc.NewForm("Setting the Message of the Day",
		"Fill out this form to set the message of the day.",
		formType, motdField(nil)), nil
}
