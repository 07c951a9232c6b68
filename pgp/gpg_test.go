package pgp

// Interoperability with GnuPG 2.2, both ways: messages, signatures and
// keys made by gpg are read here, and ours are read by gpg. Each test
// runs gpg in a throw-away home directory with its own agent.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// gpgTimeout bounds one gpg invocation, so a gpg waiting for input that
// never comes fails the test instead of hanging it.
const gpgTimeout = 3 * time.Minute

// gpgRequire skips the test when GnuPG is not installed, or fails it in
// CI (CI=true), where the interop tests must run.
func gpgRequire(t *testing.T) {
	t.Helper()
	for _, name := range []string{"gpg", "gpgconf"} {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed; the GnuPG interop tests must run in CI", name)
			}
			t.Skipf("%s is not installed", name)
		}
	}
}

// gpgVersion is the version of the gpg on $PATH, e.g. "2.2.40".
var gpgVersion = sync.OnceValue(func() string {
	out, err := exec.Command("gpg", "--version").Output()
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(out), "\n")
	return first[strings.LastIndexByte(first, ' ')+1:]
})

// gpgIs22 reports whether gpg is GnuPG 2.2, which these tests are
// written against. Later versions may use their OCB (LibrePGP) packets.
func gpgIs22() bool { return strings.HasPrefix(gpgVersion(), "2.2.") }

// gpgHome is a temporary GNUPGHOME with its own gpg-agent.
type gpgHome struct {
	t   *testing.T // nil for the home that makes the shared keys
	dir string
}

// gpgNewHome makes an empty GnuPG home for t. The agent it starts is
// killed, and the directory removed, when t ends.
func gpgNewHome(t *testing.T) *gpgHome {
	t.Helper()
	gpgRequire(t)
	dir := t.TempDir()
	// The agent's sockets live in the home directory when there is no
	// /run/user/$UID, and a socket path must fit in sun_path (108 bytes).
	if len(dir)+len("/S.gpg-agent.browser") >= 100 {
		d, err := os.MkdirTemp("/tmp", "g")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		dir = d
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	h := &gpgHome{t: t, dir: dir}
	// Registered after the directory's removal, so it runs before it.
	t.Cleanup(func() {
		if err := h.gpgKillAgent(); err != nil {
			t.Log(err)
		}
	})
	return h
}

// gpgKillAgent stops the home's gpg-agent (and any other daemon).
func (h *gpgHome) gpgKillAgent() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gpgconf", "--kill", "all")
	cmd.Env = h.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gpgconf --kill all: %v: %s", err, out)
	}
	return nil
}

func (h *gpgHome) env() []string {
	return append(os.Environ(), "GNUPGHOME="+h.dir, "LC_ALL=C", "LANGUAGE=C", "GPG_AGENT_INFO=")
}

// gpgResult is what one gpg run produced.
type gpgResult struct {
	Stdout []byte
	Stderr []byte
	// Status has gpg's --status-fd lines without the "[GNUPG:] " prefix.
	Status []string
	Err    error
}

// status returns the fields after keyword of the first status line with
// that keyword, and whether there is one.
func (r *gpgResult) status(keyword string) ([]string, bool) {
	for _, l := range r.Status {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == keyword {
			return f[1:], true
		}
	}
	return nil, false
}

// statusAll returns the fields after keyword of every status line with
// that keyword.
func (r *gpgResult) statusAll(keyword string) [][]string {
	var out [][]string
	for _, l := range r.Status {
		f := strings.Fields(l)
		if len(f) > 0 && f[0] == keyword {
			out = append(out, f[1:])
		}
	}
	return out
}

func (r *gpgResult) String() string {
	return fmt.Sprintf("error: %v\nstatus:\n  %s\nstderr:\n%s", r.Err, strings.Join(r.Status, "\n  "), r.Stderr)
}

// gpgExec runs gpg in the home with args, stdin from stdin (if not nil)
// and stdout to stdout (kept in the result when nil). It reports gpg's
// failure in the result, not to the test, so it may run on another
// goroutine than the test's.
func (h *gpgHome) gpgExec(stdin io.Reader, stdout io.Writer, args ...string) *gpgResult {
	status, err := os.CreateTemp(h.dir, "status-")
	if err != nil {
		return &gpgResult{Err: err}
	}
	defer os.Remove(status.Name())
	defer status.Close()
	parent := context.Background()
	if h.t != nil {
		parent = h.t.Context()
	}
	ctx, cancel := context.WithTimeout(parent, gpgTimeout)
	defer cancel()
	base := []string{
		"--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "",
		"--status-fd", "3", "--no-auto-key-locate",
		// Keys imported into a test home have no owner trust.
		"--trust-model", "always",
	}
	cmd := exec.CommandContext(ctx, "gpg", append(base, args...)...)
	cmd.Env = h.env()
	cmd.ExtraFiles = []*os.File{status} // fd 3
	var out, errb bytes.Buffer
	cmd.Stdin = stdin
	cmd.Stdout = &out
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = &errb
	res := &gpgResult{Err: cmd.Run()}
	res.Stdout, res.Stderr = out.Bytes(), errb.Bytes()
	if _, err := status.Seek(0, io.SeekStart); err != nil && res.Err == nil {
		res.Err = err
	}
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		if l, ok := strings.CutPrefix(sc.Text(), "[GNUPG:] "); ok {
			res.Status = append(res.Status, l)
		}
	}
	return res
}

// gpgRun runs gpg with stdin (nil for none) and fails the test if gpg
// fails.
func (h *gpgHome) gpgRun(stdin []byte, args ...string) *gpgResult {
	h.t.Helper()
	var in io.Reader
	if stdin != nil {
		in = bytes.NewReader(stdin)
	}
	res := h.gpgExec(in, nil, args...)
	if res.Err != nil {
		h.t.Fatalf("gpg %s: %s", strings.Join(args, " "), res)
	}
	return res
}

// gpgKey is a key that gpg made, as exported from gpg and read back by
// go-crypto.
type gpgKey struct {
	Fingerprint string          // as gpg prints it
	Secret      *openpgp.Entity // with unprotected private keys
	Public      *openpgp.Entity
}

// gpgMadeKeys are the keys gpg made for the tests, exported without
// protection.
type gpgMadeKeys struct {
	fprs   []string // Bob's, Carol's
	secret []byte   // gpg --export-secret-keys of both
}

