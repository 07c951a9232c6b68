package main

import (
	"bufio"
	"bytes"
	"crypto"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/spf13/cobra"

	"github.com/securemail/securemail/pgp"
)

// This file is "securemail sop", the Stateless OpenPGP Command Line
// Interface (draft-dkg-openpgp-stateless-cli-14), so that interoperability
// test suites can drive securemail like any other OpenPGP implementation.
// It is stateless: keys and certificates come from files named on the
// command line, never from the keystore. Reading goes through package pgp,
// so its rules hold here too: a message without integrity protection, or
// whose integrity check fails, yields no output at all.

// The exit codes of sop (the draft's "Failure Modes").
const (
	sopNoSignature              = 3
	sopUnsupportedAsymmetric    = 13
	sopCertCannotEncrypt        = 17
	sopMissingArg               = 19
	sopIncompleteVerification   = 23
	sopCannotDecrypt            = 29
	sopPasswordNotHumanReadable = 31
	sopUnsupportedOption        = 37
	sopBadData                  = 41
	sopExpectedText             = 53
	sopOutputExists             = 59
	sopMissingInput             = 61
	sopKeyIsProtected           = 67
	sopUnsupportedSubcommand    = 69
	sopUnsupportedSpecialPrefix = 71
	sopAmbiguousInput           = 73
	sopKeyCannotSign            = 79
	sopIncompatibleOptions      = 83
	sopUnsupportedProfile       = 89
)

// sopSpec is the revision of the draft this implements.
const sopSpec = "draft-dkg-openpgp-stateless-cli-14"

func sopErr(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

// sopCmd holds what the sop subcommands share.
type sopCmd struct {
	c     *cli
	debug bool
}

func (c *cli) sopCommand() *cobra.Command {
	s := &sopCmd{c: c}
	cmd := &cobra.Command{
		Use:   "sop SUBCOMMAND [ARGS...]",
		Short: "The Stateless OpenPGP command line (sop), for interoperability",
		Long: `sop is the Stateless OpenPGP Command Line Interface (` + sopSpec + `):
the same subcommands, arguments and exit codes as every other sop, so that
OpenPGP test suites can drive securemail. It never touches the keystore:
keys (KEYS) and certificates (CERTS) are files, armored or binary, named on
the command line. An argument naming an input may also be @ENV:NAME (an
environment variable) or @FD:N (an open file descriptor).

Exit codes are sop's: 3 no acceptable signature, 13 an unsupported
public-key algorithm, 17 a certificate cannot encrypt, 19 a missing
argument, 23 incomplete verification instructions, 29 cannot decrypt,
31 a password that is not text, 37 an unsupported option, 41 bad data,
53 not text, 59 the output exists, 61 a missing input, 67 a key is
locked, 69 an unsupported subcommand, 71 an unsupported @ designator,
73 an ambiguous input, 79 a key cannot sign, 83 incompatible options,
89 no such profile. Nothing of a message that fails its integrity check
is written (exit 29).`,
		Example: `  securemail sop generate-key 'Alice <alice@example.org>' > alice.key
  securemail sop extract-cert < alice.key > alice.cert
  securemail sop encrypt --sign-with alice.key bob.cert < msg.txt > msg.asc
  securemail sop decrypt --verify-with bob.cert --verifications-out ver.txt alice.key < reply.asc`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return sopErr(sopUnsupportedSubcommand, "unsupported sop subcommand %q", args[0])
			}
			return cmd.Help()
		},
	}
	cmd.SetFlagErrorFunc(sopFlagError)
	cmd.PersistentFlags().BoolVar(&s.debug, "debug", false, "say more on stderr about why something failed")
	cmd.AddCommand(s.versionCommand(), s.listProfilesCommand(), s.generateKeyCommand(), s.extractCertCommand(),
		s.signCommand(), s.verifyCommand(), s.encryptCommand(), s.decryptCommand(), s.armorCommand(),
		s.dearmorCommand(), s.inlineSignCommand(), s.inlineVerifyCommand())
	return cmd
}

// sopFlagError gives flag errors sop's codes: an option without its value
// is a missing argument, anything else an unsupported option.
func sopFlagError(_ *cobra.Command, err error) error {
	if strings.Contains(err.Error(), "needs an argument") {
		return &exitError{code: sopMissingArg, err: err}
	}
	return &exitError{code: sopUnsupportedOption, err: err}
}

// sopNoArgs is the Args of subcommands that take none.
func sopNoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return sopErr(sopUnsupportedOption, "%s takes no arguments, got %q", cmd.Name(), args[0])
	}
	return nil
}

// debugf says more on stderr with --debug.
func (s *sopCmd) debugf(format string, args ...any) {
	if s.debug {
		s.c.v.say("debug", "%s", safe(fmt.Sprintf(format, args...)))
	}
}

// --- version and profiles ---------------------------------------------------

func (s *sopCmd) versionCommand() *cobra.Command {
	var backend, extended, spec bool
	cmd := &cobra.Command{
		Use:     "version [--backend|--extended|--sop-spec]",
		Short:   "Print the name and version of this sop",
		Example: "  securemail sop version",
		Args:    sopNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n := 0
			for _, b := range []bool{backend, extended, spec} {
				if b {
					n++
				}
			}
			if n > 1 {
				return sopErr(sopIncompatibleOptions, "--backend, --extended and --sop-spec go alone")
			}
			out := s.c.stdout
			switch {
			case backend:
				fmt.Fprintln(out, sopBackend())
			case extended:
				fmt.Fprintf(out, "securemail %s\n%s\n%s %s/%s\n%s\n", sopVersion(), sopBackend(), runtime.Version(), runtime.GOOS, runtime.GOARCH, sopSpec)
			case spec:
				fmt.Fprintln(out, sopSpec)
			default:
				fmt.Fprintf(out, "securemail %s\n", sopVersion())
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&backend, "backend", false, "name the OpenPGP library underneath")
	cmd.Flags().BoolVar(&extended, "extended", false, "more detail, one item a line")
	cmd.Flags().BoolVar(&spec, "sop-spec", false, "name the revision of the sop draft implemented")
	return cmd
}

func sopVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func sopBackend() string {
	const mod = "github.com/ProtonMail/go-crypto"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == mod {
				return "go-crypto " + d.Version
			}
		}
	}
	return "go-crypto"
}

// A profile is a named set of algorithms; the first of each list is the
// default.
type sopProfile struct {
	name, about string
}

var sopProfiles = map[string][]sopProfile{
	"generate-key": {
		{"draft-koch-eddsa-for-openpgp-00", "a v4 key: Ed25519 primary key for signing, Curve25519 subkey for encryption (the default)"},
		{"rfc4880", "a v4 key: RSA 3072-bit primary key and encryption subkey"},
	},
	"encrypt": {
		{"rfc4880", "SEIPDv1 (with its modification detection code), AES-256 (the default)"},
	},
}

