package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pelletier/go-toml/v2"
)

// FileName is the name of the configuration file in the home.
const FileName = "config.toml"

// Config is a parsed config.toml.
type Config struct {
	// DefaultAccount names the account used when none is named; "" means
	// the first one.
	DefaultAccount string `toml:"default_account"`
	// Accounts in the order of the file.
	Accounts []*Account `toml:"account"`

	// Path is the file the configuration was read from ("" when parsed
	// from memory); Home the directory relative paths are resolved in and
	// caches are kept in.
	Path string `toml:"-"`
	Home string `toml:"-"`
	// Warnings are what the user should know but that does not stop the
	// configuration from being used: a password written in the file, a
	// password file others can read. Each begins with "FILE:LINE: ".
	Warnings []string `toml:"-"`
}

// Account is one mail account: who the user is there, where mail comes
// from (IMAP or a Maildir) and how it leaves (SMTP submission or a
// sendmail command).
type Account struct {
	// Name identifies the account ("work"): letters, digits, '.', '_'
	// and '-'.
	Name string `toml:"name"`
	// Address is the user's address, the From of new messages, and
	// DisplayName the name that goes with it.
	Address     string `toml:"address"`
	DisplayName string `toml:"display_name"`
	// PGPKey and SMIMECert choose the user's own keys by full fingerprint
	// (as 'securemail keys list' shows them); empty means the keystore's
	// key for Address.
	PGPKey    string `toml:"pgp_key"`
	SMIMECert string `toml:"smime_cert"`

	// Sign says whether new messages are signed (default true); Encrypt
	// when they are encrypted: "when-possible" (every recipient has a
	// key; the default), "always" (refuse to send otherwise) or "never".
	// Scheme picks "pgp" or "smime"; "" lets each message decide.
	Sign    *bool  `toml:"sign"`
	Encrypt string `toml:"encrypt"`
	Scheme  string `toml:"scheme"`

	// TrustedAuthservIDs are the authserv-ids of the Authentication-Results
	// fields to believe (your own inbound servers, matched exactly);
	// TrustedHops the host names your inbound servers give in the "by"
	// clause of their Received fields (for SPF).
	TrustedAuthservIDs []string `toml:"trusted_authserv_ids"`
	TrustedHops        []string `toml:"trusted_hops"`

	// SentFolder receives a copy of each message sent ("Sent"; "-" for
	// none); DraftsFolder holds drafts ("Drafts").
	SentFolder   string `toml:"sent_folder"`
	DraftsFolder string `toml:"drafts_folder"`

	// Inbound: exactly one of IMAP and Maildir.
	IMAP    *IMAP    `toml:"imap"`
	Maildir *Maildir `toml:"maildir"`
	// Outbound: at most one of SMTP and Sendmail (none: the account does
	// not send).
	SMTP     *SMTP     `toml:"smtp"`
	Sendmail *Sendmail `toml:"sendmail"`

	cfg  *Config
	line int // of its [[account]] header

	secretMu sync.Mutex
	secrets  map[*Login]string // passwords obtained, for reconnections
}

// Server is where a server is and how to reach it.
type Server struct {
	Host string `toml:"host"`
	// Port 0 means the protocol's default for the TLS mode (IMAP 993 or
	// 143, SMTP 465 or 587).
	Port int `toml:"port"`
	// TLS is "implicit" (the default: TLS from the first byte) or
	// "starttls" (plaintext, upgraded; the server must offer it). There
	// is no plaintext mode.
	TLS string `toml:"tls"`
	// CAFile is a PEM file of the CA certificates to trust for this
	// server instead of the system's (a private server).
	CAFile string `toml:"ca_file"`
	Login
}

// Login says how to log in to a server.
type Login struct {
	// User is the login name; "" means the account's address.
	User string `toml:"user"`
	// PasswordCommand prints the password on its first line of output
	// ("pass show mail/example.org"). It runs without a shell: write
	// "sh -c '…'" for pipes or variables.
	PasswordCommand string `toml:"password_command"`
	// PasswordFile holds the password on its first line; it must not be
	// writable by others, and should not be readable by them (mode 0600).
	PasswordFile string `toml:"password_file"`
	// Password written in the configuration file itself is refused unless
	// AllowPasswordInConfig is set (and then warned about).
	Password              string `toml:"password"`
	AllowPasswordInConfig bool   `toml:"allow_password_in_config"`
	// OAuthTokenCommand prints an OAuth 2 access token (OAUTHBEARER or
	// XOAUTH2), such as "oama access alice@example.org".
	OAuthTokenCommand string `toml:"oauth_token_command"`
	// Auth forces a SASL mechanism: "plain", "login", "oauthbearer" or
	// "xoauth2"; "" chooses from what the server offers.
	Auth string `toml:"auth"`
}