// gpgKeygen has gpg make two keys without a passphrase, once per test
// binary (an RSA key costs gpg up to seconds), in a home of its own
// that it removes: Bob's Ed25519 key with a Curve25519 encryption
// subkey (what --quick-gen-key future-default makes) and Carol's RSA 3072
// key with an RSA 3072 encryption subkey. Each test imports them into its
// own home.
var gpgKeygen = sync.OnceValues(func() (*gpgMadeKeys, error) {
	dir, err := os.MkdirTemp("/tmp", "g")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	h := &gpgHome{dir: dir}
	defer h.gpgKillAgent()
	run := func(args ...string) (*gpgResult, error) {
		res := h.gpgExec(nil, nil, args...)
		if res.Err != nil {
			return nil, fmt.Errorf("gpg %s: %s", strings.Join(args, " "), res)
		}
		return res, nil
	}
	mk := &gpgMadeKeys{}
	for _, k := range []struct{ uid, algo, sub string }{
		{"Bob <bob@example.org>", "ed25519", "cv25519"},
		{"Carol <carol@example.org>", "rsa3072", "rsa3072"},
	} {
		res, err := run("--quick-gen-key", k.uid, k.algo, "default", "never")
		if err != nil {
			return nil, err
		}
		created, ok := res.status("KEY_CREATED")
		if !ok || len(created) < 2 {
			return nil, fmt.Errorf("gpg --quick-gen-key: no KEY_CREATED: %s", res)
		}
		if _, err := run("--quick-add-key", created[1], k.sub, "encr", "never"); err != nil {
			return nil, err
		}
		mk.fprs = append(mk.fprs, created[1])
	}
	res, err := run(append([]string{"--export-secret-keys"}, mk.fprs...)...)
	if err != nil {
		return nil, err
	}
	mk.secret = res.Stdout
	return mk, nil
})

// gpgStdKeys imports gpg's keys into h and returns them as gpg exports
// them: Bob's (Ed25519, Curve25519) and Carol's (RSA 3072).
func (h *gpgHome) gpgStdKeys() (bob, carol gpgKey) {
	h.t.Helper()
	mk, err := gpgKeygen()
	if err != nil {
		h.t.Fatal(err)
	}
	res := h.gpgRun(mk.secret, "--import")
	secrets, err := openpgp.ReadKeyRing(bytes.NewReader(mk.secret))
	if err != nil {
		h.t.Fatalf("reading keys exported by gpg: %v", err)
	}
	var keys []gpgKey
	for _, fpr := range mk.fprs {
		if !slices.ContainsFunc(res.statusAll("IMPORT_OK"), func(f []string) bool { return len(f) >= 2 && f[1] == fpr }) {
			h.t.Fatalf("gpg did not import %s: %s", fpr, res)
		}
		k := gpgKey{Fingerprint: fpr, Public: gpgReadOne(h.t, h.gpgRun(nil, "--export", fpr).Stdout)}
		for _, e := range secrets {
			if fingerprint(e) == fpr {
				k.Secret = e
			}
		}
		if k.Secret == nil {
			h.t.Fatalf("go-crypto did not find key %s among gpg's secret keys", fpr)
		}
		if k.Secret.PrivateKey == nil || k.Secret.PrivateKey.Encrypted {
			h.t.Fatalf("gpg exported %s with a protected or no private key", fpr)
		}
		if len(k.Secret.Subkeys) != 1 || k.Secret.Subkeys[0].PrivateKey == nil || k.Secret.Subkeys[0].PrivateKey.Encrypted {
			h.t.Fatalf("gpg exported %s without one unprotected private subkey", fpr)
		}
		if got := fingerprint(k.Public); got != fpr || k.Public.PrivateKey != nil || len(k.Public.Subkeys) != 1 {
			h.t.Fatalf("gpg --export %s: go-crypto read %s with %d subkeys (private: %v)", fpr, got, len(k.Public.Subkeys), k.Public.PrivateKey != nil)
		}
		keys = append(keys, k)
	}
	return keys[0], keys[1]
}

// gpgReadOne reads exactly one key (binary) with go-crypto.
func gpgReadOne(t *testing.T, data []byte) *openpgp.Entity {
	t.Helper()
	el, err := openpgp.ReadKeyRing(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading a key exported by gpg: %v", err)
	}
	if len(el) != 1 {
		t.Fatalf("gpg exported %d keys, want 1", len(el))
	}
	return el[0]
}

// gpgImport imports the public part of e into the home.
func (h *gpgHome) gpgImport(e *openpgp.Entity) {
	h.t.Helper()
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		h.t.Fatal(err)
	}
	res := h.gpgRun(b.Bytes(), "--import")
	fpr := fingerprint(e)
	for _, f := range res.statusAll("IMPORT_OK") {
		if len(f) >= 2 && f[1] == fpr {
			return
		}
	}
	h.t.Fatalf("gpg did not import %s: %s", fpr, res)
}

// gpgOurRSA is an RSA 3072 key of ours, made once (RSA key generation is
// slow under the race detector).
var gpgOurRSA = sync.OnceValues(func() (*openpgp.Entity, error) {
	return openpgp.NewEntity("dave", "", "dave@example.org", &packet.Config{
		Algorithm: packet.PubKeyAlgoRSA, RSABits: 3072, DefaultCipher: packet.CipherAES256,
		Time: func() time.Time { return time.Now().Add(-time.Hour) },
	})
})

