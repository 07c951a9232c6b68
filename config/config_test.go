package config

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExample(t *testing.T) {
	cfg, err := Parse([]byte(Example), "config.toml", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %q", cfg.Warnings)
	}
	work, err := cfg.Account("")
	if err != nil || work.Name != "work" {
		t.Fatalf("default account: %v %v", work, err)
	}
	if work.IMAP.Host != "imap.example.org" || work.IMAP.PasswordCommand != "pass show mail/example.org" || work.SMTP.Host != "smtp.example.org" ||
		!work.SignByDefault() || work.EncryptMode() != EncryptWhenPossible || !slices.Equal(work.TrustedAuthservIDs, []string{"mx.example.org"}) ||
		work.Sent() != "Sent" || work.Drafts() != "Drafts" || work.Line() != 7 {
		t.Fatalf("work: %+v", work)
	}
	home, err := cfg.Account("home")
	if err != nil || home.Maildir == nil || !slices.Equal(home.SendmailCommand(), []string{"msmtp", "-a", "home", "-t"}) {
		t.Fatalf("home: %+v %v", home, err)
	}
	if _, err := cfg.Account("nope"); !errors.Is(err, ErrNoAccount) || !strings.Contains(err.Error(), "work, home") {
		t.Fatalf("unknown account: %v", err)
	}
	// Each account written back reads the same.
	for _, a := range cfg.Accounts {
		again, err := Parse(Marshal(a), "x.toml", "")
		if err != nil {
			t.Fatalf("Marshal(%s): %v\n%s", a.Name, err, Marshal(a))
		}
		b := again.Accounts[0]
		a.cfg, b.cfg, a.line, b.line = nil, nil, 0, 0
		if !reflect.DeepEqual(exported(a), exported(b)) {
			t.Fatalf("round trip of %s:\n%+v\n%+v", a.Name, a, b)
		}
	}
}

// exported returns the settings of an account, without its bookkeeping.
func exported(a *Account) []any {
	return []any{a.Name, a.Address, a.DisplayName, a.PGPKey, a.SMIMECert, a.Sign, a.Encrypt, a.Scheme, a.TrustedAuthservIDs, a.TrustedHops,
		a.SentFolder, a.DraftsFolder, a.IMAP, a.Maildir, a.SMTP, a.Sendmail}
}

