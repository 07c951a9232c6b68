package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"unicode/utf8"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/spf13/cobra"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/pgp"
	"github.com/securemail/securemail/smime"
	"github.com/securemail/securemail/smime/cms"
)

// schemeFlags are --pgp and --smime.
type schemeFlags struct {
	pgp, smime bool
}

func (f *schemeFlags) add(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.pgp, "pgp", false, "use OpenPGP (PGP/MIME)")
	cmd.Flags().BoolVar(&f.smime, "smime", false, "use S/MIME")
	cmd.MarkFlagsMutuallyExclusive("pgp", "smime")
}

func (f *schemeFlags) scheme() (string, error) {
	switch {
	case f.smime:
		return "smime", nil
	case f.pgp:
		return "pgp", nil
	}
	return "", nil
}

type pgpEntity = openpgp.Entity

// pgpScheme is the OpenPGP scheme over the keystore, asking for
// passphrases the CLI way.
func (c *cli) pgpScheme(st *keystore.Store) *securemail.PGP {
	return &securemail.PGP{Store: st, Passphrase: c.keyPassphrase}
}

// smimeScheme is the S/MIME scheme over the keystore.
func (c *cli) smimeScheme(st *keystore.Store) *securemail.SMIME {
	return &securemail.SMIME{Store: st, Passphrase: c.keyPassphrase}
}

func (c *cli) keyPassphrase(e keystore.Entry) ([]byte, error) {
	return c.readPassphrase("Passphrase for "+e.Fingerprint, false)
}

func (c *cli) openOptions(st *keystore.Store) *securemail.OpenOptions {
	return &securemail.OpenOptions{Handlers: []securemail.Handler{c.pgpScheme(st), c.smimeScheme(st)}}
}

// readMessage reads an RFC 5322 message from stdin, bounded.
func (c *cli) readMessage() ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(c.stdin, maxMessage+1))
	if err != nil {
		return nil, usageError("reading the message: %v", err)
	}
	if len(raw) > maxMessage {
		return nil, usageError("the message is larger than %d MiB (use --raw for large data)", maxMessage>>20)
	}
	return raw, nil
}

func (c *cli) encryptCommand() *cobra.Command {
	var sf schemeFlags
	var to []string
	var sign, raw bool
	var from string
	cmd := &cobra.Command{
		Use:   "encrypt [--pgp|--smime] [-r ADDR]... [--sign] [--from ADDR] [--raw] < IN > OUT",
		Short: "Encrypt a message (or, with --raw, any data) to its recipients and yourself",
		Long: `encrypt reads an RFC 5322 message on stdin and writes it encrypted
(PGP/MIME, or with --smime S/MIME application/pkcs7-mime: AES-256-GCM
authEnveloped-data when every recipient has advertised it in signed mail,
else AES-256-CBC enveloped-data) to stdout, ready for sendmail -t.
Recipients are To, Cc and Bcc unless -r is given; the sender (From, or
--from) can always read it too. With neither --pgp nor --smime, OpenPGP is used when every
recipient has an OpenPGP key, else S/MIME when every one has a certificate.
The Subject is protected inside (RFC 9788) and shown outside as "...".
If any recipient has no usable key, nothing is written and exit is 3,
naming each such recipient.

With --raw, stdin is any data and the output an ASCII-armored OpenPGP
message, or with --smime a PEM CMS object ("-----BEGIN CMS-----",
what openssl cms -inform PEM reads); -r is required.`,
		Example: "  securemail encrypt --sign < draft.eml | sendmail -t\n  securemail encrypt --smime --raw -r bob@example.org < report.pdf > report.pdf.pem",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scheme, err := sf.scheme()
			if err != nil {
				return err
			}
			st, err := c.openStore()
			if err != nil {
				return err
			}
			if raw {
				if len(to) == 0 {
					return usageError("--raw needs at least one -r ADDR")
				}
				if scheme == "smime" {
					return c.encryptRawSMIME(st, to, sign, from)
				}
				return c.encryptRaw(st, to, sign, from)
			}
			return c.protectStdin(st, securemail.Policy{Encrypt: true, Sign: sign, Scheme: scheme}, to, from)
		},
	}
	sf.add(cmd)
	cmd.Flags().StringArrayVarP(&to, "recipient", "r", nil, "encrypt to `ADDR` (repeatable); default: To, Cc and Bcc")
	cmd.Flags().BoolVar(&sign, "sign", false, "sign too, inside the encryption")
	cmd.Flags().StringVar(&from, "from", "", "the sender `ADDR` (default: From)")
	cmd.Flags().BoolVar(&raw, "raw", false, "encrypt any data, not a mail message")
	return cmd
}

