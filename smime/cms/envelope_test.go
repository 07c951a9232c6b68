package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// envMakeCert returns a self-signed certificate for pub/priv.
func envMakeCert(t testing.TB, cn string, pub crypto.PublicKey, priv crypto.Signer, ku x509.KeyUsage) *x509.Certificate {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	ski := sha1.Sum(spki)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber:   serial,
		Subject:        pkix.Name{CommonName: cn, Organization: []string{"securemail test"}},
		NotBefore:      time.Now().Add(-time.Hour),
		NotAfter:       time.Now().Add(24 * time.Hour),
		KeyUsage:       ku,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{cn + "@example.test"},
		SubjectKeyId:   ski[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	envRSAOnce sync.Once
	envRSAKey  *rsa.PrivateKey
	envRSAErr  error
)

// envTestRSA returns a fresh certificate over a shared RSA-2048 key (key
// generation is slow under -race).
func envTestRSA(t testing.TB) (*x509.Certificate, *rsa.PrivateKey) {
	t.Helper()
	envRSAOnce.Do(func() { envRSAKey, envRSAErr = rsa.GenerateKey(rand.Reader, 2048) })
	if envRSAErr != nil {
		t.Fatal(envRSAErr)
	}
	return envMakeCert(t, "rsa", &envRSAKey.PublicKey, envRSAKey, x509.KeyUsageKeyEncipherment|x509.KeyUsageDigitalSignature), envRSAKey
}

func envTestECCurve(t testing.TB, c elliptic.Curve) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return envMakeCert(t, "ec", &k.PublicKey, k, x509.KeyUsageKeyAgreement|x509.KeyUsageDigitalSignature), k
}

func envTestEC(t testing.TB) (*x509.Certificate, *ecdsa.PrivateKey) {
	return envTestECCurve(t, elliptic.P256())
}

func TestEncryptDecryptMatrix(t *testing.T) {
	rc, rk := envTestRSA(t)
	ec, ek := envTestEC(t)
	ec384, ek384 := envTestECCurve(t, elliptic.P384())
	ec521, ek521 := envTestECCurve(t, elliptic.P521())
	ecdhKey, err := ek.ECDH()
	if err != nil {
		t.Fatal(err)
	}
	type rc_ struct {
		cert *x509.Certificate
		key  crypto.PrivateKey
		kind RecipientKind
	}
	msgs := [][]byte{nil, []byte("x"), bytes.Repeat([]byte("0123456789abcdef"), 100)}
	for _, alg := range []ContentAlgorithm{ContentAlgorithmDefault, AES128CBC, AES256CBC, AES128GCM, AES256GCM} {
		for _, pad := range []RSAPadding{RSAPaddingDefault, RSAPaddingPKCS1v15} {
			for _, ski := range []bool{false, true} {
				wantRSA := RecipientRSAOAEP
				if pad == RSAPaddingPKCS1v15 {
					wantRSA = RecipientRSAPKCS1v15
				}
				recips := []rc_{{rc, rk, wantRSA}, {ec, ek, RecipientECDH}, {ec, ecdhKey, RecipientECDH},
					{ec384, ek384, RecipientECDH}, {ec521, ek521, RecipientECDH}}
				certs := []*x509.Certificate{rc, ec, ec384, ec521}
				for _, msg := range msgs {
					der, err := Encrypt(msg, certs, &EncryptOptions{Algorithm: alg, RSAPadding: pad, UseSubjectKeyID: ski})
					if err != nil {
						t.Fatal(err)
					}
					for i, r := range recips {
						got, info, err := Decrypt(der, r.cert, r.key, nil)
						if err != nil {
							t.Fatalf("%v pad=%d ski=%v recipient %d: %v", alg, pad, ski, i, err)
						}
						if !bytes.Equal(got, msg) {
							t.Fatalf("content mismatch")
						}
						wantAlg := alg
						if alg == ContentAlgorithmDefault {
							wantAlg = AES256GCM
						}
						if info.Algorithm != wantAlg || info.Integrity != wantAlg.AEAD() ||
							info.AuthEnveloped != wantAlg.AEAD() || info.Recipient != r.kind {
							t.Fatalf("info %+v", info)
						}
					}
				}
			}
		}
	}
}