const minimal = `[[account]]
name = "a"
address = "a@example.org"
[account.imap]
host = "imap.example.org"
password_command = "pass show a"
`

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, toml string
		line       int
		want       string
	}{
		{"unknown key", minimal + "hots = \"x\"\n", 7, `unknown key "account.imap.hots"`},
		{"unknown top key", "colour = 1\n" + minimal, 1, `unknown key "colour"`},
		{"wrong type", strings.Replace(minimal, `host = "imap.example.org"`, "port = \"993\"\nhost = \"h\"", 1), 5, "account.imap.port: a TOML string where an integer is expected"},
		{"syntax", "[[account]\n", 1, "expected ']]'"},
		{"duplicate key", strings.Replace(minimal, "name = \"a\"\n", "name = \"a\"\nname = \"b\"\n", 1), 3, "already defined"},
		{"no name", strings.Replace(minimal, "name = \"a\"\n", "", 1), 1, "no name"},
		{"bad name", strings.Replace(minimal, `name = "a"`, `name = "../x"`, 1), 2, "account name"},
		{"two accounts one name", minimal + minimal, 8, `a second account called "a"`},
		{"no address", strings.Replace(minimal, "address = \"a@example.org\"\n", "", 1), 1, "no address"},
		{"address with name", strings.Replace(minimal, `"a@example.org"`, `"A <a@example.org>"`, 1), 3, "not a bare mail address"},
		{"no inbound", "[[account]]\nname = \"a\"\naddress = \"a@example.org\"\n", 2, "no inbound"},
		{"imap and maildir", minimal + "[account.maildir]\npath = \"x\"\n", 7, "both [account.imap] and [account.maildir]"},
		{"smtp and sendmail", minimal + "[account.smtp]\nhost = \"s\"\n[account.sendmail]\ncommand = \"sendmail -t\"\n", 9, "both [account.smtp] and [account.sendmail]"},
		{"plaintext", strings.Replace(minimal, "[account.imap]\n", "[account.imap]\ntls = \"none\"\n", 1), 5, "never speaks to a mail server without TLS"},
		{"bad tls", strings.Replace(minimal, "[account.imap]\n", "[account.imap]\ntls = \"ssl\"\n", 1), 5, `tls must be "implicit" or "starttls"`},
		{"port in host", strings.Replace(minimal, `host = "imap.example.org"`, `host = "imap.example.org:993"`, 1), 5, "give the port in port"},
		{"port range", strings.Replace(minimal, "[account.imap]\n", "[account.imap]\nport = 99999\n", 1), 5, "out of range"},
		{"no password", strings.Replace(minimal, "password_command = \"pass show a\"\n", "", 1), 4, "needs password_command"},
		{"password in config", strings.Replace(minimal, `password_command = "pass show a"`, `password = "hunter2"`, 1), 6, "a password written in the configuration file is refused"},
		{"two sources", minimal + "password_file = \"/p\"\n", 4, "more than one of"},
		{"bad quotes", strings.Replace(minimal, `"pass show a"`, `"pass show 'a"`, 1), 6, "single quote is not closed"},
		{"token with plain", minimal + "[account.smtp]\nhost = \"s\"\noauth_token_command = \"t\"\nauth = \"plain\"\n", 10, "does not take an OAuth token"},
		{"bad auth", strings.Replace(minimal, "[account.imap]\n", "[account.imap]\nauth = \"cram-md5\"\n", 1), 5, "auth must be"},
		{"bad encrypt", strings.Replace(minimal, "[account.imap]", "encrypt = \"sometimes\"\n[account.imap]", 1), 4, "encrypt must be"},
		{"bad scheme", strings.Replace(minimal, "[account.imap]", "scheme = \"gpg\"\n[account.imap]", 1), 4, "scheme must be"},
		{"short key", strings.Replace(minimal, "[account.imap]", "pgp_key = \"DEADBEEF\"\n[account.imap]", 1), 4, "full fingerprint"},
		{"bad default", "default_account = \"b\"\n" + minimal, 1, `default_account "b" is not one of the accounts`},
		{"empty maildir", "[[account]]\nname = \"a\"\naddress = \"a@example.org\"\n[account.maildir]\n", 4, "needs a path"},
		{"empty sendmail", minimal + "[account.sendmail]\ncommand = \"\"\n", 8, "needs a command"},
		{"bad authserv-id", strings.Replace(minimal, "[account.imap]", "trusted_authserv_ids = [\"mx.example.org; x\"]\n[account.imap]", 1), 4, "is not an authserv-id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.toml), "c.toml", "")
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.toml)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("%T %v, want a ParseError", err, err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "config: c.toml:") {
				t.Fatalf("error %q (line %d), want line %d and %q", err, pe.Line, tc.line, tc.want)
			}
		})
	}
}

