package mailbox

import (
	"errors"
	"fmt"
)

// Sentinel errors of the IMAP mailbox, matched by its struct errors.
var (
	// ErrQueued says a change could not reach the server (the network is
	// down) and was queued: it is replayed, in order, once the
	// connection is back ([QueuedError]). Nothing is lost.
	ErrQueued = errors.New("mailbox: queued until the server is reachable")
	// ErrOffline matches a [ConnError]: the server cannot be reached now.
	ErrOffline = errors.New("mailbox: server unreachable")
	// ErrTLS matches a [TLSError].
	ErrTLS = errors.New("mailbox: TLS could not be established")
	// ErrAuth matches an [AuthError].
	ErrAuth = errors.New("mailbox: login failed")
)

// QueuedError says a change was queued while the server was unreachable
// (see [ErrQueued]). A caller may treat it as done.
type QueuedError struct {
	Op     string // "set flags", "move", "delete", "deliver"
	Folder string
	ID     string
	Err    error // why the server could not be reached
}

func (e *QueuedError) Error() string {
	what := e.Op
	if e.ID != "" {
		what += " of message " + e.ID
	}
	return fmt.Sprintf("mailbox: %s in %q queued until the server is reachable: %v", what, e.Folder, e.Err)
}
func (e *QueuedError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrQueued].
func (e *QueuedError) Is(target error) bool { return target == ErrQueued }

// ConnError says the IMAP server could not be reached, or the connection
// broke or timed out. Retrying later may help.
type ConnError struct {
	Addr string
	Err  error
}

func (e *ConnError) Error() string { return fmt.Sprintf("mailbox: %s: %v", e.Addr, e.Err) }
func (e *ConnError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrOffline].
func (e *ConnError) Is(target error) bool { return target == ErrOffline }

// Temporary is true: the network may come back.
func (e *ConnError) Temporary() bool { return true }

// TLSError says TLS could not be set up with the IMAP server: STARTTLS is
// not offered or was refused, the handshake failed, or the server greeted
// with PREAUTH before TLS (S50). Nothing was sent in plaintext but the
// STARTTLS dialogue.
type TLSError struct {
	Addr   string
	Reason string
	Err    error
}

func (e *TLSError) Error() string {
	msg := fmt.Sprintf("mailbox: %s: %s", e.Addr, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}
func (e *TLSError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrTLS].
func (e *TLSError) Is(target error) bool { return target == ErrTLS }

// AuthError says the login was refused, no usable mechanism is offered, or
// the secret could not be obtained.
type AuthError struct {
	Addr      string
	Mechanism string
	Reason    string
	Err       error
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("mailbox: %s: login", e.Addr)
	if e.Mechanism != "" {
		msg += " with " + e.Mechanism
	}
	msg += " failed"
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}
func (e *AuthError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrAuth].
func (e *AuthError) Is(target error) bool { return target == ErrAuth }

// ServerError is a refusal by the IMAP server (a NO or BAD answer) to a
// command.
type ServerError struct {
	Op   string // what was being done: "select \"INBOX\"", "move", …
	Code string // the response code, "NONEXISTENT", "OVERQUOTA", … or ""
	Text string
}

func (e *ServerError) Error() string {
	msg := "mailbox: the server refused to " + e.Op
	if e.Code != "" {
		msg += " [" + e.Code + "]"
	}
	if e.Text != "" {
		msg += ": " + e.Text
	}
	return msg
}
