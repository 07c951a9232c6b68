package cms

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"testing"

	"go.mozilla.org/pkcs7"
)

// Differential tests against go.mozilla.org/pkcs7, a second, independent
// implementation (test dependency only): SignedData with RSA PKCS#1 v1.5
// and SHA-256, and EnvelopedData with AES-CBC and RSA PKCS#1 v1.5 key
// transport, the part of CMS both implement. pkcs7 keeps its content
// algorithm in a package variable, so these tests do not run in parallel.

// diffSizes are content lengths around the AES block size and a larger one.
var diffSizes = []int{0, 1, 15, 16, 17, 31, 32, 33, 1000, 70000}

func diffContent(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func diffRSA(t *testing.T) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	id := sdtPKI().rsa
	k, ok := id.key.(*rsa.PrivateKey)
	if !ok {
		t.Fatalf("fixture key is %T", id.key)
	}
	return id.cert, k
}

// diffSetAlgorithm sets pkcs7's global content algorithm for this test.
func diffSetAlgorithm(t *testing.T, alg int) {
	old := pkcs7.ContentEncryptionAlgorithm
	pkcs7.ContentEncryptionAlgorithm = alg
	t.Cleanup(func() { pkcs7.ContentEncryptionAlgorithm = old })
}

func TestDiffPKCS7_TheySignWeVerify(t *testing.T) {
	cert, key := diffRSA(t)
	for _, n := range []int{0, 1, 1000, 70000} {
		for _, detached := range []bool{false, true} {
			for _, noAttrs := range []bool{false, true} {
				name := fmt.Sprintf("len%d-detached=%v-noattrs=%v", n, detached, noAttrs)
				t.Run(name, func(t *testing.T) {
					content := diffContent(t, n)
					sd, err := pkcs7.NewSignedData(content)
					if err != nil {
						t.Fatal(err)
					}
					sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
					if noAttrs {
						err = sd.SignWithoutAttr(cert, key, pkcs7.SignerInfoConfig{})
					} else {
						err = sd.AddSigner(cert, key, pkcs7.SignerInfoConfig{})
					}
					if err != nil {
						t.Fatal(err)
					}
					if detached {
						sd.Detach()
					}
					msg, err := sd.Finish()
					if err != nil {
						t.Fatal(err)
					}
					var det []byte
					if detached {
						det = content
					}
					parsed, res := sdtParseVerify(t, msg, det)
					if len(res.Signers) != 1 {
						t.Fatalf("%d signers", len(res.Signers))
					}
					sdtWantValid(t, res.Signers[0])
					if !res.Signers[0].Certificate.Equal(cert) {
						t.Fatal("wrong signer certificate")
					}
					if !detached && !bytes.Equal(parsed.Content, content) {
						t.Fatal("content differs")
					}

					// Both must reject the signature over other content.
					if n == 0 {
						return
					}
					bad := bytes.Clone(content)
					bad[n/2] ^= 0x80
					if detached {
						r, err := parsed.Verify(&VerifyOptions{Detached: bytes.NewReader(bad)})
						if err != nil || r.Signers[0].Valid {
							t.Fatalf("we accept a changed detached content: %v", err)
						}
						p7, err := pkcs7.Parse(msg)
						if err != nil {
							t.Fatal(err)
						}
						p7.Content = bad
						if p7.Verify() == nil {
							t.Fatal("pkcs7 accepts a changed detached content")
						}
					}
				})
			}
		}
	}
}

func TestDiffPKCS7_WeSignTheyVerify(t *testing.T) {
	cert, key := diffRSA(t)
	for _, n := range []int{0, 1, 1000, 70000} {
		for _, detached := range []bool{false, true} {
			t.Run(fmt.Sprintf("len%d-detached=%v", n, detached), func(t *testing.T) {
				content := diffContent(t, n)
				msg, err := Sign(content, []Signer{{Certificate: cert, Key: key}}, &SignOptions{Detached: detached})
				if err != nil {
					t.Fatal(err)
				}
				p7, err := pkcs7.Parse(msg)
				if err != nil {
					t.Fatalf("pkcs7.Parse: %v", err)
				}
				if detached {
					if len(p7.Content) != 0 {
						t.Fatal("pkcs7 sees content in a detached signature")
					}
					p7.Content = content
				} else if !bytes.Equal(p7.Content, content) {
					t.Fatal("pkcs7 reads other content")
				}
				if err := p7.Verify(); err != nil {
					t.Fatalf("pkcs7 Verify: %v", err)
				}
				if s := p7.GetOnlySigner(); s == nil || !s.Equal(cert) {
					t.Fatal("pkcs7 finds another signer")
				}
				// pkcs7 with a trust store: the chain to our test CA.
				pool := x509.NewCertPool()
				pool.AddCert(sdtPKI().ca)
				if err := p7.VerifyWithChain(pool); err != nil {
					t.Fatalf("pkcs7 VerifyWithChain: %v", err)
				}

				if n > 0 {
					bad := bytes.Clone(content)
					bad[n/2] ^= 1
					if detached {
						p7.Content = bad
						if p7.Verify() == nil {
							t.Fatal("pkcs7 accepts our signature over other content")
						}
					}
				}
			})
		}
	}
}

