package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/tui"
)

// tuiFlags are the flags of the interactive commands.
type tuiFlags struct {
	ascii bool
}

func (f *tuiFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.ascii, "ascii", false, "draw badges and frames in ASCII only (the default when the locale is not UTF-8)")
}

// rootRunE is what `securemail` alone does: the TUI on the configured
// account, or, when there is none, the help and how to start.
func (c *cli) rootRunE(flags *tuiFlags) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return groupRunE(cmd, args)
		}
		acct, err := c.account()
		if err != nil {
			return err
		}
		if acct.maildir == "" {
			if err := cmd.Help(); err != nil {
				return err
			}
			c.v.infof("no mail account is configured")
			c.v.hintf("try 'securemail demo' (offline, throwaway), or name your Maildir: maildir = \"~/Maildir\" in %s, or SECUREMAIL_MAILDIR", acct.configPath)
			return nil
		}
		return c.runTUI(cmd.Context(), acct, flags)
	}
}

// account is the mail account the TUI opens.
type account struct {
	maildir    string
	from       string
	configPath string
	// trustedAuthServ and trustedHops are the user's own inbound servers,
	// for the DKIM/SPF/DMARC verdict (as auth's --trusted-authserv and
	// --trusted-hop).
	trustedAuthServ, trustedHops []string
}

// account reads the account from SECUREMAIL_MAILDIR or the home's
// config.toml. Until the configuration file has its full form (a later
// issue), these keys are read from it, in TOML's key = "string" form:
//
//	maildir = "~/Maildir"                 # the Maildir the TUI opens
//	from = "Alice <alice@example.org>"    # the address new mail is from
//	trusted_authserv = "mx.example.org"   # Authentication-Results to believe (comma-separated)
//	trusted_hop = "mx.example.org"        # your inbound servers, for SPF (comma-separated)
//
// Other lines are ignored.
func (c *cli) account() (account, error) {
	home, err := c.homeDir()
	if err != nil {
		return account{}, err
	}
	a := account{configPath: filepath.Join(home, "config.toml")}
	f, err := os.Open(a.configPath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return a, usageError("reading %s: %v", a.configPath, err)
	default:
		defer f.Close()
		vals, err := readConfig(io.LimitReader(f, 1<<20))
		if err != nil {
			return a, usageError("%s: %v", a.configPath, err)
		}
		a.maildir, a.from = vals["maildir"], vals["from"]
		if a.maildir != "" && !filepath.IsAbs(a.maildir) && !strings.HasPrefix(a.maildir, "~/") {
			// Relative to the configuration file.
			a.maildir = filepath.Join(home, a.maildir)
		}
		a.trustedAuthServ, a.trustedHops = commaList(vals["trusted_authserv"]), commaList(vals["trusted_hop"])
	}
	if env := os.Getenv("SECUREMAIL_MAILDIR"); env != "" {
		a.maildir = env
	}
	if strings.HasPrefix(a.maildir, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			a.maildir = filepath.Join(h, a.maildir[2:])
		}
	}
	return a, nil
}

func commaList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// readConfig reads the top-level `key = "string"` lines of a TOML file:
// comments and blank lines are skipped, a [table] header ends the top
// level, other value types are ignored.
func readConfig(r io.Reader) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") {
			break
		}
		key, val, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key = value", n)
		}
		key, val = strings.TrimSpace(key), strings.TrimSpace(val)
		if !strings.HasPrefix(val, `"`) {
			continue
		}
		end := closingQuote(val)
		if end < 0 {
			return nil, fmt.Errorf("line %d: unterminated string", n)
		}
		s, err := strconv.Unquote(val[:end+1])
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if rest := strings.TrimSpace(val[end+1:]); rest != "" && !strings.HasPrefix(rest, "#") {
			return nil, fmt.Errorf("line %d: unexpected %q after the value", n, rest)
		}
		out[key] = s
	}
	return out, sc.Err()
}

// closingQuote finds the quote that ends a basic string starting at 0.
func closingQuote(s string) int {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return -1
}

// runTUI opens the account's Maildir and runs the TUI on the terminal.
func (c *cli) runTUI(ctx context.Context, a account, flags *tuiFlags) error {
	md, err := mailbox.OpenMaildir(a.maildir, nil)
	if err != nil {
		return usageError("the Maildir %s: %v", a.maildir, err)
	}
	defer md.Close()
	st, err := c.openStore()
	if err != nil {
		return err
	}
	cfg := tui.Config{Mailbox: md, Store: st, ASCII: flags.ascii || tui.WantASCII(), Editor: tui.EditorFromEnv()}
	if a.from != "" {
		addr, err := mail.ParseAddress(a.from)
		if err != nil {
			return usageError("from = %q in %s: %v", a.from, a.configPath, err)
		}
		cfg.Me = addr
	}
	in, out, err := c.terminal()
	if err != nil {
		return err
	}
	if c.passphraseFile != "" {
		cfg.Passphrase = func(keystore.Entry) ([]byte, error) { return c.readPassphrase("", false) }
	}
	if dir, err := c.directory(); err == nil {
		cfg.Directory = dir
	} else {
		c.v.warnf("no DNS key lookups: %v", err)
	}
	if dns, err := c.authDNS(); err == nil {
		cfg.Auth = mailauth.NewEvaluator(&mailauth.Options{DNS: dns, TrustedAuthServIDs: a.trustedAuthServ, TrustedHops: a.trustedHops})
	} else {
		c.v.warnf("no DKIM/SPF/DMARC verdict: %v", err)
	}
	return runProgram(ctx, cfg, in, out)
}

// terminal returns the terminal the TUI runs on: standard input and
// output, which must both be one.
func (c *cli) terminal() (*os.File, *os.File, error) {
	in, ok1 := c.stdin.(*os.File)
	out, ok2 := c.stdout.(*os.File)
	if !ok1 || !ok2 || !term.IsTerminal(int(in.Fd())) || !term.IsTerminal(int(out.Fd())) {
		return nil, nil, &exitError{code: exitUsage, err: errors.New("the interactive mail client needs a terminal"),
			hint: "run it in a terminal; 'securemail demo --prepare-only' builds the demo without one"}
	}
	return in, out, nil
}

func runProgram(ctx context.Context, cfg tui.Config, in, out *os.File) error {
	if ctx == nil {
		ctx = context.Background()
	}
	err := tui.Run(ctx, cfg, tea.WithInput(in), tea.WithOutput(out))
	if errors.Is(err, tea.ErrProgramKilled) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
