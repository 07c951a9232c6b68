package smimea

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// testNow is the fixed clock of the tests; the test certificates are
// valid from testNotBefore to testNotAfter.
var (
	testNow       = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	testNotBefore = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	testNotAfter  = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

var serial atomic.Int64

// issuer is a CA made in the test.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// newCA makes a CA certificate, self-signed when parent is nil.
func newCA(t testing.TB, name string, parent *issuer) *issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial.Add(1)),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             testNotBefore,
		NotAfter:              testNotAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	signerCert, signerKey := tmpl, crypto.Signer(key)
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, key.Public(), signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issuer{cert: cert, key: key}
}

// leafSpec describes an end-entity certificate; the zero value is an
// ECDSA P-256 certificate for hugh@example.com with keyAgreement and
// emailProtection.
type leafSpec struct {
	emails       []string // rfc822Name SANs; nil means hugh@example.com
	noEmails     bool     // no rfc822Name SAN at all
	subjectEmail string   // legacy emailAddress attribute in the subject
	utf8Mailbox  string   // an SmtpUTF8Mailbox otherName SAN
	keyUsage     x509.KeyUsage
	extKeyUsage  []x509.ExtKeyUsage
	notAfter     time.Time
	ed25519      bool
	isCA         bool
}

func newLeaf(t testing.TB, parent *issuer, s leafSpec) *x509.Certificate {
	t.Helper()
	var pub crypto.PublicKey
	var priv crypto.Signer
	if s.ed25519 {
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, priv = p, k
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub, priv = k.Public(), k
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: "Hugh"},
		NotBefore:    testNotBefore,
		NotAfter:     testNotAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	}
	switch {
	case s.noEmails:
	case s.emails == nil:
		tmpl.EmailAddresses = []string{"hugh@example.com"}
	default:
		tmpl.EmailAddresses = s.emails
	}
	if s.subjectEmail != "" {
		tmpl.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: oidPKCS9EmailAddress, Value: s.subjectEmail}}
	}
	if s.utf8Mailbox != "" {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, utf8MailboxSAN(t, s.utf8Mailbox))
	}
	if s.keyUsage != 0 {
		tmpl.KeyUsage = s.keyUsage
	}
	if s.extKeyUsage != nil {
		tmpl.ExtKeyUsage = s.extKeyUsage
	}
	if !s.notAfter.IsZero() {
		tmpl.NotAfter = s.notAfter
	}
	if s.isCA {
		tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
	}
	signerCert, signerKey := tmpl, priv
	if parent != nil {
		signerCert, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, pub, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// utf8MailboxSAN is a subjectAltName extension holding one
// SmtpUTF8Mailbox otherName (RFC 9598).
func utf8MailboxSAN(t testing.TB, mailbox string) pkix.Extension {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(names *cryptobyte.Builder) {
		names.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(on *cryptobyte.Builder) {
			on.AddASN1ObjectIdentifier(oidSmtpUTF8Mailbox)
			on.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(v *cryptobyte.Builder) {
				v.AddASN1(cbasn1.UTF8String, func(s *cryptobyte.Builder) { s.AddBytes([]byte(mailbox)) })
			})
		})
	})
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier(oidSubjectAltName), Value: der}
}

func mustRecord(t testing.TB, cert *x509.Certificate, usage, selector, matching uint8) Record {
	t.Helper()
	r, err := NewRecord(cert, usage, selector, matching)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
