package smime

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/smime/cms"
)

func selfSigned(t *testing.T) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "a"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{"a@example.org"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return key, c
}

func parse(t *testing.T, s string) *message.Message {
	t.Helper()
	m, err := message.Parse([]byte(strings.ReplaceAll(s, "\n", "\r\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		ct                        string
		signed, opaque, enveloped bool
	}{
		{`multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary=b`, true, false, false},
		{`multipart/signed; protocol="application/x-pkcs7-signature"; micalg=sha-256; boundary=b`, true, false, false},
		{`multipart/signed; protocol="application/pgp-signature"; boundary=b`, false, false, false},
		{`application/pkcs7-mime; smime-type=signed-data; name=smime.p7m`, false, true, false},
		{`application/x-pkcs7-mime; smime-type=enveloped-data`, false, false, true},
		{`application/pkcs7-mime; smime-type=authEnveloped-data`, false, false, true},
		{`application/pkcs7-mime; smime-type=AUTHENVELOPED-DATA`, false, false, true},
		{`application/pkcs7-mime; smime-type=compressed-data`, false, false, false},
		{`application/pkcs7-mime; name=smime.p7m`, false, false, true},
		{`application/octet-stream; name=smime.p7m`, false, false, true},
		{`application/octet-stream; name=report.pdf`, false, false, false},
	} {
		m := parse(t, "Content-Type: "+tc.ct+"\n\n")
		if IsSigned(m.Root) != tc.signed || IsOpaque(m, m.Root) != tc.opaque || IsEnveloped(m, m.Root) != tc.enveloped {
			t.Errorf("%s: signed %v opaque %v enveloped %v", tc.ct, IsSigned(m.Root), IsOpaque(m, m.Root), IsEnveloped(m, m.Root))
		}
	}
}

func TestContentTypeSniff(t *testing.T) {
	key, cert := selfSigned(t)
	sd, err := cms.Sign([]byte("x"), []cms.Signer{{Certificate: cert, Key: key}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ContentType(sd) != TypeSigned {
		t.Fatal("signed-data not recognised")
	}
	ed, err := cms.Encrypt([]byte("x"), []*x509.Certificate{cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ContentType(ed) != TypeAuthEnveloped {
		t.Fatal("authEnveloped-data not recognised")
	}
	// BER, indefinite length, as openssl -stream writes.
	ber := []byte{0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03}
	if ContentType(ber) != TypeEnveloped {
		t.Fatal("BER enveloped-data not recognised")
	}
	for _, junk := range [][]byte{nil, {0x30}, {0x30, 0x84, 1}, {0x04, 0x00}, []byte("hello")} {
		if ContentType(junk) != "" {
			t.Fatalf("%x recognised", junk)
		}
	}
	// No smime-type: the content decides.
	m, _ := message.Parse([]byte("Content-Type: application/pkcs7-mime; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n"+string(base64Lines(sd))), nil)
	if !IsOpaque(m, m.Root) || IsEnveloped(m, m.Root) {
		t.Fatal("opaque signed data without smime-type taken for enveloped")
	}
}

func TestWrapSignedVerifies(t *testing.T) {
	key, cert := selfSigned(t)
	entity := []byte("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello =C3=A9 \r\n")
	out, err := WrapSigned(entity, []cms.Signer{{Certificate: cert, Key: key, Hash: 0}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := message.Parse(append([]byte("From: a@example.org\r\nMIME-Version: 1.0\r\n"), out...), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !IsSigned(m.Root) || m.Root.Params["micalg"] != "sha-256" {
		t.Fatalf("%+v", m.Root.Params)
	}
	signed, sig, err := SignedParts(m, m.Root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(signed, entity) {
		t.Fatalf("signed bytes differ:\n%q\n%q", signed, entity)
	}
	sd, err := cms.ParseSignedData(sig, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sd.Verify(&cms.VerifyOptions{Detached: bytes.NewReader(signed)})
	if err != nil || len(res.Signers) != 1 || !res.Signers[0].Valid {
		t.Fatalf("%v %+v", err, res)
	}
	if !strings.Contains(string(out), `name="smime.p7s"`) {
		t.Fatal("no smime.p7s name")
	}
	// micalg follows the hash.
	out, err = WrapSigned(entity, []cms.Signer{{Certificate: cert, Key: key, Hash: 6 /* SHA-384 */}}, nil)
	if err != nil || !strings.Contains(string(out), "micalg=sha-384") {
		t.Fatalf("%v\n%s", err, out)
	}
}

func TestSignedPartsStructure(t *testing.T) {
	three := `Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=b

--b
Content-Type: text/plain

a
--b
Content-Type: application/pkcs7-signature

MA==
--b
Content-Type: text/plain

c
--b--
`
	if _, _, err := SignedParts(parse(t, three), parse(t, three).Root); err == nil {
		t.Fatal("three parts accepted")
	}
	wrong := strings.Replace(three, "application/pkcs7-signature\n\nMA==", "text/plain\n\nx", 1)
	m := parse(t, wrong)
	if _, _, err := SignedParts(m, m.Root); err == nil {
		t.Fatal("no signature part accepted")
	}
}

func TestWrapEnveloped(t *testing.T) {
	key, cert := selfSigned(t)
	entity := []byte("Content-Type: text/plain\r\n\r\nsecret\r\n")
	for _, tc := range []struct {
		alg  cms.ContentAlgorithm
		want string
	}{{cms.ContentAlgorithmDefault, TypeAuthEnveloped}, {cms.AES256CBC, TypeEnveloped}} {
		out, err := WrapEnveloped(entity, []*x509.Certificate{cert}, &Options{Algorithm: tc.alg})
		if err != nil {
			t.Fatal(err)
		}
		m, err := message.Parse(out, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !IsEnveloped(m, m.Root) || SMIMEType(m.Root) != tc.want || m.Root.Params["name"] != "smime.p7m" {
			t.Fatalf("%s", out)
		}
		der, err := MIMEData(m, m.Root)
		if err != nil {
			t.Fatal(err)
		}
		plain, _, err := cms.Decrypt(der, cert, key, nil)
		if err != nil || !bytes.Equal(plain, entity) {
			t.Fatalf("%v %q", err, plain)
		}
	}
	// Sign then encrypt: the decrypted entity is multipart/signed.
	out, err := WrapSignedEnveloped(entity, []cms.Signer{{Certificate: cert, Key: key}}, []*x509.Certificate{cert}, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := message.Parse(out, nil)
	der, _ := MIMEData(m, m.Root)
	plain, _, err := cms.Decrypt(der, cert, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := message.Parse(plain, nil)
	if err != nil || !IsSigned(inner.Root) {
		t.Fatalf("%v\n%s", err, plain)
	}
}