func gpgOurRSAKey(t *testing.T) *openpgp.Entity {
	t.Helper()
	e, err := gpgOurRSA()
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// gpgPlaintext is a message body that line-ending or charset conversion
// would change: CRLF and LF lines, trailing white space, a line that
// looks like armor, non-UTF-8 bytes and every byte value.
func gpgPlaintext() []byte {
	var b bytes.Buffer
	b.WriteString("Hello Bob,\r\nthis line ends in CRLF \r\nand this one in LF\t\n")
	b.WriteString("-----BEGIN PGP MESSAGE-----\nFrom the start\n. \n")
	b.WriteString("Grüße, \xff\xfe not UTF-8\n")
	for i := range 256 {
		b.WriteByte(byte(i))
	}
	b.WriteString("\nno final newline")
	return b.Bytes()
}

// gpgEmail is the address of e's (only) user ID.
func gpgEmail(e *openpgp.Entity) string {
	for _, id := range e.Identities {
		return id.UserId.Email
	}
	return ""
}

// gpgCheckSig checks that sig is a valid signature by the key with
// primary fingerprint fpr and address email.
func gpgCheckSig(t *testing.T, sig Signature, fpr, email string) {
	t.Helper()
	if !sig.Valid || sig.Err != nil {
		t.Errorf("signature by %s: not valid: %v", fpr, sig.Err)
	}
	if sig.Fingerprint != fpr || !sig.Known {
		t.Errorf("signature: fingerprint %s (known %v), want %s", sig.Fingerprint, sig.Known, fpr)
	}
	if !slices.Equal(sig.Emails, []string{email}) {
		t.Errorf("signature by %s: emails %v, want %s", fpr, sig.Emails, email)
	}
	if sig.Hash == "SHA1" || sig.Hash == "" {
		t.Errorf("signature by %s: hash %q", fpr, sig.Hash)
	}
	if d := time.Since(sig.Created); d < -time.Minute || d > time.Hour {
		t.Errorf("signature by %s: created %v", fpr, sig.Created)
	}
}

// gpgCheckSigs checks that sigs are exactly one valid signature
// by each of want (fingerprint to address), in any order.
func gpgCheckSigs(t *testing.T, sigs []Signature, want map[string]string) {
	t.Helper()
	if len(sigs) != len(want) {
		t.Fatalf("%d signatures, want %d: %+v", len(sigs), len(want), sigs)
	}
	seen := map[string]bool{}
	for _, s := range sigs {
		email, ok := want[s.Fingerprint]
		if !ok || seen[s.Fingerprint] {
			t.Errorf("unexpected signature %+v", s)
			continue
		}
		seen[s.Fingerprint] = true
		gpgCheckSig(t, s, s.Fingerprint, email)
	}
}

// gpgCheckGoodSig checks gpg's status lines for a good signature by the
// primary key fpr: GOODSIG, and VALIDSIG naming fpr as the primary key
// and the expected signature class.
func gpgCheckGoodSig(t *testing.T, res *gpgResult, fpr, sigClass string) {
	t.Helper()
	for _, bad := range []string{"BADSIG", "ERRSIG", "EXPSIG", "EXPKEYSIG", "REVKEYSIG", "FAILURE"} {
		if _, ok := res.status(bad); ok {
			t.Errorf("gpg reported %s: %s", bad, res)
		}
	}
	good, ok := res.status("GOODSIG")
	if !ok || len(good) < 1 || !strings.HasSuffix(fpr, good[0]) {
		t.Errorf("no GOODSIG for %s: %s", fpr, res)
	}
	// VALIDSIG <sig fpr> <date> <timestamp> <expire> <version> <reserved>
	//          <pubkey algo> <hash algo> <sig class> <primary fpr>
	v, ok := res.status("VALIDSIG")
	if !ok || len(v) < 10 {
		t.Fatalf("no VALIDSIG: %s", res)
	}
	if v[9] != fpr {
		t.Errorf("VALIDSIG primary key %s, want %s", v[9], fpr)
	}
	if v[7] != "8" { // SHA-256, our default
		t.Errorf("VALIDSIG hash algorithm %s, want 8 (SHA-256)", v[7])
	}
	if v[8] != sigClass {
		t.Errorf("VALIDSIG signature class %s, want %s", v[8], sigClass)
	}
}

func gpgReadOptions(t *testing.T) *Options {
	return &Options{TempDir: t.TempDir()}
}

// --- gpg → ours ---

// TestGPG_EncryptSignToUs: gpg --encrypt --sign to several recipients
// (gpg's Curve25519 and RSA keys, and one of ours), with gpg's default
// compression and each compression algorithm; every recipient reads the
// exact plaintext and the signatures verify.
func TestGPG_EncryptSignToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, carol := h.gpgStdKeys()
	alice := newKey(t, "alice")
	h.gpgImport(alice)
	plain := gpgPlaintext()

	emails := map[string]string{bob.Fingerprint: "bob@example.org", carol.Fingerprint: "carol@example.org"}
	cases := []struct {
		name    string
		args    []string
		signers []string
		toUs    bool   // alice is a recipient too
		zip     string // the compression gpg uses (its --list-packets algo=), "" for none
	}{
		// gpg 2.2 compresses with the first algorithm of its keys'
		// preferences (ZLIB, BZIP2, ZIP)...
		{"armor,default-compression,bob-signs", []string{"--armor"}, []string{bob.Fingerprint}, false, "2"},
		{"binary,default-compression,carol-signs", nil, []string{carol.Fingerprint}, false, "2"},
		// ...but not when a recipient's key (go-crypto's) prefers none.
		{"armor,default-compression,to-us", []string{"--armor"}, []string{bob.Fingerprint}, true, ""},
		{"armor,both-sign,to-us", []string{"--armor"}, []string{bob.Fingerprint, carol.Fingerprint}, true, ""},
		{"binary,both-sign", nil, []string{carol.Fingerprint, bob.Fingerprint}, false, "2"},
		{"binary,uncompressed", []string{"--compress-algo", "none"}, []string{bob.Fingerprint}, false, ""},
		{"binary,zip,to-us", []string{"--compress-algo", "zip"}, []string{bob.Fingerprint}, true, "1"},
		{"binary,zlib,to-us", []string{"--compress-algo", "zlib"}, []string{carol.Fingerprint}, true, "2"},
		{"binary,bzip2,to-us", []string{"--compress-algo", "bzip2"}, []string{carol.Fingerprint}, true, "3"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"--encrypt", "--sign", "-r", bob.Fingerprint, "-r", carol.Fingerprint}
			readers := map[string]*openpgp.Entity{bob.Fingerprint: bob.Secret, carol.Fingerprint: carol.Secret}
			if c.toUs {
				args = append(args, "-r", fingerprint(alice))
				readers[fingerprint(alice)] = alice
			}
			args = append(args, c.args...)
			want := map[string]string{}
			for _, s := range c.signers {
				args = append(args, "-u", s)
				want[s] = emails[s]
			}
			msg := h.gpgRun(plain, args...).Stdout
			if got := h.gpgCompression(msg); got != c.zip {
				t.Errorf("gpg compressed with %q, want %q", got, c.zip)
			}

			pub := Entities{bob.Public, carol.Public}
			for fpr, key := range readers {
				var out bytes.Buffer
				res, err := Read(bytes.NewReader(msg), &out, append(Entities{key}, pub...), gpgReadOptions(t))
				if err != nil {
					t.Fatalf("read as %s: %v", fpr, err)
				}
				if !bytes.Equal(out.Bytes(), plain) {
					t.Fatalf("read as %s: plaintext differs:\n%q\nwant\n%q", fpr, out.Bytes(), plain)
				}
				if !res.Encrypted || !res.Integrity || res.DecryptedWith != fpr {
					t.Errorf("read as %s: result %+v", fpr, res)
				}
				if res.Size != int64(len(plain)) || res.Filename != "" || res.Cleartext {
					t.Errorf("read as %s: size %d, file name %q, cleartext %v", fpr, res.Size, res.Filename, res.Cleartext)
				}
				if len(res.Recipients) != len(readers) {
					t.Errorf("read as %s: recipients %v", fpr, res.Recipients)
				}
				if res.Algorithm != "AES-256, SEIPDv1 (MDC)" && (gpgIs22() || res.Algorithm != "AES-256, AEAD (LibrePGP)") {
					t.Errorf("read as %s: algorithm %q", fpr, res.Algorithm)
				}
				gpgCheckSigs(t, res.Signatures, want)
			}
		})
	}
}

// gpgListPackets returns gpg's --list-packets view of msg (decrypting
// it if it can).
func (h *gpgHome) gpgListPackets(msg []byte) string {
	h.t.Helper()
	return string(h.gpgExec(bytes.NewReader(msg), nil, "--list-packets").Stdout)
}

