package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// header begins a configuration file that securemail creates.
const header = `# securemail configuration: accounts, how to reach their servers, and
# what to sign and encrypt. See 'securemail account --help' and README.md.
`

// Marshal returns the TOML text of one account, as an [[account]] table
// and its sub-tables, in a fixed order.
func Marshal(a *Account) []byte {
	var b bytes.Buffer
	b.WriteString("[[account]]\n")
	str := func(key, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s = %s\n", key, tomlString(v))
		}
	}
	list := func(key string, vs []string) {
		if len(vs) == 0 {
			return
		}
		q := make([]string, len(vs))
		for i, v := range vs {
			q[i] = tomlString(v)
		}
		fmt.Fprintf(&b, "%s = [%s]\n", key, strings.Join(q, ", "))
	}
	str("name", a.Name)
	str("address", a.Address)
	str("display_name", a.DisplayName)
	str("pgp_key", a.PGPKey)
	str("smime_cert", a.SMIMECert)
	if a.Sign != nil {
		fmt.Fprintf(&b, "sign = %t\n", *a.Sign)
	}
	str("encrypt", a.Encrypt)
	str("scheme", a.Scheme)
	list("trusted_authserv_ids", a.TrustedAuthservIDs)
	list("trusted_hops", a.TrustedHops)
	str("sent_folder", a.SentFolder)
	str("drafts_folder", a.DraftsFolder)
	server := func(table string, s *Server, extra func()) {
		fmt.Fprintf(&b, "\n[account.%s]\n", table)
		str("host", s.Host)
		if s.Port != 0 {
			fmt.Fprintf(&b, "port = %d\n", s.Port)
		}
		str("tls", s.TLS)
		str("ca_file", s.CAFile)
		str("user", s.User)
		str("password_command", s.PasswordCommand)
		str("password_file", s.PasswordFile)
		str("oauth_token_command", s.OAuthTokenCommand)
		if s.Password != "" {
			str("password", s.Password)
			fmt.Fprintf(&b, "allow_password_in_config = %t\n", s.AllowPasswordInConfig)
		}
		str("auth", s.Auth)
		if extra != nil {
			extra()
		}
	}
	if a.IMAP != nil {
		server("imap", &a.IMAP.Server, nil)
	}
	if a.Maildir != nil {
		b.WriteString("\n[account.maildir]\n")
		str("path", a.Maildir.Path)
	}
	if a.SMTP != nil {
		server("smtp", &a.SMTP.Server, func() {
			if a.SMTP.RequireTLS {
				b.WriteString("require_tls = true\n")
			}
		})
	}
	if a.Sendmail != nil {
		b.WriteString("\n[account.sendmail]\n")
		str("command", a.Sendmail.Command)
	}
	return b.Bytes()
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// AppendAccount adds an account at the end of HOME/config.toml, creating
// the file (mode 0600, in a 0700 home) when there is none. The rest of the
// file, comments included, is kept as it is. The file must parse before
// and after: a name already used, or an account that does not validate, is
// an error and nothing is written. The new file replaces the old one
// atomically (a temporary file, synced, renamed).
func AppendAccount(home string, a *Account) (*Config, error) {
	path := filepath.Join(home, FileName)
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		old = []byte(header)
	case err != nil:
		return nil, fmt.Errorf("config: %w", err)
	default:
		cur, err := Load(home)
		if err != nil {
			return nil, fmt.Errorf("%w (fix the file before adding an account)", err)
		}
		if _, err := cur.Account(a.Name); err == nil && a.Name != "" {
			return nil, &ParseError{Path: path, Line: mustAccount(cur, a.Name).line, Msg: fmt.Sprintf("there is already an account called %q", a.Name)}
		}
	}
	next := bytes.Clone(old)
	if len(next) > 0 && !bytes.HasSuffix(next, []byte("\n")) {
		next = append(next, '\n')
	}
	next = append(next, '\n')
	next = append(next, Marshal(a)...)
	cfg, err := Parse(next, path, home)
	if err != nil {
		return nil, err
	}
	if err := writeAtomic(path, next); err != nil {
		return nil, err
	}
	return cfg, nil
}

func mustAccount(c *Config, name string) *Account {
	a, _ := c.Account(name)
	return a
}

// writeAtomic replaces path with data: a temporary file in the same
// directory (mode 0600), synced, renamed over it, the directory synced.
func writeAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	f, err := os.CreateTemp(dir, ".config-*.toml")
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("config: writing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