// sopPickProfile returns the profile named (or the default: "" or
// "default"), or exit 89.
func sopPickProfile(sub, name string) (string, error) {
	list := sopProfiles[sub]
	if name == "" || name == "default" {
		return list[0].name, nil
	}
	for _, p := range list {
		if p.name == name {
			return p.name, nil
		}
	}
	return "", sopErr(sopUnsupportedProfile, "%s has no profile %q (see 'securemail sop list-profiles %s')", sub, name, sub)
}

func (s *sopCmd) listProfilesCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "list-profiles SUBCOMMAND",
		Short:   "List the profiles a subcommand takes (--profile)",
		Example: "  securemail sop list-profiles generate-key",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return sopErr(sopMissingArg, "name the subcommand whose profiles to list")
			}
			if len(args) > 1 {
				return sopErr(sopUnsupportedOption, "list-profiles takes one subcommand, not %d", len(args))
			}
			list, ok := sopProfiles[args[0]]
			if !ok {
				return sopErr(sopUnsupportedProfile, "%s takes no profiles", args[0])
			}
			for _, p := range list {
				fmt.Fprintf(s.c.stdout, "%s: %s\n", p.name, p.about)
			}
			return nil
		},
	}
}

// --- inputs and outputs -------------------------------------------------------

// sopInput reads an input named on the command line: a file, @ENV:NAME or
// @FD:N.
func sopInput(name string) ([]byte, error) {
	if strings.HasPrefix(name, "@") {
		if _, err := os.Lstat(name); err == nil {
			return nil, sopErr(sopAmbiguousInput, "%s is both a special designator and an existing file", name)
		}
		switch {
		case strings.HasPrefix(name, "@ENV:"):
			v, ok := os.LookupEnv(name[len("@ENV:"):])
			if !ok {
				return nil, sopErr(sopMissingInput, "%s: the environment variable is not set", name)
			}
			return []byte(v), nil
		case strings.HasPrefix(name, "@FD:"):
			f, err := sopFD(name)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			data, err := io.ReadAll(f)
			if err != nil {
				return nil, sopErr(sopMissingInput, "%s: %v", name, err)
			}
			return data, nil
		}
		return nil, sopErr(sopUnsupportedSpecialPrefix, "%s: unsupported special designator (@ENV: and @FD: are supported)", name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, sopErr(sopMissingInput, "%v", err)
	}
	return data, nil
}

func sopFD(name string) (*os.File, error) {
	n, err := strconv.ParseUint(name[len("@FD:"):], 10, 31)
	if err != nil {
		return nil, sopErr(sopUnsupportedSpecialPrefix, "%s: not a file descriptor number", name)
	}
	return os.NewFile(uintptr(n), name), nil
}

// sopCheckOutput fails with 59 when an output file already exists, before
// any work is done.
func sopCheckOutput(name string) error {
	if name == "" {
		return nil
	}
	if strings.HasPrefix(name, "@") {
		if strings.HasPrefix(name, "@FD:") {
			_, err := strconv.ParseUint(name[len("@FD:"):], 10, 31)
			if err == nil {
				return nil
			}
		}
		return sopErr(sopUnsupportedSpecialPrefix, "%s: unsupported output designator (@FD:N is supported)", name)
	}
	if _, err := os.Lstat(name); err == nil {
		return sopErr(sopOutputExists, "%s already exists", name)
	}
	return nil
}

// sopWriteOutput writes data to an output named on the command line (a new
// file, or @FD:N).
func sopWriteOutput(name string, data []byte) error {
	var f *os.File
	if strings.HasPrefix(name, "@FD:") {
		var err error
		if f, err = sopFD(name); err != nil {
			return err
		}
	} else {
		var err error
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return sopErr(sopOutputExists, "%s already exists", name)
		}
		if err != nil {
			return err
		}
	}
	_, err := f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// sopKeyPasswords reads the --with-key-password inputs.
func sopKeyPasswords(names []string) ([][]byte, error) {
	var out [][]byte
	for _, n := range names {
		pw, err := sopInput(n)
		if err != nil {
			return nil, err
		}
		out = append(out, pw)
	}
	return out, nil
}

// sopHumanPassword checks a password we are to lock something with: UTF-8,
// and not empty once trailing white space (a file's final newline) is
// stripped, as it is.
func sopHumanPassword(pw []byte) ([]byte, error) {
	if !utf8.Valid(pw) {
		return nil, sopErr(sopPasswordNotHumanReadable, "the password is not UTF-8 text")
	}
	pw = bytes.TrimRight(pw, " \t\r\n")
	if len(pw) == 0 {
		return nil, sopErr(sopPasswordNotHumanReadable, "the password is empty")
	}
	return pw, nil
}

// sopArmorBlocks splits text into its armored blocks, BEGIN line to END
// line.
func sopArmorBlocks(data []byte) [][]byte {
	var out [][]byte
	start := -1
	for pos := 0; pos < len(data); {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		line := bytes.TrimSpace(data[pos:next])
		switch {
		case start < 0 && bytes.HasPrefix(line, []byte("-----BEGIN ")):
			start = pos
		case start >= 0 && bytes.HasPrefix(line, []byte("-----END ")):
			out = append(out, data[start:next])
			start = -1
		}
		pos = next
	}
	return out
}

func isArmored(data []byte) bool {
	return bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n"), []byte("-----BEGIN PGP "))
}

// sopParseEntities reads OpenPGP keys or certificates: binary packets, or
// one or more armored key blocks.
func sopParseEntities(what string, data []byte) ([]*openpgp.Entity, error) {
	if !isArmored(data) {
		el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
		if err != nil || len(el) == 0 {
			return nil, sopKeyReadError(what, err)
		}
		return el, nil
	}
	var out []*openpgp.Entity
	for _, blk := range sopArmorBlocks(data) {
		b, err := armor.Decode(bytes.NewReader(blk))
		if err != nil {
			return nil, sopErr(sopBadData, "%s: bad armor: %v", what, err)
		}
		if b.Type != openpgp.PublicKeyType && b.Type != openpgp.PrivateKeyType {
			return nil, sopErr(sopBadData, "%s: expected an OpenPGP key, found %q", what, b.Type)
		}
		el, err := openpgp.ReadKeyRing(b.Body)
		if err != nil || len(el) == 0 {
			return nil, sopKeyReadError(what, err)
		}
		out = append(out, el...)
	}
	if len(out) == 0 {
		return nil, sopErr(sopBadData, "%s: no OpenPGP key found", what)
	}
	return out, nil
}

func sopKeyReadError(what string, err error) error {
	var unsupported pgperrors.UnsupportedError
	if errors.As(err, &unsupported) {
		return sopErr(sopUnsupportedAsymmetric, "%s: %s", what, strings.TrimPrefix(err.Error(), "openpgp: "))
	}
	if err == nil {
		return sopErr(sopBadData, "%s: no OpenPGP key found", what)
	}
	return sopErr(sopBadData, "%s: not an OpenPGP key: %s", what, strings.TrimPrefix(err.Error(), "openpgp: "))
}

func sopFingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// sopCerts are the certificates of CERTS arguments, with the arguments
// that hold each (for the "signers" of VERIFICATIONS).
type sopCerts struct {
	ents  pgp.Entities
	files map[string][]string // primary key fingerprint -> arguments
}

func (s *sopCmd) loadCerts(names []string) (*sopCerts, error) {
	cs := &sopCerts{files: map[string][]string{}}
	for _, n := range names {
		data, err := sopInput(n)
		if err != nil {
			return nil, err
		}
		ents, err := sopParseEntities(n, data)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			f := sopFingerprint(e)
			if len(cs.files[f]) == 0 {
				cs.ents = append(cs.ents, e)
			}
			cs.files[f] = append(cs.files[f], n)
		}
	}
	return cs, nil
}

