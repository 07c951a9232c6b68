package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// sdtIdentity is a test signer: key and certificate issued by the test CA.
type sdtIdentity struct {
	name string
	key  crypto.Signer
	cert *x509.Certificate
}

type sdtPKIFixture struct {
	caKey  crypto.Signer
	ca     *x509.Certificate
	rsa    sdtIdentity
	rsa2   sdtIdentity
	p256   sdtIdentity
	p384   sdtIdentity
	ed     sdtIdentity
	rsa1k  sdtIdentity
	serial int64
}

// sdtPKI returns test certificates made once per test binary: RSA keys are
// slow to generate, especially under -race.
var sdtPKI = sync.OnceValue(func() *sdtPKIFixture {
	f := &sdtPKIFixture{serial: 100}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	f.caKey = caKey
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "securemail test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, caKey.Public(), caKey)
	if err != nil {
		panic(err)
	}
	f.ca, _ = x509.ParseCertificate(der)
	mk := func(name string, key crypto.Signer) sdtIdentity {
		return sdtIdentity{name: name, key: key, cert: f.issue(name, key.Public())}
	}
	rsaKey := func(bits int) crypto.Signer {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			panic(err)
		}
		return k
	}
	ecKey := func(c elliptic.Curve) crypto.Signer {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			panic(err)
		}
		return k
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	f.rsa = mk("rsa", rsaKey(2048))
	f.rsa2 = mk("rsa2", rsaKey(2048))
	f.p256 = mk("p256", ecKey(elliptic.P256()))
	f.p384 = mk("p384", ecKey(elliptic.P384()))
	f.ed = mk("ed25519", edKey)
	f.rsa1k = mk("rsa1024", rsaKey(1024))
	return f
})