// gpgCompression returns the compression algorithm of a message as gpg
// sees it, "" for an uncompressed one.
func (h *gpgHome) gpgCompression(msg []byte) string {
	h.t.Helper()
	for _, l := range strings.Split(h.gpgListPackets(msg), "\n") {
		if algo, ok := strings.CutPrefix(l, ":compressed packet: algo="); ok {
			return algo
		}
	}
	return ""
}

// TestGPG_EncryptFileName: gpg puts the input file's name into the
// literal data packet; Read reports it as it is.
func TestGPG_EncryptFileName(t *testing.T) {
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	dir := t.TempDir()
	name := filepath.Join(dir, "report 2024.pdf")
	plain := gpgPlaintext()
	if err := os.WriteFile(name, plain, 0o600); err != nil {
		t.Fatal(err)
	}
	msg := h.gpgRun(nil, "--encrypt", "-r", bob.Fingerprint, "--output", "-", name).Stdout
	var out bytes.Buffer
	res, err := Read(bytes.NewReader(msg), &out, Entities{bob.Secret}, gpgReadOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), plain) || res.Filename != "report 2024.pdf" || len(res.Signatures) != 0 {
		t.Fatalf("plaintext equal %v, file name %q, signatures %+v", bytes.Equal(out.Bytes(), plain), res.Filename, res.Signatures)
	}
}

// TestGPG_RecipientsToUs: a message from gpg to hidden recipients
// (--throw-keyids) is read by trying each of our keys; one to somebody
// else is a NoKeyError naming gpg's recipient.
func TestGPG_RecipientsToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, carol := h.gpgStdKeys()
	plain := gpgPlaintext()

	msg := h.gpgRun(plain, "--encrypt", "--throw-keyids", "-r", bob.Fingerprint, "-r", carol.Fingerprint).Stdout
	for _, k := range []gpgKey{bob, carol} {
		var out bytes.Buffer
		res, err := Read(bytes.NewReader(msg), &out, Entities{k.Secret}, gpgReadOptions(t))
		if err != nil {
			t.Fatalf("hidden recipients, read as %s: %v", k.Fingerprint, err)
		}
		if !bytes.Equal(out.Bytes(), plain) || res.DecryptedWith != k.Fingerprint ||
			!slices.Equal(res.Recipients, []string{"0000000000000000", "0000000000000000"}) {
			t.Errorf("hidden recipients, read as %s: %+v", k.Fingerprint, res)
		}
	}

	msg = h.gpgRun(plain, "--encrypt", "-r", carol.Fingerprint).Stdout
	var out bytes.Buffer
	_, err := Read(bytes.NewReader(msg), &out, Entities{bob.Secret, carol.Public}, gpgReadOptions(t))
	var nk *NoKeyError
	sub := fmt.Sprintf("%016X", carol.Public.Subkeys[0].PublicKey.KeyId)
	if !errors.As(err, &nk) || !slices.Equal(nk.KeyIDs, []string{sub}) || out.Len() != 0 {
		t.Errorf("message to Carol read by Bob: %v (%T), %d bytes out; want a NoKeyError for %s", err, err, out.Len(), sub)
	}
}

// TestGPG_EmptyToUs: gpg's messages and signatures over nothing.
func TestGPG_EmptyToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	want := map[string]string{bob.Fingerprint: "bob@example.org"}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"encrypt-sign", []string{"--encrypt", "--sign", "-r", bob.Fingerprint}},
		{"encrypt-sign-armor", []string{"--encrypt", "--sign", "--armor", "-r", bob.Fingerprint}},
		{"sign", []string{"--sign"}},
		{"clearsign", []string{"--clearsign"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			msg := h.gpgRun([]byte{}, append(c.args, "-u", bob.Fingerprint)...).Stdout
			var out bytes.Buffer
			res, err := Read(bytes.NewReader(msg), &out, Entities{bob.Secret}, gpgReadOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			if out.Len() != 0 || res.Size != 0 {
				t.Errorf("%d bytes out, size %d", out.Len(), res.Size)
			}
			gpgCheckSigs(t, res.Signatures, want)
		})
	}
	sig := h.gpgRun([]byte{}, "--detach-sign", "-u", bob.Fingerprint).Stdout
	sigs, err := VerifyDetached(bytes.NewReader(nil), sig, Entities{bob.Public}, gpgReadOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	gpgCheckSigs(t, sigs, want)
}

// TestGPG_WeakToUs: what gpg 2.2 still makes when asked and we refuse:
// SHA-1 signatures get a verdict that is not valid (S19), and a message
// without integrity protection (--rfc2440 with CAST5 makes a legacy
// Symmetrically Encrypted packet) is an IntegrityError with nothing
// released (S03).
func TestGPG_WeakToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	kr := Entities{bob.Secret}
	plain := gpgPlaintext()
	checkSHA1 := func(t *testing.T, sigs []Signature) {
		t.Helper()
		if len(sigs) != 1 || sigs[0].Valid || sigs[0].Err == nil || sigs[0].Hash != "SHA1" || sigs[0].Fingerprint != bob.Fingerprint {
			t.Fatalf("SHA-1 signature: %+v", sigs)
		}
		if !strings.Contains(sigs[0].Err.Error(), "SHA-1") {
			t.Errorf("SHA-1 signature: the error does not say why: %v", sigs[0].Err)
		}
	}
	t.Run("sha1,encrypted", func(t *testing.T) {
		msg := h.gpgRun(plain, "--encrypt", "--sign", "--digest-algo", "SHA1", "-r", bob.Fingerprint, "-u", bob.Fingerprint).Stdout
		var out bytes.Buffer
		res, err := Read(bytes.NewReader(msg), &out, kr, gpgReadOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), plain) {
			t.Errorf("plaintext differs")
		}
		checkSHA1(t, res.Signatures)
	})
	t.Run("sha1,detached", func(t *testing.T) {
		sig := h.gpgRun(plain, "--detach-sign", "--digest-algo", "SHA1", "-u", bob.Fingerprint).Stdout
		sigs, err := VerifyDetached(bytes.NewReader(plain), sig, kr, gpgReadOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		checkSHA1(t, sigs)
	})
	t.Run("sha1,clearsigned", func(t *testing.T) {
		msg := h.gpgRun([]byte("text\n"), "--clearsign", "--digest-algo", "SHA1", "-u", bob.Fingerprint).Stdout
		res, _, _, err := VerifyCleartext(msg, kr, gpgReadOptions(t))
		if err != nil {
			t.Fatal(err)
		}
		checkSHA1(t, res.Signatures)
	})
	t.Run("no-mdc", func(t *testing.T) {
		msg := h.gpgRun(plain, "--encrypt", "--rfc2440", "--cipher-algo", "CAST5", "-r", bob.Fingerprint).Stdout
		if dump := h.gpgListPackets(msg); !strings.Contains(dump, ":encrypted data packet:") || strings.Contains(dump, "mdc_method") {
			t.Fatalf("gpg made an integrity-protected message after all:\n%s", dump)
		}
		var out bytes.Buffer
		_, err := Read(bytes.NewReader(msg), &out, kr, gpgReadOptions(t))
		var ie *IntegrityError
		if !errors.As(err, &ie) || out.Len() != 0 {
			t.Fatalf("got %v (%T) and %d bytes; want an IntegrityError and nothing", err, err, out.Len())
		}
	})
}