// protectError gives the exit codes of CLI.md to the pipeline's errors.
func protectError(err error) error {
	var missing *securemail.MissingKeysError
	var rec *pgp.RecipientError
	if errors.As(err, &missing) || errors.As(err, &rec) {
		return &exitError{code: exitNotFound, err: err, hint: "import their keys with 'securemail keys import', or leave them out"}
	}
	var ns *securemail.NoSchemeError
	if errors.As(err, &ns) {
		return &exitError{code: exitNotFound, err: err}
	}
	return err
}

// sender finds the user's identity for from (or the only one there is).
func (c *cli) sender(st *keystore.Store, from string) (*keystore.Entry, error) {
	if from != "" {
		e, err := c.pgpScheme(st).Identity(from)
		if err != nil {
			return nil, err
		}
		return &e, nil
	}
	var ids []keystore.Entry
	for _, e := range st.Entries() {
		if e.Kind == keystore.PGP && e.Secret && !e.Revoked {
			ids = append(ids, e)
		}
	}
	switch len(ids) {
	case 0:
		return nil, &keystore.NotFoundError{Query: "an OpenPGP identity (make one with 'securemail keys generate')"}
	case 1:
		return &ids[0], nil
	}
	return nil, usageError("you have %d OpenPGP identities: say which with --from ADDR", len(ids))
}

func (c *cli) encryptRaw(st *keystore.Store, to []string, sign bool, from string) error {
	debug.SetGCPercent(100) // streaming: main's 400 is for keys list
	self, err := c.sender(st, from)
	if err != nil && (sign || from != "") {
		return err
	}
	addrs := append([]string{}, to...)
	scheme := c.pgpScheme(st)
	if err := c.findKeys(st, keystore.PGP, addrs, canEncryptTo(scheme)); err != nil {
		return err
	}
	recips, err := scheme.Recipients(addrs)
	if err != nil {
		return protectError(err)
	}
	if self != nil {
		k, err := st.PGPKey(self.Fingerprint)
		if err != nil {
			return err
		}
		recips = append(recips, pgp.Recipient{Name: "yourself", Key: k})
	}
	var signer *pgpEntity
	if sign {
		if signer, err = c.unlock(st, self); err != nil {
			return err
		}
	}
	return c.pipeRaw(func(w io.Writer) (io.WriteCloser, error) {
		return pgp.Encrypt(w, recips, signer, &pgp.WriteParams{Armor: true})
	})
}

// pipeRaw streams stdin through the writer open makes over stdout.
func (c *cli) pipeRaw(open func(io.Writer) (io.WriteCloser, error)) error {
	bw := bufio.NewWriterSize(c.stdout, 256<<10)
	w, err := open(bw)
	if err != nil {
		return protectError(err)
	}
	if _, err := io.Copy(w, c.stdin); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return bw.Flush()
}

// protectStdin protects the message on stdin as p says.
func (c *cli) protectStdin(st *keystore.Store, p securemail.Policy, to []string, from string) error {
	in, err := c.readMessage()
	if err != nil {
		return err
	}
	if p.Scheme == "" && !p.Encrypt {
		// Sign with the scheme the sender has an identity for, OpenPGP first.
		p.Scheme = "pgp"
		if addr := senderAddress(in, from); addr != "" && !hasIdentity(st, keystore.PGP, addr) && hasIdentity(st, keystore.SMIME, addr) {
			p.Scheme = "smime"
		}
	}
	if p.Encrypt {
		if err := c.findMessageKeys(st, in, p.Scheme, to, from); err != nil {
			return err
		}
	}
	out, err := securemail.ProtectMessage(in, p, to, from,
		&securemail.ProtectOptions{Protectors: []securemail.Protector{c.pgpScheme(st), c.smimeScheme(st)}})
	if err != nil {
		return protectError(err)
	}
	_, err = c.stdout.Write(out)
	return err
}

// canEncryptTo is a scheme's key check for one address.
func canEncryptTo(k securemail.KeyChecker) func(string) bool {
	return func(a string) bool { return k.CanEncryptTo([]string{a}) }
}

