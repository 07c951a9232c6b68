package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/securemail/securemail/tui"
	"github.com/securemail/securemail/tui/demo"
)

func (c *cli) demoCommand() *cobra.Command {
	var flags tuiFlags
	var prepareOnly bool
	cmd := &cobra.Command{
		Use:   "demo [--home DIR] [--prepare-only] [--ascii]",
		Short: "Try securemail offline: a demo home and mailbox, then the mail client",
		Long: `demo builds a throwaway home (a keystore and a Maildir) in a temporary
directory, entirely offline, and opens the mail client on it. Everything in
it is made on the spot by securemail's own code: your identities and your
contacts' OpenPGP keys and S/MIME certificates (from a demo CA), and the
messages of its INBOX: PGP/MIME encrypted and signed, S/MIME signed and
AuthEnvelopedData, a newsletter passing DKIM, SPF and DMARC, a bank spoof
failing DMARC, a message signed by someone else than its sender, an
EFAIL-style wrapper around an encrypted part, a subject full of terminal
escapes, attachments. A DNSSEC-signed DNS hierarchy is served on loopback
for as long as the demo runs, with the contacts' SMIMEA and OPENPGPKEY
records and the senders' DKIM keys, SPF and DMARC policies.

Sent mail goes to the Outbox folder. The temporary home is removed when
you quit; with --home DIR it is kept (and opened again next time).
--prepare-only builds the home and prints its path instead of opening
the client (for scripts; the DNS is served only while a demo runs).
SECUREMAIL_HOME is never used by demo: only --home.`,
		Example: "  securemail demo\n  securemail demo --home /tmp/securemail-demo --prepare-only",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, temporary := c.home, false
			if home == "" {
				dir, err := os.MkdirTemp("", "securemail-demo-")
				if err != nil {
					return &exitError{code: exitTemporary, err: err}
				}
				home, temporary = dir, !prepareOnly
			}
			if temporary {
				defer os.RemoveAll(home)
			}
			// The TUI needs a terminal: find out before building anything.
			if !prepareOnly {
				if _, _, err := c.terminal(); err != nil {
					return err
				}
			}
			d, err := demo.Open(home, nil)
			if errors.Is(err, demo.ErrNotDemoHome) {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s is not empty and holds no demo", home), hint: "give --home an empty or new directory"}
			}
			if err != nil {
				return err
			}
			defer d.Close()
			if prepareOnly {
				if c.json {
					return writeJSON(c.stdout, map[string]any{"home": d.Home, "maildir": d.Maildir, "built": d.Built, "messages": len(demo.Messages)})
				}
				fmt.Fprintln(c.stdout, d.Home)
				if d.Built {
					c.v.infof("demo home built in %s (Maildir %s, %d messages)", d.Home, d.Maildir, len(demo.Messages))
				}
				c.v.hintf("open it with: securemail demo --home %s", d.Home)
				return nil
			}
			in, out, err := c.terminal()
			if err != nil {
				return err
			}
			cfg := demoConfig(d)
			cfg.ASCII = flags.ascii || tui.WantASCII()
			cfg.Editor = tui.EditorFromEnv()
			if err := runProgram(cmd.Context(), cfg, in, out); err != nil {
				return err
			}
			if temporary {
				c.v.infof("the demo home %s is removed; keep one with --home DIR", home)
			} else {
				c.v.infof("the demo home is in %s (sent mail: %s/.Outbox)", d.Home, d.Maildir)
			}
			return nil
		},
	}
	flags.add(cmd)
	cmd.Flags().BoolVar(&prepareOnly, "prepare-only", false, "build the demo home, print its path and exit (no terminal needed)")
	return cmd
}

// demoConfig is the mail client's configuration for a demo home.
func demoConfig(d *demo.Demo) tui.Config {
	return tui.Config{
		Mailbox:   d.Mailbox,
		Store:     d.Store,
		Directory: d.Directory,
		Auth:      d.Auth,
		Me:        d.Me,
		Title:     "demo",
		// The demo's DNS is on loopback: checking the rows' DKIM in the
		// background tells no one anything.
		CheckAuthInList: true,
		AttachmentDir:   filepath.Join(d.Home, "saved"),
	}
}