// TestGPG_UnsupportedToUs: algorithms gpg 2.2 has and go-crypto has
// not. A signature over a hash we cannot compute (RIPEMD-160) must
// still get a verdict, so that a signed message does not pass for an
// unsigned one (S17); a cipher we do not have (Camellia) must not be
// reported as a missing secret key.
func TestGPG_UnsupportedToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	kr := Entities{bob.Secret}
	plain := gpgPlaintext()
	t.Run("ripemd160,inline", func(t *testing.T) {
		for _, args := range [][]string{
			{"--sign", "--digest-algo", "RIPEMD160", "-u", bob.Fingerprint},
			{"--encrypt", "--sign", "--digest-algo", "RIPEMD160", "-r", bob.Fingerprint, "-u", bob.Fingerprint},
		} {
			msg := h.gpgRun(plain, args...).Stdout
			res, err := Read(bytes.NewReader(msg), io.Discard, kr, gpgReadOptions(t))
			// go-crypto's packet reader drops signature packets it cannot
			// parse, inside compression or encryption where we cannot see
			// them: such a message reads as unsigned. That is never
			// "valid" (what matters for S17), but it is not a verdict
			// either: a known gap, said in the README.
			if err == nil && slices.ContainsFunc(res.Signatures, func(s Signature) bool { return s.Valid }) {
				t.Errorf("gpg %s: a RIPEMD-160 signature read as valid: %+v", args[0], res.Signatures)
			}
		}
	})
	t.Run("ripemd160,detached", func(t *testing.T) {
		sig := h.gpgRun(plain, "--detach-sign", "--digest-algo", "RIPEMD160", "-u", bob.Fingerprint).Stdout
		sigs, err := VerifyDetached(bytes.NewReader(plain), sig, kr, gpgReadOptions(t))
		if err == nil && (len(sigs) != 1 || sigs[0].Valid) {
			t.Errorf("signatures %+v", sigs)
		}
		if err != nil && !strings.Contains(err.Error(), "not supported") {
			t.Errorf("error %q does not say the signature is unsupported", err)
		}
	})
	t.Run("camellia256", func(t *testing.T) {
		msg := h.gpgRun(plain, "--encrypt", "--cipher-algo", "CAMELLIA256", "-r", bob.Fingerprint).Stdout
		var out bytes.Buffer
		_, err := Read(bytes.NewReader(msg), &out, kr, gpgReadOptions(t))
		var nk *NoKeyError
		if err == nil || out.Len() != 0 {
			t.Fatalf("read a Camellia message: %v, %d bytes", err, out.Len())
		}
		if errors.As(err, &nk) {
			t.Errorf("a message we hold the key for, in a cipher we lack, reads as %q", err)
		}
	})
}

// TestGPG_TamperedToUs: a gpg message with one bit flipped, in its
// encrypted body or in its MDC, is an integrity error and no plaintext
// is written.
func TestGPG_TamperedToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	plain := bytes.Repeat(gpgPlaintext(), 200)
	for _, compress := range []string{"none", "zlib"} {
		msg := h.gpgRun(plain, "--encrypt", "--sign", "--compress-algo", compress, "-r", bob.Fingerprint, "-u", bob.Fingerprint).Stdout
		for _, at := range []struct {
			name string
			off  int
		}{{"middle", len(msg) / 2}, {"mdc", len(msg) - 3}} {
			t.Run(compress+","+at.name, func(t *testing.T) {
				bad := bytes.Clone(msg)
				bad[at.off] ^= 0x10
				var out bytes.Buffer
				res, err := Read(bytes.NewReader(bad), &out, Entities{bob.Secret}, gpgReadOptions(t))
				var ie *IntegrityError
				if !errors.As(err, &ie) {
					t.Fatalf("got %v (%T), result %+v; want an IntegrityError", err, err, res)
				}
				if out.Len() != 0 {
					t.Fatalf("%d bytes of plaintext released", out.Len())
				}
				// gpg agrees that the message is bad.
				if r := h.gpgExec(bytes.NewReader(bad), io.Discard, "--decrypt"); r.Err == nil {
					t.Errorf("gpg decrypted the tampered message: %s", r)
				}
			})
		}
	}
}