func TestEncryptErrors(t *testing.T) {
	rc, _ := envTestRSA(t)
	if _, err := Encrypt(nil, nil, nil); err == nil {
		t.Error("no recipients accepted")
	}
	if _, err := Encrypt(nil, []*x509.Certificate{nil}, nil); err == nil {
		t.Error("nil recipient accepted")
	}
	if _, err := Encrypt(nil, []*x509.Certificate{rc}, &EncryptOptions{Algorithm: 99}); err == nil {
		t.Error("bad algorithm accepted")
	}
	noSKI := *rc
	noSKI.SubjectKeyId = nil
	if _, err := Encrypt(nil, []*x509.Certificate{&noSKI}, &EncryptOptions{UseSubjectKeyID: true}); err == nil {
		t.Error("SKI requested without SKI")
	}
	xk, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	xCert := *rc
	xCert.PublicKey = xk.PublicKey()
	if _, err := Encrypt(nil, []*x509.Certificate{&xCert}, nil); err == nil {
		t.Error("X25519 recipient accepted (not implemented)")
	}
	if _, err := Encrypt(nil, []*x509.Certificate{rc}, &EncryptOptions{Rand: bytes.NewReader(nil)}); err == nil {
		t.Error("empty randomness accepted")
	}
}

func TestDecryptNotForUs(t *testing.T) {
	rc, _ := envTestRSA(t)
	ec, ek := envTestEC(t)
	other, otherKey := envTestEC(t)
	der, err := Encrypt([]byte("hi"), []*x509.Certificate{rc, ec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out, _, err := Decrypt(der, other, otherKey, nil); !errors.Is(err, ErrNoRecipient) || out != nil {
		t.Fatalf("out=%q err=%v", out, err)
	}
	// Right certificate, wrong key: error, no output.
	if out, _, err := Decrypt(der, ec, otherKey, nil); err == nil || out != nil {
		t.Fatalf("wrong key: out=%q err=%v", out, err)
	}
	// Wrong key type for the RecipientInfo.
	if out, _, err := Decrypt(der, rc, ek, nil); err == nil || out != nil {
		t.Fatalf("EC key for RSA recipient: out=%q err=%v", out, err)
	}
	if _, _, err := Decrypt(der, nil, ek, nil); err == nil {
		t.Fatal("nil cert accepted")
	}
}

// RSA PKCS#1 v1.5 with the wrong key: the error must come from the content
// layer (random CEK), not from the RSA layer (Bleichenbacher).
func TestRSAPKCS1v15WrongKeyIsContentError(t *testing.T) {
	rc, _ := envTestRSA(t)
	// A wrong key of the same size whose modulus is larger: a ciphertext
	// at or above the modulus is refused on public values alone (not an
	// oracle), which is not what this test is about.
	var otherKey *rsa.PrivateKey
	for otherKey == nil || otherKey.N.Cmp(rc.PublicKey.(*rsa.PublicKey).N) <= 0 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		otherKey = k
	}
	for _, alg := range []ContentAlgorithm{AES256GCM, AES256CBC} {
		der, err := Encrypt(bytes.Repeat([]byte("secret"), 20), []*x509.Certificate{rc}, &EncryptOptions{Algorithm: alg, RSAPadding: RSAPaddingPKCS1v15})
		if err != nil {
			t.Fatal(err)
		}
		// Decryption with a key of the same size produces garbage padding.
		out, _, err := Decrypt(der, rc, otherKey, nil)
		if out != nil || !errors.Is(err, ErrContentDecryption) {
			// CBC may, with probability ~1/256, unpad successfully.
			if !(alg == AES256CBC && err == nil) {
				t.Fatalf("%v: out=%q err=%v", alg, out, err)
			}
		}
	}
}

// envBuildRaw assembles a ContentInfo by hand for attack tests: outer type,
// content-encryption AlgorithmIdentifier, ciphertext, optional authAttrs
// element and mac (nil: omitted), with an RSA-OAEP RecipientInfo carrying cek.
func envBuildRaw(t testing.TB, outer asn1.ObjectIdentifier, algDER, ct, authAttrs, mac []byte, cert *x509.Certificate, cek []byte) []byte {
	t.Helper()
	var ri cryptobyte.Builder
	if _, err := envAddRecipientInfo(&ri, cert, cek, &EncryptOptions{}, rand.Reader); err != nil {
		t.Fatal(err)
	}
	riDER := ri.BytesOrPanic()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(outer)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(0)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(riDER) })
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(envOIDData)
					b.AddBytes(algDER)
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(ct) })
				})
				if authAttrs != nil {
					b.AddBytes(authAttrs)
				}
				if mac != nil {
					b.AddASN1OctetString(mac)
				}
			})
		})
	})
	return b.BytesOrPanic()
}

