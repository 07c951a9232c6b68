package cms

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

var sdtUpdateSeeds = flag.Bool("update-signed-seeds", false, "rewrite testdata/signed-*.der from openssl output")

func sdtRun(t testing.TB, bin string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(bin), strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// sdtFiles writes the CA, the identities' certificates and keys as PEM
// into dir and returns the paths by name ("ca", "<id>.crt", "<id>.key").
func sdtFiles(t testing.TB, dir string, ids ...sdtIdentity) map[string]string {
	t.Helper()
	f := sdtPKI()
	paths := map[string]string{}
	write := func(name, typ string, der []byte) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		paths[name] = p
	}
	write("ca", "CERTIFICATE", f.ca.Raw)
	for _, id := range ids {
		write(id.name+".crt", "CERTIFICATE", id.cert.Raw)
		k, err := x509.MarshalPKCS8PrivateKey(id.key)
		if err != nil {
			t.Fatal(err)
		}
		write(id.name+".key", "PRIVATE KEY", k)
	}
	return paths
}

// sdtOpenSSLSignCases are the openssl cms -sign invocations we must read.
type sdtOpenSSLCase struct {
	name     string
	signers  []sdtIdentity
	args     []string
	detached bool
	stream   bool // BER with indefinite lengths expected
	ski      bool
	ed25519  bool // needs OpenSSL 3.2 or later
}

// sdtOpenSSLHasEd25519CMS reports whether openssl implements RFC 8419;
// OpenSSL 3.0 and 3.1 pass a digest to EdDSA and fail.
func sdtOpenSSLHasEd25519CMS(t testing.TB, bin string) bool {
	v := strings.Fields(string(sdtRun(t, bin, "version")))
	if len(v) < 2 {
		return false
	}
	var major, minor int
	fmt.Sscanf(v[1], "%d.%d", &major, &minor)
	return major > 3 || major == 3 && minor >= 2
}

func sdtOpenSSLCases() []sdtOpenSSLCase {
	f := sdtPKI()
	return []sdtOpenSSLCase{
		{name: "rsa-detached", signers: []sdtIdentity{f.rsa}, detached: true},
		{name: "rsa-opaque", signers: []sdtIdentity{f.rsa}, args: []string{"-nodetach"}},
		{name: "rsa-opaque-stream", signers: []sdtIdentity{f.rsa}, args: []string{"-nodetach", "-stream"}, stream: true},
		// With DER output, -stream always encapsulates the content.
		{name: "rsa-stream-keyid", signers: []sdtIdentity{f.rsa}, args: []string{"-stream", "-keyid"}, stream: true, ski: true},
		{name: "rsa-sha512", signers: []sdtIdentity{f.rsa}, args: []string{"-md", "sha512"}, detached: true},
		{name: "rsa-noattr", signers: []sdtIdentity{f.rsa}, args: []string{"-noattr", "-nodetach"}},
		{name: "rsa-keyid", signers: []sdtIdentity{f.rsa}, args: []string{"-keyid", "-nodetach"}, ski: true},
		{name: "rsa-pss-detached", signers: []sdtIdentity{f.rsa}, args: []string{"-keyopt", "rsa_padding_mode:pss"}, detached: true},
		// OpenSSL 3.0 fails to write PSS with -stream ("illegal zero content").
		{name: "rsa-pss-opaque", signers: []sdtIdentity{f.rsa}, args: []string{"-keyopt", "rsa_padding_mode:pss", "-nodetach"}},
		{name: "p256-detached", signers: []sdtIdentity{f.p256}, detached: true},
		{name: "p256-opaque-stream", signers: []sdtIdentity{f.p256}, args: []string{"-nodetach", "-stream"}, stream: true},
		{name: "p256-keyid", signers: []sdtIdentity{f.p256}, args: []string{"-keyid"}, detached: true, ski: true},
		{name: "p384-sha384", signers: []sdtIdentity{f.p384}, args: []string{"-md", "sha384", "-nodetach"}},
		{name: "ed25519", signers: []sdtIdentity{f.ed}, args: []string{"-nodetach"}, ed25519: true},
		{name: "rsa-and-p256", signers: []sdtIdentity{f.rsa, f.p256}, detached: true},
	}
}

const sdtInteropContent = "Content-Type: text/plain; charset=utf-8\r\n\r\nInterop test\r\n\xe2\x82\xac 100\r\n"

