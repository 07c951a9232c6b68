package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
)

// Exit codes, CLI.md "Exit codes".
const (
	exitOK        = 0
	exitVerdict   = 1 // a security verdict failed
	exitUsage     = 2 // usage error or malformed input
	exitNotFound  = 3 // a needed key or certificate was not found
	exitTemporary = 4 // temporary failure
)

// exitError carries an exit code and an optional hint with an error.
type exitError struct {
	code int
	err  error
	hint string
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func withHint(err error, hint string) error {
	return &exitError{code: exitCode(err), err: err, hint: hint}
}

// exitCode maps an error to CLI.md's exit codes.
func exitCode(err error) int {
	var ee *exitError
	var notFound *keystore.NotFoundError
	var integrity *keystore.IntegrityError
	var rejected *keystore.RejectedError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &notFound):
		return exitNotFound
	case errors.As(err, &integrity), errors.As(err, &rejected):
		return exitVerdict
	}
	return exitUsage
}

// hintFor suggests what to do about the mistakes users make.
func hintFor(err error) string {
	var ee *exitError
	if errors.As(err, &ee) && ee.hint != "" {
		return ee.hint
	}
	var short *keystore.ShortKeyIDError
	var amb *keystore.AmbiguousError
	var pass *keystore.PassphraseError
	var notFound *keystore.NotFoundError
	switch {
	case errors.Is(err, keystore.ErrWrongPassphrase):
		return "check the passphrase (--passphrase-file reads its first line)"
	case errors.As(err, &short):
		return "run 'securemail keys list' and use the full fingerprint"
	case errors.As(err, &amb):
		return "run 'securemail keys list' and name the key by its fingerprint"
	case errors.As(err, &pass):
		return "give --passphrase-file FILE, or run in a terminal to be asked"
	case errors.As(err, &notFound):
		return "run 'securemail keys list' to see the keys you have"
	}
	return ""
}

// voice is the one place that writes messages for people (stderr).
type voice struct {
	w io.Writer
}

func (v voice) say(level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if level != "" {
		level += ": "
	}
	fmt.Fprintf(v.w, "securemail: %s%s\n", level, msg)
}

func (v voice) errorf(format string, args ...any) { v.say("error", format, args...) }
func (v voice) hintf(format string, args ...any)  { v.say("hint", format, args...) }
func (v voice) warnf(format string, args ...any)  { v.say("warning", format, args...) }
func (v voice) infof(format string, args ...any)  { v.say("", format, args...) }

// report prints err and its hint, and returns the exit code.
func (v voice) report(err error) int {
	msg := strings.ReplaceAll(err.Error(), "keystore: ", "")
	v.errorf("%s", safe(msg))
	if h := hintFor(err); h != "" {
		v.hintf("%s", h)
	}
	return exitCode(err)
}

// safe neutralises control characters, escapes and bidi overrides in a
// string that came from a key or a file before it reaches a terminal (S16,
// S25): the message package's one-line rule.
func safe(s string) string { return message.SafeLine(s) }