func TestPasswordInConfigInsisted(t *testing.T) {
	cfg, err := Parse([]byte(strings.Replace(minimal, `password_command = "pass show a"`, "password = \"hunter2\"\nallow_password_in_config = true", 1)), "c.toml", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "c.toml:6: the password of [account.imap] is written in the configuration file") {
		t.Fatalf("warnings %q", cfg.Warnings)
	}
	a, _ := cfg.Account("a")
	if pw, err := a.Password(context.Background(), &a.IMAP.Login); err != nil || pw != "hunter2" {
		t.Fatalf("Password = %q, %v", pw, err)
	}
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	sh := "/bin/sh"
	if _, err := os.Stat(sh); err != nil {
		t.Skip("no /bin/sh")
	}
	p := filepath.Join(t.TempDir(), "cmd")
	if err := os.WriteFile(p, []byte("#!"+sh+"\n"+body), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

func accountWith(t *testing.T, home, login string) *Account {
	t.Helper()
	cfg, err := Parse([]byte(strings.Replace(minimal, `password_command = "pass show a"`, login, 1)), "c.toml", home)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.Accounts[0]
}

func TestPasswordCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	ok := script(t, "echo run >> "+count+"\nprintf 'secret with spaces\\nsecond line\\n'\n")
	a := accountWith(t, dir, `password_command = "`+ok+` --arg 'quoted arg'"`)
	for range 2 {
		pw, err := a.Password(ctx, &a.IMAP.Login)
		if err != nil || pw != "secret with spaces" {
			t.Fatalf("Password = %q, %v", pw, err)
		}
	}
	if runs, _ := os.ReadFile(count); string(runs) != "run\n" {
		t.Fatalf("the command ran %q times: the password is remembered", runs)
	}

	for _, tc := range []struct {
		name, body, want string
	}{
		{"fails", "echo 'gpg: decryption failed: No secret key' >&2\nexit 2\n", "exited with status 2: gpg: decryption failed: No secret key"},
		{"empty", "echo\n", "printed nothing on its first line"},
		{"nothing", "exit 0\n", "printed nothing"},
		{"escape", "printf '\\033[2J\\033]0;evil\\007oops' >&2\nexit 1\n", "exited with status 1: [2J]0;eviloops"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := accountWith(t, dir, `password_command = "`+script(t, tc.body)+`"`)
			_, err := a.Password(ctx, &a.IMAP.Login)
			var se *SecretError
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\x1b") {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
			if se.Source != "password_command" || se.Account != "a" {
				t.Fatalf("SecretError %+v", se)
			}
		})
	}
	a = accountWith(t, dir, `password_command = "/nonexistent/pass show a"`)
	if _, err := a.Password(ctx, &a.IMAP.Login); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing command: %v", err)
	}
	a = accountWith(t, dir, `password_command = "securemail-no-such-command"`)
	if _, err := a.Password(ctx, &a.IMAP.Login); err == nil || !strings.Contains(err.Error(), "command not found") {
		t.Fatalf("command not on PATH: %v", err)
	}
	// No shell: a pipe is an argument, not a pipe.
	echo := script(t, "printf '%s|' \"$@\"\n")
	a = accountWith(t, dir, `password_command = "`+echo+` a | b $HOME"`)
	if pw, err := a.Password(ctx, &a.IMAP.Login); err != nil || pw != "a|||b|$HOME|" {
		t.Fatalf("no shell: %q %v", pw, err)
	}
	// A command that hangs is stopped.
	slow := script(t, "exec sleep 10\n")
	a = accountWith(t, dir, `password_command = "`+slow+`"`)
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := a.Password(tctx, &a.IMAP.Login); err == nil || !strings.Contains(err.Error(), "timed out") || time.Since(start) > 5*time.Second {
		t.Fatalf("slow command: %v after %v", err, time.Since(start))
	}
	// Tokens run every time.
	tok := script(t, "echo run >> "+count+"\necho tok-1\n")
	cfg, err := Parse([]byte(strings.Replace(minimal, `password_command = "pass show a"`, `oauth_token_command = "`+tok+`"`, 1)), "c.toml", dir)
	if err != nil {
		t.Fatal(err)
	}
	a = cfg.Accounts[0]
	os.Remove(count)
	for range 2 {
		if tk, err := a.Token(ctx, &a.IMAP.Login); err != nil || tk != "tok-1" {
			t.Fatalf("Token = %q, %v", tk, err)
		}
	}
	if runs, _ := os.ReadFile(count); string(runs) != "run\nrun\n" {
		t.Fatalf("token command runs: %q", runs)
	}
}