// IMAP is an IMAP account (RFC 9051).
type IMAP struct {
	Server
}

// SMTP is a submission server (RFC 6409). Without any password or token
// setting, it logs in as the IMAP server of the account does.
type SMTP struct {
	Server
	// RequireTLS sends every message with REQUIRETLS (RFC 8689): the
	// server must offer it, and pass the message on only over TLS.
	RequireTLS bool `toml:"require_tls"`
}

// Maildir is a local Maildir++ directory (as Dovecot, mbsync, offlineimap
// keep them).
type Maildir struct {
	// Path is the Maildir's root; "~/" is the user's home directory, and
	// a relative path is relative to the securemail home.
	Path string `toml:"path"`
}

// Sendmail is a local command that sends mail as sendmail does.
type Sendmail struct {
	// Command is the command line, "sendmail -t -i" or "msmtp -t",
	// split into words like a shell would (quotes, backslashes) but run
	// without one.
	Command string `toml:"command"`
}

// ParseError is a mistake in a configuration file, at a line (0 when
// unknown).
type ParseError struct {
	Path string
	Line int
	Msg  string
}

func (e *ParseError) Error() string {
	p := e.Path
	if p == "" {
		p = FileName
	}
	if e.Line > 0 {
		return fmt.Sprintf("config: %s:%d: %s", p, e.Line, e.Msg)
	}
	return fmt.Sprintf("config: %s: %s", p, e.Msg)
}

// ErrNoAccount is matched by the error of [Config.Account] for a name
// that is not configured.
var ErrNoAccount = errors.New("config: no such account")

// NoAccountError says an account is not configured.
type NoAccountError struct {
	Name  string
	Path  string
	Known []string
}

func (e *NoAccountError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("config: %s configures no account", e.Path)
	}
	msg := fmt.Sprintf("config: no account %q in %s", e.Name, e.Path)
	if len(e.Known) > 0 {
		msg += " (there are " + strings.Join(e.Known, ", ") + ")"
	}
	return msg
}

// Is reports whether target is [ErrNoAccount].
func (e *NoAccountError) Is(target error) bool { return target == ErrNoAccount }

// Load reads HOME/config.toml. A missing file is an error that matches
// fs.ErrNotExist. A file that others can write is refused: its password
// commands would run as the user.
func Load(home string) (*Config, error) {
	path := filepath.Join(home, FileName)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("config: %s is not a regular file", path)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return nil, &ParseError{Path: path, Msg: fmt.Sprintf("others can write this file (mode %04o), and its commands run as you: run 'chmod go-w %s'", st.Mode().Perm(), path)}
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("config: %s: %w", path, err)
	}
	cfg, err := Parse(buf.Bytes(), path, home)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o044 != 0 {
		for _, a := range cfg.Accounts {
			for _, l := range a.logins() {
				if l.Password != "" {
					cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("%s: others can read this file (mode %04o), which holds a password: run 'chmod 600 %s'", path, st.Mode().Perm(), path))
					return cfg, nil
				}
			}
		}
	}
	return cfg, nil
}

// Parse reads a configuration from data, strictly: an unknown key, a
// value of the wrong type, a missing or contradictory setting is a
// [ParseError] with its line. path names the file in messages; home is
// the directory relative paths are resolved in.
func Parse(data []byte, path, home string) (*Config, error) {
	cfg := &Config{Path: path, Home: home}
	dec := toml.NewDecoder(bytes.NewReader(data)).DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return nil, decodeError(err, path)
	}
	idx := indexLines(data)
	for i, a := range cfg.Accounts {
		if a == nil {
			return nil, &ParseError{Path: path, Msg: "an empty account"}
		}
		a.cfg = cfg
		a.line = idx.accountLine(i)
	}
	if err := cfg.validate(idx); err != nil {
		return nil, err
	}
	return cfg, nil
}

var goType = regexp.MustCompile(`cannot decode TOML (\w+) into struct field \S+ of type (\S+)`)