// TestGPG_ClearsignToUs: gpg --clearsign, read by VerifyCleartext and
// by Read; the signed text is what gpg itself outputs for the message.
// gpg 2.2 dash-escapes lines that start with "-" and "From ", keeps
// trailing white space in the message but not in what it signs, and
// ends its output with a line ending that is not signed (and that we
// do not return).
func TestGPG_ClearsignToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, carol := h.gpgStdKeys()
	kr := Entities{bob.Public, carol.Public}
	text := []byte("Hello Bob,\n- a dash line\n-----BEGIN PGP SIGNATURE-----\nFrom here \t\nGrüße\n\nlast line\n")
	for _, k := range []gpgKey{bob, carol} {
		t.Run(gpgEmail(k.Public), func(t *testing.T) {
			msg := h.gpgRun(text, "--clearsign", "-u", k.Fingerprint).Stdout
			// What gpg takes the signed text to be.
			gpgText := h.gpgRun(msg, "--decrypt").Stdout

			res, got, rest, err := VerifyCleartext(msg, kr, gpgReadOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			gpgCheckSigs(t, res.Signatures, map[string]string{k.Fingerprint: gpgEmail(k.Public)})
			if !res.Cleartext || res.Encrypted {
				t.Errorf("result %+v", res)
			}
			if len(bytes.TrimSpace(rest)) != 0 {
				t.Errorf("rest %q", rest)
			}
			if !gpgSameText(got, gpgText) {
				t.Errorf("signed text\n%q\ngpg says\n%q", got, gpgText)
			}
			if want := "Hello Bob,\n- a dash line\n-----BEGIN PGP SIGNATURE-----\nFrom here\nGrüße\n\nlast line"; string(got) != want {
				t.Errorf("signed text\n%q\nwant\n%q", got, want)
			}

			var out bytes.Buffer
			res, err = Read(bytes.NewReader(msg), &out, kr, gpgReadOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			gpgCheckSigs(t, res.Signatures, map[string]string{k.Fingerprint: gpgEmail(k.Public)})
			if !bytes.Equal(out.Bytes(), got) {
				t.Errorf("Read: %q, VerifyCleartext: %q", out.Bytes(), got)
			}

			// A changed word breaks the signature.
			bad := bytes.Replace(msg, []byte("last line"), []byte("last lime"), 1)
			res, _, _, err = VerifyCleartext(bad, kr, gpgReadOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Signatures) != 1 || res.Signatures[0].Valid {
				t.Errorf("tampered: %+v", res.Signatures)
			}
		})
	}
}

// gpgSameText compares cleartext-signed text up to the final line
// ending, which is not part of what is signed (RFC 9580 §7.2).
func gpgSameText(a, b []byte) bool {
	return bytes.Equal(bytes.TrimSuffix(a, []byte("\n")), bytes.TrimSuffix(b, []byte("\n")))
}

// TestGPG_DetachedToUs: gpg --detach-sign, armored and binary, in binary
// and text mode, checked by VerifyDetached.
func TestGPG_DetachedToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, carol := h.gpgStdKeys()
	kr := Entities{bob.Public, carol.Public}
	data := gpgPlaintext()
	text := []byte("Content-Type: text/plain\n\nHello,\nline two  \n")
	cases := []struct {
		name string
		data []byte
		args []string
	}{
		{"binary-sig", data, nil},
		{"armored-sig", data, []string{"--armor"}},
		{"textmode,armored", text, []string{"--armor", "--textmode"}},
		{"textmode,binary", text, []string{"--textmode"}},
	}
	for _, k := range []gpgKey{bob, carol} {
		email := gpgEmail(k.Public)
		for _, c := range cases {
			t.Run(email+","+c.name, func(t *testing.T) {
				sig := h.gpgRun(c.data, append([]string{"--detach-sign", "-u", k.Fingerprint}, c.args...)...).Stdout
				sigs, err := VerifyDetached(bytes.NewReader(c.data), sig, kr, gpgReadOptions(t))
				if err != nil {
					t.Fatal(err)
				}
				gpgCheckSigs(t, sigs, map[string]string{k.Fingerprint: email})
				if slices.Contains(c.args, "--textmode") {
					// A text signature is over canonical CRLF lines: it
					// holds for the text as a MIME part carries it too.
					crlf := bytes.ReplaceAll(c.data, []byte("\n"), []byte("\r\n"))
					sigs, err := VerifyDetached(bytes.NewReader(crlf), sig, kr, gpgReadOptions(t))
					if err != nil {
						t.Fatal(err)
					}
					gpgCheckSigs(t, sigs, map[string]string{k.Fingerprint: email})
				}

				bad := append(bytes.Clone(c.data), 'x')
				sigs, err = VerifyDetached(bytes.NewReader(bad), sig, kr, gpgReadOptions(t))
				if err != nil {
					t.Fatal(err)
				}
				if len(sigs) != 1 || sigs[0].Valid || sigs[0].Err == nil {
					t.Errorf("signature over changed data: %+v", sigs)
				}
				// Without the key the signature is not valid, and says why.
				sigs, err = VerifyDetached(bytes.NewReader(c.data), sig, Entities{}, gpgReadOptions(t))
				if err != nil {
					t.Fatal(err)
				}
				if len(sigs) != 1 || sigs[0].Valid || !errors.Is(sigs[0].Err, ErrUnknownSigner) || sigs[0].Fingerprint != k.Fingerprint {
					t.Errorf("signature by an unknown key: %+v", sigs)
				}
			})
		}
	}
}

// TestGPG_InlineSignedToUs: gpg --sign (compressed by default), binary
// and armored, read by Read.
func TestGPG_InlineSignedToUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, carol := h.gpgStdKeys()
	kr := Entities{bob.Public, carol.Public}
	plain := gpgPlaintext()
	for _, k := range []gpgKey{bob, carol} {
		email := gpgEmail(k.Public)
		for _, armor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s,armor=%v", email, armor), func(t *testing.T) {
				args := []string{"--sign", "-u", k.Fingerprint}
				if armor {
					args = append(args, "--armor")
				}
				msg := h.gpgRun(plain, args...).Stdout
				if !armor {
					// gpg compresses what it signs: make sure that is
					// what is being read.
					p, err := packet.NewReader(bytes.NewReader(msg)).Next()
					if _, ok := p.(*packet.Compressed); err != nil || !ok {
						t.Errorf("gpg --sign made %T first (%v), not a compressed packet", p, err)
					}
				}
				var out bytes.Buffer
				res, err := Read(bytes.NewReader(msg), &out, kr, gpgReadOptions(t))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out.Bytes(), plain) {
					t.Fatalf("plaintext differs:\n%q", out.Bytes())
				}
				if res.Encrypted || res.Integrity || res.Cleartext || res.Size != int64(len(plain)) {
					t.Errorf("result %+v", res)
				}
				gpgCheckSigs(t, res.Signatures, map[string]string{k.Fingerprint: email})
			})
		}
	}
}

// --- ours → gpg ---

// gpgOurKeys returns our Ed25519 and RSA keys, imported into h.
func (h *gpgHome) gpgOurKeys() (alice, dave *openpgp.Entity) {
	h.t.Helper()
	alice, dave = newKey(h.t, "alice"), gpgOurRSAKey(h.t)
	h.gpgImport(alice)
	h.gpgImport(dave)
	return alice, dave
}

// TestGPG_OurEncryptToGPG: our Encrypt, signed by our key, to gpg's key
// and our own, armored and binary, decrypted and verified by gpg.
func TestGPG_OurEncryptToGPG(t *testing.T) {
	h := gpgNewHome(t)
	bob, carol := h.gpgStdKeys()
	alice, dave := h.gpgOurKeys()
	plain := gpgPlaintext()
	cases := []struct {
		name   string
		signer *openpgp.Entity
		to     gpgKey
	}{
		{"ed25519-to-cv25519", alice, bob},
		{"rsa-to-rsa", dave, carol},
		{"ed25519-to-rsa", alice, carol},
		{"rsa-to-cv25519", dave, bob},
	}
	for _, c := range cases {
		for _, armor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s,armor=%v", c.name, armor), func(t *testing.T) {
				var msg bytes.Buffer
				w, err := Encrypt(&msg, []Recipient{
					{Name: "gpg", Key: c.to.Public},
					{Name: "self", Key: publicOnly(t, c.signer)},
				}, c.signer, &WriteParams{Armor: armor})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write(plain); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				// We do not compress (Options.config).
				if z := h.gpgCompression(msg.Bytes()); z != "" {
					t.Errorf("our message is compressed with algorithm %s", z)
				}

				res := h.gpgRun(msg.Bytes(), "--decrypt")
				if !bytes.Equal(res.Stdout, plain) {
					t.Fatalf("gpg decrypted:\n%q\nwant\n%q", res.Stdout, plain)
				}
				gpgCheckDecrypted(t, res, c.to.Secret, c.signer)
				gpgCheckGoodSig(t, res, fingerprint(c.signer), "00")

				// And we read our own sent copy.
				var out bytes.Buffer
				rr, err := Read(bytes.NewReader(msg.Bytes()), &out, Entities{c.signer}, gpgReadOptions(t))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out.Bytes(), plain) || len(rr.Signatures) != 1 || !rr.Signatures[0].Valid {
					t.Errorf("reading our own copy: %+v", rr)
				}
			})
		}
	}
}