func envAlgDER(p *envContentParams) []byte {
	var b cryptobyte.Builder
	envMarshalContentAlgorithm(&b, p)
	return b.BytesOrPanic()
}

// envAuthAttrs returns [1] IMPLICIT SET OF Attribute with a content-type attribute.
func envAuthAttrs() []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3})
			b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(envOIDData) })
		})
	})
	return b.BytesOrPanic()
}

func TestAuthAttrsAreAAD(t *testing.T) {
	rc, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{0x42}, 32)
	p := &envContentParams{alg: AES256GCM, iv: make([]byte, 12), icvLn: 16}
	attrs := envAuthAttrs()
	ct, tag, err := envGCMSeal(cek, p.iv, []byte("with attrs"), envAuthAttrsAAD(attrs))
	if err != nil {
		t.Fatal(err)
	}
	if envAuthAttrsAAD(attrs)[0] != 0x31 {
		t.Fatal("AAD not re-tagged as SET")
	}
	der := envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, attrs, tag, rc, cek)
	got, info, err := Decrypt(der, rc, rk, nil)
	if err != nil || string(got) != "with attrs" || !info.Integrity {
		t.Fatalf("%q %v", got, err)
	}
	// Same ciphertext with the attributes removed or changed: rejected.
	der = envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, tag, rc, cek)
	if out, _, err := Decrypt(der, rc, rk, nil); out != nil || !errors.Is(err, ErrContentDecryption) {
		t.Fatalf("attrs stripped: out=%q err=%v", out, err)
	}
	attrs2 := bytes.Clone(attrs)
	attrs2[len(attrs2)-1] ^= 1 // last OID arc of id-data
	der = envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, attrs2, tag, rc, cek)
	if out, _, err := Decrypt(der, rc, rk, nil); out != nil || !errors.Is(err, ErrContentDecryption) {
		t.Fatalf("attrs changed: out=%q err=%v", out, err)
	}
}

func TestS05_CBCReportsNoIntegrity(t *testing.T) {
	rc, rk := envTestRSA(t)
	for _, alg := range []ContentAlgorithm{AES128CBC, AES256CBC} {
		der, err := Encrypt([]byte("<html>"), []*x509.Certificate{rc}, &EncryptOptions{Algorithm: alg})
		if err != nil {
			t.Fatal(err)
		}
		_, info, err := Decrypt(der, rc, rk, nil)
		if err != nil {
			t.Fatal(err)
		}
		if info.Integrity || info.AuthEnveloped || info.Algorithm.AEAD() {
			t.Fatalf("%v reported integrity: %+v", alg, info)
		}
	}
	der, err := Encrypt([]byte("<html>"), []*x509.Certificate{rc}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, info, err := Decrypt(der, rc, rk, nil); err != nil || !info.Integrity || info.Algorithm != AES256GCM {
		t.Fatalf("default: %+v %v", info, err)
	}
}

func envExpectReject(t *testing.T, der []byte, cert *x509.Certificate, key crypto.PrivateKey) {
	t.Helper()
	out, info, err := Decrypt(der, cert, key, nil)
	if err == nil || out != nil || info != nil {
		t.Fatalf("accepted: out=%q info=%+v err=%v", out, info, err)
	}
}

func TestS06_BadTag(t *testing.T) {
	rc, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{1}, 32)
	p := &envContentParams{alg: AES256GCM, iv: make([]byte, 12), icvLn: 16}
	ct, tag, _ := envGCMSeal(cek, p.iv, []byte("attack at dawn"), nil)
	for i := range tag {
		bad := bytes.Clone(tag)
		bad[i] ^= 0x80
		envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, bad, rc, cek), rc, rk)
	}
	// Flipped ciphertext, good tag.
	bad := bytes.Clone(ct)
	bad[3] ^= 1
	envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), bad, nil, tag, rc, cek), rc, rk)
	// Truncated ciphertext.
	envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct[:len(ct)-1], nil, tag, rc, cek), rc, rk)
	// Sanity: the good one decrypts.
	if out, _, err := Decrypt(envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, tag, rc, cek), rc, rk, nil); err != nil || string(out) != "attack at dawn" {
		t.Fatal(out, err)
	}
}