// findMessageKeys finds in the DNS the keys the recipients of the
// message in lack for scheme; with no scheme (auto), OpenPGP keys first,
// then S/MIME certificates if OpenPGP cannot cover everyone.
func (c *cli) findMessageKeys(st *keystore.Store, in []byte, scheme string, to []string, from string) error {
	addrs, err := securemail.MessageRecipients(in, to, from)
	if err != nil {
		return nil // ProtectMessage says what is wrong with the message
	}
	pgpS, smimeS := c.pgpScheme(st), c.smimeScheme(st)
	switch scheme {
	case "pgp":
		return c.findKeys(st, keystore.PGP, addrs, canEncryptTo(pgpS))
	case "smime":
		return c.findKeys(st, keystore.SMIME, addrs, canEncryptTo(smimeS))
	}
	if !smimeS.CanEncryptTo(addrs) || pgpS.CanEncryptTo(addrs) {
		if err := c.findKeys(st, keystore.PGP, addrs, canEncryptTo(pgpS)); err != nil || pgpS.CanEncryptTo(addrs) {
			return err
		}
	}
	return c.findKeys(st, keystore.SMIME, addrs, canEncryptTo(smimeS))
}

func (c *cli) unlock(st *keystore.Store, e *keystore.Entry) (*pgpEntity, error) {
	return c.pgpScheme(st).Unlock(*e)
}

func (c *cli) signCommand() *cobra.Command {
	var sf schemeFlags
	var raw bool
	var from string
	cmd := &cobra.Command{
		Use:   "sign [--pgp|--smime] [--from ADDR] [--raw] < IN > OUT",
		Short: "Sign a message (or, with --raw, any data)",
		Long: `sign reads an RFC 5322 message on stdin and writes it signed (multipart/signed,
PGP/MIME or with --smime S/MIME, the signature over the exact bytes of the
content) to stdout. The signing key is your identity for From (or --from);
with neither --pgp nor --smime, your OpenPGP key if you have one, else your
S/MIME certificate.

With --raw, stdin is any data and the output an ASCII-armored signed
OpenPGP message, or with --smime a PEM CMS SignedData holding the data.`,
		Example: "  securemail sign < draft.eml | sendmail -t",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			scheme, err := sf.scheme()
			if err != nil {
				return err
			}
			st, err := c.openStore()
			if err != nil {
				return err
			}
			if raw && scheme == "smime" {
				return c.signRawSMIME(st, from)
			}
			if raw {
				self, err := c.sender(st, from)
				if err != nil {
					return err
				}
				signer, err := c.unlock(st, self)
				if err != nil {
					return err
				}
				return c.pipeRaw(func(w io.Writer) (io.WriteCloser, error) {
					return pgp.Sign(w, signer, &pgp.WriteParams{Armor: true})
				})
			}
			return c.protectStdin(st, securemail.Policy{Sign: true, Scheme: scheme}, nil, from)
		},
	}
	sf.add(cmd)
	cmd.Flags().StringVar(&from, "from", "", "the sender `ADDR` (default: From)")
	cmd.Flags().BoolVar(&raw, "raw", false, "sign any data, not a mail message")
	return cmd
}

func (c *cli) decryptCommand() *cobra.Command {
	var raw bool
	cmd := &cobra.Command{
		Use:   "decrypt [--json] [--raw] < IN > OUT",
		Short: "Decrypt a message (or, with --raw, an OpenPGP message or CMS object) and check its signatures",
		Long: `decrypt reads an encrypted RFC 5322 message on stdin and writes the
decrypted message to stdout; the verdict (encryption, each signature) goes
to stderr, or with --json one JSON object goes to stdout with the message in
its "message" field. Nothing is written unless the whole message is
authentic: a message that fails its integrity check yields no output and
exit 1. No key to decrypt with: exit 3. PGP/MIME and S/MIME are
recognised by themselves; S/MIME encrypted with AES-CBC (no integrity
protection) is decrypted with a warning and exit 1.

With --raw, stdin is an OpenPGP message (armored or binary) and stdout its
content, streamed through an encrypted spool so that any size works; or a
CMS EnvelopedData/AuthEnvelopedData (PEM or DER), read whole.`,
		Example: "  securemail decrypt < message.eml > plain.eml\n  securemail decrypt --raw < report.pdf.asc > report.pdf",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := c.openStore()
			if err != nil {
				return err
			}
			if raw {
				return c.decryptRaw(st)
			}
			in, err := c.readMessage()
			if err != nil {
				return err
			}
			rep, out, err := securemail.Decrypt(in, c.openOptions(st))
			if err != nil {
				return usageError("%v", err)
			}
			if rep.Encryption.Kind == "none" {
				return usageError("the message is not encrypted")
			}
			if rep.Encryption.Err != nil || !rep.Encryption.OK {
				c.sayReportOrJSON(rep, nil)
				return decryptError(rep)
			}
			if c.json {
				if err := c.writeReportJSON(rep, out); err != nil {
					return err
				}
			} else {
				if _, err := c.stdout.Write(out); err != nil {
					return err
				}
				c.sayReport(rep)
			}
			return verdict(rep)
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "decrypt an OpenPGP message of any data, not a mail message")
	return cmd
}

