package main

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/net/idna"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/smimea"
)

// maxCertFile bounds what is read as a certificate file: a chain of a
// few certificates in PEM fits many times over.
const maxCertFile = 1 << 20

// smimeaCommand is "securemail smimea": S/MIME certificates in the DNS.
func (c *cli) smimeaCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "smimea",
		Short: "S/MIME certificates in the DNS (SMIMEA, RFC 8162)",
		Long: `An SMIMEA record publishes a person's S/MIME certificate in their domain's
DNS, at <SHA-256 of the local part, 28 octets, hex>._smimecert.<domain>,
so that senders can find it. Only an answer DNSSEC proves authentic is
worth using.`,
		Example: "  securemail smimea record hugh@example.com hugh.pem",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(c.smimeaSubcommands()...)
	return cmd
}

// smimeaSubcommands are the subcommands of "smimea", in the order help
// lists them.
func (c *cli) smimeaSubcommands() []*cobra.Command {
	return []*cobra.Command{c.lookupCommand(keystore.SMIME), c.smimeaRecord()}
}

// daneCommand is "securemail dane": DANE for mail servers.
func (c *cli) daneCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dane",
		Short: "DANE records for mail servers (TLSA, RFC 6698 and RFC 7672)",
		Long: `A TLSA record at _25._tcp.<MX host> pins the certificate or public key a
mail server presents in STARTTLS, so that sending servers that validate
DNSSEC require TLS with that key.`,
		Example: "  securemail dane tlsa --host mail.example.org cert.pem",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(c.daneTLSA())
	return cmd
}

// recordParams are the --usage, --selector and --matching flags.
type recordParams struct {
	usage, selector, matching int
}

func (p *recordParams) add(cmd *cobra.Command, usage, selector, matching int) {
	f := cmd.Flags()
	f.IntVar(&p.usage, "usage", usage, "certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE")
	f.IntVar(&p.selector, "selector", selector, "what is matched: 0 the whole certificate, 1 its public key (SubjectPublicKeyInfo)")
	f.IntVar(&p.matching, "matching", matching, "how: 0 as is, 1 SHA-256, 2 SHA-512")
	for name, values := range map[string][]string{
		"usage":    {"0\tPKIX-TA", "1\tPKIX-EE", "2\tDANE-TA", "3\tDANE-EE"},
		"selector": {"0\tthe whole certificate", "1\tthe public key"},
		"matching": {"0\tas is", "1\tSHA-256", "2\tSHA-512"},
	} {
		cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
	}
}

// values checks the flags and returns them as record parameters.
func (p *recordParams) values() (usage, selector, matching uint8, err error) {
	switch {
	case p.usage < 0 || p.usage > 3:
		return 0, 0, 0, usageError("--usage %d: use 0 (PKIX-TA), 1 (PKIX-EE), 2 (DANE-TA) or 3 (DANE-EE)", p.usage)
	case p.selector < 0 || p.selector > 1:
		return 0, 0, 0, usageError("--selector %d: use 0 (the whole certificate) or 1 (its public key)", p.selector)
	case p.matching < 0 || p.matching > 2:
		return 0, 0, 0, usageError("--matching %d: use 0 (as is), 1 (SHA-256) or 2 (SHA-512)", p.matching)
	}
	return uint8(p.usage), uint8(p.selector), uint8(p.matching), nil
}

// recordJSON is the --json output of "smimea record" and "dane tlsa".
type recordJSON struct {
	Address  string `json:"address,omitempty"`
	Name     string `json:"name"`
	TTL      uint32 `json:"ttl"`
	Type     string `json:"type"`
	Usage    uint8  `json:"usage"`
	Selector uint8  `json:"selector"`
	Matching uint8  `json:"matching"`
	Data     string `json:"data"`
	// Certificate is the DER certificate (base64) when the record
	// carries it whole, as in smimea lookup's output.
	Certificate []byte `json:"certificate,omitempty"`
	Line        string `json:"line"`
}

