package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// envWritePEM writes cert and key as PEM files and returns their paths.
func envWritePEM(t testing.TB, dir, name string, cert *x509.Certificate, key crypto.PrivateKey) (certPath, keyPath string) {
	t.Helper()
	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certPath, keyPath
}

func envRun(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

type envPeer struct {
	name     string
	cert     *x509.Certificate
	key      crypto.PrivateKey
	certPath string
	keyPath  string
}

func envOpenSSLPeers(t *testing.T) (dir string, rsaP, ecP envPeer) {
	dir = t.TempDir()
	rc, rk := envTestRSA(t)
	ec, ek := envTestEC(t)
	rsaP = envPeer{name: "rsa", cert: rc, key: rk}
	rsaP.certPath, rsaP.keyPath = envWritePEM(t, dir, "rsa", rc, rk)
	ecP = envPeer{name: "ec", cert: ec, key: ek}
	ecP.certPath, ecP.keyPath = envWritePEM(t, dir, "ec", ec, ek)
	return dir, rsaP, ecP
}

// OpenSSL encrypts, we decrypt.
func TestOpenSSLEncryptGoDecrypt(t *testing.T) {
	openssl := needPeer(t, "openssl")
	dir, rsaP, ecP := envOpenSSLPeers(t)
	msg := []byte("Content-Type: text/plain\r\n\r\ninterop \x00\xff test\r\n")
	in := filepath.Join(dir, "msg")
	if err := os.WriteFile(in, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	oaep := []string{"-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"}
	ecdhSHA256 := []string{"-keyopt", "ecdh_kdf_md:sha256"}
	type want struct {
		peer envPeer
		kind RecipientKind
	}
	cases := []struct {
		name   string
		cipher string
		recips [][]string // per recipient: -recip file plus keyopts
		want   []want
	}{
		{"gcm256-rsa", "-aes-256-gcm", [][]string{{rsaP.certPath}}, []want{{rsaP, RecipientRSAPKCS1v15}}},
		{"cbc256-rsa", "-aes-256-cbc", [][]string{{rsaP.certPath}}, []want{{rsaP, RecipientRSAPKCS1v15}}},
		{"gcm128-rsa", "-aes-128-gcm", [][]string{{rsaP.certPath}}, []want{{rsaP, RecipientRSAPKCS1v15}}},
		{"cbc128-rsa", "-aes-128-cbc", [][]string{{rsaP.certPath}}, []want{{rsaP, RecipientRSAPKCS1v15}}},
		{"gcm256-oaep", "-aes-256-gcm", [][]string{append([]string{rsaP.certPath}, oaep...)}, []want{{rsaP, RecipientRSAOAEP}}},
		{"cbc256-oaep", "-aes-256-cbc", [][]string{append([]string{rsaP.certPath}, oaep...)}, []want{{rsaP, RecipientRSAOAEP}}},
		{"gcm256-ec", "-aes-256-gcm", [][]string{{ecP.certPath}}, []want{{ecP, RecipientECDH}}},
		{"gcm256-ec-sha256kdf", "-aes-256-gcm", [][]string{append([]string{ecP.certPath}, ecdhSHA256...)}, []want{{ecP, RecipientECDH}}},
		{"cbc128-ec", "-aes-128-cbc", [][]string{{ecP.certPath}}, []want{{ecP, RecipientECDH}}},
		{"gcm256-mixed", "-aes-256-gcm", [][]string{append([]string{rsaP.certPath}, oaep...), {ecP.certPath}},
			[]want{{rsaP, RecipientRSAOAEP}, {ecP, RecipientECDH}}},
		{"cbc256-mixed", "-aes-256-cbc", [][]string{{rsaP.certPath}, append([]string{ecP.certPath}, ecdhSHA256...)},
			[]want{{rsaP, RecipientRSAPKCS1v15}, {ecP, RecipientECDH}}},
	}
	for _, keyid := range []bool{false, true} {
		for _, tc := range cases {
			name := tc.name
			if keyid {
				name += "-keyid"
			}
			t.Run(name, func(t *testing.T) {
				out := filepath.Join(t.TempDir(), "enc.der")
				args := []string{"cms", "-encrypt", "-binary", tc.cipher, "-in", in, "-outform", "DER", "-out", out}
				if keyid {
					args = append(args, "-keyid")
				}
				for _, r := range tc.recips {
					args = append(args, "-recip")
					args = append(args, r...)
				}
				envRun(t, openssl, args...)
				der, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				for _, w := range tc.want {
					got, info, err := Decrypt(der, w.peer.cert, w.peer.key, nil)
					if err != nil {
						t.Fatalf("%s: %v", w.peer.name, err)
					}
					if !bytes.Equal(got, msg) {
						t.Fatalf("%s: content %q", w.peer.name, got)
					}
					gcm := strings.Contains(tc.cipher, "gcm")
					if info.Integrity != gcm || info.AuthEnveloped != gcm || info.Recipient != w.kind ||
						info.Algorithm.String() != strings.TrimPrefix(tc.cipher, "-") || !info.ContentType.Equal(envOIDData) {
						t.Fatalf("%s: info %+v", w.peer.name, info)
					}
				}
			})
		}
	}
}

// We encrypt, OpenSSL decrypts.
func TestGoEncryptOpenSSLDecrypt(t *testing.T) {
	openssl := needPeer(t, "openssl")
	_, rsaP, ecP := envOpenSSLPeers(t)
	msg := []byte("Content-Type: text/plain\r\n\r\nfrom Go \x00\xff\r\n")
	algs := []ContentAlgorithm{ContentAlgorithmDefault, AES256GCM, AES128GCM, AES256CBC, AES128CBC}
	type rcase struct {
		name    string
		recips  []envPeer
		padding RSAPadding
	}
	rcases := []rcase{
		{"rsa-oaep", []envPeer{rsaP}, RSAPaddingOAEP},
		{"rsa-pkcs1v15", []envPeer{rsaP}, RSAPaddingPKCS1v15},
		{"ec", []envPeer{ecP}, 0},
		{"mixed", []envPeer{rsaP, ecP}, RSAPaddingDefault},
		{"mixed-v15", []envPeer{ecP, rsaP}, RSAPaddingPKCS1v15},
	}
	for _, alg := range algs {
		for _, rc := range rcases {
			for _, ski := range []bool{false, true} {
				name := fmt.Sprintf("%v-%s-ski=%v", alg, rc.name, ski)
				t.Run(name, func(t *testing.T) {
					var certs []*x509.Certificate
					for _, p := range rc.recips {
						certs = append(certs, p.cert)
					}
					der, err := Encrypt(msg, certs, &EncryptOptions{Algorithm: alg, RSAPadding: rc.padding, UseSubjectKeyID: ski})
					if err != nil {
						t.Fatal(err)
					}
					f := filepath.Join(t.TempDir(), "enc.der")
					if err := os.WriteFile(f, der, 0o600); err != nil {
						t.Fatal(err)
					}
					for _, p := range rc.recips {
						got := envRun(t, openssl, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", f,
							"-recip", p.certPath, "-inkey", p.keyPath)
						if !bytes.Equal(got, msg) {
							t.Fatalf("%s: openssl output %q", p.name, got)
						}
					}
				})
			}
		}
	}
}

// OpenSSL must refuse our messages once tampered with (sanity check that
// it really checks the GCM tag we write).
func TestGoEncryptOpenSSLRejectsTampered(t *testing.T) {
	openssl := needPeer(t, "openssl")
	dir, rsaP, _ := envOpenSSLPeers(t)
	der, err := Encrypt([]byte("tamper me"), []*x509.Certificate{rsaP.cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	der[len(der)-1] ^= 1 // last octet of the mac
	f := filepath.Join(dir, "bad.der")
	if err := os.WriteFile(f, der, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(openssl, "cms", "-decrypt", "-binary", "-inform", "DER", "-in", f,
		"-recip", rsaP.certPath, "-inkey", rsaP.keyPath)
	out, err := cmd.Output()
	if err == nil {
		t.Fatalf("openssl accepted a bad tag, output %q", out)
	}
}

// TestRegenerateEnvelopeTestdata rewrites testdata/envelope (keys and seed
// messages from openssl and from Encrypt). Run by hand with CMS_ENV_REGEN=1.
func TestRegenerateEnvelopeTestdata(t *testing.T) {
	if os.Getenv("CMS_ENV_REGEN") != "1" {
		t.Skip("set CMS_ENV_REGEN=1 to regenerate testdata/envelope")
	}
	openssl := needPeer(t, "openssl")
	dir := envTestdataDir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rc, rk := envTestRSA(t)
	ec, ek := envTestEC(t)
	rcp, _ := envWritePEM(t, dir, "rsa", rc, rk)
	ecp, _ := envWritePEM(t, dir, "ec", ec, ek)
	msg := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msg, []byte("Content-Type: text/plain\r\n\r\nseed message\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	oaep := []string{"-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"}
	for name, args := range map[string][]string{
		"openssl-gcm256-rsa-oaep.der":    append([]string{"-aes-256-gcm", "-recip", rcp}, oaep...),
		"openssl-cbc256-rsa.der":         {"-aes-256-cbc", "-recip", rcp},
		"openssl-gcm256-ec.der":          {"-aes-256-gcm", "-recip", ecp},
		"openssl-cbc256-ec.der":          {"-aes-256-cbc", "-recip", ecp, "-keyopt", "ecdh_kdf_md:sha256"},
		"openssl-gcm128-mixed.der":       {"-aes-128-gcm", "-recip", rcp, "-recip", ecp},
		"openssl-cbc128-mixed-keyid.der": {"-aes-128-cbc", "-keyid", "-recip", rcp, "-recip", ecp},
	} {
		full := append([]string{"cms", "-encrypt", "-binary", "-in", msg, "-outform", "DER", "-out", filepath.Join(dir, name)}, args...)
		envRun(t, openssl, full...)
	}
	content := []byte("Content-Type: text/plain\r\n\r\nseed message from Go\r\n")
	for name, o := range map[string]*EncryptOptions{
		"go-gcm256-mixed.der":         {},
		"go-cbc256-mixed.der":         {Algorithm: AES256CBC, RSAPadding: RSAPaddingPKCS1v15},
		"go-gcm128-mixed-ski.der":     {Algorithm: AES128GCM, UseSubjectKeyID: true},
		"go-cbc128-mixed-ski-v15.der": {Algorithm: AES128CBC, UseSubjectKeyID: true, RSAPadding: RSAPaddingPKCS1v15},
	} {
		der, err := Encrypt(content, []*x509.Certificate{rc, ec}, o)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), der, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// `openssl cms -encrypt -stream` writes BER with indefinite lengths and a
// constructed encryptedContent; ToDER followed by Decrypt must read it.
func TestOpenSSLStreamBERGoDecrypt(t *testing.T) {
	openssl := needPeer(t, "openssl")
	dir, rsaP, ecP := envOpenSSLPeers(t)
	msg := bytes.Repeat([]byte("streamed enveloped content\r\n"), 400)
	in := filepath.Join(dir, "msg")
	if err := os.WriteFile(in, msg, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cipher := range []string{"-aes-256-gcm", "-aes-256-cbc"} {
		out := filepath.Join(dir, "enc.ber")
		envRun(t, openssl, "cms", "-encrypt", "-stream", "-binary", cipher, "-in", in, "-outform", "DER", "-out", out,
			"-recip", rsaP.certPath, "-recip", ecP.certPath)
		ber, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Decrypt(ber, rsaP.cert, rsaP.key, nil); err == nil {
			t.Fatalf("%s: BER accepted by the DER parser", cipher)
		}
		der, err := ToDER(ber, nil)
		if err != nil {
			t.Fatalf("%s: ToDER: %v", cipher, err)
		}
		for _, p := range []envPeer{rsaP, ecP} {
			got, _, err := Decrypt(der, p.cert, p.key, nil)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%s %s: %v", cipher, p.name, err)
			}
		}
	}
}