// issue makes a leaf for S/MIME signing with the emailProtection EKU and
// an explicit subjectKeyIdentifier.
func (f *sdtPKIFixture) issue(name string, pub crypto.PublicKey) *x509.Certificate {
	f.serial++
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	ski := sha256.Sum256(spki)
	ku := x509.KeyUsageDigitalSignature
	if _, ok := pub.(*rsa.PublicKey); ok {
		ku |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		SerialNumber:   big.NewInt(f.serial),
		Subject:        pkix.Name{CommonName: name},
		EmailAddresses: []string{name + "@example.org"},
		NotBefore:      time.Now().Add(-time.Hour),
		NotAfter:       time.Now().Add(24 * time.Hour),
		KeyUsage:       ku,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		SubjectKeyId:   ski[:20],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, f.ca, pub, f.caKey)
	if err != nil {
		panic(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return c
}

func (f *sdtPKIFixture) goodSigners() []sdtIdentity {
	return []sdtIdentity{f.rsa, f.p256, f.p384, f.ed}
}

func sdtParseVerify(t *testing.T, msg []byte, detached []byte, extra ...*x509.Certificate) (*SignedData, *VerifyResult) {
	t.Helper()
	sd, err := ParseSignedData(msg, nil)
	if err != nil {
		t.Fatalf("ParseSignedData: %v", err)
	}
	opts := &VerifyOptions{Certificates: extra}
	if detached != nil {
		opts.Detached = bytes.NewReader(detached)
	}
	res, err := sd.Verify(opts)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return sd, res
}

func sdtWantValid(t *testing.T, r SignerResult) {
	t.Helper()
	if !r.Valid || r.Err != nil {
		t.Fatalf("signer %d: Valid=%v Err=%v", r.Index, r.Valid, r.Err)
	}
}

func sdtWantInvalid(t *testing.T, r SignerResult, kind Kind) {
	t.Helper()
	if r.Valid {
		t.Fatalf("signer %d: valid, want %v", r.Index, kind)
	}
	if !errors.Is(r.Err, kind) {
		t.Fatalf("signer %d: err %v, want kind %v", r.Index, r.Err, kind)
	}
}

var sdtFixedTime = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func sdtClock() time.Time { return sdtFixedTime }

func TestSignVerifyRoundTrip(t *testing.T) {
	f := sdtPKI()
	content := []byte("Content-Type: text/plain\r\n\r\nhello, world\r\n")
	type variant struct {
		name   string
		signer Signer
		scheme SignatureScheme
	}
	var variants []variant
	for _, id := range f.goodSigners() {
		variants = append(variants, variant{id.name, Signer{Certificate: id.cert, Key: id.key}, 0})
		variants = append(variants, variant{id.name + "/ski", Signer{Certificate: id.cert, Key: id.key, SubjectKeyID: true}, 0})
	}
	variants = append(variants,
		variant{"rsa/pss", Signer{Certificate: f.rsa.cert, Key: f.rsa.key, RSAPSS: true}, SchemeRSAPSS},
		variant{"rsa/pss-sha512", Signer{Certificate: f.rsa.cert, Key: f.rsa.key, RSAPSS: true, Hash: crypto.SHA512}, SchemeRSAPSS},
		variant{"rsa/sha384", Signer{Certificate: f.rsa.cert, Key: f.rsa.key, Hash: crypto.SHA384}, SchemeRSAPKCS1v15},
		variant{"p384/sha384", Signer{Certificate: f.p384.cert, Key: f.p384.key, Hash: crypto.SHA384}, SchemeECDSA},
	)
	for _, v := range variants {
		for _, detached := range []bool{false, true} {
			name := v.name + "/encapsulated"
			if detached {
				name = v.name + "/detached"
			}
			t.Run(name, func(t *testing.T) {
				msg, err := Sign(content, []Signer{v.signer}, &SignOptions{Detached: detached, Now: sdtClock})
				if err != nil {
					t.Fatal(err)
				}
				var det []byte
				if detached {
					det = content
				}
				sd, res := sdtParseVerify(t, msg, det)
				if sd.Encapsulated == detached {
					t.Fatalf("Encapsulated = %v", sd.Encapsulated)
				}
				if !detached && !bytes.Equal(sd.Content, content) {
					t.Fatalf("content mismatch")
				}
				if len(res.Signers) != 1 {
					t.Fatalf("%d results", len(res.Signers))
				}
				r := res.Signers[0]
				sdtWantValid(t, r)
				if r.Certificate != sd.Certificates[0] {
					t.Errorf("certificate not reported")
				}
				if v.signer.SubjectKeyID != (r.SID.SubjectKeyID != nil) {
					t.Errorf("sid kind wrong: %+v", r.SID)
				}
				if !r.SigningTime.Equal(sdtFixedTime) {
					t.Errorf("signing time %v", r.SigningTime)
				}
				if len(r.Capabilities) != 5 || !r.Capabilities[0].Algorithm.Equal(OIDAES256GCM) || !r.Capabilities[4].Algorithm.Equal(OIDRSAESOAEP) {
					t.Errorf("capabilities %v", r.Capabilities)
				}
				if v.scheme != 0 && r.Scheme != v.scheme {
					t.Errorf("scheme %v want %v", r.Scheme, v.scheme)
				}
			})
		}
	}
}

func TestSignDetachedReaderAndExtraCerts(t *testing.T) {
	f := sdtPKI()
	content := bytes.Repeat([]byte("0123456789abcdef"), 10000)
	msg, err := SignDetached(bytes.NewReader(content), []Signer{{Certificate: f.p256.cert, Key: f.p256.key}}, &SignOptions{NoCertificates: true})
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseSignedData(msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(sd.Certificates) != 0 {
		t.Fatal("certificates included")
	}
	res, err := sd.Verify(&VerifyOptions{Detached: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	sdtWantInvalid(t, res.Signers[0], ErrSignerNotFound)
	_, res = sdtParseVerify(t, msg, content, f.rsa.cert, f.p256.cert)
	sdtWantValid(t, res.Signers[0])
}

func TestVerifyContentErrors(t *testing.T) {
	f := sdtPKI()
	signers := []Signer{{Certificate: f.p256.cert, Key: f.p256.key}}
	enc, _ := Sign([]byte("x"), signers, nil)
	det, _ := Sign([]byte("x"), signers, &SignOptions{Detached: true})
	sd, _ := ParseSignedData(enc, nil)
	// S10 at this layer: encapsulated content plus detached content.
	if _, err := sd.Verify(&VerifyOptions{Detached: strings.NewReader("x")}); !errors.Is(err, ErrContent) {
		t.Fatalf("encapsulated+detached: %v", err)
	}
	sd, _ = ParseSignedData(det, nil)
	if _, err := sd.Verify(nil); !errors.Is(err, ErrContent) {
		t.Fatalf("detached without content: %v", err)
	}
}

func TestSignRejectsWeakAndMismatched(t *testing.T) {
	f := sdtPKI()
	cases := map[string]struct {
		s    Signer
		kind Kind
	}{
		"sha1":         {Signer{Certificate: f.rsa.cert, Key: f.rsa.key, Hash: crypto.SHA1}, ErrWeakAlgorithm},
		"rsa1024":      {Signer{Certificate: f.rsa1k.cert, Key: f.rsa1k.key}, ErrWeakKey},
		"key mismatch": {Signer{Certificate: f.rsa.cert, Key: f.p256.key}, ErrSignerNotFound},
		"no ski":       {Signer{Certificate: sdtWithoutSKI(f.rsa.cert), Key: f.rsa.key, SubjectKeyID: true}, ErrSignerNotFound},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Sign([]byte("x"), []Signer{c.s}, nil)
			if !errors.Is(err, c.kind) {
				t.Fatalf("err %v, want %v", err, c.kind)
			}
		})
	}
	if _, err := Sign([]byte("x"), nil, nil); err == nil {
		t.Fatal("Sign without signers succeeded")
	}
}

func sdtWithoutSKI(c *x509.Certificate) *x509.Certificate {
	cp := *c
	cp.SubjectKeyId = nil
	return &cp
}

func TestS11_TwoSignersOneBad(t *testing.T) {
	f := sdtPKI()
	content := []byte("two signers\r\n")
	msg, err := Sign(content, []Signer{
		{Certificate: f.rsa.cert, Key: f.rsa.key},
		{Certificate: f.p256.cert, Key: f.p256.key},
	}, &SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	sd, res := sdtParseVerify(t, msg, content)
	if len(res.Signers) != 2 {
		t.Fatalf("%d results", len(res.Signers))
	}
	sdtWantValid(t, res.Signers[0])
	sdtWantValid(t, res.Signers[1])

	// Corrupt one signature: the other stays valid, the bad one is reported.
	bad := sd.SignerInfos[1].Signature
	bad = append([]byte(nil), bad...)
	bad[len(bad)/2] ^= 1
	sd.SignerInfos[1].Signature = bad
	res, err = sd.Verify(&VerifyOptions{Detached: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Signers[0].Valid == res.Signers[1].Valid {
		t.Fatalf("results merged: %+v", res.Signers)
	}
	for _, r := range res.Signers {
		if !r.Valid && !errors.Is(r.Err, ErrBadSignature) {
			t.Fatalf("bad signer err %v", r.Err)
		}
	}

	// An unrelated signer (certificate nowhere) next to a valid one.
	msg, err = Sign(content, []Signer{
		{Certificate: f.rsa.cert, Key: f.rsa.key},
		{Certificate: f.rsa2.cert, Key: f.rsa2.key},
	}, &SignOptions{Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	sd, _ = ParseSignedData(msg, nil)
	sd.Certificates = slicesDeleteCert(sd.Certificates, f.rsa2.cert)
	res, err = sd.Verify(&VerifyOptions{Detached: bytes.NewReader(content)})
	if err != nil {
		t.Fatal(err)
	}
	valid, notFound := 0, 0
	for _, r := range res.Signers {
		if r.Valid {
			valid++
		} else if errors.Is(r.Err, ErrSignerNotFound) {
			notFound++
		}
	}
	if valid != 1 || notFound != 1 {
		t.Fatalf("valid=%d notFound=%d: %+v", valid, notFound, res.Signers)
	}
}

func slicesDeleteCert(cs []*x509.Certificate, drop *x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range cs {
		if !c.Equal(drop) {
			out = append(out, c)
		}
	}
	return out
}

// sdtUnsigned builds a SignedData with no signerInfos, optionally carrying
// certificates and content.
func sdtUnsigned(certs []*x509.Certificate, content []byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(OIDSignedData)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(OIDData)
					if content != nil {
						b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(content)
						})
					}
				})
				if len(certs) > 0 {
					b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						for _, c := range certs {
							b.AddBytes(c.Raw)
						}
					})
				}
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {})
			})
		})
	})
	return b.BytesOrPanic()
}

