package pkcs8

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// opensslPassphrase deliberately contains a space and non-ASCII bytes; it
// has no newline because OpenSSL reads "file:" passphrases up to the first
// newline.
const opensslPassphrase = "interop pässwörd 123"

// requireOpenSSL returns the path of the openssl binary. Without it the test
// is skipped, except in CI where a missing interop peer is a failure.
func requireOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("openssl not found in PATH (required in CI): %v", err)
		}
		t.Skipf("openssl not found in PATH: %v", err)
	}
	return path
}

// runOpenSSL runs openssl with args and returns its standard output, failing
// the test (with standard error) if it exits unsuccessfully.
func runOpenSSL(t *testing.T, openssl string, args ...string) []byte {
	t.Helper()
	out, stderr, err := tryOpenSSL(t, openssl, args...)
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, stderr)
	}
	return out
}

func tryOpenSSL(t *testing.T, openssl string, args ...string) (stdout, stderr []byte, err error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), openssl, args...)
	var outBuf, errBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	err = cmd.Run()
	return outBuf.Bytes(), errBuf.Bytes(), err
}

func writePassFile(t *testing.T, dir, pass string) string {
	t.Helper()
	path := filepath.Join(dir, "pass.txt")
	if err := os.WriteFile(path, []byte(pass), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestOpenSSLReadsEncrypt checks that `openssl pkey` opens our output and
// sees the same public key.
func TestOpenSSLReadsEncrypt(t *testing.T) {
	openssl := requireOpenSSL(t)
	for _, k := range generateTestKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			dir := t.TempDir()
			pw := writePassFile(t, dir, opensslPassphrase)
			wrongPW := filepath.Join(dir, "wrong.txt")
			if err := os.WriteFile(wrongPW, []byte(opensslPassphrase+"x"), 0o600); err != nil {
				t.Fatal(err)
			}

			enc, err := Encrypt(nil, k.der, []byte(opensslPassphrase), 2048)
			if err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(dir, "key.pem")
			writePEMFile(t, keyFile, "ENCRYPTED PRIVATE KEY", enc)

			runOpenSSL(t, openssl, "pkey", "-in", keyFile, "-passin", "file:"+pw, "-noout")

			pub := runOpenSSL(t, openssl, "pkey", "-in", keyFile, "-passin", "file:"+pw, "-pubout", "-outform", "DER")
			if !bytes.Equal(pub, k.publicDER(t)) {
				t.Fatal("public key reported by openssl differs from the Go key")
			}

			// The same file in DER form.
			derFile := filepath.Join(dir, "key.der")
			if err := os.WriteFile(derFile, enc, 0o600); err != nil {
				t.Fatal(err)
			}
			pub = runOpenSSL(t, openssl, "pkey", "-inform", "DER", "-in", derFile, "-passin", "file:"+pw, "-pubout", "-outform", "DER")
			if !bytes.Equal(pub, k.publicDER(t)) {
				t.Fatal("public key reported by openssl (DER input) differs from the Go key")
			}

			if _, _, err := tryOpenSSL(t, openssl, "pkey", "-in", keyFile, "-passin", "file:"+wrongPW, "-noout"); err == nil {
				t.Fatal("openssl accepted a wrong passphrase")
			}
		})
	}
}

// TestDecryptOpenSSLGenpkey decrypts a key made by `openssl genpkey -aes256`.
func TestDecryptOpenSSLGenpkey(t *testing.T) {
	openssl := requireOpenSSL(t)
	dir := t.TempDir()
	pw := writePassFile(t, dir, opensslPassphrase)
	keyFile := filepath.Join(dir, "key.pem")
	runOpenSSL(t, openssl, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
		"-aes256", "-pass", "file:"+pw, "-out", keyFile)

	der := readPEMFile(t, keyFile, "ENCRYPTED PRIVATE KEY")
	if !IsEncryptedPrivateKeyInfo(der) {
		t.Error("IsEncryptedPrivateKeyInfo = false")
	}
	pki, err := Decrypt(der, []byte(opensslPassphrase))
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(pki)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, ok := key.(*ecdsa.PrivateKey)
	if !ok || ecKey.Curve != elliptic.P256() {
		t.Fatalf("got %T, want a P-256 *ecdsa.PrivateKey", key)
	}
	checkSamePublicKey(t, openssl, keyFile, pw, ecKey)

	if _, err := Decrypt(der, []byte(opensslPassphrase[1:])); err != ErrIncorrectPassphrase {
		t.Fatalf("wrong passphrase: err = %v, want ErrIncorrectPassphrase", err)
	}
}

