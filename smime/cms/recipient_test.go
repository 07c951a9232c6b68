package cms

import (
	"bytes"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"math/big"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

func envRecipientInfosDER(t testing.TB, certs []*x509.Certificate, cek []byte, opts *EncryptOptions) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		for _, c := range certs {
			if _, err := envAddRecipientInfo(b, c, cek, opts, rand.Reader); err != nil {
				t.Fatal(err)
			}
		}
	})
	return b.BytesOrPanic()
}

func TestRecipientInfosRoundTrip(t *testing.T) {
	rc, rk := envTestRSA(t)
	ec, ek := envTestEC(t)
	cek := bytes.Repeat([]byte{0x11}, 32)
	for _, opts := range []*EncryptOptions{{}, {UseSubjectKeyID: true}, {RSAPadding: RSAPaddingPKCS1v15}} {
		der := cryptobyte.String(envRecipientInfosDER(t, []*x509.Certificate{rc, ec}, cek, opts))
		ris, err := envParseRecipientInfos(&der)
		if err != nil || len(ris) != 2 || ris[0].ktri == nil || ris[1].kari == nil {
			t.Fatalf("%+v %v", ris, err)
		}
		if ris[1].kari.kdfHash != crypto.SHA256 || ris[1].kari.kekLen != 32 || ris[1].kari.ukm != nil {
			t.Fatalf("kari %+v", ris[1].kari)
		}
		for _, r := range []struct {
			c *x509.Certificate
			k crypto.PrivateKey
		}{{rc, rk}, {ec, ek}} {
			got, _, err := envRecipientDecrypt(ris, r.c, r.k, 32, rand.Reader)
			if err != nil || !bytes.Equal(got, cek) {
				t.Fatalf("%x %v", got, err)
			}
		}
		// Wrong expected CEK length for KARI and OAEP: an error.
		if _, _, err := envRecipientDecrypt(ris, ec, ek, 16, rand.Reader); err == nil {
			t.Fatal("KARI CEK length mismatch accepted")
		}
		if opts.RSAPadding != RSAPaddingPKCS1v15 {
			if _, _, err := envRecipientDecrypt(ris, rc, rk, 16, rand.Reader); err == nil {
				t.Fatal("OAEP CEK length mismatch accepted")
			}
		}
	}
}

// Recipient identification: issuer+serial must match both, SKI must match.
func TestRecipientMatching(t *testing.T) {
	rc, _ := envTestRSA(t)
	r := &envRID{issuer: rc.RawIssuer, serial: rc.SerialNumber}
	if !r.matches(rc) {
		t.Fatal("no match")
	}
	other := *rc
	other.SerialNumber = new(big.Int).Add(rc.SerialNumber, big.NewInt(1))
	if r.matches(&other) {
		t.Fatal("serial ignored")
	}
	s := &envRID{ski: rc.SubjectKeyId}
	if !s.matches(rc) {
		t.Fatal("SKI no match")
	}
	noSKI := *rc
	noSKI.SubjectKeyId = nil
	if s.matches(&noSKI) || (&envRID{ski: []byte{}}).matches(&noSKI) {
		t.Fatal("empty SKI matched")
	}
}

func envOAEPParamsDER(f func(b *cryptobyte.Builder)) cryptobyte.String {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, f)
	return cryptobyte.String(b.BytesOrPanic())
}