func TestS06_ShortTag(t *testing.T) {
	rc, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{1}, 32)
	p := &envContentParams{alg: AES256GCM, iv: make([]byte, 12), icvLn: 16}
	ct, tag, _ := envGCMSeal(cek, p.iv, []byte("attack at dawn"), nil)
	for _, n := range []int{0, 1, 4, 8, 12, 15} {
		envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, tag[:n], rc, cek), rc, rk)
	}
	// Too long.
	envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, append(bytes.Clone(tag), 0), rc, cek), rc, rk)
	// GCMParameters announcing a 12-octet ICV (or the DEFAULT), with a
	// truncated tag: rejected.
	for _, icv := range []int64{12, -1} {
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(envOIDAES256GCM)
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(p.iv)
				if icv > 0 {
					b.AddASN1Int64(icv)
				}
			})
		})
		envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, b.BytesOrPanic(), ct, nil, tag[:12], rc, cek), rc, rk)
	}
	// Missing mac entirely.
	envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, nil, rc, cek), rc, rk)
}

func TestS06_CBCInAuthEnvelopedData(t *testing.T) {
	rc, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{1}, 32)
	p := &envContentParams{alg: AES256CBC, iv: make([]byte, 16)}
	ct, _ := envCBCEncrypt(cek, p.iv, []byte("downgrade"))
	envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, make([]byte, 16), rc, cek), rc, rk)
	p.alg = AES128CBC
	cek = cek[:16]
	ct, _ = envCBCEncrypt(cek, p.iv, []byte("downgrade"))
	envExpectReject(t, envBuildRaw(t, envOIDAuthEnvelopedData, envAlgDER(p), ct, nil, make([]byte, 16), rc, cek), rc, rk)
	// Sanity: the same CBC content is accepted in EnvelopedData.
	if out, _, err := Decrypt(envBuildRaw(t, envOIDEnvelopedData, envAlgDER(p), ct, nil, nil, rc, cek), rc, rk, nil); err != nil || string(out) != "downgrade" {
		t.Fatal(out, err)
	}
}

func TestS06_GCMInEnvelopedData(t *testing.T) {
	rc, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{1}, 32)
	p := &envContentParams{alg: AES256GCM, iv: make([]byte, 12), icvLn: 16}
	ct, tag, _ := envGCMSeal(cek, p.iv, []byte("no mac field"), nil)
	// GCM with the tag appended to the ciphertext (there is no mac field).
	envExpectReject(t, envBuildRaw(t, envOIDEnvelopedData, envAlgDER(p), append(ct, tag...), nil, nil, rc, cek), rc, rk)
	envExpectReject(t, envBuildRaw(t, envOIDEnvelopedData, envAlgDER(p), ct, nil, nil, rc, cek), rc, rk)
	p.alg = AES128GCM
	envExpectReject(t, envBuildRaw(t, envOIDEnvelopedData, envAlgDER(p), ct, nil, nil, rc, cek[:16]), rc, rk)
}

func TestS09_EnvelopedDataBadPadding(t *testing.T) {
	rc, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{5}, 32)
	p := &envContentParams{alg: AES256CBC, iv: bytes.Repeat([]byte{6}, 16)}
	blk := func(last byte) []byte { return append(bytes.Repeat([]byte{'A'}, 15), last) }
	cases := map[string][]byte{
		"not block multiple": envRawCBC(cek, p.iv, blk(1))[:15],
		"empty":              {},
		"pad 0":              envRawCBC(cek, p.iv, blk(0)),
		"pad 17":             envRawCBC(cek, p.iv, blk(17)),
		"pad 200":            envRawCBC(cek, p.iv, blk(200)),
		"inconsistent":       envRawCBC(cek, p.iv, append(bytes.Repeat([]byte{'A'}, 13), 3, 2, 3)),
	}
	for name, ct := range cases {
		t.Run(name, func(t *testing.T) {
			out, info, err := Decrypt(envBuildRaw(t, envOIDEnvelopedData, envAlgDER(p), ct, nil, nil, rc, cek), rc, rk, nil)
			if out != nil || info != nil || !errors.Is(err, ErrContentDecryption) {
				t.Fatalf("out=%q err=%v", out, err)
			}
		})
	}
}

