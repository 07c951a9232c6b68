package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/securemail/securemail/config"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/transport"
)

func (c *cli) accountCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Add, list and check the mail accounts of config.toml",
		Long: `account manages the accounts in HOME/config.toml: where mail is read
(IMAP, or a local Maildir), how it is sent (SMTP submission, or a sendmail
command), how the password is found, and what is signed and encrypted.`,
		Example: "  securemail account add\n  securemail account test work",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(c.accountAdd(), c.accountTest(), c.accountList())
	return cmd
}

// loadConfig reads the home's config.toml and prints its warnings.
func (c *cli) loadConfig() (*config.Config, error) {
	home, err := c.homeDir()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(home)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("there is no %s", filepath.Join(home, config.FileName)), hint: "run 'securemail account add' to create it"}
	}
	if err != nil {
		return nil, &exitError{code: exitUsage, err: err}
	}
	for _, w := range cfg.Warnings {
		c.v.warnf("%s", safe(w))
	}
	return cfg, nil
}

func (c *cli) accountList() *cobra.Command {
	return &cobra.Command{
		Use:     "list [--json]",
		Short:   "List the configured accounts",
		Long:    "list prints one line per account: its name (* for the default), address, where mail is read and how it is sent.",
		Example: "  securemail account list --json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			def, _ := cfg.Account("")
			var out []map[string]any
			for _, a := range cfg.Accounts {
				in, outb := inboundOf(a), outboundOf(a)
				if c.json {
					out = append(out, map[string]any{"name": a.Name, "address": a.Address, "default": a == def, "inbound": in, "outbound": outb, "sign": a.SignByDefault(), "encrypt": a.EncryptMode()})
					continue
				}
				mark := " "
				if a == def {
					mark = "*"
				}
				fmt.Fprintf(c.stdout, "%s %s\t%s\t%s\t%s\n", mark, safe(a.Name), safe(a.Address), safe(in), safe(outb))
			}
			if c.json {
				if out == nil {
					out = []map[string]any{}
				}
				return writeJSON(c.stdout, out)
			}
			return nil
		},
	}
}

// inboundOf and outboundOf describe where an account reads and sends.
func inboundOf(a *config.Account) string {
	switch {
	case a.IMAP != nil:
		return "imap " + serverAddr(&a.IMAP.Server, mailbox.PortIMAPS, mailbox.PortIMAP)
	case a.Maildir != nil:
		return "maildir " + a.MaildirPath()
	}
	return ""
}

func outboundOf(a *config.Account) string {
	switch {
	case a.SMTP != nil:
		return "smtp " + serverAddr(&a.SMTP.Server, transport.PortSubmissions, transport.PortSubmission)
	case a.Sendmail != nil:
		return "sendmail " + a.Sendmail.Command
	}
	return "none"
}

func serverAddr(s *config.Server, implicit, starttls int) string {
	port, mode := implicit, "implicit TLS"
	if strings.EqualFold(s.TLS, "starttls") {
		port, mode = starttls, "STARTTLS"
	}
	if s.Port != 0 {
		port = s.Port
	}
	return net.JoinHostPort(s.Host, strconv.Itoa(port)) + " (" + mode + ")"
}

// checkTimeout bounds each connection of 'account test'.
const checkTimeout = 30 * time.Second

func (c *cli) accountTest() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "test [NAME] [--json]",
		Short: "Connect to an account's servers and report",
		Long: `test connects to the account's IMAP server (or opens its Maildir) and its
SMTP submission server (or looks for its sendmail command), logs in, and
reports the TLS version, how it logged in and what the servers offer (IDLE,
REQUIRETLS). Nothing is sent. Without NAME it tests the default account.
Exit status: 0 all good, 1 TLS could not be set up (a certificate that does
not verify, STARTTLS missing), 2 a configuration or login problem, 4 a
server could not be reached.`,
		Example: "  securemail account test work",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := c.loadConfig()
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			a, err := cfg.Account(name)
			if err != nil {
				return usageError("%v", err)
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			in, inErr := c.testInbound(ctx, a)
			out, outErr := c.testOutbound(ctx, a)
			if c.json {
				if err := writeJSON(c.stdout, map[string]any{"account": a.Name, "inbound": in, "outbound": out}); err != nil {
					return err
				}
			}
			for _, err := range []error{inErr, outErr} {
				if err != nil {
					return err
				}
			}
			if !c.json {
				c.v.infof("account %s: all good", safe(a.Name))
			}
			return nil
		},
	}
	return cmd
}

