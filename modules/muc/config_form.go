package muc

import (
	"encoding/json"
	"fmt"
	"strconv"

	"tern/config"
	"tern/stanza"
)

// Values of muc#roomconfig_whois and muc#roomconfig_allowpm.
const (
	whoisModerators = "moderators"
	whoisAnyone     = "anyone"

	pmAnyone       = "anyone"
	pmParticipants = "participants"
	pmModerators   = "moderators"
	pmNone         = "none"
)

// roomConfig is a room's configuration (XEP-0045 §10.2). It is stored as
// JSON in storage.Room.Config, so fields may be added but never renamed.
type roomConfig struct {
	Name              string `json:"name,omitempty"`
	Description       string `json:"description,omitempty"`
	Lang              string `json:"lang,omitempty"`
	Persistent        bool   `json:"persistent,omitempty"`
	Public            bool   `json:"public,omitempty"`
	MembersOnly       bool   `json:"members_only,omitempty"`
	Moderated         bool   `json:"moderated,omitempty"`
	PasswordProtected bool   `json:"password_protected,omitempty"`
	Password          string `json:"password,omitempty"`
	WhoIs             string `json:"whois"`
	MaxUsers          int    `json:"max_users"` // 0: no limit
	ChangeSubject     bool   `json:"change_subject,omitempty"`
	AllowInvites      bool   `json:"allow_invites,omitempty"`
	AllowPM           string `json:"allow_pm"`
	Logging           bool   `json:"logging,omitempty"`
	HistoryLength     int    `json:"history_length"`
}

// defaultConfig is the configuration of a new room: temporary, public,
// open, unmoderated and semi-anonymous, with the service's limits.
func defaultConfig(c config.MUC) roomConfig {
	return roomConfig{
		Public:        true,
		WhoIs:         whoisModerators,
		MaxUsers:      c.MaxOccupants,
		AllowPM:       pmAnyone,
		HistoryLength: c.HistoryLength,
	}
}

func decodeConfig(b []byte) (roomConfig, error) {
	var c roomConfig
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("decode room configuration: %w", err)
	}
	return c, nil
}

func (c roomConfig) encode() []byte {
	b, _ := json.Marshal(c) // a struct of strings, bools and ints always encodes
	return b
}

// formField adds a field to a data form.
func formField(form *stanza.Element, typ, v, label string, values ...string) *stanza.Element {
	f := stanza.NewElement(nsDataForm, "field", "type", typ, "var", v)
	if label != "" {
		f.SetAttr("label", label)
	}
	for _, val := range values {
		f.Add(stanza.NewElement(nsDataForm, "value").AddText(val))
	}
	form.Add(f)
	return f
}

// addOptions adds list-single options, each value with its label.
func addOptions(f *stanza.Element, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		f.Add(stanza.NewElement(nsDataForm, "option", "label", pairs[i+1]).
			Add(stanza.NewElement(nsDataForm, "value").AddText(pairs[i])))
	}
}

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// configForm renders the room configuration form with the current values.
func (c roomConfig) form(title string, maxUsers, maxHistory int) *stanza.Element {
	x := stanza.NewElement(nsDataForm, "x", "type", "form")
	x.Add(stanza.NewElement(nsDataForm, "title").AddText(title))
	formField(x, "hidden", "FORM_TYPE", "", nsRoomConfig)
	formField(x, "text-single", "muc#roomconfig_roomname", "Room name", c.Name)
	formField(x, "text-single", "muc#roomconfig_roomdesc", "Room description", c.Description)
	formField(x, "text-single", "muc#roomconfig_lang", "Language of the discussions", c.Lang)
	formField(x, "boolean", "muc#roomconfig_persistentroom", "Keep the room when it is empty", boolValue(c.Persistent))
	formField(x, "boolean", "muc#roomconfig_publicroom", "List the room in the service directory", boolValue(c.Public))
	formField(x, "boolean", "muc#roomconfig_membersonly", "Only members may enter", boolValue(c.MembersOnly))
	formField(x, "boolean", "muc#roomconfig_moderatedroom", "Only participants with voice may speak", boolValue(c.Moderated))
	formField(x, "boolean", "muc#roomconfig_passwordprotectedroom", "A password is required to enter", boolValue(c.PasswordProtected))
	formField(x, "text-private", "muc#roomconfig_roomsecret", "Password", c.Password)
	whois := formField(x, "list-single", "muc#roomconfig_whois", "Who may see real JIDs", c.WhoIs)
	addOptions(whois, whoisModerators, "Moderators only", whoisAnyone, "Anyone")
	users := formField(x, "list-single", "muc#roomconfig_maxusers", "Maximum number of occupants", maxUsersValue(c.MaxUsers))
	addOptions(users, maxUsersOptions(maxUsers)...)
	formField(x, "boolean", "muc#roomconfig_changesubject", "Participants may change the subject", boolValue(c.ChangeSubject))
	formField(x, "boolean", "muc#roomconfig_allowinvites", "Members may invite others", boolValue(c.AllowInvites))
	pm := formField(x, "list-single", "muc#roomconfig_allowpm", "Who may send private messages", c.AllowPM)
	addOptions(pm, pmAnyone, "Anyone", pmParticipants, "Anyone with voice", pmModerators, "Moderators only", pmNone, "Nobody")
	formField(x, "boolean", "muc#roomconfig_enablelogging", "The discussion is logged publicly", boolValue(c.Logging))
	formField(x, "text-single", "muc#roomconfig_historylength",
		fmt.Sprintf("Messages sent to entering occupants (at most %d)", maxHistory), strconv.Itoa(c.HistoryLength))
	return x
}