// TestDecryptOpenSSLTopk8 decrypts Go keys that `openssl pkcs8 -topk8`
// encrypted with various PBES2 parameter sets.
func TestDecryptOpenSSLTopk8(t *testing.T) {
	openssl := requireOpenSSL(t)
	keys := generateTestKeys(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"aes-128-cbc-hmacWithSHA1", []string{"-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"}},
		{"aes-192-cbc-hmacWithSHA224", []string{"-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA224"}},
		{"aes-256-cbc-hmacWithSHA256", []string{"-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA256"}},
		{"aes-256-cbc-hmacWithSHA384", []string{"-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA384", "-iter", "1000"}},
		{"aes-128-cbc-hmacWithSHA512", []string{"-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA512", "-iter", "1"}},
		// OpenSSL 3.0's `req -newkey` default.
		{"des-ede3-cbc-hmacWithSHA256", []string{"-v2", "des3", "-v2prf", "hmacWithSHA256"}},
		{"scrypt", []string{"-scrypt"}},
		{"scrypt-aes-128-cbc", []string{"-scrypt", "-v2", "aes-128-cbc", "-scrypt_N", "1024", "-scrypt_r", "4", "-scrypt_p", "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range keys {
				t.Run(k.name, func(t *testing.T) {
					dir := t.TempDir()
					pw := writePassFile(t, dir, opensslPassphrase)
					plainFile := filepath.Join(dir, "plain.pem")
					writePEMFile(t, plainFile, "PRIVATE KEY", k.der)
					encFile := filepath.Join(dir, "enc.pem")
					args := append([]string{"pkcs8", "-topk8", "-in", plainFile, "-passout", "file:" + pw, "-out", encFile}, tc.args...)
					runOpenSSL(t, openssl, args...)

					// OpenSSL's own unencrypted re-encoding of the key is what
					// it encrypted, byte for byte.
					want := runOpenSSL(t, openssl, "pkcs8", "-topk8", "-nocrypt", "-in", plainFile, "-outform", "DER")

					der := readPEMFile(t, encFile, "ENCRYPTED PRIVATE KEY")
					got, err := Decrypt(der, []byte(opensslPassphrase))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatal("decrypted PrivateKeyInfo differs from openssl -nocrypt output")
					}
					parsed, err := x509.ParsePKCS8PrivateKey(got)
					if err != nil {
						t.Fatal(err)
					}
					if !k.key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(parsed) {
						t.Fatal("decrypted key differs from the original")
					}
					if _, err := Decrypt(der, []byte("not the passphrase")); err != ErrIncorrectPassphrase {
						t.Fatalf("wrong passphrase: err = %v, want ErrIncorrectPassphrase", err)
					}
				})
			}
		})
	}
}

// TestDecryptOpenSSLLegacyUnsupported checks that a PKCS#12-PBE (non-PBES2)
// key from openssl is rejected as unsupported rather than misparsed.
func TestDecryptOpenSSLLegacyUnsupported(t *testing.T) {
	openssl := requireOpenSSL(t)
	dir := t.TempDir()
	pw := writePassFile(t, dir, opensslPassphrase)
	plainFile := filepath.Join(dir, "plain.pem")
	writePEMFile(t, plainFile, "PRIVATE KEY", smallPKI(t))
	encFile := filepath.Join(dir, "enc.pem")
	runOpenSSL(t, openssl, "pkcs8", "-topk8", "-in", plainFile, "-passout", "file:"+pw, "-out", encFile, "-v1", "PBE-SHA1-3DES")
	der := readPEMFile(t, encFile, "ENCRYPTED PRIVATE KEY")
	if IsEncryptedPrivateKeyInfo(der) {
		t.Error("IsEncryptedPrivateKeyInfo = true for a non-PBES2 key")
	}
	_, err := Decrypt(der, []byte(opensslPassphrase))
	if !isUnsupported(err) {
		t.Fatalf("err = %v, want UnsupportedError", err)
	}
}

func checkSamePublicKey(t *testing.T, openssl, keyFile, pw string, key crypto.Signer) {
	t.Helper()
	want, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	got := runOpenSSL(t, openssl, "pkey", "-in", keyFile, "-passin", "file:"+pw, "-pubout", "-outform", "DER")
	if !bytes.Equal(got, want) {
		t.Fatal("public key reported by openssl differs from the decrypted key")
	}
}