func TestS12_ZeroSigners(t *testing.T) {
	f := sdtPKI()
	for name, msg := range map[string][]byte{
		"no certificates":   sdtUnsigned(nil, []byte("hello")),
		"with certificates": sdtUnsigned([]*x509.Certificate{f.rsa.cert, f.ca}, []byte("hello")),
		"detached":          sdtUnsigned([]*x509.Certificate{f.rsa.cert}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			sd, err := ParseSignedData(msg, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := sd.Verify(&VerifyOptions{})
			if !errors.Is(err, ErrUnsigned) {
				t.Fatalf("err %v, want ErrUnsigned", err)
			}
			if res == nil || !res.Unsigned || len(res.Signers) != 0 {
				t.Fatalf("result %+v", res)
			}
		})
	}
}

func TestS14_SHA1Signature(t *testing.T) {
	f := sdtPKI()
	for _, id := range []sdtIdentity{f.rsa, f.p256} {
		t.Run(id.name, func(t *testing.T) {
			msg, err := sdSign(bytes.NewReader([]byte("x")), []byte("x"), []Signer{{Certificate: id.cert, Key: id.key, Hash: crypto.SHA1}}, &SignOptions{}, true)
			if err != nil {
				t.Fatal(err)
			}
			_, res := sdtParseVerify(t, msg, nil)
			sdtWantInvalid(t, res.Signers[0], ErrWeakAlgorithm)
			if !strings.Contains(res.Signers[0].Err.Error(), "SHA-1") {
				t.Errorf("reason not clear: %v", res.Signers[0].Err)
			}
		})
	}
}

