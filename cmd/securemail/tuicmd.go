package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/securemail/securemail/config"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/tui"
)

// tuiFlags are the flags of the interactive commands.
type tuiFlags struct {
	ascii   bool
	account string
}

func (f *tuiFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.ascii, "ascii", false, "draw badges and frames in ASCII only (the default when the locale is not UTF-8)")
	if cmd.Name() != "securemail" {
		return // the demo has its own account
	}
	// `securemail` alone opens an account of config.toml.
	cmd.Flags().StringVar(&f.account, "account", "", "open the account `NAME` of config.toml (default: default_account, else the first)")
}

// rootRunE is what `securemail` alone does: the TUI on the configured
// account, or, when there is none, the help and how to start.
func (c *cli) rootRunE(flags *tuiFlags) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return groupRunE(cmd, args)
		}
		home, err := c.homeDir()
		if err != nil {
			return err
		}
		override := os.Getenv("SECUREMAIL_MAILDIR")
		cfg, err := config.Load(home)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			cfg = nil
		case err != nil:
			return &exitError{code: exitUsage, err: err}
		default:
			for _, w := range cfg.Warnings {
				c.v.warnf("%s", safe(w))
			}
		}
		if cfg == nil || len(cfg.Accounts) == 0 {
			if flags.account != "" {
				return usageError("there is no account %q: %s has no accounts", flags.account, filepath.Join(home, config.FileName))
			}
			if override == "" {
				if err := cmd.Help(); err != nil {
					return err
				}
				c.v.infof("no mail account is configured")
				c.v.hintf("try 'securemail demo' (offline, throwaway), or 'securemail account add' (writes %s), or SECUREMAIL_MAILDIR=~/Maildir", filepath.Join(home, config.FileName))
				return nil
			}
			cfg = nil
		}
		return c.runTUI(cmd.Context(), cfg, flags, override)
	}
}

// openTimeout bounds each IMAP operation and each SMTP reply of the TUI.
const openTimeout = 30 * time.Second

// accounts opens the accounts of config.toml for the TUI, each once, and
// closes their mailboxes at the end.
type accounts struct {
	c   *cli
	cfg *config.Config
	// base is what every account's tui.Config starts from (the keystore,
	// the DNS, the terminal's settings).
	base   tui.Config
	dns    mailauth.DNS
	mu     sync.Mutex
	opened []mailbox.Mailbox
}

// open makes the TUI's configuration of an account: its mailbox (or the
// Maildir maildir, when not ""), its transport, address and trusted
// servers.
func (as *accounts) open(a *config.Account, maildir string) (tui.Config, error) {
	cfg := as.base
	var names []string
	if as.cfg != nil {
		for _, x := range as.cfg.Accounts {
			names = append(names, x.Name)
		}
	}
	cfg.Accounts = names
	var trustedAuthServ, trustedHops []string
	if a != nil {
		cfg.Account, cfg.Title = a.Name, a.Name
		if a.Address != "" {
			cfg.Me = &mail.Address{Name: a.DisplayName, Address: a.Address}
		}
		cfg.Drafts, cfg.Sent = a.Drafts(), a.Sent()
		cfg.NoSign, cfg.Encrypt = !a.SignByDefault(), a.EncryptMode()
		trustedAuthServ, trustedHops = a.TrustedAuthservIDs, a.TrustedHops
		tr, err := a.Transport(&config.OpenOptions{Timeout: openTimeout})
		switch {
		case errors.Is(err, config.ErrNoTransport):
		case err != nil:
			return cfg, fmt.Errorf("account %s: %w", a.Name, err)
		default:
			cfg.Transport = tr
		}
	}
	var mb mailbox.Mailbox
	var err error
	if maildir != "" {
		mb, err = mailbox.OpenMaildir(expandHome(maildir), nil)
		if err != nil {
			return cfg, usageError("the Maildir %s: %v", maildir, err)
		}
	} else {
		mb, err = a.OpenMailbox(&config.OpenOptions{Timeout: openTimeout})
		if err != nil {
			if p := a.MaildirPath(); p != "" {
				return cfg, usageError("the Maildir %s: %v", p, err)
			}
			return cfg, fmt.Errorf("account %s: %w", a.Name, err)
		}
	}
	as.mu.Lock()
	as.opened = append(as.opened, mb)
	as.mu.Unlock()
	cfg.Mailbox = mb
	if as.dns != nil {
		cfg.Auth = mailauth.NewEvaluator(&mailauth.Options{DNS: as.dns, TrustedAuthServIDs: trustedAuthServ, TrustedHops: trustedHops})
	}
	return cfg, nil
}

// close closes the mailboxes opened.
func (as *accounts) close() {
	as.mu.Lock()
	defer as.mu.Unlock()
	for _, mb := range as.opened {
		_ = mb.Close()
	}
	as.opened = nil
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[2:])
		}
	}
	return p
}

// runTUI opens the account (cfg's default, or --account) and runs the TUI
// on the terminal. maildir, when not "", replaces the account's mailbox
// (SECUREMAIL_MAILDIR); cfg may then be nil.
func (c *cli) runTUI(ctx context.Context, cfg *config.Config, flags *tuiFlags, maildir string) error {
	var acct *config.Account
	if cfg != nil {
		a, err := cfg.Account(flags.account)
		if err != nil {
			return &exitError{code: exitUsage, err: err}
		}
		acct = a
	}
	st, err := c.openStore()
	if err != nil {
		return err
	}
	as := &accounts{c: c, cfg: cfg, base: tui.Config{Store: st, ASCII: flags.ascii || tui.WantASCII(), Editor: tui.EditorFromEnv()}}
	defer as.close()
	if c.passphraseFile != "" {
		as.base.Passphrase = func(keystore.Entry) ([]byte, error) { return c.readPassphrase("", false) }
	}
	if dir, err := c.directory(); err == nil {
		as.base.Directory = dir
	} else {
		c.v.warnf("no DNS key lookups: %v", err)
	}
	if dns, err := c.authDNS(); err == nil {
		as.dns = dns
	} else {
		c.v.warnf("no DKIM/SPF/DMARC verdict: %v", err)
	}
	tcfg, err := as.open(acct, maildir)
	if err != nil {
		return err
	}
	if cfg != nil && len(cfg.Accounts) > 1 {
		tcfg.Switch = func(name string) (tui.Config, error) {
			a, err := cfg.Account(name)
			if err != nil {
				return tui.Config{}, err
			}
			return as.open(a, "")
		}
	}
	in, out, err := c.terminal()
	if err != nil {
		return err
	}
	return runProgram(ctx, tcfg, in, out)
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
