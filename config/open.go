package config

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/transport"
)

// ErrNoTransport says an account has neither [account.smtp] nor
// [account.sendmail]: it does not send.
var ErrNoTransport = errors.New("config: the account has no outbound server ([account.smtp] or [account.sendmail])")

// OpenOptions tune [Account.OpenMailbox] and [Account.Transport]; nil
// means the defaults.
type OpenOptions struct {
	// TLSConfig is the base of the TLS configuration of both servers (an
	// account's ca_file replaces its RootCAs); nil means the system roots.
	TLSConfig *tls.Config
	// Timeout bounds each IMAP operation and each SMTP reply; 0 means the
	// packages' defaults.
	Timeout time.Duration
}

// CacheDir returns where the account's IMAP header cache and queue of
// offline changes live: HOME/cache/imap/NAME.
func (a *Account) CacheDir() string {
	if a.cfg == nil || a.cfg.Home == "" {
		return ""
	}
	return filepath.Join(a.cfg.Home, "cache", "imap", a.Name)
}

// MaildirPath returns the resolved path of the account's Maildir, "" when
// it reads from IMAP.
func (a *Account) MaildirPath() string {
	if a.Maildir == nil {
		return ""
	}
	return a.cfg.resolve(a.Maildir.Path)
}

// SendmailCommand returns the words of the sendmail command, nil when the
// account has none.
func (a *Account) SendmailCommand() []string {
	if a.Sendmail == nil {
		return nil
	}
	words, _ := Words(a.Sendmail.Command)
	if len(words) > 0 {
		words[0] = a.cfg.resolveCommand(words[0])
	}
	return words
}

// user returns the login name of a server.
func (a *Account) user(l *Login) string {
	if l.User != "" {
		return l.User
	}
	return a.Address
}

// smtpLogin returns how to log in to the SMTP server: its own settings,
// or those of the IMAP server when it has no password or token setting.
func (a *Account) smtpLogin() *Login {
	l := &a.SMTP.Login
	if l.PasswordCommand == "" && l.PasswordFile == "" && l.Password == "" && l.OAuthTokenCommand == "" && a.IMAP != nil {
		return &a.IMAP.Login
	}
	return l
}

func hasSecret(l *Login) bool {
	return l.PasswordCommand != "" || l.PasswordFile != "" || l.Password != "" || l.OAuthTokenCommand != ""
}

// tlsConfig returns the TLS configuration for a server.
func (a *Account) tlsConfig(s *Server, opts *OpenOptions) (*tls.Config, error) {
	var cfg *tls.Config
	if opts != nil && opts.TLSConfig != nil {
		cfg = opts.TLSConfig.Clone()
	}
	if s.CAFile == "" {
		return cfg, nil
	}
	p := a.cfg.resolve(s.CAFile)
	pem, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("config: account %q: ca_file: %w", a.Name, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("config: account %q: ca_file %s holds no PEM certificate", a.Name, p)
	}
	if cfg == nil {
		cfg = &tls.Config{}
	}
	cfg.RootCAs = pool
	return cfg, nil
}

func hostPort(s *Server) string {
	if s.Port == 0 {
		return s.Host
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

func startTLS(s *Server) bool { return strings.EqualFold(s.TLS, "starttls") }

// IMAPOptions returns the options of the account's IMAP mailbox:
// credentials from its password or token command or file, the header
// cache in [Account.CacheDir].
func (a *Account) IMAPOptions(opts *OpenOptions) (*mailbox.IMAPOptions, error) {
	if a.IMAP == nil {
		return nil, fmt.Errorf("config: account %q reads a Maildir, not IMAP", a.Name)
	}
	s := &a.IMAP.Server
	tc, err := a.tlsConfig(s, opts)
	if err != nil {
		return nil, err
	}
	o := &mailbox.IMAPOptions{
		Addr:      hostPort(s),
		StartTLS:  startTLS(s),
		TLSConfig: tc,
		Username:  a.user(&s.Login),
		Mechanism: s.Auth,
		CacheDir:  a.CacheDir(),
	}
	if opts != nil {
		o.Timeout = opts.Timeout
	}
	a.setSecrets(&s.Login, &o.Password, &o.Token)
	return o, nil
}

func (a *Account) setSecrets(l *Login, password, token *func(context.Context) (string, error)) {
	if l.OAuthTokenCommand != "" {
		*token = func(ctx context.Context) (string, error) { return a.Token(ctx, l) }
	} else {
		*password = func(ctx context.Context) (string, error) { return a.Password(ctx, l) }
	}
}

// OpenMailbox returns the account's mailbox: its Maildir, or its IMAP
// account (not yet connected: the first operation connects; an
// *mailbox.IMAP, which also implements mailbox.Watcher).
func (a *Account) OpenMailbox(opts *OpenOptions) (mailbox.Mailbox, error) {
	if a.Maildir != nil {
		return mailbox.OpenMaildir(a.MaildirPath(), nil)
	}
	o, err := a.IMAPOptions(opts)
	if err != nil {
		return nil, err
	}
	return mailbox.NewIMAP(o)
}

// SMTPOptions returns the options of the account's SMTP submission.
func (a *Account) SMTPOptions(opts *OpenOptions) (*transport.SMTPOptions, error) {
	if a.SMTP == nil {
		return nil, fmt.Errorf("config: account %q has no [account.smtp]", a.Name)
	}
	s := &a.SMTP.Server
	tc, err := a.tlsConfig(s, opts)
	if err != nil {
		return nil, err
	}
	o := &transport.SMTPOptions{
		Addr:       hostPort(s),
		StartTLS:   startTLS(s),
		TLSConfig:  tc,
		RequireTLS: a.SMTP.RequireTLS,
	}
	if opts != nil {
		o.CommandTimeout = opts.Timeout
	}
	if l := a.smtpLogin(); hasSecret(l) {
		o.Username = a.user(l)
		o.Mechanism = l.Auth
		if s.Auth != "" {
			o.Mechanism = s.Auth
		}
		a.setSecrets(l, &o.Password, &o.Token)
	}
	return o, nil
}

// Transport returns how the account sends: SMTP submission or its
// sendmail command; [ErrNoTransport] when it has neither.
func (a *Account) Transport(opts *OpenOptions) (transport.Transport, error) {
	switch {
	case a.SMTP != nil:
		o, err := a.SMTPOptions(opts)
		if err != nil {
			return nil, err
		}
		return transport.NewSMTP(o)
	case a.Sendmail != nil:
		return transport.NewSendmail(a.SendmailCommand())
	}
	return nil, ErrNoTransport
}
