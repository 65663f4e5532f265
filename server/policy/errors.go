package policy

// InputError is a refused input: Reason is a stable machine word for clients
// and tests ("empty", "display_name", "spaces", "no_domain", "letters",
// "no_country_code", "invalid_number", "too_long", ...), Message a sentence a
// person can act on. The server answers it as 400 invalid_input with the
// field it came from.
type InputError struct {
	Reason  string
	Message string
}

// Error implements error.
func (e *InputError) Error() string { return e.Message }

func inputErr(reason, message string) *InputError {
	return &InputError{Reason: reason, Message: message}
}
