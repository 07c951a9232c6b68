package transport

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for errors.Is, each matched by the struct errors of its
// family.
var (
	// ErrTLS matches every [TLSError]: TLS could not be set up, so nothing
	// was sent.
	ErrTLS = errors.New("transport: TLS could not be established")
	// ErrRecipients matches a [RecipientError].
	ErrRecipients = errors.New("transport: recipients refused")
	// ErrAuth matches an [AuthError].
	ErrAuth = errors.New("transport: authentication failed")
)

// Temporary reports whether err is a failure that may go away when the
// same message is sent again later: the network, a 4xx answer, a sendmail
// command that exited with EX_TEMPFAIL (75).
func Temporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// ConnError says the server could not be reached, or the connection broke
// or timed out.
type ConnError struct {
	Addr string
	Err  error
}

func (e *ConnError) Error() string { return fmt.Sprintf("transport: %s: %v", e.Addr, e.Err) }
func (e *ConnError) Unwrap() error { return e.Err }

// Temporary is true: the network may come back.
func (e *ConnError) Temporary() bool { return true }

// TLSError says TLS could not be set up with the server: it does not
// offer STARTTLS, the handshake failed (a certificate that does not
// verify, an injected plaintext response), or the server answered
// STARTTLS with an error. Nothing was sent.
type TLSError struct {
	Addr   string
	Reason string
	Err    error
}

func (e *TLSError) Error() string {
	msg := fmt.Sprintf("transport: %s: %s", e.Addr, e.Reason)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}
func (e *TLSError) Unwrap() error { return e.Err }

// Is reports whether target is [ErrTLS].
func (e *TLSError) Is(target error) bool { return target == ErrTLS }

// AuthError says the server refused the credentials, offers no mechanism
// we can use, or the secret could not be obtained.
type AuthError struct {
	Addr      string
	Mechanism string // the SASL mechanism tried, "" when none was
	Reason    string
	Err       error
}

func (e *AuthError) Error() string {
	msg := fmt.Sprintf("transport: %s: authentication", e.Addr)
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

// Temporary is true when the server answered with a 4xx code.
func (e *AuthError) Temporary() bool { return Temporary(e.Err) }

// Reply is a server's answer: its code, the enhanced status code (RFC
// 3463, "5.1.1"; empty when the server gave none) and its text.
type Reply struct {
	Code     int
	Enhanced string
	Message  string
}

func (r Reply) String() string {
	s := fmt.Sprint(r.Code)
	if r.Enhanced != "" {
		s += " " + r.Enhanced
	}
	if r.Message != "" {
		s += " " + r.Message
	}
	return s
}

// Temporary reports whether the reply is a 4xx one.
func (r Reply) Temporary() bool { return r.Code/100 == 4 }

// Rejection is a recipient the server refused, with its reply.
type Rejection struct {
	Address string
	Reply   Reply
}

// RecipientError lists the recipients the server refused. When any is
// refused, the message is sent to nobody (the transaction is reset), so
// that correcting the addresses and sending again reaches no one twice.
type RecipientError struct {
	Rejected []Rejection
}

func (e *RecipientError) Error() string {
	parts := make([]string, len(e.Rejected))
	for i, r := range e.Rejected {
		parts[i] = fmt.Sprintf("<%s>: %s", r.Address, r.Reply)
	}
	noun := "recipient"
	if len(e.Rejected) > 1 {
		noun = "recipients"
	}
	return fmt.Sprintf("transport: the server refused %d %s, nothing was sent: %s", len(e.Rejected), noun, strings.Join(parts, "; "))
}

// Is reports whether target is [ErrRecipients].
func (e *RecipientError) Is(target error) bool { return target == ErrRecipients }

// Temporary is true when every refusal was a 4xx one.
func (e *RecipientError) Temporary() bool {
	for _, r := range e.Rejected {
		if !r.Reply.Temporary() {
			return false
		}
	}
	return len(e.Rejected) > 0
}

// RequireTLSError says REQUIRETLS (RFC 8689) was asked for and the server
// does not offer it; nothing was sent.
type RequireTLSError struct {
	Addr string
}

func (e *RequireTLSError) Error() string {
	return fmt.Sprintf("transport: %s does not offer REQUIRETLS, which this message requires; nothing was sent", e.Addr)
}

// ServerError is a refusal at some step of the transaction other than a
// recipient: MAIL FROM, DATA, the end of the data.
type ServerError struct {
	Addr  string
	Stage string // the command: "MAIL FROM", "DATA", "end of data", …
	Reply Reply
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("transport: %s refused %s: %s", e.Addr, e.Stage, e.Reply)
}

// Temporary is true for a 4xx reply.
func (e *ServerError) Temporary() bool { return e.Reply.Temporary() }

// SendmailError says the sendmail command failed: it could not be started
// (ExitCode -1), or it exited with a non-zero status.
type SendmailError struct {
	Command  string
	ExitCode int
	Stderr   string // its error output, control characters removed
	Err      error
}

func (e *SendmailError) Error() string {
	msg := fmt.Sprintf("transport: %s", e.Command)
	switch {
	case e.ExitCode >= 0:
		msg += fmt.Sprintf(" exited with status %d", e.ExitCode)
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	}
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}
func (e *SendmailError) Unwrap() error { return e.Err }

// Temporary is true for the exit status EX_TEMPFAIL (75), which sendmail,
// msmtp and Postfix use for "try again later".
func (e *SendmailError) Temporary() bool { return e.ExitCode == 75 }

// SaveError says the message was sent but its copy could not be filed in
// the Sent folder. Do not send the message again.
type SaveError struct {
	Err error
}

func (e *SaveError) Error() string {
	return fmt.Sprintf("transport: the message was sent, but its copy could not be saved: %v", e.Err)
}
func (e *SaveError) Unwrap() error { return e.Err }