// decodeError turns go-toml's errors into ParseErrors with lines, in
// words without Go types.
func decodeError(err error, path string) error {
	var sme *toml.StrictMissingError
	if errors.As(err, &sme) {
		var errs []error
		for _, e := range sme.Errors {
			line, _ := e.Position()
			errs = append(errs, &ParseError{Path: path, Line: line, Msg: fmt.Sprintf("unknown key %q", strings.Join(e.Key(), "."))})
		}
		return errors.Join(errs...)
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, _ := de.Position()
		msg := strings.TrimPrefix(de.Error(), "toml: ")
		if m := goType.FindStringSubmatch(msg); m != nil {
			msg = fmt.Sprintf("a TOML %s where %s is expected", m[1], typeWords(m[2]))
		}
		if k := de.Key(); len(k) > 0 && !strings.Contains(msg, "already defined") {
			msg = strings.Join(k, ".") + ": " + msg
		}
		return &ParseError{Path: path, Line: line, Msg: msg}
	}
	return &ParseError{Path: path, Msg: err.Error()}
}

func typeWords(goType string) string {
	switch strings.TrimPrefix(goType, "*") {
	case "string":
		return "a string"
	case "int", "int64":
		return "an integer"
	case "bool":
		return "true or false"
	case "[]string":
		return "a list of strings"
	}
	if strings.HasPrefix(goType, "[]") {
		return "a list"
	}
	return "a table"
}

// Account returns the account called name; "" means the default account
// (default_account, else the first).
func (c *Config) Account(name string) (*Account, error) {
	if name == "" {
		name = c.DefaultAccount
	}
	var known []string
	for _, a := range c.Accounts {
		if name == "" || a.Name == name {
			return a, nil
		}
		known = append(known, a.Name)
	}
	return nil, &NoAccountError{Name: name, Path: c.Path, Known: known}
}

// logins returns the logins the account has.
func (a *Account) logins() []*Login {
	var out []*Login
	if a.IMAP != nil {
		out = append(out, &a.IMAP.Login)
	}
	if a.SMTP != nil {
		out = append(out, &a.SMTP.Login)
	}
	return out
}

// Line returns the line of the account's [[account]] header.
func (a *Account) Line() int { return a.line }

// SignByDefault reports whether new messages are signed.
func (a *Account) SignByDefault() bool { return a.Sign == nil || *a.Sign }

// EncryptMode returns when new messages are encrypted: "when-possible",
// "always" or "never".
func (a *Account) EncryptMode() string {
	if a.Encrypt == "" {
		return EncryptWhenPossible
	}
	return a.Encrypt
}

// Encryption modes of [Account.Encrypt].
const (
	EncryptWhenPossible = "when-possible"
	EncryptAlways       = "always"
	EncryptNever        = "never"
)

// Sent returns the folder that receives copies of sent messages, "" for
// none.
func (a *Account) Sent() string {
	switch a.SentFolder {
	case "":
		return "Sent"
	case "-":
		return ""
	}
	return a.SentFolder
}

// Drafts returns the folder of drafts.
func (a *Account) Drafts() string {
	if a.DraftsFolder == "" {
		return "Drafts"
	}
	return a.DraftsFolder
}

// lineIndex finds the line of a key: account index, table ("" for the
// account itself, "imap", "smtp", …) and key.
type lineIndex struct {
	accounts []int            // line of each [[account]]
	keys     []map[string]int // per account: "table.key" -> line
	top      map[string]int   // keys before the first [[account]]
}

var (
	arrayHeader = regexp.MustCompile(`^\s*\[\[\s*account\s*\]\]`)
	tableHeader = regexp.MustCompile(`^\s*\[\s*account\s*\.\s*([A-Za-z0-9_-]+)\s*\]`)
	otherHeader = regexp.MustCompile(`^\s*\[`)
	keyLine     = regexp.MustCompile(`^\s*([A-Za-z0-9_.-]+)\s*=`)
)

// indexLines records where each key is written (for messages about
// values, which the TOML decoder does not place).
func indexLines(data []byte) *lineIndex {
	idx := &lineIndex{top: map[string]int{}}
	table := ""
	cur := -1
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		switch {
		case arrayHeader.MatchString(line):
			idx.accounts = append(idx.accounts, n)
			idx.keys = append(idx.keys, map[string]int{})
			cur, table = len(idx.accounts)-1, ""
		case tableHeader.MatchString(line):
			table = tableHeader.FindStringSubmatch(line)[1]
			if cur >= 0 {
				if _, ok := idx.keys[cur][table]; !ok {
					idx.keys[cur][table] = n
				}
			}
		case otherHeader.MatchString(line):
			table = "?"
		default:
			m := keyLine.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			key := m[1]
			if table != "" {
				key = table + "." + key
			}
			if cur < 0 {
				if _, ok := idx.top[key]; !ok {
					idx.top[key] = n
				}
			} else if _, ok := idx.keys[cur][key]; !ok {
				idx.keys[cur][key] = n
			}
		}
	}
	return idx
}