func TestS14_RSA1024(t *testing.T) {
	f := sdtPKI()
	msg, err := sdSign(bytes.NewReader([]byte("x")), []byte("x"), []Signer{{Certificate: f.rsa1k.cert, Key: f.rsa1k.key}}, &SignOptions{}, true)
	if err != nil {
		t.Fatal(err)
	}
	_, res := sdtParseVerify(t, msg, nil)
	sdtWantInvalid(t, res.Signers[0], ErrWeakKey)
}

func TestS14_BodyByteFlipped(t *testing.T) {
	f := sdtPKI()
	content := []byte("pay 100 EUR to alice\r\n")
	for _, id := range f.goodSigners() {
		t.Run(id.name+"/detached", func(t *testing.T) {
			msg, err := Sign(content, []Signer{{Certificate: id.cert, Key: id.key}}, &SignOptions{Detached: true})
			if err != nil {
				t.Fatal(err)
			}
			flipped := bytes.Clone(content)
			flipped[4] ^= 0x01
			_, res := sdtParseVerify(t, msg, flipped)
			sdtWantInvalid(t, res.Signers[0], ErrDigestMismatch)
		})
		t.Run(id.name+"/encapsulated", func(t *testing.T) {
			msg, err := Sign(content, []Signer{{Certificate: id.cert, Key: id.key}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			i := bytes.Index(msg, content)
			msg = bytes.Clone(msg)
			msg[i+4] ^= 0x01
			_, res := sdtParseVerify(t, msg, nil)
			sdtWantInvalid(t, res.Signers[0], ErrDigestMismatch)
		})
		t.Run(id.name+"/signed attributes", func(t *testing.T) {
			msg, err := Sign(content, []Signer{{Certificate: id.cert, Key: id.key}}, &SignOptions{Now: sdtClock})
			if err != nil {
				t.Fatal(err)
			}
			// Change the signing time inside the signed attributes.
			sd, _ := ParseSignedData(msg, nil)
			raw := sd.SignerInfos[0].RawSignedAttributes
			i := bytes.Index(msg, raw[2:])
			msg = bytes.Clone(msg)
			j := bytes.Index(msg[i:], []byte("260304"))
			msg[i+j+5] = '5'
			_, res := sdtParseVerify(t, msg, nil)
			sdtWantInvalid(t, res.Signers[0], ErrBadSignature)
		})
	}
}

func TestS14_RSAe3Forgery(t *testing.T) {
	f := sdtPKI()
	// A certificate for an RSA key with e=3 (the modulus of a real key;
	// the private half is never needed by the forger).
	n := f.rsa2.key.Public().(*rsa.PublicKey).N
	e3 := f.issue("e3", &rsa.PublicKey{N: n, E: 3})
	content := []byte("forged\r\n")
	msg, err := Sign(content, []Signer{{Certificate: f.rsa.cert, Key: f.rsa.key}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := ParseSignedData(msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	si := &sd.SignerInfos[0]
	si.SID = SignerIdentifier{IssuerAndSerial: &IssuerAndSerialNumber{RawIssuer: e3.RawIssuer, SerialNumber: e3.SerialNumber}}
	sd.Certificates = []*x509.Certificate{e3}
	// Bleichenbacher 2006: 00 01 FF 00 DigestInfo garbage, the cube root
	// of which is an integer a lax PKCS#1 parser accepts.
	digest := sha256.Sum256(si.RawSignedAttributes)
	prefix := append([]byte{0x00, 0x01, 0xff, 0x00,
		0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}, digest[:]...)
	k := (n.BitLen() + 7) / 8
	target := new(big.Int).SetBytes(append(prefix, make([]byte, k-len(prefix))...))
	s := sdtCubeRootCeil(target)
	forged := make([]byte, k)
	s.FillBytes(forged)
	cube := new(big.Int).Exp(s, big.NewInt(3), nil)
	got := make([]byte, k)
	cube.FillBytes(got)
	if !bytes.HasPrefix(got, prefix) {
		t.Fatal("test bug: forgery does not carry the prefix")
	}
	si.Signature = forged
	res, err := sd.Verify(nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Signers[0].Valid {
		t.Fatal("e=3 forgery accepted")
	}
	t.Logf("rejected: %v", res.Signers[0].Err)
}

func sdtCubeRootCeil(x *big.Int) *big.Int {
	lo, hi := big.NewInt(0), new(big.Int).Lsh(big.NewInt(1), uint(x.BitLen()/3+2))
	three := big.NewInt(3)
	for lo.Cmp(hi) < 0 {
		mid := new(big.Int).Rsh(new(big.Int).Add(lo, hi), 1)
		if new(big.Int).Exp(mid, three, nil).Cmp(x) < 0 {
			lo = mid.Add(mid, big.NewInt(1))
		} else {
			hi = mid
		}
	}
	return lo
}

func TestContentTypeAttributeMismatch(t *testing.T) {
	f := sdtPKI()
	msg, err := Sign([]byte("x"), []Signer{{Certificate: f.p256.cert, Key: f.p256.key}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Swap eContentType in the bytes: the signed content-type attribute
	// still says id-data.
	sd, _ := ParseSignedData(msg, nil)
	_ = sd
	oidData := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}
	oidOther := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x05}
	i := bytes.Index(msg, oidData)
	if i < 0 {
		t.Fatal("no id-data")
	}
	msg = bytes.Clone(msg)
	copy(msg[i:], oidOther)
	_, res := sdtParseVerify(t, msg, nil)
	sdtWantInvalid(t, res.Signers[0], ErrAttribute)
	if !strings.Contains(res.Signers[0].Err.Error(), "content-type") {
		t.Errorf("reason: %v", res.Signers[0].Err)
	}
}

func TestSignedAttributeRules(t *testing.T) {
	f := sdtPKI()
	msg, err := Sign([]byte("x"), []Signer{{Certificate: f.p256.cert, Key: f.p256.key}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("duplicate attribute", func(t *testing.T) {
		sd, _ := ParseSignedData(msg, nil)
		si := &sd.SignerInfos[0]
		si.SignedAttributes = append(si.SignedAttributes, si.SignedAttributes[0])
		res, _ := sd.Verify(nil)
		sdtWantInvalid(t, res.Signers[0], ErrAttribute)
	})
	t.Run("missing message-digest", func(t *testing.T) {
		sd, _ := ParseSignedData(msg, nil)
		si := &sd.SignerInfos[0]
		var keep []Attribute
		for _, a := range si.SignedAttributes {
			if !a.Type.Equal(OIDAttrMessageDigest) {
				keep = append(keep, a)
			}
		}
		si.SignedAttributes = keep
		res, _ := sd.Verify(nil)
		sdtWantInvalid(t, res.Signers[0], ErrAttribute)
	})
	t.Run("ed25519 without attributes", func(t *testing.T) {
		msg, _ := Sign([]byte("x"), []Signer{{Certificate: f.ed.cert, Key: f.ed.key}}, nil)
		sd, _ := ParseSignedData(msg, nil)
		sd.SignerInfos[0].RawSignedAttributes = nil
		res, _ := sd.Verify(nil)
		sdtWantInvalid(t, res.Signers[0], ErrAttribute)
	})
	t.Run("pss with sha1 defaults", func(t *testing.T) {
		msg, _ := Sign([]byte("x"), []Signer{{Certificate: f.rsa.cert, Key: f.rsa.key, RSAPSS: true}}, nil)
		sd, _ := ParseSignedData(msg, nil)
		sd.SignerInfos[0].SignatureAlgorithm.Parameters = nil
		res, _ := sd.Verify(nil)
		sdtWantInvalid(t, res.Signers[0], ErrWeakAlgorithm)
		sd.SignerInfos[0].SignatureAlgorithm.Parameters = []byte{0x30, 0x00}
		res, _ = sd.Verify(nil)
		sdtWantInvalid(t, res.Signers[0], ErrWeakAlgorithm)
	})
	t.Run("signature algorithm disagrees with digest", func(t *testing.T) {
		sd, _ := ParseSignedData(msg, nil)
		sd.SignerInfos[0].SignatureAlgorithm.Algorithm = OIDECDSAWithSHA384
		res, _ := sd.Verify(nil)
		sdtWantInvalid(t, res.Signers[0], ErrUnsupported)
	})
	t.Run("key of another type", func(t *testing.T) {
		sd, _ := ParseSignedData(msg, nil)
		sd.SignerInfos[0].SignatureAlgorithm = AlgorithmIdentifier{Algorithm: OIDRSAEncryption}
		res, _ := sd.Verify(nil)
		sdtWantInvalid(t, res.Signers[0], ErrBadSignature)
	})
}