// decryptError is the error (and exit code) of a failed decryption.
func decryptError(rep *securemail.Report) error {
	var nokey *pgp.NoKeyError
	var format *pgp.FormatError
	var unsupported *pgp.UnsupportedError
	var pass *keystore.PassphraseError
	err := rep.Encryption.Err
	if err == nil {
		err = errors.New("the message could not be decrypted")
	}
	switch {
	case errors.As(err, &pass), errors.Is(err, keystore.ErrWrongPassphrase):
		return err
	case errors.As(err, &nokey):
		if nokey.Err != nil {
			return nokey.Err
		}
		return &exitError{code: exitNotFound, err: err, hint: "it is not encrypted to any key in your keystore ('securemail keys list')"}
	case errors.As(err, &format), errors.As(err, &unsupported):
		return &exitError{code: exitUsage, err: err}
	case rep.Encryption.Kind == "smime":
		return smimeError(err)
	}
	return &exitError{code: exitVerdict, err: err}
}

// verdict is the exit status of a report: 1 when it failed.
func verdict(rep *securemail.Report) error {
	if rep.Failed() {
		return &exitError{code: exitVerdict, err: fmt.Errorf("the message is not what it claims to be")}
	}
	return nil
}

func (c *cli) sayReportOrJSON(rep *securemail.Report, msg []byte) {
	if c.json {
		c.writeReportJSON(rep, msg)
		return
	}
	c.sayReport(rep)
}

// writeReportJSON writes the report with the message in "message" (text)
// or "message_base64" (when it is not UTF-8).
func (c *cli) writeReportJSON(rep *securemail.Report, msg []byte) error {
	out := struct {
		*securemail.Report
		Message       *string `json:"message,omitempty"`
		MessageBase64 *string `json:"message_base64,omitempty"`
	}{Report: rep}
	if msg != nil {
		if utf8.Valid(msg) {
			s := string(msg)
			out.Message = &s
		} else {
			s := base64.StdEncoding.EncodeToString(msg)
			out.MessageBase64 = &s
		}
	}
	return writeJSON(c.stdout, out)
}

// rawReport turns a pgp.Result into the report of CLI.md; signers are
// bound to from when it is given.
func rawReport(scheme *securemail.PGP, res *pgp.Result, from string) *securemail.Report {
	rep := &securemail.Report{Encryption: securemail.EncryptionReport{Kind: "none"}, Signatures: []securemail.SignatureReport{}, Warnings: []string{}, From: from}
	if res.Encrypted {
		rep.Encryption = securemail.EncryptionReport{Kind: "pgp", OK: true, Integrity: res.Integrity, Algorithm: res.Algorithm}
	}
	rep.Signatures = scheme.SignatureReports(res.Signatures, true)
	bindRawSigner(rep.Signatures, from, "key")
	if res.Filename != "" {
		rep.Warnings = append(rep.Warnings, "the data is named "+safe(res.Filename)+" (as its sender wrote it)")
	}
	return rep
}

func (c *cli) decryptRaw(st *keystore.Store) error {
	debug.SetGCPercent(100) // streaming: main's 400 is for keys list
	in := bufio.NewReaderSize(c.stdin, 256<<10)
	if peekCMS(in) {
		return c.decryptRawSMIME(st, in)
	}
	scheme := c.pgpScheme(st)
	var buf bytes.Buffer
	var out io.Writer = bufio.NewWriterSize(c.stdout, 256<<10)
	if c.json {
		out = &buf
	}
	res, err := pgp.Read(in, out, scheme.Keyring(nil), nil)
	if err != nil {
		return pgpError(err)
	}
	if bw, ok := out.(*bufio.Writer); ok {
		if err := bw.Flush(); err != nil {
			return err
		}
	}
	rep := rawReport(scheme, res, "")
	if c.json {
		if err := c.writeReportJSON(rep, buf.Bytes()); err != nil {
			return err
		}
	} else {
		c.sayReport(rep)
	}
	return rawVerdict(rep, false)
}

