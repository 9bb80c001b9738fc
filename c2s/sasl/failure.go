package sasl

// SASL failure conditions of RFC 6120 §6.5, the names of the child element
// of <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>.
const (
	Aborted              = "aborted"
	AccountDisabled      = "account-disabled"
	CredentialsExpired   = "credentials-expired"
	EncryptionRequired   = "encryption-required"
	IncorrectEncoding    = "incorrect-encoding"
	InvalidAuthzid       = "invalid-authzid"
	InvalidMechanism     = "invalid-mechanism"
	MalformedRequest     = "malformed-request"
	MechanismTooWeak     = "mechanism-too-weak"
	NotAuthorized        = "not-authorized"
	TemporaryAuthFailure = "temporary-auth-failure"
)

// Failure is a SASL failure to report to the client as <failure/>.
type Failure struct {
	// Condition is one of the condition constants of this package.
	Condition string
	// Text is an optional human-readable description for the <text/>
	// child. The texts this package sets never reveal whether an account
	// exists.
	Text string
	// Err is the underlying cause, such as a storage error, for the server's
	// logs. It is not meant for the client.
	Err error
}

// Error returns the condition, the text and the cause.
func (f *Failure) Error() string {
	s := "sasl: " + f.Condition
	if f.Text != "" {
		s += ": " + f.Text
	}
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause.
func (f *Failure) Unwrap() error { return f.Err }