func TestPasswordFile(t *testing.T) {
	ctx := context.Background()
	home := t.TempDir()
	pw := filepath.Join(home, "work.pass")
	write := func(content string, mode os.FileMode) {
		if err := os.WriteFile(pw, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(pw, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("s3cret\r\nignored\n", 0o600)
	a := accountWith(t, home, `password_file = "work.pass"`) // relative to the home
	if len(a.cfg.Warnings) != 0 {
		t.Fatalf("warnings %q", a.cfg.Warnings)
	}
	if got, err := a.Password(ctx, &a.IMAP.Login); err != nil || got != "s3cret" {
		t.Fatalf("Password = %q, %v", got, err)
	}

	// World-readable: used, with a warning.
	write("s3cret\n", 0o644)
	a = accountWith(t, home, `password_file = "work.pass"`)
	if len(a.cfg.Warnings) != 1 || !strings.Contains(a.cfg.Warnings[0], "can be read by others (mode 0644): run 'chmod 600") || !strings.HasPrefix(a.cfg.Warnings[0], "c.toml:6: ") {
		t.Fatalf("warnings %q", a.cfg.Warnings)
	}
	if got, err := a.Password(ctx, &a.IMAP.Login); err != nil || got != "s3cret" {
		t.Fatalf("Password = %q, %v", got, err)
	}

	// Others can write it: refused, when parsing and when reading.
	write("s3cret\n", 0o666)
	_, err := Parse([]byte(strings.Replace(minimal, `password_command = "pass show a"`, `password_file = "`+pw+`"`, 1)), "c.toml", home)
	if err == nil || !strings.Contains(err.Error(), "can be written by others") {
		t.Fatalf("group/world-writable file: %v", err)
	}
	a.secrets = nil
	if _, err := a.Password(ctx, &a.IMAP.Login); err == nil || !strings.Contains(err.Error(), "refusing it") {
		t.Fatalf("reading a writable file: %v", err)
	}

	write("\nsecond\n", 0o600)
	a = accountWith(t, home, `password_file = "`+pw+`"`)
	if _, err := a.Password(ctx, &a.IMAP.Login); err == nil || !strings.Contains(err.Error(), "first line is empty") {
		t.Fatalf("empty first line: %v", err)
	}

	// Missing: a warning when parsing, an error when needed.
	a = accountWith(t, home, `password_file = "missing.pass"`)
	if len(a.cfg.Warnings) != 1 || !strings.Contains(a.cfg.Warnings[0], "does not exist") {
		t.Fatalf("warnings %q", a.cfg.Warnings)
	}
	if _, err := a.Password(ctx, &a.IMAP.Login); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestLoad(t *testing.T) {
	home := t.TempDir()
	if _, err := Load(home); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no file: %v", err)
	}
	path := filepath.Join(home, FileName)
	if err := os.WriteFile(path, []byte(minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(home)
	if err != nil || cfg.Path != path || len(cfg.Accounts) != 1 {
		t.Fatalf("Load: %+v %v", cfg, err)
	}
	os.Chmod(path, 0o666)
	if _, err := Load(home); err == nil || !strings.Contains(err.Error(), "others can write this file") {
		t.Fatalf("world-writable config: %v", err)
	}
	insisted := strings.Replace(minimal, `password_command = "pass show a"`, "password = \"hunter2\"\nallow_password_in_config = true", 1)
	os.WriteFile(path, []byte(insisted), 0o644)
	os.Chmod(path, 0o644)
	cfg, err = Load(home)
	if err != nil || len(cfg.Warnings) != 2 || !strings.Contains(cfg.Warnings[1], "others can read this file (mode 0644), which holds a password") {
		t.Fatalf("readable config with a password: %q %v", cfg.Warnings, err)
	}
}

func TestWords(t *testing.T) {
	for in, want := range map[string][]string{
		"pass show mail/example.org":        {"pass", "show", "mail/example.org"},
		`  sh  -c 'pass show x | head -1' `: {"sh", "-c", "pass show x | head -1"},
		`a "b c" d\ e "x\"y" 'it'"s"`:       {"a", "b c", "d e", `x"y`, "its"},
		`""`:                                {""},
		"":                                  nil,
		`"$HOME" \$x`:                       {"$HOME", "$x"},
	} {
		got, err := Words(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("Words(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := Words(bad); err == nil {
			t.Errorf("Words(%q) accepted", bad)
		}
	}
}

func TestAppendAccount(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	sign := false
	a := &Account{Name: "work", Address: "alice@example.org", DisplayName: `Alice "Al" Example`, Sign: &sign,
		TrustedAuthservIDs: []string{"mx.example.org"},
		IMAP:               &IMAP{Server{Host: "imap.example.org", Login: Login{PasswordCommand: "pass show 'mail/work'"}}},
		SMTP:               &SMTP{Server: Server{Host: "smtp.example.org", Port: 587, TLS: "starttls"}, RequireTLS: true}}
	cfg, err := AppendAccount(home, a)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(home, FileName))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("file mode: %v %v", st, err)
	}
	if d, _ := os.Stat(home); d.Mode().Perm() != 0o700 {
		t.Fatalf("home mode %v", d.Mode())
	}
	got, _ := cfg.Account("work")
	if got.DisplayName != a.DisplayName || got.SignByDefault() || !got.SMTP.RequireTLS || got.IMAP.PasswordCommand != "pass show 'mail/work'" {
		t.Fatalf("written: %+v", got)
	}

	// The user's comments stay; a second account goes after.
	path := filepath.Join(home, FileName)
	data, _ := os.ReadFile(path)
	os.WriteFile(path, append(data, "# my own note\n"...), 0o600)
	b := &Account{Name: "home", Address: "alice@home.example", Maildir: &Maildir{Path: "~/Maildir"}, Sendmail: &Sendmail{Command: "msmtp -t"}}
	if _, err := AppendAccount(home, b); err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(path)
	if !strings.Contains(string(data), "# my own note\n\n[[account]]\nname = \"home\"") {
		t.Fatalf("file:\n%s", data)
	}
	cfg, err = Load(home)
	if err != nil || len(cfg.Accounts) != 2 {
		t.Fatalf("Load: %v", err)
	}

	// Refused: a name in use, an account that does not validate. The
	// file is unchanged.
	if _, err := AppendAccount(home, b); err == nil || !strings.Contains(err.Error(), `already an account called "home"`) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := AppendAccount(home, &Account{Name: "x", Address: "x@example.org"}); err == nil || !strings.Contains(err.Error(), "no inbound") {
		t.Fatalf("invalid: %v", err)
	}
	if again, _ := os.ReadFile(path); string(again) != string(data) {
		t.Fatal("a refused account changed the file")
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".config-") {
			t.Fatalf("temporary file left: %s", e.Name())
		}
	}
}
