package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// DefaultSendmailTimeout bounds a sendmail command unless
// [Sendmail.Timeout] says otherwise.
const DefaultSendmailTimeout = 5 * time.Minute

// Sendmail hands messages to a local command that speaks sendmail's
// interface: "sendmail -t -i", "msmtp -t", "msmtp -a work". The message
// goes to its standard input. When the command has no -t flag (read the
// recipients from the header), the envelope's recipients are added as
// arguments after "--". The command runs without a shell.
type Sendmail struct {
	// Command is the program and its arguments.
	Command []string
	// Timeout bounds one run; 0 means [DefaultSendmailTimeout].
	Timeout time.Duration
}

var _ Transport = (*Sendmail)(nil)

// NewSendmail returns a Sendmail transport for a command and its
// arguments.
func NewSendmail(command []string) (*Sendmail, error) {
	if len(command) == 0 || command[0] == "" {
		return nil, errors.New("transport: the sendmail command is empty")
	}
	return &Sendmail{Command: slices.Clone(command)}, nil
}

// readsHeaderRecipients reports whether the command line has sendmail's -t
// flag, alone or among other one-letter flags ("-ti", "-it").
func (s *Sendmail) readsHeaderRecipients() bool {
	for _, a := range s.Command[1:] {
		if a == "--" {
			return false
		}
		if a == "--read-recipients" {
			return true
		}
		if len(a) > 1 && a[0] == '-' && a[1] != '-' && strings.IndexByte(a[1:], 't') >= 0 && !strings.ContainsAny(a[1:], "=") {
			return true
		}
	}
	return false
}

// Send runs the command with msg on its standard input. A non-zero exit is
// a [SendmailError] that carries the command's error output. REQUIRETLS
// cannot be asked of a command, so an envelope that asks for it is
// refused.
func (s *Sendmail) Send(ctx context.Context, env *Envelope, msg io.Reader) error {
	if len(s.Command) == 0 || s.Command[0] == "" {
		return errors.New("transport: the sendmail command is empty")
	}
	name := strings.Join(s.Command, " ")
	if env != nil && env.RequireTLS {
		return fmt.Errorf("transport: REQUIRETLS cannot be requested through %q; use SMTP submission", name)
	}
	args := slices.Clone(s.Command[1:])
	if !s.readsHeaderRecipients() {
		if env == nil || len(env.To) == 0 {
			return fmt.Errorf("transport: %q needs recipients (or the -t flag)", name)
		}
		for _, a := range env.To {
			if err := checkAddress(a); err != nil {
				return err
			}
		}
		args = append(append(args, "--"), env.To...)
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = DefaultSendmailTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, s.Command[0], args...)
	cmd.Stdin = msg
	var stderr limitedBuffer
	stderr.limit = 64 << 10
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	cmd.WaitDelay = time.Second // for children that keep its output open
	err := cmd.Run()
	if err == nil {
		return nil
	}
	serr := &SendmailError{Command: name, ExitCode: -1, Stderr: cleanOutput(stderr.Bytes(), 1000), Err: err}
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		serr.Err = fmt.Errorf("timed out after %v", timeout)
	case ctx.Err() != nil:
		serr.Err = ctx.Err()
	case errors.As(err, &ee) && ee.Exited():
		serr.ExitCode = ee.ExitCode()
		serr.Err = nil
	}
	return serr
}

// limitedBuffer keeps the first limit bytes written to it and drops the
// rest, so that a chatty command cannot fill memory.
type limitedBuffer struct {
	bytes.Buffer
	limit int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// cleanOutput makes a command's output fit for an error message: valid
// UTF-8, lines joined with "; ", control characters removed, at most max
// bytes (the end kept, where the reason usually is).
func cleanOutput(b []byte, max int) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) || (r >= 0x200e && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
				return -1
			}
			return r
		}, l)
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	out := strings.Join(lines, "; ")
	if len(out) > max {
		cut := len(out) - max
		for cut < len(out) && !utf8.RuneStart(out[cut]) {
			cut++
		}
		out = "…" + out[cut:]
	}
	return out
}