// checkError wraps a failed check with CLI.md's exit code: 1 when TLS
// could not be set up, 4 when the server could not be reached, 2
// otherwise (login, configuration).
func checkError(what string, err error) error {
	code, hint := exitUsage, ""
	var se *config.SecretError
	switch {
	case errors.Is(err, mailbox.ErrTLS), errors.Is(err, transport.ErrTLS):
		code = exitVerdict
		hint = "the server's certificate must verify (ca_file for a private CA), and STARTTLS must be offered; never fall back to plaintext"
	case errors.Is(err, mailbox.ErrOffline), transport.Temporary(err):
		code = exitTemporary
		hint = "check the host and port, and the network"
	case errors.As(err, &se):
		hint = "run the password command by hand to see what it prints"
	case errors.Is(err, mailbox.ErrAuth), errors.Is(err, transport.ErrAuth):
		hint = "check the user name and the password (or token) the account's settings give"
	}
	return &exitError{code: code, err: fmt.Errorf("%s: %w", what, err), hint: hint}
}

// checkReport is the JSON of one side of 'account test'.
type checkReport struct {
	Kind         string   `json:"kind"` // "imap", "maildir", "smtp", "sendmail", "none"
	Addr         string   `json:"addr,omitempty"`
	TLSVersion   string   `json:"tls_version,omitempty"`
	CipherSuite  string   `json:"cipher_suite,omitempty"`
	StartTLS     bool     `json:"starttls,omitempty"`
	Mechanism    string   `json:"mechanism,omitempty"`
	Capabilities []string `json:"capabilities,omitempty"`
	IDLE         *bool    `json:"idle,omitempty"`
	RequireTLS   *bool    `json:"requiretls,omitempty"`
	Folders      *int     `json:"folders,omitempty"`
	Path         string   `json:"path,omitempty"`
	Error        *string  `json:"error"`
}

func (r *checkReport) fail(err error) error {
	msg := safe(err.Error())
	r.Error = &msg
	return err
}

