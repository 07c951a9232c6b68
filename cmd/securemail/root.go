package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/keystore"
)

// cli holds the streams and the global flags of one run.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	home           string
	passphraseFile string
	resolver       string
	trustAnchor    string
	json           bool

	v          voice
	passphrase []byte                // read once per run
	dir        *securemail.Directory // made once per run (lookup.go)
	// dnsServerUsed is the resolver dir asks, "host:port".
	dnsServerUsed string
}

func (c *cli) run(args []string) int {
	c.v = voice{w: c.stderr}
	root := c.rootCommand()
	root.SetArgs(args)
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	if err := root.Execute(); err != nil {
		return c.v.report(err)
	}
	return exitOK
}

func (c *cli) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "securemail",
		Short: "End-to-end encrypted mail: OpenPGP and S/MIME, keys, and who really sent it",
		Long: `securemail reads and writes OpenPGP and S/MIME mail, keeps your keys and your
contacts' keys and certificates, and checks who really sent a message.
Alone, it opens the mail client on the default account of config.toml
(--account NAME for another); 'securemail demo' tries it offline.

Everything written for people goes to stderr; stdout carries only data.
Exit codes: 0 success, 1 security verdict failed, 2 usage or malformed
input, 3 key or certificate not found, 4 temporary failure.`,
		Example:       "  securemail keys generate --email alice@example.org --passphrase-file pw.txt",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
	}
	// Alone, securemail opens the mail client on the configured account
	// (tuicmd.go).
	var tf tuiFlags
	tf.add(root)
	root.RunE = c.rootRunE(&tf)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: exitUsage, err: err, hint: "see --help"}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&c.home, "home", "", "keystore and config directory (default $SECUREMAIL_HOME, else $XDG_CONFIG_HOME/securemail)")
	pf.StringVar(&c.passphraseFile, "passphrase-file", "", "read the passphrase for secret keys from the first line of `FILE`")
	pf.StringVar(&c.resolver, "resolver", "", "DNS server to ask, `HOST:PORT` (default $SECUREMAIL_RESOLVER, else the first nameserver of /etc/resolv.conf)")
	pf.StringVar(&c.trustAnchor, "trust-anchor", "", "DNSSEC trust anchors in zone-file syntax (`FILE`; default $SECUREMAIL_TRUST_ANCHOR, else the IANA root KSKs)")
	pf.BoolVar(&c.json, "json", false, "machine-readable output on stdout")
	root.AddCommand(c.versionCommand(), c.keysCommand(), c.openCommand(), c.mailboxCommand(),
		c.encryptCommand(), c.decryptCommand(), c.signCommand(), c.verifyCommand(), c.sopCommand())
	root.AddCommand(c.smimeaCommand(), c.daneCommand(), c.openpgpkeyCommand(), c.accountCommand())
	root.AddCommand(c.authCommand(), c.dkimCommand())
	root.AddCommand(c.demoCommand())
	root.InitDefaultCompletionCmd()
	for _, sub := range root.Commands() {
		if sub.Name() == "completion" {
			sub.Args, sub.RunE = cobra.ArbitraryArgs, groupRunE
		}
	}
	return root
}

// groupRunE runs a command that only groups others: without arguments it
// shows its help, with an unknown subcommand it is a usage error (exit 2).
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return &exitError{code: exitUsage, err: fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()), hint: "run '" + cmd.CommandPath() + " --help'"}
	}
	return cmd.Help()
}

func (c *cli) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version",
		Example: "  securemail version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := "devel"
			if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
				v = bi.Main.Version
			}
			if c.json {
				return writeJSON(c.stdout, map[string]string{"version": v, "go": runtime.Version()})
			}
			fmt.Fprintf(c.stdout, "securemail %s (%s %s/%s)\n", v, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// homeDir resolves the home: --home, SECUREMAIL_HOME, then
// $XDG_CONFIG_HOME/securemail (~/.config/securemail).
func (c *cli) homeDir() (string, error) {
	if c.home != "" {
		return c.home, nil
	}
	if h := os.Getenv("SECUREMAIL_HOME"); h != "" {
		return h, nil
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", usageError("cannot find a home for securemail: %v", err)
	}
	return filepath.Join(cfg, "securemail"), nil
}

// openStore opens the keystore in the home, warning when the home is
// readable by others (S55).
func (c *cli) openStore() (*keystore.Store, error) {
	home, err := c.homeDir()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, usageError("cannot create home %s: %v", home, err)
	}
	if w := keystore.HomeWarning(home); w != "" {
		c.v.warnf("%s", w)
	}
	return keystore.Open(filepath.Join(home, "keys"), nil)
}

// errNoTerminal is returned when a passphrase is needed, no file was given
// and there is no terminal to ask on.
var errNoTerminal = errors.New("a passphrase is needed: no --passphrase-file was given and there is no terminal to ask on")

// readPassphrase returns the passphrase: the first line of
// --passphrase-file, or asked on /dev/tty (twice when confirm is set).
// It is never taken from argv or an environment variable.
func (c *cli) readPassphrase(prompt string, confirm bool) ([]byte, error) {
	if c.passphrase != nil {
		return c.passphrase, nil
	}
	if c.passphraseFile != "" {
		data, err := os.ReadFile(c.passphraseFile)
		if err != nil {
			return nil, &keystore.PassphraseError{Err: fmt.Errorf("passphrase file: %v", err)}
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return nil, &keystore.PassphraseError{Err: fmt.Errorf("passphrase file %s: the first line is empty", c.passphraseFile)}
		}
		c.passphrase = line
		return line, nil
	}
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, &keystore.PassphraseError{Err: errNoTerminal}
	}
	defer tty.Close()
	if !term.IsTerminal(int(tty.Fd())) {
		return nil, &keystore.PassphraseError{Err: errNoTerminal}
	}
	ask := func(p string) ([]byte, error) {
		fmt.Fprintf(tty, "%s: ", p)
		pw, err := term.ReadPassword(int(tty.Fd()))
		fmt.Fprintln(tty)
		return pw, err
	}
	pw, err := ask(prompt)
	if err != nil {
		return nil, &keystore.PassphraseError{Err: err}
	}
	if len(pw) == 0 {
		return nil, &keystore.PassphraseError{Err: errors.New("empty passphrase")}
	}
	if confirm {
		again, err := ask("Repeat the passphrase")
		if err != nil {
			return nil, &keystore.PassphraseError{Err: err}
		}
		if !bytes.Equal(pw, again) {
			return nil, &keystore.PassphraseError{Err: errors.New("the passphrases do not match")}
		}
	}
	c.passphrase = pw
	return pw, nil
}

// confirm asks a yes/no question on /dev/tty; without a terminal the
// answer is no.
func (c *cli) confirm(question string) (bool, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return false, nil
	}
	defer tty.Close()
	fmt.Fprintf(tty, "%s [y/N] ", question)
	line, err := bufio.NewReader(tty).ReadString('\n')
	if err != nil && line == "" {
		return false, nil
	}
	return line == "y\n" || line == "yes\n" || line == "Y\n", nil
}