func maxUsersValue(n int) string {
	if n == 0 {
		return "none"
	}
	return strconv.Itoa(n)
}

// maxUsersOptions lists the usual room sizes up to the service limit,
// the limit itself, and "none" when the service has no limit.
func maxUsersOptions(limit int) []string {
	var out []string
	for _, n := range []int{10, 20, 30, 50, 100, 200, 500, 1000} {
		if limit == 0 || n < limit {
			out = append(out, strconv.Itoa(n), strconv.Itoa(n))
		}
	}
	if limit == 0 {
		return append(out, "none", "No limit")
	}
	return append(out, strconv.Itoa(limit), strconv.Itoa(limit))
}

// formValues returns the values of each field of a submitted form.
func formValues(x *stanza.Element) map[string][]string {
	out := map[string][]string{}
	for _, f := range x.ChildrenNamed(nsDataForm, "field") {
		var vals []string
		for _, v := range f.ChildrenNamed(nsDataForm, "value") {
			vals = append(vals, v.Text())
		}
		out[f.AttrValue("var")] = vals
	}
	return out
}

// applyForm returns c changed by a submitted configuration form. It
// returns a not-acceptable error naming the first invalid field; fields
// it does not know are ignored, as XEP-0004 allows.
func (c roomConfig) applyForm(x *stanza.Element, maxUsers, maxHistory int) (roomConfig, error) {
	vals := formValues(x)
	if ft := vals["FORM_TYPE"]; len(ft) > 0 && ft[0] != nsRoomConfig {
		return c, stanza.BadRequest.WithText("FORM_TYPE must be " + nsRoomConfig)
	}
	p := formParser{vals: vals}
	p.text("muc#roomconfig_roomname", &c.Name)
	p.text("muc#roomconfig_roomdesc", &c.Description)
	p.text("muc#roomconfig_lang", &c.Lang)
	p.boolean("muc#roomconfig_persistentroom", &c.Persistent)
	p.boolean("muc#roomconfig_publicroom", &c.Public)
	p.boolean("muc#roomconfig_membersonly", &c.MembersOnly)
	p.boolean("muc#roomconfig_moderatedroom", &c.Moderated)
	p.boolean("muc#roomconfig_passwordprotectedroom", &c.PasswordProtected)
	p.text("muc#roomconfig_roomsecret", &c.Password)
	p.choice("muc#roomconfig_whois", &c.WhoIs, whoisModerators, whoisAnyone)
	p.choice("muc#roomconfig_allowpm", &c.AllowPM, pmAnyone, pmParticipants, pmModerators, pmNone)
	p.boolean("muc#roomconfig_changesubject", &c.ChangeSubject)
	p.boolean("muc#roomconfig_allowinvites", &c.AllowInvites)
	p.boolean("muc#roomconfig_enablelogging", &c.Logging)
	p.maxUsers("muc#roomconfig_maxusers", &c.MaxUsers, maxUsers)
	p.number("muc#roomconfig_historylength", &c.HistoryLength, maxHistory)
	p.number("muc#maxhistoryfetch", &c.HistoryLength, maxHistory)
	if p.err != nil {
		return c, p.err
	}
	if c.PasswordProtected && c.Password == "" {
		return c, stanza.NotAcceptable.WithText("muc#roomconfig_roomsecret is required for a password-protected room")
	}
	return c, nil
}

// formParser reads typed values from a submitted form, keeping the first
// error.
type formParser struct {
	vals map[string][]string
	err  error
}

func (p *formParser) value(name string) (string, bool) {
	v, ok := p.vals[name]
	if !ok {
		return "", false
	}
	if len(v) == 0 {
		return "", true
	}
	return v[0], true
}

func (p *formParser) fail(name, value, allowed string) {
	if p.err == nil {
		p.err = stanza.NotAcceptable.WithText(fmt.Sprintf("%s: %q is not %s", name, value, allowed))
	}
}

func (p *formParser) text(name string, dst *string) {
	if v, ok := p.value(name); ok {
		*dst = v
	}
}

func (p *formParser) boolean(name string, dst *bool) {
	v, ok := p.value(name)
	if !ok {
		return
	}
	switch v {
	case "1", "true":
		*dst = true
	case "0", "false", "":
		*dst = false
	default:
		p.fail(name, v, "a boolean (1 or 0)")
	}
}

func (p *formParser) choice(name string, dst *string, allowed ...string) {
	v, ok := p.value(name)
	if !ok {
		return
	}
	for _, a := range allowed {
		if v == a {
			*dst = v
			return
		}
	}
	p.fail(name, v, fmt.Sprintf("one of %v", allowed))
}

// maxUsers reads a positive number, or "none" when the service has no
// limit (limit 0).
func (p *formParser) maxUsers(name string, dst *int, limit int) {
	v, ok := p.value(name)
	if !ok {
		return
	}
	if v == "none" && limit == 0 {
		*dst = 0
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || (limit > 0 && n > limit) {
		p.fail(name, v, fmt.Sprintf("a number from 1 to %s", maxUsersValue(limit)))
		return
	}
	*dst = n
}

// number reads a number from 0 to max.
func (p *formParser) number(name string, dst *int, max int) {
	v, ok := p.value(name)
	if !ok {
		return
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		p.fail(name, v, fmt.Sprintf("a number from 0 to %d", max))
		return
	}
	*dst = n
}