// printRecord writes the record as one zone-file line, or as JSON.
func (c *cli) printRecord(rec smimea.Record, addr, owner string, ttl uint32, rrtype string) error {
	line := rec.ZoneLine(owner, ttl, rrtype)
	if !c.json {
		_, err := fmt.Fprintln(c.stdout, line)
		return err
	}
	out := recordJSON{Address: addr, Name: owner, TTL: ttl, Type: rrtype, Usage: rec.Usage,
		Selector: rec.Selector, Matching: rec.MatchingType, Data: hex.EncodeToString(rec.Data), Line: line}
	if rec.Selector == smimea.SelectorCert && rec.MatchingType == smimea.MatchingFull {
		out.Certificate = rec.Data
	}
	return writeJSON(c.stdout, out)
}

func (c *cli) smimeaRecord() *cobra.Command {
	var params recordParams
	var ttl uint32
	var force bool
	cmd := &cobra.Command{
		Use:   "record ADDR CERT [--usage N --selector N --matching N] [--ttl N]",
		Short: "Print the SMIMEA record that publishes a certificate for an address",
		Long: `record prints the zone-file line that publishes CERT (PEM or DER; "-" reads
standard input) as ADDR's S/MIME certificate: the owner name hashes the
local part of ADDR as written, case included, and the default "3 0 0"
record (DANE-EE, the whole certificate) lets senders learn the
certificate from the DNS. It replaces the 'echo -n LOCAL | openssl sha256'
and 'openssl x509 -outform DER | xxd -ps' steps done by hand.

The certificate must name ADDR (an rfc822Name alternative name): senders
refuse it otherwise, so record does too (exit 1) unless --force. With
--usage 0 or 2 CERT is the CA certificate that anchors the person's
certificate, not theirs. --json prints the fields of the record.`,
		Example: "  securemail smimea record hugh@example.com hugh.pem >> example.com.zone",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, file := args[0], args[1]
			usage, selector, matching, err := params.values()
			if err != nil {
				return err
			}
			owner, err := smimea.OwnerName(addr)
			if err != nil {
				return &exitError{code: exitUsage, err: dnsError{err}}
			}
			cert, err := c.readCertificate(file)
			if err != nil {
				return err
			}
			if err := c.checkSMIMEACertificate(cert, addr, usage, force); err != nil {
				return err
			}
			if usage == smimea.UsageDANEEE && (selector != smimea.SelectorCert || matching != smimea.MatchingFull) {
				c.v.infof("a %d %d %d record lets senders check a certificate they already have; only 3 0 0 lets them find it", usage, selector, matching)
			}
			rec, err := smimea.NewRecord(cert, usage, selector, matching)
			if err != nil {
				return &exitError{code: exitUsage, err: dnsError{err}}
			}
			return c.printRecord(rec, addr, owner, ttl, "SMIMEA")
		},
	}
	params.add(cmd, 3, 0, 0)
	cmd.Flags().Uint32Var(&ttl, "ttl", 0, "TTL in seconds; 0 leaves it out, so the zone's $TTL applies")
	cmd.Flags().BoolVar(&force, "force", false, "print the record even if the certificate does not fit it")
	return cmd
}

// checkSMIMEACertificate refuses a certificate that does not fit the
// record asked for, unless force: an end-entity certificate that is not
// for the address (S49: exit 1), or one where a CA's is expected (exit
// 2). A certificate senders will not encrypt to (expired, signing only, a
// self-signed one marked as a CA) is a warning.
func (c *cli) checkSMIMEACertificate(cert *x509.Certificate, addr string, usage uint8, force bool) error {
	isCA := cert.BasicConstraintsValid && cert.IsCA
	if usage == smimea.UsagePKIXTA || usage == smimea.UsageDANETA {
		if !isCA {
			return c.refuse(force, exitUsage, errors.New("a "+smimea.UsageName(usage)+" record names the CA certificate that issued the person's, and this one is not a CA certificate"),
				"use --usage 3 for the person's own certificate, or give the CA certificate")
		}
		return nil
	}
	err := smimea.CheckCertificate(cert, addr, nil)
	var mismatch *smimea.MismatchError
	var unusable *smimea.UnusableError
	switch {
	case errors.As(err, &mismatch):
		hint := "publish a certificate issued to " + addr + " (or --force to print this record anyway)"
		if isCA && len(mismatch.Certificate) == 0 {
			hint = "this is a CA certificate: --usage 2 publishes it as the trust anchor of the person's certificate"
		}
		return c.refuse(force, exitVerdict, dnsError{err}, hint)
	case errors.As(err, &unusable):
		c.v.warnf("senders will not encrypt to this certificate: %s", safe(unusable.Reason))
	case err != nil:
		return &exitError{code: exitUsage, err: dnsError{err}}
	}
	return nil
}

