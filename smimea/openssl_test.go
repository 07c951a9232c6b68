package smimea

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// These tests do by hand, with OpenSSL, what the seed articles do to
// publish SMIMEA and TLSA records, and check that our names and records
// say the same.

// opensslDigest runs "openssl dgst -ALG -r" on stdin or a file and returns
// the hex digest.
func opensslDigest(t *testing.T, openssl, dir, alg, file, stdin string) string {
	t.Helper()
	args := []string{"dgst", "-" + alg, "-r"}
	if file != "" {
		args = append(args, file)
	}
	out := runPeer(t, dir, strings.NewReader(stdin), openssl, args...)
	f := strings.Fields(string(out))
	if len(f) == 0 {
		t.Fatalf("openssl dgst printed nothing")
	}
	return strings.ToLower(f[0])
}

// TestOpenSSLOwnerName: the first label is
// "printf %s LOCAL | openssl dgst -sha256" cut to 56 hex digits.
func TestOpenSSLOwnerName(t *testing.T) {
	openssl := needPeer(t, "openssl")
	dir := t.TempDir()
	for _, addr := range []string{"hugh@example.com", "Hugh.Smith+tag@Example.COM", "hélène@bücher.example", "o'brien@example.org"} {
		local := addr[:strings.LastIndexByte(addr, '@')]
		want := opensslDigest(t, openssl, dir, "sha256", "", local)[:56]
		name, err := OwnerName(addr)
		if err != nil {
			t.Fatal(err)
		}
		if label, _, _ := strings.Cut(name, "."); label != want {
			t.Errorf("%s: our label %s, openssl %s", addr, label, want)
		}
		if addr == "hugh@example.com" && want != hughLabel {
			t.Errorf("openssl gives %s for hugh", want)
		}
	}
}

// TestOpenSSLRecordData: for certificates OpenSSL made (RSA and P-256),
// the record data equals what the openssl pipelines of the seed articles
// print: "openssl x509 -outform DER | xxd -p" (here od) for 3 0 0, its
// SHA-256 for 3 0 1, and "openssl x509 -pubkey -noout | openssl pkey
// -pubin -outform DER | openssl dgst -sha256" for 3 1 1 (seed 002 uses
// "openssl rsa -pubin" for the middle step: the same DER for RSA).
func TestOpenSSLRecordData(t *testing.T) {
	openssl := needPeer(t, "openssl")
	od := needPeer(t, "od")
	dir := t.TempDir()
	for _, kind := range []string{"rsa", "ec"} {
		t.Run(kind, func(t *testing.T) {
			crt := kind + ".pem"
			keyArgs := []string{"-newkey", "rsa:2048"}
			if kind == "ec" {
				keyArgs = []string{"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"}
			}
			args := append([]string{"req", "-x509"}, keyArgs...)
			args = append(args, "-nodes", "-keyout", kind+".key", "-out", crt, "-days", "30",
				"-subj", "/CN=Hugh", "-addext", "subjectAltName=email:hugh@example.com")
			runPeer(t, dir, nil, openssl, args...)
			cert := readPEMCert(t, filepath.Join(dir, crt))

			// 3 0 0: the DER certificate, in hex.
			runPeer(t, dir, nil, openssl, "x509", "-in", crt, "-outform", "DER", "-out", kind+".der")
			odHex := strings.Join(strings.Fields(string(runPeer(t, dir, nil, od, "-An", "-v", "-tx1", kind+".der"))), "")
			if got := hex.EncodeToString(mustRecord(t, cert, 3, 0, 0).Data); got != odHex {
				t.Errorf("3 0 0 data differs from openssl x509 -outform DER:\n ours %.80s…\n od   %.80s…", got, odHex)
			}
			if got, want := hex.EncodeToString(mustRecord(t, cert, 3, 0, 1).Data), opensslDigest(t, openssl, dir, "sha256", kind+".der", ""); got != want {
				t.Errorf("3 0 1: ours %s, openssl %s", got, want)
			}

			// 3 1 1 and 3 1 2: the DER SubjectPublicKeyInfo, hashed.
			runPeer(t, dir, nil, openssl, "x509", "-in", crt, "-pubkey", "-noout", "-out", kind+".pub")
			runPeer(t, dir, nil, openssl, "pkey", "-pubin", "-in", kind+".pub", "-outform", "DER", "-out", kind+".spki")
			spki256 := opensslDigest(t, openssl, dir, "sha256", kind+".spki", "")
			if got := hex.EncodeToString(mustRecord(t, cert, 3, 1, 1).Data); got != spki256 {
				t.Errorf("3 1 1: ours %s, openssl %s", got, spki256)
			}
			if got, want := hex.EncodeToString(mustRecord(t, cert, 3, 1, 2).Data), opensslDigest(t, openssl, dir, "sha512", kind+".spki", ""); got != want {
				t.Errorf("3 1 2: ours %s, openssl %s", got, want)
			}
			if kind == "rsa" {
				runPeer(t, dir, nil, openssl, "rsa", "-pubin", "-in", kind+".pub", "-outform", "DER", "-out", kind+".rsa.der")
				if got := opensslDigest(t, openssl, dir, "sha256", kind+".rsa.der", ""); got != spki256 {
					t.Errorf("seed 002's openssl rsa -pubin gives %s, pkey %s", got, spki256)
				}
			}

			// A record typed from openssl's output (upper case, as in
			// seed 002) is read and matches the certificate.
			r, err := ParseRecord("_25._tcp.mail.example.org. IN TLSA 3 1 1 " + strings.ToUpper(spki256))
			if err != nil || !r.Matches(cert) {
				t.Errorf("TLSA line from openssl: %v", err)
			}
			r, err = ParseRecord(hughLabel + "._smimecert.example.com. IN SMIMEA 3 0 0 " + odHex)
			if err != nil {
				t.Fatal(err)
			}
			if c, err := r.Certificate(); err != nil || !c.Equal(cert) {
				t.Errorf("SMIMEA 3 0 0 from od: %v", err)
			}
		})
	}
}

func readPEMCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "CERTIFICATE" {
		t.Fatalf("%s holds no certificate", path)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