func TestS15_TruncatedAndMalformed(t *testing.T) {
	rc, rk := envTestRSA(t)
	ec, ek := envTestEC(t)
	for _, alg := range []ContentAlgorithm{AES256GCM, AES256CBC} {
		der, err := Encrypt([]byte("truncate me"), []*x509.Certificate{rc, ec}, &EncryptOptions{Algorithm: alg, UseSubjectKeyID: alg == AES256CBC})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(der); i++ {
			if out, _, err := Decrypt(der[:i], ec, ek, nil); err == nil || out != nil {
				t.Fatalf("%v prefix %d accepted", alg, i)
			}
		}
		if _, _, err := Decrypt(append(bytes.Clone(der), 0), ec, ek, nil); err == nil {
			t.Fatal("trailing byte accepted")
		}
		// Flip every byte in turn: never a panic; never output unless the
		// flip fell in an ignored place or the other recipient's key.
		for i := 0; i < len(der); i++ {
			bad := bytes.Clone(der)
			bad[i] ^= 0xff
			_, _, _ = Decrypt(bad, ec, ek, nil)
			_, _, _ = Decrypt(bad, rc, rk, nil)
		}
	}
	// Huge lengths, wrong types, indefinite lengths (BER is not DER).
	for name, in := range map[string][]byte{
		"nil":           nil,
		"huge length":   {0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x06, 0x01},
		"indefinite":    {0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03, 0x00, 0x00},
		"not sequence":  {0x04, 0x00},
		"signedData":    envContentInfo(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}, []byte{0x30, 0x00}),
		"empty body":    envContentInfo(envOIDEnvelopedData, []byte{0x30, 0x00}),
		"no recipients": envContentInfo(envOIDEnvelopedData, []byte{0x30, 0x05, 0x02, 0x01, 0x00, 0x31, 0x00}),
		"bad version":   envContentInfo(envOIDAuthEnvelopedData, []byte{0x30, 0x03, 0x02, 0x01, 0x07}),
	} {
		if out, _, err := Decrypt(in, rc, rk, nil); err == nil || out != nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func envContentInfo(oid asn1.ObjectIdentifier, body []byte) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(body) })
	})
	return b.BytesOrPanic()
}

// Constructed encryptedContent (streaming encoders): accepted, segments joined.
func TestConstructedEncryptedContent(t *testing.T) {
	rc, rk := envTestRSA(t)
	der, err := Encrypt([]byte("segmented content here"), []*x509.Certificate{rc}, &EncryptOptions{Algorithm: AES128CBC})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envParse(der); err != nil {
		t.Fatal(err)
	}
	cek := make([]byte, 16)
	_, _ = rand.Read(cek)
	p := &envContentParams{alg: AES128CBC, iv: bytes.Repeat([]byte{4}, 16)}
	ct, _ := envCBCEncrypt(cek, p.iv, []byte("segmented content here"))
	var seg cryptobyte.Builder
	seg.AddASN1OctetString(ct[:16])
	seg.AddASN1OctetString(ct[16:])
	raw := envBuildRaw(t, envOIDEnvelopedData, envAlgDER(p), []byte{0xde, 0xad}, nil, nil, rc, cek)
	// Swap the primitive [0] for a constructed [0] of two segments.
	segs := seg.BytesOrPanic()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(segs) })
	fixed := envReplaceEncryptedContent(t, raw, b.BytesOrPanic())
	out, _, err := Decrypt(fixed, rc, rk, nil)
	if err != nil || string(out) != "segmented content here" {
		t.Fatalf("%q %v", out, err)
	}
}