// TestGPG_OurSizesToGPG: our signed and encrypted messages, and inline
// signed ones, of sizes around the partial-length chunking (empty, one
// byte, the 512-byte first chunk, several chunks), read by gpg.
func TestGPG_OurSizesToGPG(t *testing.T) {
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	alice := newKey(t, "alice")
	h.gpgImport(alice)
	self := publicOnly(t, alice)
	big := bytes.Repeat(gpgPlaintext(), 1000)
	for _, n := range []int{0, 1, 511, 512, 513, 8192, 100_001} {
		plain := big[:n]
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var enc, sig bytes.Buffer
			w, err := Encrypt(&enc, []Recipient{{Name: "bob", Key: bob.Public}, {Name: "self", Key: self}}, alice, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			res := h.gpgRun(enc.Bytes(), "--decrypt")
			if !bytes.Equal(res.Stdout, plain) {
				t.Fatalf("gpg decrypted %d bytes, want %d", len(res.Stdout), n)
			}
			gpgCheckDecrypted(t, res, bob.Secret, alice)
			gpgCheckGoodSig(t, res, fingerprint(alice), "00")

			w, err = Sign(&sig, alice, &WriteParams{Armor: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			res = h.gpgRun(sig.Bytes(), "--decrypt")
			if !bytes.Equal(res.Stdout, plain) {
				t.Fatalf("gpg output %d bytes, want %d", len(res.Stdout), n)
			}
			gpgCheckGoodSig(t, res, fingerprint(alice), "00")
		})
	}
}

// TestGPG_GPGKeysThroughUs: keys made by gpg and imported into
// securemail sign and receive our messages, which gpg then reads.
func TestGPG_GPGKeysThroughUs(t *testing.T) {
	h := gpgNewHome(t)
	bob, carol := h.gpgStdKeys()
	plain := gpgPlaintext()
	for _, c := range []struct{ signer, to gpgKey }{{bob, carol}, {carol, bob}} {
		t.Run(gpgEmail(c.signer.Public), func(t *testing.T) {
			var msg bytes.Buffer
			w, err := Encrypt(&msg, []Recipient{{Name: "to", Key: c.to.Public}, {Name: "self", Key: c.signer.Public}}, c.signer.Secret, &WriteParams{Armor: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			res := h.gpgRun(msg.Bytes(), "--decrypt")
			if !bytes.Equal(res.Stdout, plain) {
				t.Fatalf("gpg decrypted:\n%q", res.Stdout)
			}
			gpgCheckDecrypted(t, res, c.to.Secret, c.signer.Secret)
			gpgCheckGoodSig(t, res, c.signer.Fingerprint, "00")

			sig, _, err := DetachSign(plain, c.signer.Secret, nil)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			sigFile, dataFile := filepath.Join(dir, "sig.asc"), filepath.Join(dir, "data")
			if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dataFile, plain, 0o600); err != nil {
				t.Fatal(err)
			}
			gpgCheckGoodSig(t, h.gpgRun(nil, "--verify", sigFile, dataFile), c.signer.Fingerprint, "00")
		})
	}
}

// gpgCheckDecrypted checks gpg's status lines for a message that gpg
// decrypted with to's key, integrity-protected with AES-256, and that
// is encrypted to to and self.
func gpgCheckDecrypted(t *testing.T, res *gpgResult, to, self *openpgp.Entity) {
	t.Helper()
	if _, ok := res.status("DECRYPTION_OKAY"); !ok {
		t.Errorf("no DECRYPTION_OKAY: %s", res)
	}
	if _, ok := res.status("GOODMDC"); !ok {
		t.Errorf("no GOODMDC: %s", res)
	}
	for _, bad := range []string{"DECRYPTION_FAILED", "BADMDC"} {
		if _, ok := res.status(bad); ok {
			t.Errorf("gpg reported %s: %s", bad, res)
		}
	}
	// DECRYPTION_INFO <mdc method> <cipher> [<aead>]: 2 = MDC, 9 = AES-256.
	if info, ok := res.status("DECRYPTION_INFO"); !ok || len(info) < 2 || info[0] != "2" || info[1] != "9" {
		t.Errorf("DECRYPTION_INFO %v, want 2 9: %s", info, res)
	}
	var encTo []string
	for _, f := range res.statusAll("ENC_TO") {
		encTo = append(encTo, f[0])
	}
	for _, e := range []*openpgp.Entity{to, self} {
		k, ok := e.EncryptionKey(time.Now(), nil)
		if !ok {
			t.Fatalf("%s has no encryption key", fingerprint(e))
		}
		if id := fmt.Sprintf("%016X", k.PublicKey.KeyId); !slices.Contains(encTo, id) {
			t.Errorf("ENC_TO %v lacks %s", encTo, id)
		}
	}
	if len(encTo) != 2 {
		t.Errorf("ENC_TO %v, want 2 recipients", encTo)
	}
}

// TestGPG_OurSignToGPG: our Sign (an inline-signed message), armored and
// binary, verified by gpg, which also sees the file name.
func TestGPG_OurSignToGPG(t *testing.T) {
	h := gpgNewHome(t)
	alice, dave := h.gpgOurKeys()
	plain := gpgPlaintext()
	for _, signer := range []*openpgp.Entity{alice, dave} {
		for _, armor := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s,armor=%v", gpgEmail(signer), armor), func(t *testing.T) {
				var msg bytes.Buffer
				w, err := Sign(&msg, signer, &WriteParams{Armor: armor, Filename: "note.txt"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write(plain); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				// We do not compress (Options.config).
				if z := h.gpgCompression(msg.Bytes()); z != "" {
					t.Errorf("our message is compressed with algorithm %s", z)
				}

				res := h.gpgRun(msg.Bytes(), "--decrypt")
				if !bytes.Equal(res.Stdout, plain) {
					t.Fatalf("gpg output:\n%q\nwant\n%q", res.Stdout, plain)
				}
				gpgCheckGoodSig(t, res, fingerprint(signer), "00")
				// PLAINTEXT <format> <timestamp> <file name, %-escaped>
				if p, ok := res.status("PLAINTEXT"); !ok || len(p) < 3 || p[0] != "62" || p[2] != "note.txt" {
					t.Errorf("PLAINTEXT %v, want 62 (binary) and note.txt", p)
				}
				// gpg --verify agrees.
				gpgCheckGoodSig(t, h.gpgRun(msg.Bytes(), "--verify"), fingerprint(signer), "00")
			})
		}
	}
}

// TestGPG_OurDetachSignToGPG: our DetachSign, verified by gpg --verify;
// a changed byte is a BADSIG.
func TestGPG_OurDetachSignToGPG(t *testing.T) {
	h := gpgNewHome(t)
	alice, dave := h.gpgOurKeys()
	dir := t.TempDir()
	data := gpgPlaintext()
	dataFile := filepath.Join(dir, "data")
	if err := os.WriteFile(dataFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	badFile := filepath.Join(dir, "changed")
	bad := bytes.Clone(data)
	bad[len(bad)/2] ^= 1
	if err := os.WriteFile(badFile, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, signer := range []*openpgp.Entity{alice, dave} {
		t.Run(gpgEmail(signer), func(t *testing.T) {
			sig, hash, err := DetachSign(data, signer, nil)
			if err != nil {
				t.Fatal(err)
			}
			if hash.String() != "SHA-256" {
				t.Errorf("hash %v", hash)
			}
			sigFile := filepath.Join(dir, gpgEmail(signer)+".asc")
			if err := os.WriteFile(sigFile, sig, 0o600); err != nil {
				t.Fatal(err)
			}
			res := h.gpgRun(nil, "--verify", sigFile, dataFile)
			gpgCheckGoodSig(t, res, fingerprint(signer), "00")

			res = h.gpgExec(nil, nil, "--verify", sigFile, badFile)
			if res.Err == nil {
				t.Errorf("gpg accepted the signature over changed data: %s", res)
			}
			if _, ok := res.status("BADSIG"); !ok {
				t.Errorf("no BADSIG: %s", res)
			}
		})
	}
}

// --- large messages ---

// gpgLargeSize is the size of the large-message tests.
const gpgLargeSize = 64 << 20

// gpgLargeData streams gpgLargeSize bytes that look like mail: base64
// lines (an attachment: 6 bits of entropy a byte) and runs of repeated
// text (quoted replies), so that compression gets something to do without
// making everything slow. It holds one MiB: one block, stamped with its
// number in each copy (DEFLATE's 32 KiB window cannot see one copy from
// the next, and a reordered block would change the hash).
type gpgLargeData struct {
	block []byte
	buf   []byte
	n     int
}

func gpgNewLargeData() *gpgLargeData {
	const blockSize = 1 << 20
	ctr := cipher.NewCTR(gpgMust(aes.NewCipher(make([]byte, 32))), make([]byte, aes.BlockSize))
	block := make([]byte, blockSize)
	ctr.XORKeyStream(block, block)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range block {
		if i%77 == 76 {
			block[i] = '\n'
		} else {
			block[i] = alphabet[block[i]&63]
		}
	}
	// Most of every 64 KiB repeats its first 8 KiB: literals are what
	// makes inflating slow (under the race detector above all).
	for off := 0; off < blockSize; off += 64 << 10 {
		for i := off + 8<<10; i < off+64<<10; i += 8 << 10 {
			copy(block[i:i+8<<10], block[off:off+8<<10])
		}
	}
	return &gpgLargeData{block: block}
}

func gpgMust[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func (d *gpgLargeData) Read(p []byte) (int, error) {
	if len(d.buf) == 0 {
		if d.n == gpgLargeSize/len(d.block) {
			return 0, io.EOF
		}
		copy(d.block, fmt.Sprintf("block %06d\n", d.n))
		d.buf = d.block
		d.n++
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

// gpgLargeSkip skips the large tests in -short runs, but never in CI.
func gpgLargeSkip(t *testing.T) {
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("64 MiB messages: skipped in -short mode")
	}
}

// TestGPG_LargeToUs: 64 MiB, encrypted and signed by gpg with its
// default compression, streamed from gpg into Read (which spools to
// TempDir), compared by SHA-256.
func TestGPG_LargeToUs(t *testing.T) {
	gpgLargeSkip(t)
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	opts := gpgReadOptions(t)

	want := sha256.New()
	in := io.TeeReader(gpgNewLargeData(), want)
	pr, pw := io.Pipe()
	done := make(chan *gpgResult, 1)
	start := time.Now()
	go func() {
		r := h.gpgExec(in, pw, "--encrypt", "--sign", "-r", bob.Fingerprint, "-u", bob.Fingerprint)
		pw.CloseWithError(r.Err)
		done <- r
	}()
	got := sha256.New()
	res, err := Read(pr, got, Entities{bob.Secret}, opts)
	pr.CloseWithError(errors.New("reader done"))
	g := <-done
	if g.Err != nil {
		t.Fatalf("gpg: %s", g)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gpg encrypt → Read, %d MiB: %v", gpgLargeSize>>20, time.Since(start))
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) || res.Size != gpgLargeSize {
		t.Fatalf("plaintext: size %d, SHA-256 %x, want %d, %x", res.Size, got.Sum(nil), gpgLargeSize, want.Sum(nil))
	}
	gpgCheckSigs(t, res.Signatures, map[string]string{bob.Fingerprint: "bob@example.org"})
	if entries, err := os.ReadDir(opts.TempDir); err != nil || len(entries) != 0 {
		t.Errorf("spool left %v (%v)", entries, err)
	}
}

// TestGPG_LargeToGPG: 64 MiB through our Encrypt (signed), streamed into
// gpg --decrypt, compared by SHA-256.
func TestGPG_LargeToGPG(t *testing.T) {
	gpgLargeSkip(t)
	h := gpgNewHome(t)
	bob, _ := h.gpgStdKeys()
	alice := newKey(t, "alice")
	h.gpgImport(alice)
	to := []Recipient{{Name: "bob", Key: bob.Public}, {Name: "self", Key: publicOnly(t, alice)}}

	want := sha256.New()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	start := time.Now()
	go func() {
		w, err := Encrypt(pw, to, alice, nil)
		if err == nil {
			_, err = io.Copy(w, io.TeeReader(gpgNewLargeData(), want))
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		pw.CloseWithError(err)
		errc <- err
	}()
	got := sha256.New()
	res := h.gpgExec(pr, got, "--decrypt")
	pr.CloseWithError(errors.New("gpg done")) // unblock the writer if gpg stopped early
	if err := <-errc; err != nil {
		t.Fatalf("encrypt: %v", err)
	}
	if res.Err != nil {
		t.Fatalf("gpg: %s", res)
	}
	t.Logf("Encrypt → gpg --decrypt, %d MiB: %v", gpgLargeSize>>20, time.Since(start))
	if !bytes.Equal(got.Sum(nil), want.Sum(nil)) {
		t.Fatalf("gpg's plaintext has SHA-256 %x, want %x", got.Sum(nil), want.Sum(nil))
	}
	gpgCheckDecrypted(t, res, bob.Secret, alice)
	gpgCheckGoodSig(t, res, fingerprint(alice), "00")
}