// sdtOpenSSLSign runs openssl cms -sign for c and returns the DER/BER.
func sdtOpenSSLSign(t testing.TB, bin, dir string, c sdtOpenSSLCase) []byte {
	t.Helper()
	paths := sdtFiles(t, dir, c.signers...)
	in := filepath.Join(dir, "content.txt")
	if err := os.WriteFile(in, []byte(sdtInteropContent), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, c.name+".der")
	args := []string{"cms", "-sign", "-binary", "-in", in, "-outform", "DER", "-out", out}
	for _, id := range c.signers {
		args = append(args, "-signer", paths[id.name+".crt"], "-inkey", paths[id.name+".key"])
	}
	args = append(args, c.args...)
	sdtRun(t, bin, args...)
	msg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func TestOpenSSLSignWeVerify(t *testing.T) {
	bin := needPeer(t, "openssl")
	content := []byte(sdtInteropContent)
	for _, c := range sdtOpenSSLCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.ed25519 && !sdtOpenSSLHasEd25519CMS(t, bin) {
				t.Skip("this OpenSSL cannot sign CMS with Ed25519 (RFC 8419 needs 3.2)")
			}
			msg := sdtOpenSSLSign(t, bin, t.TempDir(), c)
			if c.stream && !bytes.Contains(msg[:4], []byte{0x30, 0x80}) {
				t.Fatalf("openssl did not emit indefinite lengths: % x", msg[:8])
			}
			if *sdtUpdateSeeds {
				if err := os.WriteFile(filepath.Join("testdata", "signed-openssl-"+c.name+".der"), msg, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var det []byte
			if c.detached {
				det = content
			}
			sd, res := sdtParseVerify(t, msg, det)
			if !c.detached && !bytes.Equal(sd.Content, content) {
				t.Fatalf("content %q", sd.Content)
			}
			if len(res.Signers) != len(c.signers) {
				t.Fatalf("%d signers", len(res.Signers))
			}
			for _, r := range res.Signers {
				sdtWantValid(t, r)
				if c.ski != (r.SID.SubjectKeyID != nil) {
					t.Errorf("sid %+v", r.SID)
				}
				t.Logf("signer %d: %s %v %v cert=%s", r.Index, r.Scheme, r.Hash, r.SigningTime, r.Certificate.Subject.CommonName)
			}
			// The same bytes with the content changed must fail.
			if c.detached {
				_, res = sdtParseVerify(t, msg, append(bytes.Clone(content), '!'))
				for _, r := range res.Signers {
					if r.Valid {
						t.Fatal("modified content verified")
					}
				}
			}
		})
	}
}

func TestWeSignOpenSSLVerifies(t *testing.T) {
	bin := needPeer(t, "openssl")
	f := sdtPKI()
	content := []byte(sdtInteropContent)
	type tc struct {
		name    string
		signers []Signer
	}
	cases := []tc{
		{"rsa", []Signer{{Certificate: f.rsa.cert, Key: f.rsa.key}}},
		{"rsa-ski", []Signer{{Certificate: f.rsa.cert, Key: f.rsa.key, SubjectKeyID: true}}},
		{"rsa-pss", []Signer{{Certificate: f.rsa.cert, Key: f.rsa.key, RSAPSS: true}}},
		{"rsa-pss-sha384", []Signer{{Certificate: f.rsa.cert, Key: f.rsa.key, RSAPSS: true, Hash: crypto.SHA384}}},
		{"p256", []Signer{{Certificate: f.p256.cert, Key: f.p256.key}}},
		{"p256-ski", []Signer{{Certificate: f.p256.cert, Key: f.p256.key, SubjectKeyID: true}}},
		{"p384-sha512", []Signer{{Certificate: f.p384.cert, Key: f.p384.key, Hash: crypto.SHA512}}},
		{"ed25519", []Signer{{Certificate: f.ed.cert, Key: f.ed.key}}},
		{"rsa-and-p256", []Signer{{Certificate: f.rsa.cert, Key: f.rsa.key}, {Certificate: f.p256.cert, Key: f.p256.key, SubjectKeyID: true}}},
	}
	for _, c := range cases {
		for _, detached := range []bool{true, false} {
			name := c.name + "/encapsulated"
			if detached {
				name = c.name + "/detached"
			}
			t.Run(name, func(t *testing.T) {
				if strings.HasPrefix(c.name, "ed25519") && !sdtOpenSSLHasEd25519CMS(t, bin) {
					t.Skip("this OpenSSL cannot verify CMS with Ed25519 (RFC 8419 needs 3.2)")
				}
				dir := t.TempDir()
				paths := sdtFiles(t, dir)
				msg, err := Sign(content, c.signers, &SignOptions{Detached: detached})
				if err != nil {
					t.Fatal(err)
				}
				in := filepath.Join(dir, "sig.der")
				data := filepath.Join(dir, "content.txt")
				out := filepath.Join(dir, "out.txt")
				os.WriteFile(in, msg, 0o600)
				os.WriteFile(data, content, 0o600)
				for _, trust := range [][]string{{"-CAfile", paths["ca"]}, {"-noverify"}} {
					args := []string{"cms", "-verify", "-binary", "-inform", "DER", "-in", in, "-out", out}
					if detached {
						args = append(args, "-content", data)
					}
					args = append(args, trust...)
					sdtRun(t, bin, args...)
					got, _ := os.ReadFile(out)
					if !bytes.Equal(got, content) {
						t.Fatalf("openssl output %q", got)
					}
				}
				// openssl must refuse a modified body.
				if detached {
					os.WriteFile(data, append(bytes.Clone(content), '!'), 0o600)
					cmd := exec.Command(bin, "cms", "-verify", "-binary", "-inform", "DER", "-in", in, "-content", data, "-noverify", "-out", out)
					if err := cmd.Run(); err == nil {
						t.Fatal("openssl verified a modified body")
					}
				}
			})
		}
	}
}