// refuse returns an error with code and hint, or with force only warns.
func (c *cli) refuse(force bool, code int, err error, hint string) error {
	if force {
		c.v.warnf("%s (printed anyway: --force)", safe(err.Error()))
		return nil
	}
	return &exitError{code: code, err: err, hint: hint}
}

func (c *cli) daneTLSA() *cobra.Command {
	var params recordParams
	var host, proto string
	var port int
	var ttl uint32
	var force bool
	cmd := &cobra.Command{
		Use:   "tlsa CERT [--host H] [--port 25] [--proto tcp] [--usage 3 --selector 1 --matching 1] [--ttl N]",
		Short: "Print the TLSA record of a mail server's certificate",
		Long: `tlsa prints the zone-file line of the TLSA record for CERT (PEM or DER; "-"
reads standard input; of a chain, the first certificate) at
_PORT._PROTO.HOST. The default "3 1 1" (DANE-EE, SHA-256 of the public
key) is what RFC 7671 recommends for mail servers: it survives renewals
that keep the key. The digest is the one that
'openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl sha256'
prints. Without --host, HOST is the certificate's DNS name when it has
exactly one. Publish the record for a new key before the server uses it.`,
		Example: "  securemail dane tlsa --host mail.example.org /etc/ssl/mail.pem",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			usage, selector, matching, err := params.values()
			if err != nil {
				return err
			}
			if port < 1 || port > 65535 {
				return usageError("--port %d: use a port from 1 to 65535", port)
			}
			proto = strings.ToLower(proto)
			if proto != "tcp" && proto != "udp" && proto != "sctp" {
				return usageError("--proto %q: use tcp, udp or sctp", proto)
			}
			if host != "" {
				if err := checkHost(host); err != nil {
					return err
				}
			}
			cert, err := c.readCertificate(args[0])
			if err != nil {
				return err
			}
			// A self-signed server certificate is often marked as a CA
			// (openssl req -x509 does it): only a CA issued by another is
			// surely not the server's own.
			isCA := cert.BasicConstraintsValid && cert.IsCA
			issuedByOther := !bytes.Equal(cert.RawSubject, cert.RawIssuer)
			switch {
			case (usage == smimea.UsagePKIXTA || usage == smimea.UsageDANETA) && !isCA:
				err = c.refuse(force, exitUsage, errors.New("a "+smimea.UsageName(usage)+" record names a CA certificate, and this one is not"),
					"give the issuing CA's certificate, or use --usage 3 for the server's own")
			case (usage == smimea.UsagePKIXEE || usage == smimea.UsageDANEEE) && isCA && issuedByOther:
				err = c.refuse(force, exitUsage, errors.New("this is a CA certificate: a "+smimea.UsageName(usage)+" record names the server's own certificate"),
					"use --usage 2 to pin the CA, or give the server's certificate")
			}
			if err != nil {
				return err
			}
			if host == "" {
				if host, err = c.hostFromCertificate(cert); err != nil {
					return err
				}
			} else if usage == smimea.UsagePKIXEE && cert.VerifyHostname(strings.TrimSuffix(host, ".")) != nil {
				c.v.warnf("the certificate is not for %s: a PKIX-EE record needs it to be", safe(host))
			}
			rec, err := smimea.NewRecord(cert, usage, selector, matching)
			if err != nil {
				return &exitError{code: exitUsage, err: dnsError{err}}
			}
			return c.printRecord(rec, "", smimea.TLSAName(host, port, proto), ttl, "TLSA")
		},
	}
	f := cmd.Flags()
	f.StringVar(&host, "host", "", "the mail server's host name (an MX target), not the mail domain")
	f.IntVar(&port, "port", 25, "TCP port: 25 for SMTP, 465 or 587 for submission")
	f.StringVar(&proto, "proto", "tcp", "transport protocol: tcp, udp or sctp")
	params.add(cmd, 3, 1, 1)
	f.Uint32Var(&ttl, "ttl", 0, "TTL in seconds; 0 leaves it out, so the zone's $TTL applies")
	f.BoolVar(&force, "force", false, "print the record even if the certificate does not fit the usage")
	cmd.RegisterFlagCompletionFunc("proto", cobra.FixedCompletions([]string{"tcp", "udp", "sctp"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("host", cobra.NoFileCompletions)
	return cmd
}

// checkHost checks that --host is a DNS host name (U-labels allowed).
func checkHost(host string) error {
	h := strings.TrimSuffix(host, ".")
	if _, err := idna.Lookup.ToASCII(h); err != nil || h == "" || len(h) > 253 {
		return usageError("--host %q is not a host name", safe(host))
	}
	return nil
}

// hostFromCertificate is the host a server certificate names, when it
// names exactly one (wildcards aside).
func (c *cli) hostFromCertificate(cert *x509.Certificate) (string, error) {
	var names []string
	for _, n := range cert.DNSNames {
		if !strings.HasPrefix(n, "*.") && checkHost(n) == nil && !slices.Contains(names, strings.ToLower(n)) {
			names = append(names, strings.ToLower(n))
		}
	}
	switch len(names) {
	case 0:
		return "", &exitError{code: exitUsage, err: errors.New("the certificate names no host for the owner name"), hint: "give the mail server's name with --host"}
	case 1:
		c.v.infof("owner name for %s, the certificate's host name (--host gives another)", safe(names[0]))
		return names[0], nil
	}
	return "", &exitError{code: exitUsage, err: fmt.Errorf("the certificate names %d hosts (%s)", len(names), safe(strings.Join(names, ", "))),
		hint: "say which one with --host"}
}

// readCertificate reads the certificate in a file ("-": standard input),
// PEM or DER. Of several PEM certificates it takes the first and says so.
func (c *cli) readCertificate(file string) (*x509.Certificate, error) {
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(c.stdin, maxCertFile+1))
	} else {
		var f *os.File
		if f, err = os.Open(file); err == nil {
			data, err = io.ReadAll(io.LimitReader(f, maxCertFile+1))
			f.Close()
		}
	}
	name := safe(file)
	if file == "-" {
		name = "standard input"
	}
	switch {
	case err != nil:
		return nil, usageError("%v", err)
	case len(data) > maxCertFile:
		return nil, usageError("%s is larger than %d KiB: not a certificate", name, maxCertFile>>10)
	}
	var certs []*x509.Certificate
	var other []string
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			other = append(other, b.Type)
			continue
		}
		cert, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, usageError("%s: the PEM certificate does not parse: %v", name, err)
		}
		certs = append(certs, cert)
	}
	switch {
	case len(certs) > 0:
		if len(certs) > 1 {
			c.v.infof("%s holds %d certificates: using the first (%s)", name, len(certs), safe(certs[0].Subject.String()))
		}
		return certs[0], nil
	case len(other) > 0:
		return nil, usageError("%s holds no certificate (%s)", name, safe(strings.Join(other, ", ")))
	case bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")):
		return nil, usageError("%s: the PEM data does not decode", name)
	}
	cert, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, usageError("%s is not a certificate (PEM or DER): %v", name, err)
	}
	return cert, nil
}

// dnsError shows a smimea error without the package prefix, as the voice
// does for the keystore's, and still unwraps to it.
type dnsError struct{ err error }

func (e dnsError) Error() string { return strings.TrimPrefix(e.err.Error(), "smimea: ") }
func (e dnsError) Unwrap() error { return e.err }
