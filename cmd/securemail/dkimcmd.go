package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/securemail/securemail/mailauth"
)

func (c *cli) dkimCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dkim",
		Short: "DKIM for senders: make a key and its DNS record, sign messages",
		Long: `dkim does the sender's side of DKIM: 'keygen' makes a signing key and prints
the TXT record to publish at SELECTOR._domainkey.DOMAIN; 'sign' signs a
message with it. Receivers check the signature against that record
('securemail auth' does).`,
		Example: "  securemail dkim keygen --domain example.org --selector s2024\n  securemail dkim sign --domain example.org --selector s2024 --key s2024._domainkey.example.org.key < msg.eml > signed.eml",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(c.dkimKeygen(), c.dkimSign())
	return cmd
}

func (c *cli) dkimKeygen() *cobra.Command {
	var domain, selector, algo, out string
	cmd := &cobra.Command{
		Use:   "keygen --domain D --selector S [--algo rsa2048|ed25519] [--out FILE]",
		Short: "Make a DKIM signing key and print the DNS record to publish",
		Long: `keygen makes a DKIM signing key: RSA-2048 (the default, which every
verifier accepts) or Ed25519 (RFC 8463: small, but not every verifier knows
it yet; sign with an RSA key as well). The private key is written to FILE
(default SELECTOR._domainkey.DOMAIN.key), PEM (PKCS #8), mode 0600, never
over an existing file. It is not encrypted: your mail server (OpenDKIM,
rspamd, or 'securemail dkim sign') reads it unattended; keep it there only.

stdout gets the zone-file line to publish, split into strings of at most
255 octets as TXT records require:

  S._domainkey.D. IN TXT "v=DKIM1; k=rsa; p=MIIB..." "..."`,
		Example: "  securemail dkim keygen --domain example.org --selector s2024\n  securemail dkim keygen --domain example.org --selector ed2024 --algo ed25519 --out ed.pem",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if domain == "" || selector == "" {
				return &exitError{code: exitUsage, err: errors.New("--domain and --selector are required"), hint: "e.g. --domain example.org --selector s2024"}
			}
			var a mailauth.DKIMKeyAlgorithm
			switch algo {
			case "rsa2048", "rsa":
				a = mailauth.DKIMRSA2048
			case "ed25519":
				a = mailauth.DKIMEd25519
			default:
				return &exitError{code: exitUsage, err: fmt.Errorf("unknown --algo %q", algo), hint: "use rsa2048 or ed25519"}
			}
			key, err := mailauth.GenerateDKIMKey(a, nil)
			if err != nil {
				return err
			}
			line, err := mailauth.DKIMZoneLine(selector, domain, key.Public())
			if err != nil {
				return usageError("%v", trimPkg(err))
			}
			pemKey, err := mailauth.MarshalDKIMPrivateKey(key)
			if err != nil {
				return err
			}
			if out == "" {
				out = selector + "._domainkey." + domain + ".key"
			}
			f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return &exitError{code: exitUsage, err: fmt.Errorf("%s already exists: not overwriting a key", out), hint: "choose another file with --out, or remove the old key first"}
			}
			if err != nil {
				return usageError("%v", err)
			}
			if _, err := f.Write(pemKey); err != nil {
				f.Close()
				return usageError("writing %s: %v", out, err)
			}
			if err := f.Close(); err != nil {
				return usageError("writing %s: %v", out, err)
			}
			fmt.Fprintln(c.stdout, line)
			c.v.infof("wrote the private key to %s (mode 0600, not encrypted: for your mail server)", safe(out))
			c.v.infof("publish the record above in the DNS zone of %s, then sign with: securemail dkim sign --domain %s --selector %s --key %s", safe(domain), safe(domain), safe(selector), safe(out))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&domain, "domain", "", "the signing `DOMAIN` (d=)")
	f.StringVar(&selector, "selector", "", "the `SELECTOR` (s=): the key's name under DOMAIN")
	f.StringVar(&algo, "algo", "rsa2048", "key algorithm: rsa2048 or ed25519")
	f.StringVar(&out, "out", "", "write the private key to `FILE` (default SELECTOR._domainkey.DOMAIN.key)")
	return cmd
}

func (c *cli) dkimSign() *cobra.Command {
	var domain, selector, keyFile string
	cmd := &cobra.Command{
		Use:   "sign --domain D --selector S --key FILE < MESSAGE > SIGNED",
		Short: "Sign a message with DKIM",
		Long: `sign reads an RFC 5322 message on stdin and writes it to stdout with a
DKIM-Signature field added on top: relaxed/relaxed canonicalization,
SHA-256, over the fields a reader relies on (From, Subject, Date, To, Cc,
Reply-To, Message-ID, the MIME fields, the List fields...), each as often
as it occurs, and From once more: a From field added later then breaks the
signature. The key is a PEM file from 'dkim keygen', openssl or
opendkim-genkey (RSA or Ed25519, unencrypted); its public half must be
published at SELECTOR._domainkey.DOMAIN.`,
		Example: "  securemail dkim sign --domain example.org --selector s2024 --key s2024._domainkey.example.org.key < msg.eml > signed.eml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if domain == "" || selector == "" || keyFile == "" {
				return &exitError{code: exitUsage, err: errors.New("--domain, --selector and --key are required"), hint: "make a key with 'securemail dkim keygen'"}
			}
			data, err := os.ReadFile(keyFile)
			if err != nil {
				return usageError("reading the key: %v", err)
			}
			key, err := mailauth.ParseDKIMPrivateKey(data)
			if err != nil {
				return usageError("%s: %v", keyFile, trimPkg(err))
			}
			raw, err := c.readMessage()
			if err != nil {
				return err
			}
			signed, err := mailauth.SignDKIM(raw, &mailauth.DKIMSignOptions{Domain: domain, Selector: selector, Signer: key})
			if err != nil {
				return usageError("%v", trimPkg(err))
			}
			_, err = c.stdout.Write(signed)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&domain, "domain", "", "the signing `DOMAIN` (d=)")
	f.StringVar(&selector, "selector", "", "the key's `SELECTOR` (s=)")
	f.StringVar(&keyFile, "key", "", "the private key, PEM (`FILE`)")
	return cmd
}

// trimPkg drops the "mailauth: " prefix of a library error: the CLI
// speaks for itself.
func trimPkg(err error) string {
	s := err.Error()
	const p = "mailauth: "
	for len(s) >= len(p) && s[:len(p)] == p {
		s = s[len(p):]
	}
	return s
}