func (idx *lineIndex) accountLine(i int) int {
	if i < len(idx.accounts) {
		return idx.accounts[i]
	}
	return 0
}

// line returns the line of key in account i, else of the table, else of
// the account.
func (idx *lineIndex) line(i int, key string) int {
	if i < 0 {
		return idx.top[key]
	}
	if i < len(idx.keys) {
		if n, ok := idx.keys[i][key]; ok {
			return n
		}
		if t, _, ok := strings.Cut(key, "."); ok {
			if n, ok := idx.keys[i][t]; ok {
				return n
			}
		}
	}
	return idx.accountLine(i)
}

var accountName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*$`)
var hexFingerprint = regexp.MustCompile(`^[0-9A-Fa-f]+$`)

func (c *Config) validate(idx *lineIndex) error {
	var errs []error
	fail := func(i int, key, format string, args ...any) {
		errs = append(errs, &ParseError{Path: c.Path, Line: idx.line(i, key), Msg: fmt.Sprintf(format, args...)})
	}
	warn := func(i int, key, format string, args ...any) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("%s:%d: %s", c.Path, idx.line(i, key), fmt.Sprintf(format, args...)))
	}
	names := map[string]bool{}
	for i, a := range c.Accounts {
		switch {
		case a.Name == "":
			fail(i, "name", "the account has no name")
		case !accountName.MatchString(a.Name) || len(a.Name) > 64:
			fail(i, "name", "account name %q: use letters, digits, '.', '_' and '-' (it names a directory)", a.Name)
		case names[a.Name]:
			fail(i, "name", "a second account called %q", a.Name)
		}
		names[a.Name] = true
		if a.Address == "" {
			fail(i, "address", "account %q has no address", a.Name)
		} else if addr, err := mail.ParseAddress(a.Address); err != nil || addr.Address != a.Address {
			fail(i, "address", "address %q is not a bare mail address (put the name in display_name)", a.Address)
		}
		if a.PGPKey != "" && (!hexFingerprint.MatchString(a.PGPKey) || (len(a.PGPKey) != 40 && len(a.PGPKey) != 64)) {
			fail(i, "pgp_key", "pgp_key must be a full fingerprint (40 or 64 hex digits), as 'securemail keys list' shows it")
		}
		if a.SMIMECert != "" && (!hexFingerprint.MatchString(a.SMIMECert) || len(a.SMIMECert) != 64) {
			fail(i, "smime_cert", "smime_cert must be a full SHA-256 fingerprint (64 hex digits), as 'securemail keys list' shows it")
		}
		if !slices.Contains([]string{"", EncryptWhenPossible, EncryptAlways, EncryptNever}, a.Encrypt) {
			fail(i, "encrypt", "encrypt must be %q, %q or %q", EncryptWhenPossible, EncryptAlways, EncryptNever)
		}
		if !slices.Contains([]string{"", "pgp", "smime"}, a.Scheme) {
			fail(i, "scheme", `scheme must be "pgp" or "smime" (or left out)`)
		}
		for _, id := range a.TrustedAuthservIDs {
			if id == "" || strings.ContainsAny(id, " \t;") {
				fail(i, "trusted_authserv_ids", "%q is not an authserv-id", id)
			}
		}
		for _, h := range a.TrustedHops {
			if h == "" || strings.ContainsAny(h, " \t;()") {
				fail(i, "trusted_hops", "%q is not a host name", h)
			}
		}
		switch {
		case a.IMAP == nil && a.Maildir == nil:
			fail(i, "name", "account %q has no inbound: add an [account.imap] or [account.maildir] table", a.Name)
		case a.IMAP != nil && a.Maildir != nil:
			fail(i, "maildir", "account %q has both [account.imap] and [account.maildir]: keep one", a.Name)
		}
		if a.SMTP != nil && a.Sendmail != nil {
			fail(i, "sendmail", "account %q has both [account.smtp] and [account.sendmail]: keep one", a.Name)
		}
		if a.Maildir != nil && a.Maildir.Path == "" {
			fail(i, "maildir", "[account.maildir] needs a path")
		}
		if a.Sendmail != nil {
			if words, err := Words(a.Sendmail.Command); err != nil {
				fail(i, "sendmail.command", "sendmail command: %v", err)
			} else if len(words) == 0 {
				fail(i, "sendmail.command", "[account.sendmail] needs a command, such as \"sendmail -t -i\"")
			}
		}
		for _, srv := range []struct {
			table string
			s     *Server
		}{{"imap", serverOf(a.IMAP)}, {"smtp", smtpServer(a.SMTP)}} {
			if srv.s == nil {
				continue
			}
			t := srv.table
			s := srv.s
			if s.Host == "" {
				fail(i, t, "[account.%s] needs a host", t)
			} else if strings.ContainsAny(s.Host, " /:[]\t") && !isIPv6(s.Host) {
				fail(i, t+".host", "host %q: give the port in port, not in host", s.Host)
			}
			if s.Port < 0 || s.Port > 65535 {
				fail(i, t+".port", "port %d is out of range", s.Port)
			}
			switch strings.ToLower(s.TLS) {
			case "", "implicit", "starttls":
			case "none", "plain", "plaintext", "off", "no":
				fail(i, t+".tls", "tls = %q: securemail never speaks to a mail server without TLS; use \"implicit\" or \"starttls\"", s.TLS)
			default:
				fail(i, t+".tls", "tls must be \"implicit\" or \"starttls\"")
			}
			c.validateLogin(i, t, &s.Login, srv.table == "imap", fail, warn)
		}
	}
	if c.DefaultAccount != "" && !names[c.DefaultAccount] {
		fail(-1, "default_account", "default_account %q is not one of the accounts", c.DefaultAccount)
	}
	return errors.Join(errs...)
}

func serverOf(i *IMAP) *Server {
	if i == nil {
		return nil
	}
	return &i.Server
}

func smtpServer(s *SMTP) *Server {
	if s == nil {
		return nil
	}
	return &s.Server
}

func isIPv6(h string) bool { return strings.Count(h, ":") >= 2 && !strings.ContainsAny(h, " /[]") }

func (c *Config) validateLogin(i int, t string, l *Login, required bool, fail, warn func(int, string, string, ...any)) {
	sources := 0
	for _, set := range []bool{l.PasswordCommand != "", l.PasswordFile != "", l.Password != "", l.OAuthTokenCommand != ""} {
		if set {
			sources++
		}
	}
	if sources > 1 {
		fail(i, t, "[account.%s] has more than one of password_command, password_file, password and oauth_token_command: keep one", t)
	}
	if sources == 0 && required {
		fail(i, t, "[account.%s] needs password_command, password_file or oauth_token_command", t)
	}
	if l.PasswordCommand != "" {
		if _, err := Words(l.PasswordCommand); err != nil {
			fail(i, t+".password_command", "password_command: %v", err)
		}
	}
	if l.OAuthTokenCommand != "" {
		if _, err := Words(l.OAuthTokenCommand); err != nil {
			fail(i, t+".oauth_token_command", "oauth_token_command: %v", err)
		}
	}
	if l.Password != "" {
		if !l.AllowPasswordInConfig {
			fail(i, t+".password", "a password written in the configuration file is refused: use password_command (e.g. \"pass show mail/example.org\") or password_file, or set allow_password_in_config = true if you insist")
		} else {
			warn(i, t+".password", "the password of [account.%s] is written in the configuration file; password_command or password_file keep it out of it", t)
		}
	}
	if l.PasswordFile != "" {
		p := c.resolve(l.PasswordFile)
		if w, err := checkSecretFile(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				warn(i, t+".password_file", "password_file %s does not exist (yet)", p)
			} else {
				fail(i, t+".password_file", "%v", err)
			}
		} else if w != "" {
			warn(i, t+".password_file", "%s", w)
		}
	}
	switch strings.ToLower(l.Auth) {
	case "", "plain", "login":
		if l.OAuthTokenCommand != "" && l.Auth != "" {
			fail(i, t+".auth", "auth = %q does not take an OAuth token: use \"oauthbearer\" or \"xoauth2\"", l.Auth)
		}
	case "oauthbearer", "xoauth2":
		if l.OAuthTokenCommand == "" && (l.PasswordCommand != "" || l.PasswordFile != "" || l.Password != "") {
			fail(i, t+".auth", "auth = %q needs oauth_token_command", l.Auth)
		}
	default:
		fail(i, t+".auth", "auth must be \"plain\", \"login\", \"oauthbearer\" or \"xoauth2\"")
	}
}

// resolve expands "~/" to the user's home and makes a relative path
// relative to the securemail home.
func (c *Config) resolve(p string) string {
	if rest, ok := strings.CutPrefix(p, "~/"); ok || p == "~" {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, rest)
		}
	}
	if !filepath.IsAbs(p) && c.Home != "" {
		return filepath.Join(c.Home, p)
	}
	return p
}