// loadKeys reads the secret keys of KEYS arguments and unlocks them with
// one of passwords.
func (s *sopCmd) loadKeys(names []string, passwords [][]byte) ([]*openpgp.Entity, error) {
	var out []*openpgp.Entity
	seen := map[string]bool{}
	for _, n := range names {
		data, err := sopInput(n)
		if err != nil {
			return nil, err
		}
		ents, err := sopParseEntities(n, data)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if e.PrivateKey == nil {
				return nil, sopErr(sopBadData, "%s: a certificate, not a secret key", n)
			}
			if err := sopUnlock(e, passwords); err != nil {
				return nil, sopErr(sopKeyIsProtected, "%s: key %s is locked with a password, and none given (--with-key-password) unlocks it", n, sopFingerprint(e))
			}
			if f := sopFingerprint(e); !seen[f] {
				seen[f] = true
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func sopLocked(e *openpgp.Entity) bool {
	if e.PrivateKey != nil && e.PrivateKey.Encrypted {
		return true
	}
	for _, sk := range e.Subkeys {
		if sk.PrivateKey != nil && sk.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

// sopUnlock decrypts e's secret keys with one of passwords, as given or
// without trailing white space.
func sopUnlock(e *openpgp.Entity, passwords [][]byte) error {
	if !sopLocked(e) {
		return nil
	}
	for _, pw := range passwords {
		tries := [][]byte{pw}
		if t := bytes.TrimRight(pw, " \t\r\n"); len(t) != len(pw) {
			tries = append(tries, t)
		}
		for _, t := range tries {
			if e.DecryptPrivateKeys(t) == nil && !sopLocked(e) {
				return nil
			}
		}
	}
	return errors.New("locked")
}

// sopSigners loads KEYS for signing: each must be able to sign (79).
func (s *sopCmd) sopSigners(names []string, passwords [][]byte) ([]*openpgp.Entity, error) {
	keys, err := s.loadKeys(names, passwords)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if err := pgp.CanSign(k, nil); err != nil {
			return nil, sopErr(sopKeyCannotSign, "%v", err)
		}
	}
	return keys, nil
}

// sopRing is the keyring of a sop command: secret keys decrypt, and only
// the certificates given for it verify signatures.
type sopRing struct {
	keys  pgp.Entities
	certs pgp.Entities
}

func (r sopRing) Public(id uint64) []*openpgp.Entity { return r.certs.Public(id) }

func (r sopRing) Secret(id uint64) ([]*openpgp.Entity, error) { return r.keys.Secret(id) }

// sopWriteConfig is the algorithm policy for what sop writes: package
// pgp's (SHA-256, AES-256, no compression, RSA of 2048 bits or more).
func sopWriteConfig() *packet.Config {
	return &packet.Config{
		DefaultHash:          crypto.SHA256,
		DefaultCipher:        packet.CipherAES256,
		RejectHashAlgorithms: map[crypto.Hash]bool{crypto.MD5: true, crypto.RIPEMD160: true},
		MinRSABits:           2048,
	}
}

// sopAs parses --as.
func sopAs(as string, allowed ...string) error {
	for _, a := range allowed {
		if as == a {
			return nil
		}
	}
	return sopErr(sopUnsupportedOption, "--as=%s: expected %s", as, strings.Join(allowed, ", "))
}

// sopReadText reads all of r and checks that it is UTF-8 text (53).
func sopReadText(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, sopErr(sopExpectedText, "--as=text: the input is not UTF-8 text")
	}
	return data, nil
}

// sopEmit writes what write produces to stdout, armored as blockType
// unless noArmor.
func (s *sopCmd) sopEmit(blockType string, noArmor bool, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(s.c.stdout, 256<<10)
	var w io.Writer = bw
	var aw io.WriteCloser
	if !noArmor {
		var err error
		if aw, err = armor.Encode(bw, blockType, nil); err != nil {
			return err
		}
		w = aw
	}
	if err := write(w); err != nil {
		return err
	}
	if aw != nil {
		if err := aw.Close(); err != nil {
			return err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// --- time windows and VERIFICATIONS -----------------------------------------

// sopWindow bounds the creation times of acceptable signatures; a zero
// bound is no bound.
type sopWindow struct {
	notBefore, notAfter time.Time
}

func sopParseWindow(notBefore, notAfter string) (sopWindow, error) {
	var w sopWindow
	var err error
	if w.notBefore, err = sopDate(notBefore, time.Time{}); err != nil {
		return w, err
	}
	w.notAfter, err = sopDate(notAfter, time.Now())
	return w, err
}

var sopDateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02T15:04Z0700",
	"20060102T150405Z0700",
	"20060102T150405Z",
	"20060102T1504Z",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02",
	"20060102",
}

// sopDate parses a DATE argument: ISO-8601, "now", or "-" (no bound).
func sopDate(s string, def time.Time) (time.Time, error) {
	switch s {
	case "":
		return def, nil
	case "-":
		return time.Time{}, nil
	case "now":
		return time.Now(), nil
	}
	for _, l := range sopDateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, sopErr(sopMissingArg, "%q is not an ISO-8601 date (e.g. 2025-01-31T12:00:00Z), now or -", s)
}

func (w sopWindow) contains(t time.Time) bool {
	if !w.notBefore.IsZero() && t.Before(w.notBefore.Truncate(time.Second)) {
		return false
	}
	if !w.notAfter.IsZero() && t.After(w.notAfter) {
		return false
	}
	return true
}

// sopVerification is one line of VERIFICATIONS.
type sopVerification struct {
	created             time.Time
	signingKey, primary string
	text                bool
	signers             []string
}

func (v sopVerification) String() string {
	mode := "binary"
	if v.text {
		mode = "text"
	}
	line := fmt.Sprintf("%s %s %s mode:%s", v.created.UTC().Format("2006-01-02T15:04:05Z"), v.signingKey, v.primary, mode)
	if len(v.signers) > 0 {
		j, _ := json.Marshal(struct {
			Signers []string `json:"signers"`
		}{v.signers})
		line += " " + string(j)
	}
	return line + "\n"
}

func sopFormat(vs []sopVerification) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		b.WriteString(v.String())
	}
	return b.Bytes()
}

// sopAccept keeps the signatures that count for sop: valid (package pgp's
// verdict), by one of certs, made within w.
func (s *sopCmd) sopAccept(sigs []pgp.Signature, certs *sopCerts, w sopWindow) []sopVerification {
	var out []sopVerification
	for i, sg := range sigs {
		files := certs.files[sg.Fingerprint]
		switch {
		case !sg.Valid:
			s.debugf("signature %d by %s: not valid: %v", i+1, sg.KeyID, sg.Err)
			continue
		case !sg.Known || len(files) == 0:
			s.debugf("signature %d by %s: not by one of the certificates given", i+1, sg.KeyID)
			continue
		case !w.contains(sg.Created):
			s.debugf("signature %d by %s: made %s, outside --not-before/--not-after", i+1, sg.Fingerprint, sg.Created.UTC().Format(time.RFC3339))
			continue
		}
		v := sopVerification{created: sg.Created, signingKey: sg.SigningKey, primary: sg.Fingerprint, text: sg.Text, signers: files}
		if v.signingKey == "" {
			v.signingKey = sg.Fingerprint
		}
		out = append(out, v)
	}
	return out
}

// sopSignatureModes lists the types of the signature packets in body (the
// binary SIGNATURES), in order, leaving out those go-crypto cannot read
// (an unknown algorithm or hash), as package pgp leaves them out. Anything
// but signatures is bad data; signatures none of which can be read are no
// acceptable signature.
func sopSignatureModes(body io.Reader) ([]packet.SignatureType, error) {
	var out []packet.SignatureType
	skipped := 0
	r := packet.NewReader(body)
	for {
		p, err := r.NextWithUnsupported()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, sopErr(sopBadData, "the signatures: %s", strings.TrimPrefix(err.Error(), "openpgp: "))
		}
		switch p := p.(type) {
		case *packet.Signature:
			out = append(out, p.SigType)
		case *packet.UnsupportedPacket:
			if _, ok := p.IncompletePacket.(*packet.Signature); !ok {
				return nil, sopErr(sopBadData, "the signatures hold a packet that is not a signature")
			}
			skipped++
		default:
			return nil, sopErr(sopBadData, "the signatures hold a %T packet: not a detached signature", p)
		}
	}
	switch {
	case len(out) == 0 && skipped > 0:
		return nil, sopErr(sopNoSignature, "no signature that can be checked: they use algorithms that are not supported")
	case len(out) == 0:
		return nil, sopErr(sopBadData, "no signature found")
	}
	return out, nil
}

// sopSpill keeps what is written to it in memory up to a limit, then in a
// temporary file, and gives it back.
type sopSpill struct {
	mem   bytes.Buffer
	file  *os.File
	limit int
}

func (s *sopSpill) Write(p []byte) (int, error) {
	if s.file == nil && s.mem.Len()+len(p) <= s.limit {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp("", "securemail-sop-*")
		if err != nil {
			return 0, err
		}
		s.file = f
		if _, err := f.Write(s.mem.Bytes()); err != nil {
			return 0, err
		}
		s.mem.Reset()
	}
	return s.file.Write(p)
}

// reader returns all that was written.
func (s *sopSpill) reader() (io.Reader, error) {
	if s.file == nil {
		return bytes.NewReader(s.mem.Bytes()), nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return s.file, nil
}

func (s *sopSpill) Close() {
	if s.file != nil {
		s.file.Close()
		os.Remove(s.file.Name())
	}
}

// sopReadError gives package pgp's reading errors sop's codes.
func sopReadError(err error, decrypting bool) error {
	var integrity *pgp.IntegrityError
	var nokey *pgp.NoKeyError
	var format *pgp.FormatError
	var unsupported *pgp.UnsupportedError
	switch {
	case errors.As(err, &integrity), errors.As(err, &nokey), errors.As(err, &unsupported):
		if decrypting {
			return &exitError{code: sopCannotDecrypt, err: err}
		}
		return &exitError{code: sopBadData, err: fmt.Errorf("the input is encrypted, not just signed: %w", err)}
	case errors.As(err, &format):
		return &exitError{code: sopBadData, err: err}
	}
	return err
}

// --- generate-key and extract-cert ------------------------------------------

func (s *sopCmd) generateKeyCommand() *cobra.Command {
	var noArmor, signingOnly bool
	var password, profile string
	cmd := &cobra.Command{
		Use:   "generate-key [--no-armor] [--with-key-password=PASSWORD] [--profile=PROFILE] [--signing-only] [--] USERID...",
		Short: "Generate a secret key (KEYS on stdout)",
		Long: `generate-key writes a new secret key with the user IDs given, exactly as
written: by default a v4 key, Ed25519 for signing and a Curve25519 subkey
for encryption. --with-key-password locks it with the password read from
PASSWORD (a file, @ENV:NAME or @FD:N; trailing white space is dropped).`,
		Example: "  securemail sop generate-key 'Alice <alice@example.org>' > alice.key",
		RunE: func(cmd *cobra.Command, uids []string) error {
			prof, err := sopPickProfile("generate-key", profile)
			if err != nil {
				return err
			}
			if len(uids) == 0 {
				return sopErr(sopMissingArg, "give at least one USERID: a v4 key needs one")
			}
			var pw []byte
			if cmd.Flags().Changed("with-key-password") {
				raw, err := sopInput(password)
				if err != nil {
					return err
				}
				if pw, err = sopHumanPassword(raw); err != nil {
					return err
				}
			}
			e, err := sopNewKey(uids, prof, signingOnly)
			if err != nil {
				return err
			}
			if pw != nil {
				if err := e.EncryptPrivateKeys(pw, &packet.Config{DefaultCipher: packet.CipherAES256}); err != nil {
					return err
				}
			}
			return s.sopEmit(openpgp.PrivateKeyType, noArmor, func(w io.Writer) error {
				return e.SerializePrivateWithoutSigning(w, nil)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noArmor, "no-armor", false, "binary output")
	f.StringVar(&password, "with-key-password", "", "lock the key with the password in `PASSWORD`")
	f.StringVar(&profile, "profile", "", "the `PROFILE` of algorithms (see list-profiles generate-key)")
	f.BoolVar(&signingOnly, "signing-only", false, "no encryption subkey")
	return cmd
}

// sopNewKey generates a key for the user IDs, taken as they are: go-crypto
// builds user IDs from name, comment and address, so the key is made with
// a stand-in and each user ID is then certified with a copy of its
// self-signature.
func sopNewKey(uids []string, profile string, signingOnly bool) (*openpgp.Entity, error) {
	cfg := &packet.Config{
		Algorithm:     packet.PubKeyAlgoEdDSA,
		Curve:         packet.Curve25519,
		DefaultCipher: packet.CipherAES256,
		DefaultHash:   crypto.SHA256,
	}
	if profile == "rfc4880" {
		cfg.Algorithm, cfg.Curve, cfg.RSABits = packet.PubKeyAlgoRSA, "", 3072
	}
	e, err := openpgp.NewEntity("securemail-sop", "", "", cfg)
	if err != nil {
		return nil, err
	}
	var template *packet.Signature
	for _, id := range e.Identities {
		if len(id.SelfCertifications) > 0 {
			template = id.SelfCertifications[0].Packet
		}
	}
	if template == nil {
		return nil, errors.New("sop: the new key has no self-signature")
	}
	e.Identities = map[string]*openpgp.Identity{}
	for _, uid := range uids {
		if strings.ContainsRune(uid, 0) {
			return nil, sopErr(sopBadData, "a user ID cannot hold a NUL character")
		}
		if _, dup := e.Identities[uid]; dup {
			continue
		}
		sig := *template
		primary := len(e.Identities) == 0
		sig.IsPrimaryId = &primary
		sig.Notations = append([]*packet.Notation(nil), template.Notations...)
		if err := sig.SignUserId(uid, e.PrimaryKey, e.PrivateKey, cfg); err != nil {
			return nil, err
		}
		e.Identities[uid] = &openpgp.Identity{
			Primary:            e,
			Name:               uid,
			UserId:             &packet.UserId{Id: uid},
			SelfCertifications: []*packet.VerifiableSignature{packet.NewVerifiableSig(&sig)},
		}
	}
	if signingOnly {
		e.Subkeys = nil
	}
	return e, nil
}

func (s *sopCmd) extractCertCommand() *cobra.Command {
	var noArmor bool
	cmd := &cobra.Command{
		Use:     "extract-cert [--no-armor] < KEYS > CERTS",
		Short:   "Extract the certificates (public keys) of secret keys",
		Example: "  securemail sop extract-cert < alice.key > alice.cert",
		Args:    sopNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := io.ReadAll(s.c.stdin)
			if err != nil {
				return err
			}
			ents, err := sopParseEntities("the input", data)
			if err != nil {
				return err
			}
			for _, e := range ents {
				if e.PrivateKey == nil {
					return sopErr(sopBadData, "the input holds a certificate, not a secret key")
				}
			}
			return s.sopEmit(openpgp.PublicKeyType, noArmor, func(w io.Writer) error {
				for _, e := range ents {
					if err := e.Serialize(w); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&noArmor, "no-armor", false, "binary output")
	return cmd
}

// --- sign and verify ----------------------------------------------------------

func (s *sopCmd) signCommand() *cobra.Command {
	var noArmor bool
	var as, micalgOut string
	var passwords []string
	cmd := &cobra.Command{
		Use:     "sign [--no-armor] [--as={binary|text}] [--micalg-out=MICALG] [--with-key-password=PASSWORD...] [--] KEYS... < DATA > SIGNATURES",
		Short:   "Make detached signatures over data",
		Example: "  securemail sop sign alice.key < release.tar > release.tar.sig",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sopAs(as, "binary", "text"); err != nil {
				return err
			}
			if len(args) == 0 {
				return sopErr(sopMissingArg, "name at least one KEYS file to sign with")
			}
			if err := sopCheckOutput(micalgOut); err != nil {
				return err
			}
			pws, err := sopKeyPasswords(passwords)
			if err != nil {
				return err
			}
			signers, err := s.sopSigners(args, pws)
			if err != nil {
				return err
			}
			in := io.Reader(bufio.NewReaderSize(s.c.stdin, 256<<10))
			if as == "text" {
				data, err := sopReadText(in)
				if err != nil {
					return err
				}
				in = bytes.NewReader(data)
			}
			var sig bytes.Buffer
			if err := openpgp.DetachSignWithParams(&sig, signers, in, &openpgp.SignParams{TextSig: as == "text", Config: sopWriteConfig()}); err != nil {
				return sopErr(sopKeyCannotSign, "signing: %s", strings.TrimPrefix(err.Error(), "openpgp: "))
			}
			if micalgOut != "" {
				if err := sopWriteOutput(micalgOut, []byte(sopMicalg(sig.Bytes()))); err != nil {
					return err
				}
			}
			return s.sopEmit(openpgp.SignatureType, noArmor, func(w io.Writer) error {
				_, err := w.Write(sig.Bytes())
				return err
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noArmor, "no-armor", false, "binary output")
	f.StringVar(&as, "as", "binary", "sign the data as `binary` or as text (canonical line endings)")
	f.StringVar(&micalgOut, "micalg-out", "", "write the PGP/MIME micalg parameter to `MICALG`")
	f.StringArrayVar(&passwords, "with-key-password", nil, "unlock the keys with the password in `PASSWORD` (repeatable)")
	return cmd
}

// sopMicalg names the hash of the signatures for PGP/MIME's micalg
// (RFC 3156), or "" when they differ.
func sopMicalg(sigs []byte) string {
	names := map[crypto.Hash]string{crypto.SHA224: "pgp-sha224", crypto.SHA256: "pgp-sha256", crypto.SHA384: "pgp-sha384", crypto.SHA512: "pgp-sha512"}
	var hash crypto.Hash
	r := packet.NewReader(bytes.NewReader(sigs))
	for {
		p, err := r.Next()
		if err != nil {
			break
		}
		if sig, ok := p.(*packet.Signature); ok {
			if hash != 0 && hash != sig.Hash {
				return ""
			}
			hash = sig.Hash
		}
	}
	return names[hash]
}

func (s *sopCmd) verifyCommand() *cobra.Command {
	var notBefore, notAfter string
	cmd := &cobra.Command{
		Use:   "verify [--not-before=DATE] [--not-after=DATE] [--] SIGNATURES CERTS... < DATA > VERIFICATIONS",
		Short: "Check detached signatures over data",
		Long: `verify checks the detached signatures in SIGNATURES over the data on stdin,
and writes one line for each good one by a key of CERTS:

  <creation time> <signing key fingerprint> <primary key fingerprint> mode:binary|mode:text {"signers":[CERTS...]}

No good signature: exit 3 and nothing written. DATE is ISO-8601 UTC,
"now", or "-" for no bound; by default signatures from the future are not
accepted.`,
		Example: "  securemail sop verify release.tar.sig alice.cert < release.tar",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return sopErr(sopMissingArg, "give SIGNATURES and at least one CERTS file")
			}
			w, err := sopParseWindow(notBefore, notAfter)
			if err != nil {
				return err
			}
			sig, err := sopInput(args[0])
			if err != nil {
				return err
			}
			certs, err := s.loadCerts(args[1:])
			if err != nil {
				return err
			}
			body := io.Reader(bytes.NewReader(sig))
			if isArmored(sig) {
				blk, err := armor.Decode(bytes.NewReader(sig))
				if err != nil {
					return sopErr(sopBadData, "%s: bad armor: %v", args[0], err)
				}
				if blk.Type != openpgp.SignatureType {
					return sopErr(sopBadData, "%s: expected a PGP SIGNATURE, found %q", args[0], blk.Type)
				}
				body = blk.Body
			}
			_, err = sopSignatureModes(body)
			if err != nil {
				return err
			}
			sigs, err := pgp.VerifyDetached(bufio.NewReaderSize(s.c.stdin, 256<<10), sig, sopRing{certs: certs.ents}, nil)
			if err != nil {
				return sopReadError(err, false)
			}
			vs := s.sopAccept(sigs, certs, w)
			if len(vs) == 0 {
				return sopErr(sopNoSignature, "no good signature by the certificates given")
			}
			_, err = s.c.stdout.Write(sopFormat(vs))
			return err
		},
	}
	cmd.Flags().StringVar(&notBefore, "not-before", "-", "accept no signature made before `DATE`")
	cmd.Flags().StringVar(&notAfter, "not-after", "now", "accept no signature made after `DATE`")
	return cmd
}

// --- encrypt and decrypt ------------------------------------------------------

func (s *sopCmd) encryptCommand() *cobra.Command {
	var noArmor bool
	var as, profile, sessionKeyOut string
	var signWith, passwords, withPassword []string
	cmd := &cobra.Command{
		Use:   "encrypt [--as={binary|text}] [--no-armor] [--sign-with=KEYS...] [--with-key-password=PASSWORD...] [--profile=PROFILE] [--] CERTS... < DATA > CIPHERTEXT",
		Short: "Encrypt data to certificates, and sign it inside",
		Long: `encrypt encrypts stdin to every certificate of CERTS (one session key,
SEIPDv1 with AES-256), signed inside with each key of --sign-with.
--with-password and --session-key-out are not supported (exit 37).`,
		Example: "  securemail sop encrypt --sign-with alice.key bob.cert < msg.txt > msg.asc",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sopAs(as, "binary", "text"); err != nil {
				return err
			}
			if len(withPassword) > 0 {
				return sopErr(sopUnsupportedOption, "--with-password is not supported: encrypt to certificates")
			}
			if cmd.Flags().Changed("session-key-out") {
				return sopErr(sopUnsupportedOption, "--session-key-out is not supported")
			}
			if _, err := sopPickProfile("encrypt", profile); err != nil {
				return err
			}
			if len(args) == 0 {
				return sopErr(sopMissingArg, "name at least one CERTS file to encrypt to")
			}
			cfg := sopWriteConfig()
			certs, err := s.loadCerts(args)
			if err != nil {
				return err
			}
			for _, e := range certs.ents {
				if _, err := e.EncryptionKeyWithError(time.Now(), cfg); err != nil {
					return sopErr(sopCertCannotEncrypt, "%s (%s) cannot encrypt: %s", strings.Join(certs.files[sopFingerprint(e)], ", "), sopFingerprint(e), strings.TrimPrefix(err.Error(), "openpgp: "))
				}
			}
			pws, err := sopKeyPasswords(passwords)
			if err != nil {
				return err
			}
			var signers []*openpgp.Entity
			if len(signWith) > 0 {
				if signers, err = s.sopSigners(signWith, pws); err != nil {
					return err
				}
			}
			in := io.Reader(bufio.NewReaderSize(s.c.stdin, 256<<10))
			text := as == "text"
			if text {
				data, err := sopReadText(in)
				if err != nil {
					return err
				}
				in = bytes.NewReader(data)
			}
			return s.sopEmit("PGP MESSAGE", noArmor, func(w io.Writer) error {
				pt, err := openpgp.EncryptWithParams(w, certs.ents, nil, &openpgp.EncryptParams{
					Signers: signers,
					TextSig: text,
					Hints:   &openpgp.FileHints{IsUTF8: text},
					Config:  cfg,
				})
				if err != nil {
					return fmt.Errorf("encrypt: %s", strings.TrimPrefix(err.Error(), "openpgp: "))
				}
				if _, err := io.Copy(pt, in); err != nil {
					return err
				}
				return pt.Close()
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&as, "as", "binary", "encrypt the data as `binary` or as text")
	f.BoolVar(&noArmor, "no-armor", false, "binary output")
	f.StringArrayVar(&signWith, "sign-with", nil, "sign with the keys in `KEYS` (repeatable)")
	f.StringArrayVar(&passwords, "with-key-password", nil, "unlock the signing keys with the password in `PASSWORD` (repeatable)")
	f.StringVar(&profile, "profile", "", "the `PROFILE` of algorithms (see list-profiles encrypt)")
	f.StringArrayVar(&withPassword, "with-password", nil, "not supported (exit 37)")
	f.StringVar(&sessionKeyOut, "session-key-out", "", "not supported (exit 37)")
	return cmd
}

// sopEncryptedTag reports whether an OpenPGP packet header octet starts an
// encrypted message: a key packet (PKESK, SKESK) or encrypted data.
func sopEncryptedTag(b byte) bool {
	if b&0x80 == 0 {
		return false
	}
	tag := b >> 2 & 0x0f
	if b&0x40 != 0 {
		tag = b & 0x3f
	}
	switch tag {
	case 1, 3, 9, 18, 20:
		return true
	}
	return false
}

// sopLooksEncrypted peeks at the start of a message: true when its first
// packet belongs to an encrypted message, so the plaintext can go straight
// to stdout; when unsure, the caller holds the output back until package
// pgp has said the message was encrypted.
func sopLooksEncrypted(br *bufio.Reader) bool {
	head, _ := br.Peek(8192)
	t := bytes.TrimLeft(head, " \t\r\n")
	if len(t) == 0 {
		return false
	}
	if t[0]&0x80 != 0 {
		return sopEncryptedTag(head[0])
	}
	i := bytes.Index(head, []byte("-----BEGIN PGP MESSAGE-----"))
	if i < 0 {
		return false
	}
	blk, err := armor.Decode(bytes.NewReader(head[i:]))
	if err != nil {
		return false
	}
	var first [1]byte
	if _, err := io.ReadFull(blk.Body, first[:]); err != nil {
		return false
	}
	return sopEncryptedTag(first[0])
}

func (s *sopCmd) decryptCommand() *cobra.Command {
	var verificationsOut, notBefore, notAfter, sessionKeyOut string
	var verifyWith, passwords, withPassword, withSessionKey []string
	cmd := &cobra.Command{
		Use:   "decrypt [--verify-with=CERTS... --verifications-out=VERIFICATIONS] [--verify-not-before=DATE] [--verify-not-after=DATE] [--with-key-password=PASSWORD...] [--] KEYS... < CIPHERTEXT > PLAINTEXT",
		Short: "Decrypt a message, and check its signatures",
		Long: `decrypt decrypts the message on stdin with the secret keys of KEYS and
writes its plaintext, only once the whole message has been authenticated:
a message without integrity protection, or that fails its check, yields no
output and exit 29. --verify-with and --verifications-out go together: the
good signatures by a key of CERTS are written to VERIFICATIONS (as by
'sop verify'; empty when there is none, which is no error).
--with-password, --with-session-key and --session-key-out are not
supported (exit 37).`,
		Example: "  securemail sop decrypt --verify-with bob.cert --verifications-out ver.txt alice.key < msg.asc > msg.txt",
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(withPassword) > 0:
				return sopErr(sopUnsupportedOption, "--with-password is not supported: decrypt with KEYS")
			case len(withSessionKey) > 0:
				return sopErr(sopUnsupportedOption, "--with-session-key is not supported: decrypt with KEYS")
			case cmd.Flags().Changed("session-key-out"):
				return sopErr(sopUnsupportedOption, "--session-key-out is not supported")
			case len(args) == 0:
				return sopErr(sopMissingArg, "name at least one KEYS file to decrypt with")
			case len(verifyWith) > 0 && verificationsOut == "":
				return sopErr(sopIncompleteVerification, "--verify-with needs --verifications-out to say what was verified")
			case len(verifyWith) == 0 && verificationsOut != "":
				return sopErr(sopIncompleteVerification, "--verifications-out needs --verify-with CERTS to verify against")
			}
			w, err := sopParseWindow(notBefore, notAfter)
			if err != nil {
				return err
			}
			if err := sopCheckOutput(verificationsOut); err != nil {
				return err
			}
			pws, err := sopKeyPasswords(passwords)
			if err != nil {
				return err
			}
			keys, err := s.loadKeys(args, pws)
			if err != nil {
				return err
			}
			certs, err := s.loadCerts(verifyWith)
			if err != nil {
				return err
			}
			br := bufio.NewReaderSize(s.c.stdin, 64<<10)
			direct := sopLooksEncrypted(br)
			bw := bufio.NewWriterSize(s.c.stdout, 256<<10)
			var held bytes.Buffer
			out := io.Writer(bw)
			if !direct {
				out = &held
			}
			res, err := pgp.Read(br, out, sopRing{keys: keys, certs: certs.ents}, nil)
			if err != nil {
				return sopReadError(err, true)
			}
			if !res.Encrypted {
				clear(held.Bytes())
				return sopErr(sopCannotDecrypt, "the input is not an encrypted message")
			}
			if _, err := bw.Write(held.Bytes()); err != nil {
				return err
			}
			clear(held.Bytes())
			if err := bw.Flush(); err != nil {
				return err
			}
			if verificationsOut == "" {
				return nil
			}
			return sopWriteOutput(verificationsOut, sopFormat(s.sopAccept(res.Signatures, certs, w)))
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&verifyWith, "verify-with", nil, "check signatures against the certificates in `CERTS` (repeatable)")
	f.StringVar(&verificationsOut, "verifications-out", "", "write the good signatures to `VERIFICATIONS`")
	f.StringVar(&verificationsOut, "verify-out", "", "the old name of --verifications-out")
	f.MarkHidden("verify-out")
	f.StringVar(&notBefore, "verify-not-before", "-", "accept no signature made before `DATE`")
	f.StringVar(&notAfter, "verify-not-after", "now", "accept no signature made after `DATE`")
	f.StringArrayVar(&passwords, "with-key-password", nil, "unlock the keys with the password in `PASSWORD` (repeatable)")
	f.StringArrayVar(&withPassword, "with-password", nil, "not supported (exit 37)")
	f.StringArrayVar(&withSessionKey, "with-session-key", nil, "not supported (exit 37)")
	f.StringVar(&sessionKeyOut, "session-key-out", "", "not supported (exit 37)")
	return cmd
}

// --- armor and dearmor --------------------------------------------------------

func (s *sopCmd) armorCommand() *cobra.Command {
	var label string
	cmd := &cobra.Command{
		Use:     "armor [--label={auto|sig|key|cert|message}] < DATA > ARMORED",
		Short:   "Add ASCII armor to binary OpenPGP data",
		Long:    "armor armors binary OpenPGP data; armored input is written back as it is.",
		Example: "  securemail sop armor < alice.key.bin > alice.key",
		Args:    sopNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			labels := map[string]string{"sig": openpgp.SignatureType, "key": openpgp.PrivateKeyType, "cert": openpgp.PublicKeyType, "message": "PGP MESSAGE"}
			if _, ok := labels[label]; !ok && label != "auto" {
				return sopErr(sopUnsupportedOption, "--label=%s: expected auto, sig, key, cert or message", label)
			}
			br := bufio.NewReaderSize(s.c.stdin, 256<<10)
			head, _ := br.Peek(4096)
			if len(head) == 0 {
				return sopErr(sopBadData, "no input")
			}
			if isArmored(head) {
				_, err := io.Copy(s.c.stdout, br)
				return err
			}
			if head[0]&0x80 == 0 {
				return sopErr(sopBadData, "the input is not OpenPGP data")
			}
			in := io.Reader(br)
			blockType := labels[label]
			if label == "auto" {
				var err error
				if blockType, in, err = sopArmorType(br); err != nil {
					return err
				}
			}
			return s.sopEmit(blockType, false, func(w io.Writer) error {
				_, err := io.Copy(w, in)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&label, "label", "auto", "the kind of data: `auto`, sig, key, cert or message")
	return cmd
}

// sopArmorType tells the armor type of binary OpenPGP data by its first
// packet; data that starts with a signature is read whole to tell a
// detached signature from an old-style signed message.
func sopArmorType(br *bufio.Reader) (string, io.Reader, error) {
	b, _ := br.Peek(1)
	tag := b[0] >> 2 & 0x0f
	if b[0]&0x40 != 0 {
		tag = b[0] & 0x3f
	}
	switch tag {
	case 5:
		return openpgp.PrivateKeyType, br, nil
	case 6:
		return openpgp.PublicKeyType, br, nil
	case 2:
		data, err := io.ReadAll(br)
		if err != nil {
			return "", nil, err
		}
		if _, err := sopSignatureModes(bytes.NewReader(data)); err == nil {
			return openpgp.SignatureType, bytes.NewReader(data), nil
		}
		return "PGP MESSAGE", bytes.NewReader(data), nil
	}
	return "PGP MESSAGE", br, nil
}

func (s *sopCmd) dearmorCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "dearmor < ARMORED > DATA",
		Short:   "Remove ASCII armor from OpenPGP data",
		Long:    "dearmor decodes armored OpenPGP data; binary input is written back as it is.",
		Example: "  securemail sop dearmor < alice.cert > alice.cert.bin",
		Args:    sopNoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			br := bufio.NewReaderSize(s.c.stdin, 256<<10)
			head, _ := br.Peek(4096)
			if len(head) > 0 && head[0]&0x80 != 0 {
				_, err := io.Copy(s.c.stdout, br)
				return err
			}
			data, err := io.ReadAll(br)
			if err != nil {
				return err
			}
			if !isArmored(data) {
				return sopErr(sopBadData, "the input is not armored OpenPGP data")
			}
			var out bytes.Buffer
			for _, blk := range sopArmorBlocks(data) {
				b, err := armor.Decode(bytes.NewReader(blk))
				if err != nil {
					return sopErr(sopBadData, "bad armor: %v", err)
				}
				if b.Type == "PGP SIGNED MESSAGE" {
					return sopErr(sopBadData, "a cleartext-signed message has no binary form to dearmor to")
				}
				if _, err := io.Copy(&out, b.Body); err != nil {
					return sopErr(sopBadData, "bad armor: %v", err)
				}
			}
			if out.Len() == 0 {
				return sopErr(sopBadData, "the armor holds no data")
			}
			_, err = s.c.stdout.Write(out.Bytes())
			return err
		},
	}
}

// --- inline-sign and inline-verify --------------------------------------------

func (s *sopCmd) inlineSignCommand() *cobra.Command {
	var noArmor bool
	var as string
	var passwords []string
	cmd := &cobra.Command{
		Use:     "inline-sign [--no-armor] [--as={binary|text|clearsigned}] [--with-key-password=PASSWORD...] [--] KEYS... < DATA > INLINESIGNED",
		Short:   "Make a signed message (or a cleartext-signed one)",
		Example: "  securemail sop inline-sign --as=clearsigned alice.key < note.txt > note.asc",
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := sopAs(as, "binary", "text", "clearsigned"); err != nil {
				return err
			}
			if as == "clearsigned" && noArmor {
				return sopErr(sopIncompatibleOptions, "--as=clearsigned is armored: it does not go with --no-armor")
			}
			if len(args) == 0 {
				return sopErr(sopMissingArg, "name at least one KEYS file to sign with")
			}
			pws, err := sopKeyPasswords(passwords)
			if err != nil {
				return err
			}
			signers, err := s.sopSigners(args, pws)
			if err != nil {
				return err
			}
			cfg := sopWriteConfig()
			in := io.Reader(bufio.NewReaderSize(s.c.stdin, 256<<10))
			if as != "binary" {
				data, err := sopReadText(in)
				if err != nil {
					return err
				}
				in = bytes.NewReader(data)
			}
			if as == "clearsigned" {
				var priv []*packet.PrivateKey
				for _, e := range signers {
					k, ok := e.SigningKey(time.Now(), cfg)
					if !ok {
						return sopErr(sopKeyCannotSign, "key %s cannot sign", sopFingerprint(e))
					}
					priv = append(priv, k.PrivateKey)
				}
				return s.sopEmit("", true, func(w io.Writer) error {
					pt, err := clearsign.EncodeMulti(w, priv, cfg)
					if err != nil {
						return err
					}
					if _, err := io.Copy(pt, in); err != nil {
						return err
					}
					if err := pt.Close(); err != nil {
						return err
					}
					_, err = io.WriteString(w, "\n")
					return err
				})
			}
			text := as == "text"
			return s.sopEmit("PGP MESSAGE", noArmor, func(w io.Writer) error {
				pt, err := openpgp.SignWithParams(w, signers, &openpgp.SignParams{
					TextSig: text,
					Hints:   &openpgp.FileHints{IsUTF8: text},
					Config:  cfg,
				})
				if err != nil {
					return sopErr(sopKeyCannotSign, "signing: %s", strings.TrimPrefix(err.Error(), "openpgp: "))
				}
				if _, err := io.Copy(pt, in); err != nil {
					return err
				}
				return pt.Close()
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noArmor, "no-armor", false, "binary output")
	f.StringVar(&as, "as", "binary", "`binary`, text, or clearsigned (the cleartext signature framework)")
	f.StringArrayVar(&passwords, "with-key-password", nil, "unlock the keys with the password in `PASSWORD` (repeatable)")
	return cmd
}

func (s *sopCmd) inlineVerifyCommand() *cobra.Command {
	var notBefore, notAfter, verificationsOut string
	cmd := &cobra.Command{
		Use:   "inline-verify [--not-before=DATE] [--not-after=DATE] [--verifications-out=VERIFICATIONS] [--] CERTS... < INLINESIGNED > DATA",
		Short: "Check a signed (or cleartext-signed) message and write its content",
		Long: `inline-verify checks a signed or cleartext-signed message and writes its
content only when a signature by a key of CERTS is good; otherwise exit 3
and nothing written. --verifications-out writes the good signatures, as
'sop verify' does.`,
		Example: "  securemail sop inline-verify alice.cert < note.asc > note.txt",
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return sopErr(sopMissingArg, "name at least one CERTS file")
			}
			w, err := sopParseWindow(notBefore, notAfter)
			if err != nil {
				return err
			}
			if err := sopCheckOutput(verificationsOut); err != nil {
				return err
			}
			certs, err := s.loadCerts(args)
			if err != nil {
				return err
			}
			held := &sopSpill{limit: 16 << 20}
			defer held.Close()
			res, err := pgp.Read(s.c.stdin, held, sopRing{certs: certs.ents}, nil)
			if err != nil {
				return sopReadError(err, false)
			}
			if res.Encrypted {
				return sopErr(sopBadData, "the input is encrypted: use decrypt")
			}
			vs := s.sopAccept(res.Signatures, certs, w)
			if len(vs) == 0 {
				return sopErr(sopNoSignature, "no good signature by the certificates given")
			}
			r, err := held.reader()
			if err != nil {
				return err
			}
			if _, err := io.Copy(s.c.stdout, r); err != nil {
				return err
			}
			if verificationsOut != "" {
				return sopWriteOutput(verificationsOut, sopFormat(vs))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&notBefore, "not-before", "-", "accept no signature made before `DATE`")
	f.StringVar(&notAfter, "not-after", "now", "accept no signature made after `DATE`")
	f.StringVar(&verificationsOut, "verifications-out", "", "write the good signatures to `VERIFICATIONS`")
	return cmd
}