func TestOAEPParams(t *testing.T) {
	// Absent parameters: SHA-1 defaults.
	o, err := envParseOAEPParams(nil)
	if err != nil || o.Hash != crypto.SHA1 || o.MGFHash != crypto.SHA1 {
		t.Fatal(o, err)
	}
	// Empty SEQUENCE: defaults too.
	o, err = envParseOAEPParams(envOAEPParamsDER(func(b *cryptobyte.Builder) {}))
	if err != nil || o.Hash != crypto.SHA1 {
		t.Fatal(o, err)
	}
	sha256ID := func(null bool) func(b *cryptobyte.Builder) {
		return func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(envOIDSHA256)
				if null {
					b.AddASN1NULL()
				}
			})
		}
	}
	for _, null := range []bool{false, true} {
		o, err = envParseOAEPParams(envOAEPParamsDER(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), sha256ID(null))
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(envOIDMGF1)
					sha256ID(null)(b)
				})
			})
			b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(envOIDPSpecified)
					b.AddASN1OctetString([]byte("label"))
				})
			})
		}))
		if err != nil || o.Hash != crypto.SHA256 || o.MGFHash != crypto.SHA256 || string(o.Label) != "label" {
			t.Fatal(null, o, err)
		}
	}
	for name, der := range map[string]cryptobyte.String{
		"unknown hash": envOAEPParamsDER(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(envOIDMGF1) })
			})
		}),
		"bad mgf": envOAEPParamsDER(func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(envOIDSHA256)
					sha256ID(false)(b)
				})
			})
		}),
		"trailing": envOAEPParamsDER(func(b *cryptobyte.Builder) { b.AddASN1NULL() }),
		"not seq":  cryptobyte.String{0x05, 0x00},
	} {
		if _, err := envParseOAEPParams(der); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// An OAEP-SHA-1 RecipientInfo (older senders) still decrypts.
func TestKTRIOAEPSHA1(t *testing.T) {
	_, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{9}, 16)
	ct, err := rsa.EncryptOAEP(crypto.SHA1.New(), rand.Reader, &rk.PublicKey, cek, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := envParseOAEPParams(nil)
	got, kind, err := envKTRIDecrypt(&envKTRI{oaep: o, encryptedKey: ct}, rk, 16, rand.Reader)
	if err != nil || kind != RecipientRSAOAEP || !bytes.Equal(got, cek) {
		t.Fatal(got, err)
	}
	// OAEP failure is an error (OAEP is not subject to the v1.5 dance).
	ct[5] ^= 1
	if _, _, err := envKTRIDecrypt(&envKTRI{oaep: o, encryptedKey: ct}, rk, 16, rand.Reader); err == nil {
		t.Fatal("bad OAEP accepted")
	}
}

// PKCS#1 v1.5: bad padding yields a random key, not an error; a ciphertext
// of the wrong length (public information) is an error.
func TestKTRIPKCS1v15Countermeasure(t *testing.T) {
	_, rk := envTestRSA(t)
	cek := bytes.Repeat([]byte{9}, 32)
	//lint:ignore SA1019 testing the PKCS #1 v1.5 countermeasure needs v1.5 input
	ct, _ := rsa.EncryptPKCS1v15(rand.Reader, &rk.PublicKey, cek)
	got, _, err := envKTRIDecrypt(&envKTRI{encryptedKey: ct}, rk, 32, rand.Reader)
	if err != nil || !bytes.Equal(got, cek) {
		t.Fatal(err)
	}
	// Right padding, wrong CEK length: random key of the expected length.
	got, _, err = envKTRIDecrypt(&envKTRI{encryptedKey: ct}, rk, 16, rand.Reader)
	if err != nil || len(got) != 16 {
		t.Fatal(got, err)
	}
	bad := bytes.Clone(ct)
	bad[10] ^= 0x40
	got, _, err = envKTRIDecrypt(&envKTRI{encryptedKey: bad}, rk, 32, rand.Reader)
	if err != nil || len(got) != 32 || bytes.Equal(got, cek) {
		t.Fatal(got, err)
	}
	if _, _, err := envKTRIDecrypt(&envKTRI{encryptedKey: append(bytes.Clone(ct), 0)}, rk, 32, rand.Reader); err == nil {
		t.Fatal("over-long ciphertext accepted")
	}
	// Randomness failure is reported, not hidden.
	if _, _, err := envKTRIDecrypt(&envKTRI{encryptedKey: ct}, rk, 32, bytes.NewReader(nil)); err == nil {
		t.Fatal("rand failure hidden")
	}
}

func TestKARIBadOriginator(t *testing.T) {
	ec, ek := envTestEC(t)
	ec384, _ := envTestECCurve(t, elliptic.P384())
	cek := bytes.Repeat([]byte{0x11}, 32)
	der := cryptobyte.String(envRecipientInfosDER(t, []*x509.Certificate{ec}, cek, &EncryptOptions{}))
	ris, err := envParseRecipientInfos(&der)
	if err != nil {
		t.Fatal(err)
	}
	k := ris[0].kari
	// Point not on the curve.
	bad := *k
	bad.origPub = bytes.Clone(k.origPub)
	bad.origPub[40] ^= 1
	if _, err := envKARIDecrypt(&bad, k.keys[0].encryptedKey, ec, ek); err == nil {
		t.Fatal("off-curve point accepted")
	}
	// Originator parameters naming another curve.
	bad = *k
	bad.origAlgParams = []byte{0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22} // P-384
	if _, err := envKARIDecrypt(&bad, k.keys[0].encryptedKey, ec, ek); err == nil {
		t.Fatal("curve mismatch accepted")
	}
	// Matching named curve and NULL parameters are fine.
	for _, p := range [][]byte{{0x05, 0x00}, {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}} {
		ok := *k
		ok.origAlgParams = p
		if got, err := envKARIDecrypt(&ok, k.keys[0].encryptedKey, ec, ek); err != nil || !bytes.Equal(got, cek) {
			t.Fatalf("params %x: %v", p, err)
		}
	}
	// Key that does not belong to the certificate.
	if _, err := envKARIDecrypt(k, k.keys[0].encryptedKey, ec384, ek); err == nil {
		t.Fatal("cert/key mismatch accepted")
	}
	// Tampered wrapped key.
	ekBad := bytes.Clone(k.keys[0].encryptedKey)
	ekBad[0] ^= 1
	if _, err := envKARIDecrypt(k, ekBad, ec, ek); !errors.Is(err, ErrKeyUnwrap) {
		t.Fatal(err)
	}
	// A ukm changes the KEK.
	withUKM := *k
	withUKM.ukm = []byte("ukm")
	if _, err := envKARIDecrypt(&withUKM, k.keys[0].encryptedKey, ec, ek); err == nil {
		t.Fatal("ukm ignored")
	}
}

func TestS15_RecipientInfosMalformed(t *testing.T) {
	rc, _ := envTestRSA(t)
	ec, _ := envTestEC(t)
	cek := bytes.Repeat([]byte{0x11}, 32)
	for _, opts := range []*EncryptOptions{{}, {UseSubjectKeyID: true}} {
		der := envRecipientInfosDER(t, []*x509.Certificate{rc, ec}, cek, opts)
		for i := 0; i < len(der); i++ {
			s := cryptobyte.String(der[:i])
			if _, err := envParseRecipientInfos(&s); err == nil {
				t.Fatalf("prefix %d accepted", i)
			}
		}
		for i := 0; i < len(der); i++ {
			bad := bytes.Clone(der)
			bad[i] ^= 0xff
			s := cryptobyte.String(bad)
			_, _ = envParseRecipientInfos(&s) // must not panic
		}
	}
	for name, der := range map[string][]byte{
		"empty set":      {0x31, 0x00},
		"unknown choice": {0x31, 0x02, 0x04, 0x00},
		"ktri version 5": {0x31, 0x05, 0x30, 0x03, 0x02, 0x01, 0x05},
		"kari version 2": {0x31, 0x05, 0xa1, 0x03, 0x02, 0x01, 0x02},
		"huge length":    {0x31, 0x84, 0xff, 0xff, 0xff, 0xff},
	} {
		s := cryptobyte.String(der)
		if _, err := envParseRecipientInfos(&s); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