// rawVerdict is the exit status of a --raw report: 1 when a signature is
// not valid, or, with mustBeSigned, when there is none.
func rawVerdict(rep *securemail.Report, mustBeSigned bool) error {
	if mustBeSigned && len(rep.Signatures) == 0 {
		return &exitError{code: exitVerdict, err: errors.New("the data is not signed")}
	}
	for _, s := range rep.Signatures {
		if !s.Valid {
			return &exitError{code: exitVerdict, err: errors.New("a signature is not valid")}
		}
	}
	return nil
}

// pgpError gives exit codes to the pgp package's errors.
func pgpError(err error) error {
	var integrity *pgp.IntegrityError
	var nokey *pgp.NoKeyError
	var format *pgp.FormatError
	var pass *keystore.PassphraseError
	switch {
	case errors.As(err, &pass), errors.Is(err, keystore.ErrWrongPassphrase):
		return err
	case errors.As(err, &integrity):
		return &exitError{code: exitVerdict, err: err}
	case errors.As(err, &nokey):
		if nokey.Err != nil {
			return nokey.Err
		}
		return &exitError{code: exitNotFound, err: err, hint: "it is not encrypted to any key in your keystore ('securemail keys list')"}
	case errors.As(err, &format):
		return &exitError{code: exitUsage, err: err}
	}
	return err
}

func (c *cli) verifyCommand() *cobra.Command {
	var raw bool
	var sigFile, signer string
	cmd := &cobra.Command{
		Use:   "verify [--json] [--raw [--signature FILE] [--signer ADDR]] < IN",
		Short: "Check the signatures of a message (or, with --raw, of any data)",
		Long: `verify reads a signed RFC 5322 message on stdin (PGP/MIME, an inline
OpenPGP block, or S/MIME multipart/signed or signed-data) and reports on
each signature: valid only when it verifies, its key could sign when it was
made (an S/MIME certificate: chains to a trust anchor from 'keys trust', is
for email protection and valid now), it covers the whole message and its
key carries the From address. Exit 0 only when the message is signed and
every signature passes; 1 otherwise.

With --raw, stdin is the signed data and --signature FILE its detached
signature (OpenPGP, or CMS in PEM or DER); without --signature, stdin is a
signed or cleartext-signed OpenPGP message or a CMS SignedData.
--signer ADDR requires the signer's key to carry ADDR.`,
		Example: "  securemail verify < message.eml\n  securemail verify --raw --signature release.tar.gz.asc < release.tar.gz",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !raw && (sigFile != "" || signer != "") {
				return usageError("--signature and --signer go with --raw")
			}
			st, err := c.openStore()
			if err != nil {
				return err
			}
			if raw {
				return c.verifyRaw(st, sigFile, signer)
			}
			in, err := c.readMessage()
			if err != nil {
				return err
			}
			rep, _, err := securemail.Open(in, c.openOptions(st))
			if err != nil {
				return usageError("%v", err)
			}
			c.sayReportOrJSON(rep, nil)
			if rep.Encryption.Err != nil {
				return decryptError(rep)
			}
			if !rep.Verified() {
				if len(rep.Signatures) == 0 {
					return &exitError{code: exitVerdict, err: errors.New("the message is not signed")}
				}
				return &exitError{code: exitVerdict, err: errors.New("the signature does not prove who sent the message")}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&raw, "raw", false, "verify any data, not a mail message")
	cmd.Flags().StringVar(&sigFile, "signature", "", "the detached signature `FILE` (with --raw)")
	cmd.Flags().StringVar(&signer, "signer", "", "require the signer's key to carry `ADDR` (with --raw)")
	return cmd
}

func (c *cli) verifyRaw(st *keystore.Store, sigFile, signer string) error {
	scheme := c.pgpScheme(st)
	var res *pgp.Result
	if sigFile != "" {
		sig, err := os.ReadFile(sigFile)
		if err != nil {
			return usageError("the signature: %v", err)
		}
		if ber, ok := sniffCMS(sig); ok {
			return c.verifyRawSMIME(st, ber, bufio.NewReaderSize(c.stdin, 256<<10), signer)
		}
		sigs, err := pgp.VerifyDetached(bufio.NewReaderSize(c.stdin, 256<<10), sig, scheme.Keyring(nil), nil)
		if err != nil {
			return pgpError(err)
		}
		res = &pgp.Result{Signatures: sigs}
	} else {
		in := bufio.NewReaderSize(c.stdin, 256<<10)
		if peekCMS(in) {
			c.stdin = in
			data, err := c.readRaw()
			if err != nil {
				return err
			}
			ber, ok := sniffCMS(data)
			if !ok {
				return usageError("the input is not a readable CMS object")
			}
			if t := smime.ContentType(ber); t != smime.TypeSigned {
				return usageError("the input is encrypted: use 'securemail decrypt --raw'")
			}
			return c.verifyRawSMIME(st, ber, nil, signer)
		}
		var err error
		res, err = pgp.Read(in, io.Discard, scheme.Keyring(nil), nil)
		if err != nil {
			return pgpError(err)
		}
		if res.Encrypted {
			return usageError("the input is encrypted: use 'securemail decrypt --raw'")
		}
	}
	rep := rawReport(scheme, res, keystore.NormalizeEmail(signer))
	c.sayReportOrJSON(rep, nil)
	return rawVerdict(rep, true)
}

// senderAddress is the sender of a composed message: from, else the
// address of its From field, or "".
func senderAddress(raw []byte, from string) string {
	if from == "" {
		m, err := message.Parse(raw, nil)
		if err != nil {
			return ""
		}
		from = m.Root.Header.Get("From")
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return ""
	}
	return a.Address
}

// hasIdentity reports whether the keystore holds an identity of kind for addr.
func hasIdentity(st *keystore.Store, kind keystore.Kind, addr string) bool {
	for _, e := range st.Lookup(addr) {
		if e.Kind == kind && e.Secret && !e.Revoked {
			return true
		}
	}
	return false
}

// smimeSender finds the user's S/MIME identity for from (or the only one).
func (c *cli) smimeSender(st *keystore.Store, from string) (string, error) {
	if from != "" {
		if !hasIdentity(st, keystore.SMIME, from) {
			return "", &keystore.NotFoundError{Query: "S/MIME identity for " + from}
		}
		return from, nil
	}
	var addrs []string
	for _, e := range st.Entries() {
		if e.Kind == keystore.SMIME && e.Secret && !e.Revoked && len(e.Emails) > 0 {
			addrs = append(addrs, e.Emails[0])
		}
	}
	switch len(addrs) {
	case 0:
		return "", &keystore.NotFoundError{Query: "an S/MIME identity (make one with 'securemail keys generate --smime' or import one)"}
	case 1:
		return addrs[0], nil
	}
	return "", usageError("you have %d S/MIME identities: say which with --from ADDR", len(addrs))
}

// readRaw reads stdin whole, bounded (CMS objects are not streamed yet).
func (c *cli) readRaw() ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(c.stdin, maxMessage+1))
	if err != nil {
		return nil, usageError("reading the input: %v", err)
	}
	if len(data) > maxMessage {
		return nil, usageError("the input is larger than %d MiB", maxMessage>>20)
	}
	return data, nil
}