func (c *cli) testInbound(ctx context.Context, a *config.Account) (*checkReport, error) {
	if a.Maildir != nil {
		r := &checkReport{Kind: "maildir", Path: a.MaildirPath()}
		md, err := mailbox.OpenMaildir(r.Path, nil)
		if err != nil {
			return r, r.fail(checkError("maildir", err))
		}
		defer md.Close()
		folders, err := md.Folders()
		if err != nil {
			return r, r.fail(checkError("maildir", err))
		}
		n := len(folders)
		r.Folders = &n
		c.sayCheck("maildir", "%s: %d folders", r.Path, n)
		return r, nil
	}
	r := &checkReport{Kind: "imap"}
	opts, err := a.IMAPOptions(&config.OpenOptions{Timeout: checkTimeout})
	if err != nil {
		return r, r.fail(checkError("imap", err))
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	m, err := mailbox.NewIMAP(opts)
	if err != nil {
		return r, r.fail(checkError("imap", err))
	}
	defer m.Close()
	r.Addr = m.Addr()
	st, err := m.Check(ctx)
	if err != nil {
		return r, r.fail(checkError("imap "+m.Addr(), err))
	}
	r.TLSVersion, r.CipherSuite, r.StartTLS, r.Mechanism, r.Capabilities = st.TLSVersion, st.CipherSuite, st.StartTLS, st.Mechanism, st.Capabilities
	idle := st.IDLE
	r.IDLE = &idle
	c.sayCheck("imap", "%s: %s (%s), %s", r.Addr, st.TLSVersion, st.CipherSuite, tlsMode(st.StartTLS))
	if st.DiscardedBeforeTLS > 0 {
		c.v.warnf("imap: the server sent %d bytes between its STARTTLS answer and the handshake; they were discarded, but a correct server sends none (an attack on the connection?)", st.DiscardedBeforeTLS)
	}
	c.sayCheck("imap", "logged in as %s with %s", opts.Username, st.Mechanism)
	c.sayCheck("imap", "IDLE %s, MOVE %s, UIDPLUS %s, CONDSTORE %s", yesNo(st.IDLE), yesNo(hasCap(st.Capabilities, "MOVE")), yesNo(hasCap(st.Capabilities, "UIDPLUS")), yesNo(hasCap(st.Capabilities, "CONDSTORE")))
	folders, err := m.Folders()
	if err != nil {
		return r, r.fail(checkError("imap "+m.Addr(), err))
	}
	n := len(folders)
	r.Folders = &n
	c.sayCheck("imap", "%d folders", n)
	if sent := a.Sent(); sent != "" && !slices.Contains(folders, sent) {
		c.v.warnf("imap: there is no folder %q for copies of sent mail (sent_folder); it is created on the first send", sent)
	}
	if q := m.Queued(); q > 0 {
		c.sayCheck("imap", "%d changes made offline were replayed", q)
	}
	return r, nil
}

func (c *cli) testOutbound(ctx context.Context, a *config.Account) (*checkReport, error) {
	switch {
	case a.Sendmail != nil:
		r := &checkReport{Kind: "sendmail"}
		words := a.SendmailCommand()
		p, err := exec.LookPath(words[0])
		if err != nil {
			return r, r.fail(checkError("sendmail", err))
		}
		r.Path = p
		c.sayCheck("sendmail", "%s found (not run)", p)
		return r, nil
	case a.SMTP == nil:
		c.sayCheck("smtp", "the account does not send ([account.smtp] or [account.sendmail])")
		return &checkReport{Kind: "none"}, nil
	}
	r := &checkReport{Kind: "smtp"}
	opts, err := a.SMTPOptions(&config.OpenOptions{Timeout: checkTimeout})
	if err != nil {
		return r, r.fail(checkError("smtp", err))
	}
	s, err := transport.NewSMTP(opts)
	if err != nil {
		return r, r.fail(checkError("smtp", err))
	}
	r.Addr = s.Addr()
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	rep, err := s.Check(ctx)
	if rep != nil {
		r.TLSVersion, r.CipherSuite, r.StartTLS, r.Mechanism = rep.TLSVersion, rep.CipherSuite, rep.StartTLS, rep.Mechanism
		for ext, param := range rep.Extensions {
			r.Capabilities = append(r.Capabilities, strings.TrimSpace(ext+" "+param))
		}
		slices.Sort(r.Capabilities)
		if rep.TLSVersion != "" {
			rt := rep.RequireTLS
			r.RequireTLS = &rt
		}
	}
	if err != nil {
		return r, r.fail(checkError("smtp "+s.Addr(), err))
	}
	c.sayCheck("smtp", "%s: %s (%s), %s", r.Addr, rep.TLSVersion, rep.CipherSuite, tlsMode(rep.StartTLS))
	if rep.DiscardedBeforeTLS > 0 {
		c.v.warnf("smtp: the server sent %d bytes between its STARTTLS answer and the handshake; they were discarded, but a correct server sends none (an attack on the connection?)", rep.DiscardedBeforeTLS)
	}
	if rep.Authenticated {
		c.sayCheck("smtp", "logged in as %s with %s", opts.Username, rep.Mechanism)
	} else {
		c.sayCheck("smtp", "no login configured (offered: %s)", strings.Join(rep.AuthMechanisms, " "))
	}
	c.sayCheck("smtp", "REQUIRETLS %s", offered(rep.RequireTLS))
	if a.SMTP.RequireTLS && !rep.RequireTLS {
		err := &exitError{code: exitUsage, err: fmt.Errorf("smtp %s: the server does not offer REQUIRETLS, which require_tls = true asks for: every message would be refused", s.Addr()),
			hint: "set require_tls = false in [account.smtp], or send through a server that offers REQUIRETLS"}
		return r, r.fail(err)
	}
	return r, nil
}

// sayCheck prints a line of 'account test' for people, unless --json.
func (c *cli) sayCheck(what, format string, args ...any) {
	if !c.json {
		c.v.infof("%s: %s", what, safe(fmt.Sprintf(format, args...)))
	}
}

func tlsMode(starttls bool) string {
	if starttls {
		return "STARTTLS"
	}
	return "implicit TLS"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func offered(b bool) string {
	if b {
		return "offered"
	}
	return "not offered"
}

func hasCap(caps []string, c string) bool {
	return slices.ContainsFunc(caps, func(x string) bool { return strings.EqualFold(x, c) })
}

// accountAnswers holds what 'account add' learnt from flags or answers.
type accountAnswers struct {
	name, address, displayName    string
	imap, imapTLS, imapUser       string
	maildir                       string
	smtp, smtpTLS, smtpUser       string
	sendmail                      string
	passwordCommand, passwordFile string
	tokenCommand                  string
	requireTLS                    bool
	yes, print                    bool
	changed                       func(flag string) bool
	asker                         *asker
}

func (c *cli) accountAdd() *cobra.Command {
	var ans accountAnswers
	cmd := &cobra.Command{
		Use:   "add [flags]",
		Short: "Add an account to config.toml, asking for what the flags do not give",
		Long: `add walks through a new account: your address, where mail is read (an IMAP
server, or a local Maildir), where it is sent (an SMTP submission server, or
a sendmail command) and how the password is found (a command such as
'pass show mail/example.org', or a file of mode 0600; the password itself
is never written to config.toml). It asks on the terminal, or reads one
answer per line from standard input when there is none; with --yes it asks
nothing and takes the flags. The account is added at the end of
HOME/config.toml, which keeps the rest of its text.`,
		Example: `  securemail account add
  securemail account add --yes --name work --address alice@example.org \
      --imap imap.example.org --smtp smtp.example.org:587 --smtp-tls starttls \
      --password-command 'pass show mail/example.org'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ans.changed = cmd.Flags().Changed
			if !ans.yes {
				a, err := c.newAsker()
				if err != nil {
					return err
				}
				defer a.close()
				ans.asker = a
			}
			acct, err := ans.build()
			if err != nil {
				return err
			}
			text := config.Marshal(acct)
			if ans.print {
				_, err := c.stdout.Write(text)
				return err
			}
			home, err := c.homeDir()
			if err != nil {
				return err
			}
			path := filepath.Join(home, config.FileName)
			if ans.asker != nil {
				ans.asker.show("\n" + string(text) + "\n")
				ok, err := ans.asker.yesNo("Add this account to "+path+"?", true)
				if err != nil {
					return err
				}
				if !ok {
					return &exitError{code: exitUsage, err: errors.New("nothing was written")}
				}
			}
			cfg, err := config.AppendAccount(home, acct)
			if err != nil {
				return usageError("%v", err)
			}
			for _, w := range cfg.Warnings {
				c.v.warnf("%s", safe(w))
			}
			c.v.infof("account %s added to %s", safe(acct.Name), safe(path))
			c.v.hintf("check it with 'securemail account test %s'", safe(acct.Name))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ans.name, "name", "", "the account's `NAME` (default: the domain of the address)")
	f.StringVar(&ans.address, "address", "", "your mail `ADDRESS`")
	f.StringVar(&ans.displayName, "display-name", "", "your `NAME` in From")
	f.StringVar(&ans.imap, "imap", "", "IMAP server, `HOST[:PORT]`")
	f.StringVar(&ans.imapTLS, "imap-tls", "", "IMAP TLS `MODE`: implicit (port 993) or starttls (143)")
	f.StringVar(&ans.imapUser, "imap-user", "", "IMAP login `NAME` (default: the address)")
	f.StringVar(&ans.maildir, "maildir", "", "read a local Maildir at `PATH` instead of IMAP")
	f.StringVar(&ans.smtp, "smtp", "", "SMTP submission server, `HOST[:PORT]`")
	f.StringVar(&ans.smtpTLS, "smtp-tls", "", "SMTP TLS `MODE`: implicit (port 465) or starttls (587)")
	f.StringVar(&ans.smtpUser, "smtp-user", "", "SMTP login `NAME` (default: as for IMAP)")
	f.BoolVar(&ans.requireTLS, "require-tls", false, "send every message with REQUIRETLS (RFC 8689)")
	f.StringVar(&ans.sendmail, "sendmail", "", "send with this `COMMAND` instead of SMTP (\"sendmail -t -i\", \"msmtp -t\")")
	f.StringVar(&ans.passwordCommand, "password-command", "", "`COMMAND` that prints the password (\"pass show mail/example.org\")")
	f.StringVar(&ans.passwordFile, "password-file", "", "`FILE` whose first line is the password (mode 0600)")
	f.StringVar(&ans.tokenCommand, "oauth-token-command", "", "`COMMAND` that prints an OAuth 2 access token")
	f.BoolVar(&ans.yes, "yes", false, "ask nothing: take the flags, fail when one is missing")
	f.BoolVar(&ans.print, "print", false, "print the account's TOML on stdout instead of adding it")
	return cmd
}

// get returns a flag's value, or asks for it (with a default) when the
// flag was not given and there is someone to ask.
func (ans *accountAnswers) get(flag, value, question, def string, required bool) (string, error) {
	if ans.changed(flag) || ans.asker == nil {
		if value == "" {
			value = def
		}
		if value == "" && required {
			return "", &exitError{code: exitUsage, err: fmt.Errorf("--%s is required with --yes", flag)}
		}
		return value, nil
	}
	for {
		v, err := ans.asker.ask(question, def)
		if err != nil {
			return "", err
		}
		if v != "" || !required {
			return v, nil
		}
		ans.asker.show("an answer is needed\n")
	}
}

func (ans *accountAnswers) build() (*config.Account, error) {
	address, err := ans.get("address", ans.address, "Your mail address", "", true)
	if err != nil {
		return nil, err
	}
	domain := ""
	if i := strings.LastIndexByte(address, '@'); i >= 0 {
		domain = strings.ToLower(address[i+1:])
	}
	a := &config.Account{Address: address}
	if a.DisplayName, err = ans.get("display-name", ans.displayName, "Your name (shown in From; may be empty)", "", false); err != nil {
		return nil, err
	}
	if a.Name, err = ans.get("name", ans.name, "A name for this account", domain, true); err != nil {
		return nil, err
	}

	// Inbound: IMAP unless a Maildir is given.
	imapDef := ""
	if domain != "" && !ans.changed("maildir") {
		imapDef = "imap." + domain
	}
	imapHost := ans.imap
	if !ans.changed("maildir") {
		if imapHost, err = ans.get("imap", ans.imap, "IMAP server, host or host:port ('none' to read a local Maildir instead)", imapDef, false); err != nil {
			return nil, err
		}
	}
	if imapHost == "" || strings.EqualFold(imapHost, "none") {
		path, err := ans.get("maildir", ans.maildir, "Maildir path", "~/Maildir", true)
		if err != nil {
			return nil, err
		}
		a.Maildir = &config.Maildir{Path: path}
	} else {
		srv, err := ans.server("imap", imapHost, ans.imapTLS, 143)
		if err != nil {
			return nil, err
		}
		if srv.User, err = ans.get("imap-user", ans.imapUser, "IMAP user name", address, false); err != nil {
			return nil, err
		}
		if srv.User == address {
			srv.User = ""
		}
		if err := ans.login(&srv.Login, domain); err != nil {
			return nil, err
		}
		a.IMAP = &config.IMAP{Server: *srv}
	}

	// Outbound: SMTP unless a sendmail command is given.
	smtpDef := ""
	if domain != "" && !ans.changed("sendmail") {
		smtpDef = "smtp." + domain
	}
	smtpHost := ans.smtp
	if !ans.changed("sendmail") {
		if smtpHost, err = ans.get("smtp", ans.smtp, "SMTP submission server, host or host:port ('sendmail' to send with a local command)", smtpDef, false); err != nil {
			return nil, err
		}
	}
	switch {
	case strings.EqualFold(smtpHost, "sendmail") || ans.changed("sendmail"):
		cmd, err := ans.get("sendmail", ans.sendmail, "Sendmail command", "sendmail -t -i", true)
		if err != nil {
			return nil, err
		}
		a.Sendmail = &config.Sendmail{Command: cmd}
	case smtpHost != "" && !strings.EqualFold(smtpHost, "none"):
		srv, err := ans.server("smtp", smtpHost, ans.smtpTLS, 587)
		if err != nil {
			return nil, err
		}
		user, err := ans.get("smtp-user", ans.smtpUser, "SMTP user name", "", false)
		if err != nil {
			return nil, err
		}
		if user == address {
			user = ""
		}
		srv.User = user
		switch {
		case a.IMAP == nil:
			// No IMAP login to share: SMTP gets its own.
			if err := ans.login(&srv.Login, domain); err != nil {
				return nil, err
			}
		case user != "" && user != a.IMAP.User:
			// Another user than IMAP's: the config would otherwise log in
			// as the IMAP user; give it the same password source.
			srv.PasswordCommand, srv.PasswordFile, srv.OAuthTokenCommand = a.IMAP.PasswordCommand, a.IMAP.PasswordFile, a.IMAP.OAuthTokenCommand
		}
		requireTLS := ans.requireTLS
		if !ans.changed("require-tls") && ans.asker != nil {
			if requireTLS, err = ans.asker.yesNo("Ask for REQUIRETLS (RFC 8689: TLS on every hop) for every message?", false); err != nil {
				return nil, err
			}
		}
		a.SMTP = &config.SMTP{Server: *srv, RequireTLS: requireTLS}
	}
	return a, nil
}

// server reads "host[:port]" and the TLS mode (asked, with a default that
// follows the port: STARTTLS on starttlsPort).
func (ans *accountAnswers) server(kind, hostport, tlsMode string, starttlsPort int) (*config.Server, error) {
	s := &config.Server{Host: hostport}
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		port, err := strconv.Atoi(p)
		if err != nil || port <= 0 || port > 65535 {
			return nil, usageError("%s server %q: bad port", kind, hostport)
		}
		s.Host, s.Port = h, port
	}
	def := "implicit"
	if s.Port == starttlsPort {
		def = "starttls"
	}
	mode, err := ans.get(kind+"-tls", tlsMode, strings.ToUpper(kind)+" TLS: implicit or starttls", def, true)
	if err != nil {
		return nil, err
	}
	mode = strings.ToLower(mode)
	if mode != "implicit" && mode != "starttls" {
		return nil, usageError("%s TLS mode %q: say implicit or starttls (there is no plaintext)", kind, mode)
	}
	if mode == "starttls" {
		s.TLS = mode
	}
	return s, nil
}

// login fills in how the password (or token) is found.
func (ans *accountAnswers) login(l *config.Login, domain string) error {
	switch {
	case ans.passwordCommand != "":
		l.PasswordCommand = ans.passwordCommand
		return nil
	case ans.passwordFile != "":
		l.PasswordFile = ans.passwordFile
		return nil
	case ans.tokenCommand != "":
		l.OAuthTokenCommand = ans.tokenCommand
		return nil
	case ans.asker == nil:
		return &exitError{code: exitUsage, err: errors.New("--password-command, --password-file or --oauth-token-command is required with --yes")}
	}
	def := ""
	if domain != "" {
		def = "pass show mail/" + domain
	}
	v, err := ans.get("password-command", "", "How is the password found? A command that prints it, or file:PATH for a file of mode 0600, or token:COMMAND for an OAuth 2 token command", def, true)
	if err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(v, "file:"):
		l.PasswordFile = strings.TrimPrefix(v, "file:")
	case strings.HasPrefix(v, "token:"):
		l.OAuthTokenCommand = strings.TrimPrefix(v, "token:")
	default:
		l.PasswordCommand = v
	}
	return nil
}

// asker asks questions on the terminal, or reads answers line by line from
// standard input when there is no terminal.
type asker struct {
	in    *bufio.Reader
	out   io.Writer
	tty   *os.File
	stdin bool
}

func (c *cli) newAsker() (*asker, error) {
	if tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0); err == nil {
		if term.IsTerminal(int(tty.Fd())) {
			return &asker{in: bufio.NewReader(tty), out: tty, tty: tty}, nil
		}
		tty.Close()
	}
	return &asker{in: bufio.NewReader(c.stdin), out: c.stderr, stdin: true}, nil
}

func (a *asker) close() {
	if a.tty != nil {
		a.tty.Close()
	}
}

func (a *asker) show(s string) { fmt.Fprint(a.out, s) }

// ask asks a question and returns the answer, or def for an empty one.
func (a *asker) ask(question, def string) (string, error) {
	if def != "" {
		fmt.Fprintf(a.out, "%s [%s]: ", question, def)
	} else {
		fmt.Fprintf(a.out, "%s: ", question)
	}
	line, err := a.in.ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		if a.stdin {
			fmt.Fprintln(a.out)
			return "", &exitError{code: exitUsage, err: fmt.Errorf("no answer to %q: standard input ended", question), hint: "give the answers one per line, or use flags with --yes"}
		}
		return "", err
	}
	if a.stdin {
		fmt.Fprintln(a.out)
	}
	line = strings.TrimSpace(line)
	if line == "" {
		return def, nil
	}
	return line, nil
}

func (a *asker) yesNo(question string, def bool) (bool, error) {
	d := "y/N"
	if def {
		d = "Y/n"
	}
	for {
		v, err := a.ask(question+" ("+d+")", "")
		if err != nil {
			return false, err
		}
		switch strings.ToLower(v) {
		case "":
			return def, nil
		case "y", "yes":
			return true, nil
		case "n", "no":
			return false, nil
		}
	}
}
