package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"
)

// DefaultCommandTimeout bounds a password or token command unless the
// caller's context ends sooner: long enough to type a passphrase into a
// pinentry.
const DefaultCommandTimeout = 2 * time.Minute

// SecretError says a password or token could not be obtained. It never
// holds the secret.
type SecretError struct {
	Account string
	Source  string // "password_command", "password_file", "oauth_token_command"
	What    string // the command line or the file
	Err     error
	Stderr  string // a command's error output, cleaned
}

func (e *SecretError) Error() string {
	msg := fmt.Sprintf("config: account %q: %s %q", e.Account, e.Source, e.What)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}
func (e *SecretError) Unwrap() error { return e.Err }

// Password returns the password of a login of the account, from its
// password_command, password_file or (when allowed) the configuration
// itself. It is remembered for the life of the Account, so that
// reconnections do not run the command again.
func (a *Account) Password(ctx context.Context, l *Login) (string, error) {
	a.secretMu.Lock()
	defer a.secretMu.Unlock()
	if pw, ok := a.secrets[l]; ok {
		return pw, nil
	}
	var pw string
	var err error
	switch {
	case l.PasswordCommand != "":
		pw, err = a.runSecret(ctx, "password_command", l.PasswordCommand)
	case l.PasswordFile != "":
		pw, err = a.readSecretFile(l.PasswordFile)
	case l.Password != "" && l.AllowPasswordInConfig:
		pw = l.Password
	default:
		return "", &SecretError{Account: a.Name, Source: "password", Err: errors.New("no password_command, password_file or password is configured")}
	}
	if err != nil {
		return "", err
	}
	if a.secrets == nil {
		a.secrets = map[*Login]string{}
	}
	a.secrets[l] = pw
	return pw, nil
}

// Token runs the login's oauth_token_command and returns the access token.
// Tokens expire: it runs the command every time.
func (a *Account) Token(ctx context.Context, l *Login) (string, error) {
	if l.OAuthTokenCommand == "" {
		return "", &SecretError{Account: a.Name, Source: "oauth_token_command", Err: errors.New("not configured")}
	}
	return a.runSecret(ctx, "oauth_token_command", l.OAuthTokenCommand)
}

// runSecret runs a command line without a shell and returns the first
// line of its output.
func (a *Account) runSecret(ctx context.Context, source, cmdline string) (string, error) {
	fail := func(err error, stderr string) (string, error) {
		return "", &SecretError{Account: a.Name, Source: source, What: cmdline, Err: err, Stderr: stderr}
	}
	words, err := Words(cmdline)
	if err != nil {
		return fail(err, "")
	}
	if len(words) == 0 {
		return fail(errors.New("the command is empty"), "")
	}
	words[0] = a.cfg.resolveCommand(words[0])
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultCommandTimeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, words[0], words[1:]...)
	var stdout, stderr limited
	stdout.limit, stderr.limit = 64<<10, 16<<10
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return fail(errors.New("timed out"), clean(stderr.Bytes()))
	case ctx.Err() != nil:
		return fail(ctx.Err(), "")
	case errors.As(err, &ee) && ee.Exited():
		return fail(fmt.Errorf("exited with status %d", ee.ExitCode()), clean(stderr.Bytes()))
	case errors.Is(err, exec.ErrNotFound):
		return fail(fmt.Errorf("%s: command not found", words[0]), "")
	case err != nil:
		return fail(err, clean(stderr.Bytes()))
	}
	secret := firstLine(stdout.Bytes())
	if secret == "" {
		return fail(errors.New("printed nothing on its first line"), clean(stderr.Bytes()))
	}
	return secret, nil
}

// resolveCommand makes "~/bin/x" absolute; other names are looked up on
// PATH by exec.
func (c *Config) resolveCommand(name string) string {
	if strings.HasPrefix(name, "~/") {
		return c.resolve(name)
	}
	return name
}

// readSecretFile reads the first line of a password file after checking
// its mode.
func (a *Account) readSecretFile(name string) (string, error) {
	p := a.cfg.resolve(name)
	fail := func(err error) (string, error) {
		return "", &SecretError{Account: a.Name, Source: "password_file", What: p, Err: err}
	}
	if _, err := checkSecretFile(p); err != nil {
		return fail(err)
	}
	f, err := os.Open(p)
	if err != nil {
		return fail(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return fail(err)
	}
	secret := firstLine(data)
	if secret == "" {
		return fail(errors.New("the first line is empty"))
	}
	return secret, nil
}

// checkSecretFile refuses a password file that others can write or that
// is not a regular file, and returns a warning when others can read it.
func checkSecretFile(p string) (warning string, err error) {
	st, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("password_file %s is not a regular file", p)
	}
	perm := st.Mode().Perm()
	if perm&0o022 != 0 {
		return "", fmt.Errorf("password_file %s can be written by others (mode %04o): refusing it; run 'chmod 600 %s'", p, perm, p)
	}
	if perm&0o044 != 0 {
		return fmt.Sprintf("password_file %s can be read by others (mode %04o): run 'chmod 600 %s'", p, perm, p), nil
	}
	return "", nil
}

// firstLine returns the first line of b without its line end.
func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	return string(bytes.TrimSuffix(line, []byte("\r")))
}

// clean makes a command's error output fit for a message: one line,
// without control characters, at most 300 bytes (the end kept).
func clean(b []byte) string {
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return ' '
		case unicode.IsControl(r), r >= 0x200e && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		cut := len(s) - 300
		for cut < len(s) && s[cut]&0xc0 == 0x80 {
			cut++
		}
		s = "…" + s[cut:]
	}
	return s
}

// limited keeps the first limit bytes written to it.
type limited struct {
	bytes.Buffer
	limit int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.limit - l.Len(); room > 0 {
		l.Buffer.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// Words splits a command line into words as a POSIX shell would, without
// expanding anything: single quotes keep everything, double quotes keep
// everything but \" \\ \$ \`, a backslash outside quotes keeps the next
// character. Unbalanced quotes are an error.
func Words(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("a single quote is not closed")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case c == '"':
			inWord = true
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, errors.New("a double quote is not closed")
			}
		case c == '\\':
			inWord = true
			if i+1 >= len(s) {
				return nil, errors.New("a backslash ends the line")
			}
			i++
			cur.WriteByte(s[i])
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