// writeCMS writes a CMS object as PEM (RFC 7468 "CMS").
func (c *cli) writeCMS(der []byte) error {
	return pem.Encode(c.stdout, &pem.Block{Type: "CMS", Bytes: der})
}

func (c *cli) encryptRawSMIME(st *keystore.Store, to []string, sign bool, from string) error {
	scheme := c.smimeScheme(st)
	self, err := c.smimeSender(st, from)
	if err != nil && (sign || from != "") {
		return err
	}
	addrs := append([]string{}, to...)
	if err := c.findKeys(st, keystore.SMIME, addrs, canEncryptTo(scheme)); err != nil {
		return err
	}
	if self != "" {
		addrs = append(addrs, self)
	}
	recips, err := scheme.Recipients(addrs)
	if err != nil {
		return protectError(err)
	}
	opts := &cms.EncryptOptions{}
	opts.Algorithm, opts.RSAPadding = scheme.AlgorithmsFor(recips)
	var content io.Reader = c.stdin
	if sign {
		// The SignedData that is encrypted holds the content: it is made
		// whole first (up to maxMessage).
		sg, err := scheme.Signer(self)
		if err != nil {
			return err
		}
		data, err := c.readRaw()
		if err != nil {
			return err
		}
		if data, err = cms.Sign(data, []cms.Signer{sg}, &cms.SignOptions{Certificates: scheme.Chain(sg.Certificate)}); err != nil {
			return err
		}
		content, opts.ContentType = bytes.NewReader(data), cms.OIDSignedData
	}
	// Streamed: BER with indefinite lengths (as openssl cms -stream
	// writes), in PEM as it is made.
	out := bufio.NewWriterSize(c.stdout, 256<<10)
	pw, err := newPEMWriter(out, "CMS")
	if err != nil {
		return err
	}
	if err := cms.EncryptTo(pw, content, recips, opts); err != nil {
		return err
	}
	if err := pw.Close(); err != nil {
		return err
	}
	return out.Flush()
}

