package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/securemail/securemail/keystore"
)

func (c *cli) keysCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage your keys and your contacts' keys and certificates",
		Long: `Your own secret keys (identities) and your contacts' OpenPGP keys and X.509
certificates live in the keystore under --home. Secret keys are sealed with
your passphrase (Argon2id + AES-256-GCM) unless you asked otherwise.`,
		Example: "  securemail keys list --json",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(c.keysGenerate(), c.keysList(), c.keysImport(), c.keysExport(), c.keysDelete(), c.keysTrust())
	return cmd
}

func (c *cli) keysGenerate() *cobra.Command {
	var req keystore.GenerateRequest
	var noPass bool
	var expires string
	cmd := &cobra.Command{
		Use:   "generate --email ADDR [--name NAME] [--pgp] [--smime] [--algo ALGO] [--no-passphrase]",
		Short: "Make an OpenPGP key and/or a self-signed S/MIME certificate for your address",
		Long: `generate makes your own keys. With neither --pgp nor --smime it makes both.
OpenPGP keys are Ed25519 with a Curve25519 encryption subkey (v4, usable by
GnuPG 2.2) unless --algo says rsa3072, rsa4096 or p256. The S/MIME
certificate is self-signed (emailProtection, the address as rfc822Name SAN),
RSA-3072 unless --algo says rsa4096 or p256: good for testing, or to hand to
a CA; certificates issued by a CA arrive with 'keys import'.`,
		Example: "  securemail keys generate --email alice@example.org --name Alice --passphrase-file pw.txt",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Email == "" {
				return usageError("--email is required")
			}
			lifetime, err := parseLifetime(expires)
			if err != nil {
				return err
			}
			req.Lifetime = lifetime
			if err := req.Validate(); err != nil {
				return err
			}
			s, err := c.openStore()
			if err != nil {
				return err
			}
			if noPass {
				req.NoPassphrase = true
				c.v.warnf("the secret keys will be stored WITHOUT a passphrase: anyone who can read %s can use them", s.Dir())
			} else {
				pw, err := c.readPassphrase("Passphrase for the new keys", true)
				if err != nil {
					return err
				}
				req.Passphrase = pw
			}
			res, err := s.Generate(req)
			if err != nil {
				return err
			}
			json := c.json
			c.json = false // the JSON of generate is the new keys' list entries
			if err := c.reportImport(res, "generated"); err != nil || !json {
				return err
			}
			entries := make([]keystore.Entry, 0, len(res))
			for _, r := range res {
				if e, ok := s.Get(r.Fingerprint); ok {
					entries = append(entries, e)
				}
			}
			return writeEntriesJSON(c.stdout, entries)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Email, "email", "", "your email `ADDR`")
	f.StringVar(&req.Name, "name", "", "your name, for the user ID / certificate subject")
	f.BoolVar(&req.PGP, "pgp", false, "make an OpenPGP key")
	f.BoolVar(&req.SMIME, "smime", false, "make a self-signed S/MIME certificate")
	f.StringVar(&req.Algo, "algo", "", "ed25519 (OpenPGP default), ed25519-v6 (OpenPGP v6, RFC 9580), rsa3072 (S/MIME default), rsa4096 or p256")
	f.BoolVar(&noPass, "no-passphrase", false, "store the secret keys unprotected (not recommended)")
	f.StringVar(&expires, "expires", "3y", "validity: Ny, Nd, or never")
	f.BoolVar(&req.Pin, "pin", false, "pin the new keys for the address even if other keys are pinned")
	cmd.RegisterFlagCompletionFunc("algo", cobra.FixedCompletions([]string{"ed25519", "ed25519-v6", "rsa3072", "rsa4096", "p256"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("expires", cobra.FixedCompletions([]string{"1y", "2y", "3y", "never"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseLifetime reads "3y", "90d" or "never".
func parseLifetime(s string) (time.Duration, error) {
	if s == "never" {
		return -1, nil
	}
	if len(s) >= 2 {
		n, err := strconv.Atoi(s[:len(s)-1])
		if err == nil && n > 0 && (s[len(s)-1] == 'y' && n <= 100 || s[len(s)-1] == 'd' && n <= 36500) {
			switch s[len(s)-1] {
			case 'y':
				return time.Duration(n) * 365 * 24 * time.Hour, nil
			case 'd':
				return time.Duration(n) * 24 * time.Hour, nil
			}
		}
	}
	return 0, usageError("--expires %q: use Ny, Nd or never (e.g. 2y, 90d)", s)
}

// reportImport tells the user what happened to each key (stderr) and, with
// --json, gives the results on stdout. Rejected keys make the exit code 1.
func (c *cli) reportImport(res []keystore.ImportResult, verb string) error {
	rejected := 0
	for _, r := range res {
		what := string(r.Kind)
		if r.Secret {
			what += " secret"
		}
		emails := safe(strings.Join(r.Emails, ", "))
		if emails == "" {
			emails = "no address"
		}
		switch r.Status {
		case keystore.StatusRejected:
			rejected++
			c.v.errorf("%s key %s <%s> not imported: %s", what, r.Fingerprint, emails, r.Reason)
		case keystore.StatusNew:
			c.v.infof("%s %s key %s <%s>", verb, what, r.Fingerprint, emails)
		default:
			c.v.infof("%s key %s <%s>: %s", what, r.Fingerprint, emails, r.Status)
		}
		if r.Reason != "" && r.Status != keystore.StatusRejected {
			c.v.warnf("%s: %s", r.Fingerprint, r.Reason)
		}
		for _, cf := range r.Conflicts {
			c.v.warnf("%s already has the pinned key %s: %s is kept but not used for it", safe(cf.Email), cf.Pinned, r.Fingerprint)
			c.v.hintf("to use the new key instead, run: securemail keys import --pin FILE (or keys generate --pin)")
		}
	}
	if c.json {
		if res == nil {
			res = []keystore.ImportResult{}
		}
		if err := writeJSON(c.stdout, res); err != nil {
			return err
		}
	}
	if rejected > 0 {
		return &exitError{code: exitVerdict, err: fmt.Errorf("%d of %d keys were not imported", rejected, len(res))}
	}
	return nil
}

func (c *cli) keysList() *cobra.Command {
	var secretOnly bool
	cmd := &cobra.Command{
		Use:   "list [ADDR]",
		Short: "List identities and contacts",
		Long: `list shows every key (or those for ADDR): kind, whether you hold the secret
key, full fingerprint, expiry, where it came from, and its addresses (a *
marks an address the key is pinned for). --json prints an array of objects
with kind, fingerprint, emails, secret, source, expires and more.`,
		Example: "  securemail keys list --json",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.openStore()
			if err != nil {
				return err
			}
			var entries []keystore.Entry
			if len(args) == 1 {
				entries = s.Lookup(args[0])
			} else {
				entries = s.Entries()
			}
			if secretOnly {
				kept := entries[:0]
				for _, e := range entries {
					if e.Secret {
						kept = append(kept, e)
					}
				}
				entries = kept
			}
			if c.json {
				return writeEntriesJSON(c.stdout, entries)
			}
			return writeKeyTable(c.stdout, entries, time.Now())
		},
	}
	cmd.Flags().BoolVar(&secretOnly, "secret", false, "only your own keys (with a secret part)")
	return cmd
}

// writeEntriesJSON writes a JSON array, one key per line.
func writeEntriesJSON(w io.Writer, entries []keystore.Entry) error {
	buf := make([]byte, 0, 64<<10)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("[")
	for i := range entries {
		if i > 0 {
			bw.WriteByte(',')
		}
		bw.WriteString("\n  ")
		buf = entries[i].AppendJSON(buf[:0])
		bw.Write(buf)
	}
	bw.WriteString("\n]\n")
	return bw.Flush()
}

func writeKeyTable(w io.Writer, entries []keystore.Entry, now time.Time) error {
	// Written straight into one buffer, columns padded by hand: the table
	// of 10,000 keys is a hot path (text/tabwriter and per-row strings
	// cost more than opening the store).
	expires := func(b []byte, e *keystore.Entry) []byte {
		switch {
		case e.Revoked:
			return append(b, "revoked"...)
		case e.Expires == nil:
			return append(b, "never"...)
		}
		b = e.Expires.AppendFormat(b, time.DateOnly)
		if e.Expired(now) {
			b = append(b, "(expired)"...)
		}
		return b
	}
	source := func(b []byte, e *keystore.Entry) []byte {
		b = append(b, e.Source...)
		if e.TrustAnchor {
			b = append(b, ",anchor"...)
		}
		return b
	}
	header := [6]string{"KIND", "SECRET", "FINGERPRINT", "ALGO", "EXPIRES", "SOURCE"}
	var width [6]int
	for i, h := range header {
		width[i] = len(h)
	}
	var scratch []byte
	for i := range entries {
		e := &entries[i]
		width[0] = max(width[0], len(e.Kind))
		width[2] = max(width[2], len(e.Fingerprint))
		width[3] = max(width[3], len(e.Algorithm))
		width[4] = max(width[4], len(expires(scratch[:0], e)))
		width[5] = max(width[5], len(source(scratch[:0], e)))
	}
	buf := make([]byte, 0, 64<<10)
	pad := func(b []byte, start, col int) []byte {
		for n := len(b) - start; n < width[col]+2; n++ {
			b = append(b, ' ')
		}
		return b
	}
	for i, h := range header {
		start := len(buf)
		buf = pad(append(buf, h...), start, i)
	}
	buf = append(buf, "EMAILS\n"...)
	for i := range entries {
		e := &entries[i]
		start := len(buf)
		buf = pad(append(buf, e.Kind...), start, 0)
		start = len(buf)
		if e.Secret {
			buf = append(buf, "sec"...)
		} else {
			buf = append(buf, '-')
		}
		buf = pad(buf, start, 1)
		start = len(buf)
		buf = pad(append(buf, e.Fingerprint...), start, 2)
		start = len(buf)
		buf = pad(append(buf, e.Algorithm...), start, 3)
		start = len(buf)
		buf = pad(expires(buf, e), start, 4)
		start = len(buf)
		buf = pad(source(buf, e), start, 5)
		for j, a := range e.Emails {
			if j > 0 {
				buf = append(buf, ' ')
			}
			buf = append(buf, safe(a)...)
			if e.PinnedFor(a) {
				buf = append(buf, '*')
			}
		}
		buf = append(buf, '\n')
		if len(buf) > 48<<10 {
			if _, err := w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	_, err := w.Write(buf)
	return err
}

func (c *cli) keysImport() *cobra.Command {
	var opts keystore.ImportOptions
	cmd := &cobra.Command{
		Use:   "import [FILE|-]...",
		Short: "Import keys and certificates",
		Long: `import reads OpenPGP keys (armored or binary, public or secret, several per
file), X.509 certificates (PEM or DER), private keys (PKCS#8 PEM, encrypted
or not; PKCS#1/SEC1 PEM) and PKCS#12 files. With no FILE, or "-", it reads
standard input. Keys already in the store are merged: new user IDs,
subkeys, revocations and secret parts are added. A key for an address that
already has a different pinned key is kept but not pinned unless --pin.
Passwords of encrypted input, and the passphrase sealing secret keys, come
from --passphrase-file or a terminal prompt.`,
		Example: "  gpg --export --armor bob@example.org | securemail keys import -",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = []string{"-"}
			}
			var inputs []keystore.Input
			for _, a := range args {
				var data []byte
				var err error
				if a == "-" {
					data, err = io.ReadAll(c.stdin)
				} else {
					data, err = os.ReadFile(a)
				}
				if err != nil {
					return usageError("%v", err)
				}
				inputs = append(inputs, keystore.Input{Name: a, Data: data})
			}
			s, err := c.openStore()
			if err != nil {
				return err
			}
			if opts.NoPassphrase {
				c.v.warnf("secret keys will be stored WITHOUT a passphrase")
			}
			opts.Passphrase = func() ([]byte, error) { return c.readPassphrase("Passphrase of the imported file", false) }
			// The passphrase that seals imported secret keys: the one already
			// given (file, or the input's password), else asked twice.
			opts.SealPassphrase = func() ([]byte, error) {
				return c.readPassphrase("Passphrase to protect the imported secret keys", true)
			}
			res, err := s.Import(inputs, &opts)
			if err != nil {
				return err
			}
			return c.reportImport(res, "imported")
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Pin, "pin", false, "pin the imported keys for their addresses, replacing pinned ones")
	f.BoolVar(&opts.AllowExpired, "allow-expired", false, "keep keys that have expired (to verify old signatures)")
	f.BoolVar(&opts.NoPassphrase, "no-passphrase", false, "store imported secret keys unprotected (not recommended)")
	return cmd
}

func (c *cli) keysExport() *cobra.Command {
	var secret bool
	var format string
	cmd := &cobra.Command{
		Use:   "export [--secret] [--format armor|binary|pem|der|p12] ADDR|FINGERPRINT",
		Short: "Write a key or certificate to stdout",
		Long: `export writes the public key (armored by default) or certificate (PEM by
default) of ADDR or FINGERPRINT. With --secret it writes your secret key
protected by your passphrase: for OpenPGP a key 'gpg --import' reads; for
S/MIME encrypted PKCS#8 (PEM, followed by the certificate; 'openssl pkey'
reads it) or PKCS#12 with --format p12 ('openssl pkcs12' reads it).`,
		Example: "  securemail keys export --secret --format p12 alice@example.org > alice.p12",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := keystore.FormatKind(format)
			if format != "" && kind == "" {
				return usageError("unknown --format %q (armor, binary, pem, der or p12)", format)
			}
			if format == keystore.ExportP12 && !secret {
				return usageError("a PKCS#12 file carries the private key: add --secret")
			}
			binary := format == keystore.ExportBinary || format == keystore.ExportDER || format == keystore.ExportP12
			if f, ok := c.stdout.(*os.File); ok && binary && term.IsTerminal(int(f.Fd())) {
				return &exitError{code: exitUsage, err: errors.New("refusing to write binary data to a terminal"), hint: "redirect stdout to a file"}
			}
			s, err := c.openStore()
			if err != nil {
				return err
			}
			e, err := s.Resolve(args[0], kind)
			var amb *keystore.AmbiguousError
			if errors.As(err, &amb) && kind == "" {
				return withHint(err, "--format armor picks the OpenPGP key, --format pem the S/MIME certificate")
			}
			if err != nil {
				return err
			}
			if !secret {
				return s.Export(c.stdout, e.Fingerprint, format)
			}
			if !e.Secret {
				return &keystore.NotFoundError{Query: "secret key " + e.Fingerprint}
			}
			pw, err := c.readPassphrase("Passphrase of "+e.Fingerprint, false)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := s.ExportSecret(&buf, e.Fingerprint, format, pw); err != nil {
				return err
			}
			_, err = c.stdout.Write(buf.Bytes())
			return err
		},
	}
	cmd.Flags().BoolVar(&secret, "secret", false, "export the secret key, protected by your passphrase")
	cmd.Flags().StringVar(&format, "format", "", "armor|binary (OpenPGP), pem|der|p12 (S/MIME)")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions([]string{"armor", "binary", "pem", "der", "p12"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (c *cli) keysDelete() *cobra.Command {
	var secret, yes bool
	cmd := &cobra.Command{
		Use:   "delete [--secret] [--yes] ADDR|FINGERPRINT",
		Short: "Remove a key or certificate",
		Long: `delete removes one key. It asks for confirmation on the terminal unless
--yes is given; removing one of your own secret keys also needs --secret.`,
		Example: "  securemail keys delete --yes 0123456789ABCDEF0123456789ABCDEF01234567",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.openStore()
			if err != nil {
				return err
			}
			e, err := s.Resolve(args[0], "")
			if err != nil {
				return err
			}
			if e.Secret && !secret {
				return &keystore.SecretKeyError{Fingerprint: e.Fingerprint}
			}
			if !yes {
				what := "key"
				if e.Secret {
					what = "SECRET key"
				}
				emails := safe(strings.Join(e.Emails, ", "))
				if emails == "" {
					emails = "no address"
				}
				ok, err := c.confirm(fmt.Sprintf("Delete %s %s %s <%s>?", e.Kind, what, e.Fingerprint, emails))
				if err != nil {
					return err
				}
				if !ok {
					return &exitError{code: exitUsage, err: errors.New("not deleted: no confirmation"), hint: "pass --yes to delete without asking"}
				}
			}
			if err := s.Delete(e.Fingerprint, secret); err != nil {
				return err
			}
			c.v.infof("deleted %s key %s", e.Kind, e.Fingerprint)
			return nil
		},
	}
	cmd.Flags().BoolVar(&secret, "secret", false, "allow deleting a secret key")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func (c *cli) keysTrust() *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:   "trust [--remove] CERT|FINGERPRINT",
		Short: "Make a CA certificate an S/MIME trust anchor",
		Long: `trust makes a CA certificate (a file, imported first, or the fingerprint of
a stored certificate) a trust anchor for S/MIME signatures. --remove takes
the trust away again.`,
		Example: "  securemail keys trust company-ca.pem",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.openStore()
			if err != nil {
				return err
			}
			var e keystore.Entry
			if data, err := os.ReadFile(args[0]); err == nil && !remove {
				if e, err = s.AddTrustAnchor(keystore.Input{Name: args[0], Data: data}); err != nil {
					return err
				}
			} else {
				if err != nil && !errors.Is(err, os.ErrNotExist) {
					return usageError("%v", err)
				}
				fpr := args[0]
				if data != nil {
					res, err := keystore.Detect(data)
					if err != nil || len(res) != 1 {
						return usageError("%s must hold exactly one certificate", args[0])
					}
					fpr = keystore.CertificateFingerprint(res[0].Data)
				}
				if e, err = s.Resolve(fpr, keystore.SMIME); err != nil {
					return err
				}
				if err := s.SetTrustAnchor(e.Fingerprint, !remove); err != nil {
					return err
				}
			}
			if remove {
				c.v.infof("certificate %s is no longer a trust anchor", e.Fingerprint)
			} else {
				c.v.infof("certificate %s (%s) is now an S/MIME trust anchor", e.Fingerprint, safe(e.Subject))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the certificate as a trust anchor")
	return cmd
}