// envReplaceEncryptedContent re-encodes an EnvelopedData built by
// envBuildRaw with repl as its encryptedContent element.
func envReplaceEncryptedContent(t *testing.T, raw []byte, repl []byte) []byte {
	t.Helper()
	// Rebuild: ContentInfo{oid, [0]{SEQUENCE{version, SET, SEQUENCE{oid, alg, repl}}}}
	in := cryptobyte.String(raw)
	var ci, c0, body, ver, ris, eci cryptobyte.String
	var oid, ctype asn1.ObjectIdentifier
	var alg cryptobyte.String
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1ObjectIdentifier(&oid) ||
		!ci.ReadASN1(&c0, cbasn1.Tag(0).Constructed().ContextSpecific()) || !c0.ReadASN1(&body, cbasn1.SEQUENCE) ||
		!body.ReadASN1Element(&ver, cbasn1.INTEGER) || !body.ReadASN1Element(&ris, cbasn1.SET) ||
		!body.ReadASN1(&eci, cbasn1.SEQUENCE) || !eci.ReadASN1ObjectIdentifier(&ctype) || !eci.ReadASN1Element(&alg, cbasn1.SEQUENCE) {
		t.Fatal("unexpected layout")
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddBytes(ver)
				b.AddBytes(ris)
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(ctype)
					b.AddBytes(alg)
					b.AddBytes(repl)
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// Seeds for FuzzDecrypt: real messages (OpenSSL- and Go-produced) with the
// keys they are addressed to, in testdata/envelope. Regenerate with
// CMS_ENV_REGEN=1 go test -run TestRegenerateEnvelopeTestdata.
const envTestdataDir = "testdata/envelope"

type envFixture struct {
	rsaCert *x509.Certificate
	rsaKey  crypto.PrivateKey
	ecCert  *x509.Certificate
	ecKey   crypto.PrivateKey
	seeds   map[string][]byte
}

func envLoadFixture(t testing.TB) *envFixture {
	t.Helper()
	f := &envFixture{seeds: map[string][]byte{}}
	f.rsaCert, f.rsaKey = envLoadPEMPair(t, filepath.Join(envTestdataDir, "rsa"))
	f.ecCert, f.ecKey = envLoadPEMPair(t, filepath.Join(envTestdataDir, "ec"))
	names, err := filepath.Glob(filepath.Join(envTestdataDir, "*.der"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		f.seeds[filepath.Base(n)] = b
	}
	return f
}

func envLoadPEMPair(t testing.TB, base string) (*x509.Certificate, crypto.PrivateKey) {
	t.Helper()
	cb, err := os.ReadFile(base + ".crt")
	if err != nil {
		t.Fatal(err)
	}
	kb, err := os.ReadFile(base + ".key")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(envPEMBody(t, cb))
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS8PrivateKey(envPEMBody(t, kb))
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// The seed corpus exists, covers both producers and every structure, and
// every seed is a real message that decrypts for its recipient.
func TestFuzzDecryptSeedsExist(t *testing.T) {
	f := envLoadFixture(t)
	if len(f.seeds) < 8 {
		t.Fatalf("only %d seeds in %s", len(f.seeds), envTestdataDir)
	}
	kinds := map[string]bool{}
	for name, der := range f.seeds {
		var ok bool
		for _, r := range []struct {
			c *x509.Certificate
			k crypto.PrivateKey
		}{{f.rsaCert, f.rsaKey}, {f.ecCert, f.ecKey}} {
			out, info, err := Decrypt(der, r.c, r.k, nil)
			if err == nil {
				ok = true
				if len(out) == 0 {
					t.Errorf("%s: empty content", name)
				}
				kinds[info.Algorithm.String()+"/"+info.Recipient.String()] = true
			}
		}
		if !ok {
			t.Errorf("seed %s does not decrypt", name)
		}
	}
	for _, want := range []string{"aes-256-gcm/rsa-oaep", "aes-256-cbc/rsa-pkcs1v15", "aes-256-gcm/ecdh", "aes-256-cbc/ecdh"} {
		if !kinds[want] {
			t.Errorf("no seed for %s (have %v)", want, kinds)
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	fx := envLoadFixture(f)
	for _, der := range fx.seeds {
		f.Add(der)
	}
	f.Fuzz(func(t *testing.T, der []byte) {
		for _, r := range []struct {
			c *x509.Certificate
			k crypto.PrivateKey
		}{{fx.rsaCert, fx.rsaKey}, {fx.ecCert, fx.ecKey}} {
			out, info, err := Decrypt(der, r.c, r.k, nil)
			if err != nil && (out != nil || info != nil) {
				t.Fatalf("output alongside error %v", err)
			}
			if err == nil && info == nil {
				t.Fatal("success without info")
			}
		}
	})
}

func envPEMBody(t testing.TB, b []byte) []byte {
	t.Helper()
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	return blk.Bytes
}