func (c *cli) signRawSMIME(st *keystore.Store, from string) error {
	scheme := c.smimeScheme(st)
	self, err := c.smimeSender(st, from)
	if err != nil {
		return err
	}
	sg, err := scheme.Signer(self)
	if err != nil {
		return err
	}
	data, err := c.readRaw()
	if err != nil {
		return err
	}
	der, err := cms.Sign(data, []cms.Signer{sg}, &cms.SignOptions{Certificates: scheme.Chain(sg.Certificate)})
	if err != nil {
		return err
	}
	return c.writeCMS(der)
}

// sniffCMS tells a CMS object (PEM or DER/BER) from anything else and
// returns its BER or DER bytes.
func sniffCMS(b []byte) ([]byte, bool) {
	t := bytes.TrimLeft(b, " \t\r\n")
	if bytes.HasPrefix(t, []byte("-----BEGIN CMS-----")) || bytes.HasPrefix(t, []byte("-----BEGIN PKCS7-----")) {
		blk, _ := pem.Decode(t)
		if blk == nil {
			return nil, false
		}
		return blk.Bytes, true
	}
	if smime.ContentType(b) != "" {
		return b, true
	}
	return nil, false
}

// peekCMS looks at the start of r for a CMS object.
func peekCMS(r *bufio.Reader) bool {
	head, _ := r.Peek(64)
	t := bytes.TrimLeft(head, " \t\r\n")
	return bytes.HasPrefix(t, []byte("-----BEGIN CMS")) || bytes.HasPrefix(t, []byte("-----BEGIN PKCS7")) || smime.ContentType(head) != ""
}

// smimeRawReport judges the signers of a SignedData read with --raw;
// they are bound to signer when it is given.
func smimeRawReport(scheme *securemail.SMIME, sd *cms.SignedData, res *cms.VerifyResult, signer string) *securemail.Report {
	rep := &securemail.Report{Encryption: securemail.EncryptionReport{Kind: "none"}, Signatures: []securemail.SignatureReport{}, Warnings: []string{}, From: signer}
	if res != nil {
		rep.Signatures = scheme.SignatureReports(sd, res, signer)
	}
	bindRawSigner(rep.Signatures, signer, "certificate")
	return rep
}

// bindRawSigner binds the signatures of --raw data to --signer ADDR: a
// signature whose key (or certificate) does not carry it is not valid.
// Without --signer there is nothing to bind to, and matches_from is false.
func bindRawSigner(sigs []securemail.SignatureReport, signer, what string) {
	for i := range sigs {
		s := &sigs[i]
		s.MatchesFrom = signer != "" && slices.Contains(s.Emails, signer)
		if signer != "" && !s.MatchesFrom && s.Valid {
			s.Valid = false
			msg := "the signer's " + what + " does not carry " + signer
			s.Error = &msg
		}
	}
}

