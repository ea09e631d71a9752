package model

// SendOutcome is the outcome of one message of a batch of sends
// (SendMessages): stored (Sent), or refused with nothing stored.
type SendOutcome struct {
	Sent
	// Hidden: the recipient is unknown to the sender (no such user,
	// banned, deleted, or a block either way).
	Hidden bool
	// Unmatched: the two are not matched.
	Unmatched bool
}