func TestDiffPKCS7_TheyEncryptWeDecrypt(t *testing.T) {
	cert, key := diffRSA(t)
	for _, tc := range []struct {
		alg  int
		want ContentAlgorithm
	}{
		{pkcs7.EncryptionAlgorithmAES128CBC, AES128CBC},
		{pkcs7.EncryptionAlgorithmAES256CBC, AES256CBC},
	} {
		for _, n := range diffSizes {
			t.Run(fmt.Sprintf("%v-len%d", tc.want, n), func(t *testing.T) {
				diffSetAlgorithm(t, tc.alg)
				content := diffContent(t, n)
				msg, err := pkcs7.Encrypt(content, []*x509.Certificate{cert})
				if err != nil {
					t.Fatal(err)
				}
				pt, info, err := Decrypt(msg, cert, key, nil)
				if err != nil {
					t.Fatalf("Decrypt: %v", err)
				}
				if !bytes.Equal(pt, content) {
					t.Fatal("plaintext differs")
				}
				if info.Algorithm != tc.want || info.AuthEnveloped || info.Integrity || info.Recipient != RecipientRSAPKCS1v15 {
					t.Fatalf("info %+v", info)
				}
				// And pkcs7 agrees with itself, as a sanity check.
				p7, err := pkcs7.Parse(msg)
				if err != nil {
					t.Fatal(err)
				}
				if pt2, err := p7.Decrypt(cert, key); err != nil || !bytes.Equal(pt2, content) {
					t.Fatalf("pkcs7 round trip: %v", err)
				}
			})
		}
	}
}

func TestDiffPKCS7_WeEncryptTheyDecrypt(t *testing.T) {
	cert, key := diffRSA(t)
	for _, alg := range []ContentAlgorithm{AES128CBC, AES256CBC} {
		for _, n := range diffSizes {
			t.Run(fmt.Sprintf("%v-len%d", alg, n), func(t *testing.T) {
				content := diffContent(t, n)
				msg, err := Encrypt(content, []*x509.Certificate{cert}, &EncryptOptions{Algorithm: alg, RSAPadding: RSAPaddingPKCS1v15})
				if err != nil {
					t.Fatal(err)
				}
				p7, err := pkcs7.Parse(msg)
				if err != nil {
					t.Fatalf("pkcs7.Parse: %v", err)
				}
				pt, err := p7.Decrypt(cert, key)
				if err != nil {
					t.Fatalf("pkcs7 Decrypt: %v", err)
				}
				if !bytes.Equal(pt, content) {
					t.Fatal("pkcs7 plaintext differs")
				}
			})
		}
	}
}

// TestDiffPKCS7_Disagreements pins down where the two implementations part
// ways on purpose: pkcs7 writes AES-GCM inside EnvelopedData, which RFC
// 5083/5084 do not define and which we reject (S06: AES-GCM lives only in
// AuthEnvelopedData), and pkcs7 reads neither our AuthEnvelopedData nor
// RSA-OAEP.
func TestDiffPKCS7_Disagreements(t *testing.T) {
	cert, key := diffRSA(t)
	content := diffContent(t, 100)
	t.Run("their-gcm-in-envelopeddata", func(t *testing.T) {
		diffSetAlgorithm(t, pkcs7.EncryptionAlgorithmAES256GCM)
		msg, err := pkcs7.Encrypt(content, []*x509.Certificate{cert})
		if err != nil {
			t.Fatal(err)
		}
		if pt, _, err := Decrypt(msg, cert, key, nil); err == nil {
			t.Fatalf("we decrypted AES-GCM EnvelopedData (%d bytes)", len(pt))
		}
	})
	t.Run("our-authenvelopeddata", func(t *testing.T) {
		msg, err := Encrypt(content, []*x509.Certificate{cert}, &EncryptOptions{RSAPadding: RSAPaddingPKCS1v15})
		if err != nil {
			t.Fatal(err)
		}
		if p7, err := pkcs7.Parse(msg); err == nil {
			if _, err := p7.Decrypt(cert, key); err == nil {
				t.Log("pkcs7 now reads AuthEnvelopedData")
			}
		}
	})
	t.Run("our-oaep", func(t *testing.T) {
		msg, err := Encrypt(content, []*x509.Certificate{cert}, &EncryptOptions{Algorithm: AES256CBC})
		if err != nil {
			t.Fatal(err)
		}
		p7, err := pkcs7.Parse(msg)
		if err != nil {
			t.Fatalf("pkcs7.Parse: %v", err)
		}
		if _, err := p7.Decrypt(cert, key); err == nil {
			t.Fatal("pkcs7 decrypted an RSA-OAEP key with PKCS#1 v1.5")
		}
	})
}