// decryptRawSMIME decrypts a CMS EnvelopedData or AuthEnvelopedData, PEM
// or DER/BER, streaming: plain content goes to stdout once authenticated,
// without the message ever being whole in memory. A SignedData inside (as
// encrypt --raw --sign makes) is held, up to maxMessage, and verified.
func (c *cli) decryptRawSMIME(st *keystore.Store, in *bufio.Reader) error {
	src, err := cmsSource(in)
	if err != nil {
		return err
	}
	if head, _ := src.Peek(64); smime.ContentType(head) == smime.TypeSigned {
		return usageError("the input is only signed: use 'securemail verify --raw'")
	}
	scheme := c.smimeScheme(st)
	out := bufio.NewWriterSize(c.stdout, 256<<10)
	var held *limitedBuffer
	info, err := scheme.DecryptCMSTo(nil, src, func(info *cms.DecryptInfo) (io.Writer, error) {
		if c.json || info.ContentType.Equal(cms.OIDSignedData) {
			held = &limitedBuffer{max: maxMessage}
			return held, nil
		}
		return out, nil
	})
	if err != nil {
		if held != nil && errors.Is(err, errTooLarge) {
			return usageError("the decrypted content is larger than %d MiB: too large to verify or report as JSON", maxMessage>>20)
		}
		return cmsStreamError(err)
	}
	if err := out.Flush(); err != nil {
		return err
	}
	rep := &securemail.Report{Signatures: []securemail.SignatureReport{}, Warnings: []string{},
		Encryption: securemail.EncryptionReport{Kind: "smime", OK: true, Integrity: info.Integrity, Algorithm: strings.ToUpper(info.Algorithm.String())}}
	if !info.Integrity {
		rep.Warnings = append(rep.Warnings, "the data is encrypted with "+rep.Encryption.Algorithm+", which does not protect its integrity")
	}
	var plain []byte
	if held != nil {
		plain = held.Bytes()
	}
	if info.ContentType.Equal(cms.OIDSignedData) {
		sd, err := cms.ParseSignedData(plain, nil)
		if err != nil {
			return usageError("the signed data inside: %v", err)
		}
		res, err := sd.Verify(nil)
		if err != nil && res == nil {
			return &exitError{code: exitVerdict, err: err}
		}
		sig := smimeRawReport(scheme, sd, res, "")
		rep.Signatures, plain = sig.Signatures, sd.Content
		if !c.json {
			if _, err := c.stdout.Write(plain); err != nil {
				return err
			}
		}
	}
	if c.json {
		if err := c.writeReportJSON(rep, plain); err != nil {
			return err
		}
	} else {
		c.sayReport(rep)
	}
	if !info.Integrity && len(rep.Signatures) == 0 {
		// As for mail (Report.Failed): CBC has no integrity of its own,
		// only a valid signature inside can vouch for the content.
		return &exitError{code: exitVerdict, err: errors.New("the data has no integrity protection and no signature")}
	}
	return rawVerdict(rep, false)
}

// cmsSource is the DER/BER of a CMS object on in, PEM ("CMS" or "PKCS7")
// decoded as it is read.
func cmsSource(in *bufio.Reader) (*bufio.Reader, error) {
	head, _ := in.Peek(64)
	if !bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n"), []byte("-----BEGIN")) {
		return in, nil
	}
	pr, err := newPEMReader(in, "CMS", "PKCS7")
	if err != nil {
		return nil, usageError("the input is not a readable CMS object: %v", err)
	}
	return bufio.NewReaderSize(pemErrors{pr}, 256<<10), nil
}

// pemErrors marks the errors of a PEM decoder as the input's fault.
type pemErrors struct{ r io.Reader }

func (p pemErrors) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		err = &exitError{code: exitUsage, err: fmt.Errorf("the PEM input: %w", err)}
	}
	return n, err
}

// cmsStreamError gives exit codes to the errors of a streamed decryption:
// the PEM layer's own, else smimeError's.
func cmsStreamError(err error) error {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee
	}
	return smimeError(err)
}

// errTooLarge is what a limitedBuffer says past its bound.
var errTooLarge = errors.New("too large")

// limitedBuffer is a bytes.Buffer that refuses to grow past max.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if l.Len()+len(p) > l.max {
		return 0, errTooLarge
	}
	return l.Buffer.Write(p)
}

// verifyRawSMIME checks a CMS SignedData: detached over stdin when sig
// is the --signature file, else encapsulating its content.
func (c *cli) verifyRawSMIME(st *keystore.Store, sigBER []byte, detached io.Reader, signer string) error {
	scheme := c.smimeScheme(st)
	sd, err := cms.ParseSignedData(sigBER, nil)
	if err != nil {
		return usageError("the CMS signature: %v", err)
	}
	res, err := sd.Verify(&cms.VerifyOptions{Detached: detached})
	if err != nil && !errors.Is(err, cms.ErrUnsigned) {
		return &exitError{code: exitVerdict, err: err}
	}
	rep := smimeRawReport(scheme, sd, res, keystore.NormalizeEmail(signer))
	c.sayReportOrJSON(rep, nil)
	return rawVerdict(rep, true)
}

// smimeError gives exit codes to S/MIME decryption errors.
func smimeError(err error) error {
	var nf *keystore.NotFoundError
	var pass *keystore.PassphraseError
	switch {
	case errors.As(err, &pass), errors.Is(err, keystore.ErrWrongPassphrase):
		return err
	case errors.As(err, &nf):
		return &exitError{code: exitNotFound, err: err, hint: "it is not encrypted to any certificate in your keystore ('securemail keys list')"}
	case cms.IsMalformed(err):
		return &exitError{code: exitUsage, err: err}
	}
	return &exitError{code: exitVerdict, err: err}
}
