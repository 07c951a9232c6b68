package cms

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Interop with GnuPG's S/MIME tool, gpgsm, in both directions, with an RSA
// CA and an RSA-3072 leaf made here. gpgsm 2.2 writes EnvelopedData with
// AES-CBC and RSA PKCS#1 v1.5 key transport only; newer releases also read
// AuthEnvelopedData (AES-GCM) and RSA-OAEP, which TestGPGSM_WeEncryptGPGSMDecrypts
// reports without requiring.

const gpgsmContent = "Content-Type: text/plain; charset=utf-8\r\n\r\ngpgsm interop\r\n\xe2\x82\xac 100\r\n"

// gpgsmPassphrase protects the leaf key in the PKCS#12 file and, after the
// import, in gpg-agent.
const gpgsmPassphrase = "correct horse battery staple"

type gpgsmPKI struct {
	ca   *x509.Certificate
	leaf *x509.Certificate
	key  *rsa.PrivateKey
	p12  []byte
}

// gpgsmKeys makes the CA and the leaf once per test binary: RSA-3072 key
// generation takes a while.
var gpgsmKeys = sync.OnceValues(func() (*gpgsmPKI, error) {
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return nil, err
	}
	ski := func(k *rsa.PublicKey) []byte {
		spki, _ := x509.MarshalPKIXPublicKey(k)
		s := sha1.Sum(spki)
		return s[:]
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "securemail gpgsm test CA", Organization: []string{"securemail test"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(48 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SubjectKeyId:          ski(&caKey.PublicKey),
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	leafTmpl := &x509.Certificate{
		SerialNumber:   serial,
		Subject:        pkix.Name{CommonName: "Gee Pee", Organization: []string{"securemail test"}},
		EmailAddresses: []string{"gpgsm@example.org"},
		NotBefore:      now.Add(-time.Hour),
		NotAfter:       now.Add(24 * time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		SubjectKeyId:   ski(&key.PublicKey),
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, err
	}
	// 3DES PBE and a SHA-1 MAC: what gpgsm 2.2's PKCS#12 reader knows.
	p12, err := pkcs12.LegacyDES.Encode(key, leaf, nil, gpgsmPassphrase)
	if err != nil {
		return nil, err
	}
	return &gpgsmPKI{ca: ca, leaf: leaf, key: key, p12: p12}, nil
})

// gpgsmHome is a GNUPGHOME holding the CA (trusted) and the leaf with its
// key.
type gpgsmHome struct {
	bin, home, dir string
	pki            *gpgsmPKI
}

func gpgsmFingerprint(c *x509.Certificate) string {
	return fmt.Sprintf("%X", sha1.Sum(c.Raw))
}

// gpgsmSetup skips the test when gpgsm is missing (fails under CI=true),
// builds a GNUPGHOME under a short /tmp directory (gpg-agent's socket path
// is limited to 108 bytes) and kills the agent when the test ends.
func gpgsmSetup(t *testing.T) *gpgsmHome {
	t.Helper()
	bin := needPeer(t, "gpgsm")
	pki, err := gpgsmKeys()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/tmp", "smg")
	if err != nil {
		t.Fatal(err)
	}
	h := &gpgsmHome{bin: bin, home: filepath.Join(dir, "g"), dir: dir, pki: pki}
	t.Cleanup(func() {
		if gpgconf, err := exec.LookPath("gpgconf"); err == nil {
			cmd := exec.Command(gpgconf, "--homedir", h.home, "--kill", "all")
			cmd.Env = h.env()
			_ = cmd.Run()
		}
		os.RemoveAll(dir)
	})
	if err := os.Mkdir(h.home, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(h.home, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// No dirmngr, CRL or OCSP: the test CA publishes none.
	write("gpgsm.conf", strings.Join([]string{
		"disable-crl-checks",
		"disable-trusted-cert-crl-check",
		"disable-dirmngr",
		"disable-policy-checks",
		"no-common-certs-import",
		"no-secmem-warning",
		"",
	}, "\n"))
	write("gpg-agent.conf", "allow-loopback-pinentry\nno-allow-external-cache\n")
	// The CA is a trust anchor for S/MIME; "relax" lets gpgsm skip checks
	// a test root does not satisfy (such as a missing CRL distribution).
	fpr := gpgsmFingerprint(pki.ca)
	var colon []string
	for i := 0; i < len(fpr); i += 2 {
		colon = append(colon, fpr[i:i+2])
	}
	write("trustlist.txt", strings.Join(colon, ":")+" S relax\n")

	h.writeFile(t, "ca.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: pki.ca.Raw}))
	h.writeFile(t, "leaf.p12", pki.p12)
	h.run(t, nil, "--import", filepath.Join(dir, "ca.pem"))
	h.run(t, nil, "--import", filepath.Join(dir, "leaf.p12"))
	out := h.run(t, nil, "--with-colons", "--list-secret-keys", gpgsmFingerprint(pki.leaf))
	if !bytes.Contains(out, []byte(gpgsmFingerprint(pki.leaf))) {
		t.Fatalf("leaf key not imported:\n%s", out)
	}
	return h
}

func (h *gpgsmHome) env() []string {
	return append(os.Environ(), "GNUPGHOME="+h.home, "LC_ALL=C")
}

func (h *gpgsmHome) writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// command returns gpgsm with args, in batch mode, the passphrase on fd 3
// (loopback pinentry) and status lines on fd 4, collected in *status.
func (h *gpgsmHome) command(stdin []byte, status *bytes.Buffer, args ...string) (*exec.Cmd, func(), error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	sr, sw, err := os.Pipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, nil, err
	}
	go func() {
		// One line per passphrase request: the PKCS#12 import asks for
		// the file's passphrase and then for the new protection.
		for range 4 {
			fmt.Fprintln(pw, gpgsmPassphrase)
		}
		pw.Close()
	}()
	done := make(chan struct{})
	go func() {
		status.ReadFrom(sr)
		sr.Close()
		close(done)
	}()
	full := append([]string{
		"--homedir", h.home, "--batch", "--no-tty", "--yes",
		"--pinentry-mode", "loopback", "--passphrase-fd", "3", "--status-fd", "4",
	}, args...)
	cmd := exec.Command(h.bin, full...)
	cmd.Env = h.env()
	cmd.ExtraFiles = []*os.File{pr, sw}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	wait := func() {
		pr.Close()
		sw.Close()
		<-done
	}
	return cmd, wait, nil
}

// try runs gpgsm and returns stdout, stderr, status lines and the error.
func (h *gpgsmHome) try(stdin []byte, args ...string) (stdout, stderr, status []byte, err error) {
	var st, so, se bytes.Buffer
	cmd, wait, err := h.command(stdin, &st, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	cmd.Stdout = &so
	cmd.Stderr = &se
	err = cmd.Start()
	if err == nil {
		// The parent's ends of the pipes must close once the child
		// holds them, or the status reader never sees EOF.
		wait()
		err = cmd.Wait()
	} else {
		wait()
	}
	return so.Bytes(), se.Bytes(), st.Bytes(), err
}

func (h *gpgsmHome) run(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	out, stderr, status, err := h.try(stdin, args...)
	if err != nil {
		t.Fatalf("gpgsm %s: %v\n%s\n%s", strings.Join(args, " "), err, stderr, status)
	}
	return out
}

func TestGPGSM_SignWeVerify(t *testing.T) {
	h := gpgsmSetup(t)
	fpr := gpgsmFingerprint(h.pki.leaf)
	content := []byte(gpgsmContent)
	for _, tc := range []struct {
		name     string
		args     []string
		detached bool
	}{
		{name: "detached", args: []string{"--detach-sign"}, detached: true},
		{name: "opaque", args: []string{"--sign"}},
		{name: "opaque-sha512", args: []string{"--sign", "--digest-algo", "SHA512"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := h.run(t, content, append([]string{"--local-user", fpr, "--include-certs", "-1"}, tc.args...)...)
			sd, err := ParseSignedData(msg, nil)
			if err != nil {
				t.Fatalf("ParseSignedData: %v", err)
			}
			if sd.Encapsulated == tc.detached {
				t.Fatalf("Encapsulated = %v", sd.Encapsulated)
			}
			opts := &VerifyOptions{}
			if tc.detached {
				opts.Detached = bytes.NewReader(content)
			} else if !bytes.Equal(sd.Content, content) {
				t.Fatalf("content %q, want %q", sd.Content, content)
			}
			res, err := sd.Verify(opts)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if len(res.Signers) != 1 {
				t.Fatalf("%d signers", len(res.Signers))
			}
			r := res.Signers[0]
			if !r.Valid {
				t.Fatalf("gpgsm signature invalid: %v", r.Err)
			}
			if !r.Certificate.Equal(h.pki.leaf) {
				t.Fatalf("signer certificate %v", r.Certificate.Subject)
			}
			t.Logf("gpgsm %s: %v %v, %d certificates, signing time %v", tc.name, r.Scheme, r.Hash, len(sd.Certificates), r.SigningTime)

			// A flipped content byte must break it.
			bad := bytes.Clone(content)
			bad[len(bad)-3] ^= 1
			if tc.detached {
				res, err = sd.Verify(&VerifyOptions{Detached: bytes.NewReader(bad)})
				if err != nil || res.Signers[0].Valid {
					t.Fatalf("tampered content verified: %v", err)
				}
			}
		})
	}
}

func TestGPGSM_WeSignGPGSMVerifies(t *testing.T) {
	h := gpgsmSetup(t)
	content := []byte(gpgsmContent)
	signer := Signer{Certificate: h.pki.leaf, Key: h.pki.key}
	for _, tc := range []struct {
		name     string
		signer   Signer
		detached bool
		// optional: gpgsm 2.2 (libksba 1.6) cannot parse a signerInfo
		// naming its signer by subjectKeyIdentifier (nor can it read
		// openssl cms -keyid output), so the outcome is only reported.
		optional bool
	}{
		{name: "detached", signer: signer, detached: true},
		{name: "opaque", signer: signer},
		{name: "opaque-ski", signer: Signer{Certificate: h.pki.leaf, Key: h.pki.key, SubjectKeyID: true}, optional: true},
		{name: "detached-sha384", signer: Signer{Certificate: h.pki.leaf, Key: h.pki.key, Hash: crypto.SHA384}, detached: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, err := Sign(content, []Signer{tc.signer}, &SignOptions{Detached: tc.detached})
			if err != nil {
				t.Fatal(err)
			}
			sig := h.writeFile(t, "sig-"+tc.name+".p7s", msg)
			var out, stderr, status []byte
			if tc.detached {
				data := h.writeFile(t, "data-"+tc.name, content)
				out, stderr, status, err = h.try(nil, "--verify", sig, data)
			} else {
				out, stderr, status, err = h.try(nil, "--verify", "--output", "-", sig)
			}
			if err != nil && tc.optional {
				t.Logf("gpgsm does not read %s: %v: %s", tc.name, err, gpgsmLastLine(stderr))
				return
			}
			if err != nil {
				t.Fatalf("gpgsm --verify: %v\n%s\n%s", err, stderr, status)
			}
			for _, want := range []string{"GOODSIG", "VALIDSIG " + gpgsmFingerprint(h.pki.leaf), "TRUST_FULLY"} {
				if !bytes.Contains(status, []byte("[GNUPG:] "+want)) {
					t.Fatalf("gpgsm status lacks %s:\n%s\n%s", want, status, stderr)
				}
			}
			if !tc.detached && !bytes.Equal(out, content) {
				t.Fatalf("gpgsm output %q, want %q", out, content)
			}

			// gpgsm must reject our signature over other content.
			if tc.detached {
				data := h.writeFile(t, "bad-"+tc.name, []byte(strings.ToUpper(gpgsmContent)))
				_, _, status, err := h.try(nil, "--verify", sig, data)
				if err == nil || !bytes.Contains(status, []byte("BADSIG")) {
					t.Fatalf("gpgsm accepted a signature over other content: %v\n%s", err, status)
				}
			}
		})
	}
}

func TestGPGSM_EncryptWeDecrypt(t *testing.T) {
	h := gpgsmSetup(t)
	content := []byte(gpgsmContent)
	fpr := gpgsmFingerprint(h.pki.leaf)
	for _, tc := range []struct {
		name string
		args []string
		want ContentAlgorithm
	}{
		{name: "aes256", args: []string{"--cipher-algo", "AES256"}, want: AES256CBC},
		{name: "aes128", args: []string{"--cipher-algo", "AES128"}, want: AES128CBC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg := h.run(t, content, append([]string{"--encrypt", "--recipient", fpr}, tc.args...)...)
			der, err := ToDER(msg, nil)
			if err != nil {
				t.Fatalf("ToDER: %v", err)
			}
			pt, info, err := Decrypt(der, h.pki.leaf, h.pki.key, nil)
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(pt, content) {
				t.Fatalf("plaintext %q, want %q", pt, content)
			}
			if info.Algorithm != tc.want || info.AuthEnveloped || info.Integrity {
				t.Fatalf("info %+v, want %v EnvelopedData", info, tc.want)
			}
			t.Logf("gpgsm --encrypt %s: %v, %v, BER %d bytes (DER %d)", tc.name, info.Algorithm, info.Recipient, len(msg), len(der))
		})
	}
	// gpgsm's default algorithm, whatever it is.
	msg := h.run(t, content, "--encrypt", "--recipient", fpr)
	der, err := ToDER(msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	pt, info, err := Decrypt(der, h.pki.leaf, h.pki.key, nil)
	if err != nil || !bytes.Equal(pt, content) {
		t.Fatalf("gpgsm default: %v", err)
	}
	t.Logf("gpgsm --encrypt default: %v, %v", info.Algorithm, info.Recipient)
}

func TestGPGSM_WeEncryptGPGSMDecrypts(t *testing.T) {
	h := gpgsmSetup(t)
	content := []byte(gpgsmContent)
	version := "unknown"
	if out, err := exec.Command(h.bin, "--version").Output(); err == nil {
		version = strings.SplitN(string(out), "\n", 2)[0]
	}
	for _, tc := range []struct {
		name string
		opts EncryptOptions
		// must: gpgsm 2.2 reads it; otherwise the outcome is reported.
		// gpgsm 2.2 finds no key for a subjectKeyIdentifier (rKeyId)
		// recipient, as with openssl cms -encrypt -keyid.
		must bool
	}{
		{name: "aes256cbc-pkcs1v15", opts: EncryptOptions{Algorithm: AES256CBC, RSAPadding: RSAPaddingPKCS1v15}, must: true},
		{name: "aes128cbc-pkcs1v15", opts: EncryptOptions{Algorithm: AES128CBC, RSAPadding: RSAPaddingPKCS1v15}, must: true},
		{name: "aes256cbc-pkcs1v15-ski", opts: EncryptOptions{Algorithm: AES256CBC, RSAPadding: RSAPaddingPKCS1v15, UseSubjectKeyID: true}},
		{name: "aes256cbc-oaep", opts: EncryptOptions{Algorithm: AES256CBC, RSAPadding: RSAPaddingOAEP}},
		{name: "aes256gcm-pkcs1v15", opts: EncryptOptions{Algorithm: AES256GCM, RSAPadding: RSAPaddingPKCS1v15}},
		{name: "aes256gcm-oaep (default)", opts: EncryptOptions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			msg, err := Encrypt(content, []*x509.Certificate{h.pki.leaf}, &opts)
			if err != nil {
				t.Fatal(err)
			}
			out, stderr, status, err := h.try(msg, "--decrypt")
			ok := err == nil && bytes.Equal(out, content)
			switch {
			case ok:
				t.Logf("%s reads %s", version, tc.name)
			case tc.must:
				t.Fatalf("gpgsm --decrypt %s: %v, output %q\n%s\n%s", tc.name, err, out, stderr, status)
			default:
				t.Logf("%s does not read %s: %v: %s", version, tc.name, err, gpgsmLastLine(stderr))
			}
		})
	}
}

func gpgsmLastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}
