package smime

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type certSpec struct {
	cn        string
	email     string
	ca        bool
	eku       []x509.ExtKeyUsage
	keyUsage  x509.KeyUsage
	notBefore time.Time
	notAfter  time.Time
}

// makeCert issues a certificate for spec, signed by parent (self-signed
// when parent is nil).
func makeCert(t *testing.T, spec certSpec, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: spec.cn},
		NotBefore:             spec.notBefore,
		NotAfter:              spec.notAfter,
		IsCA:                  spec.ca,
		BasicConstraintsValid: true,
		ExtKeyUsage:           spec.eku,
		KeyUsage:              spec.keyUsage,
	}
	if tmpl.NotBefore.IsZero() {
		tmpl.NotBefore = testNow.Add(-24 * time.Hour)
	}
	if tmpl.NotAfter.IsZero() {
		tmpl.NotAfter = testNow.Add(365 * 24 * time.Hour)
	}
	if spec.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if spec.email != "" {
		tmpl.EmailAddresses = []string{spec.email}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func leafSpec(email string) certSpec {
	return certSpec{cn: email, email: email, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, keyUsage: x509.KeyUsageDigitalSignature}
}

func TestCheckSignerGood(t *testing.T) {
	ca, caKey := makeCert(t, certSpec{cn: "Test CA", ca: true}, nil, nil)
	leaf, _ := makeCert(t, leafSpec("Alice@Example.org"), ca, caKey)
	v := CheckSigner(leaf, testNow.Add(-time.Minute), &Trust{Anchors: []*x509.Certificate{ca}, Now: func() time.Time { return testNow }})
	if !v.Trusted || len(v.Chain) != 2 || len(v.Emails) != 1 || v.Emails[0] != "alice@example.org" {
		t.Fatalf("%+v", v)
	}
	// An intermediate CA from the message completes the chain.
	mid, midKey := makeCert(t, certSpec{cn: "Mid CA", ca: true}, ca, caKey)
	leaf2, _ := makeCert(t, leafSpec("bob@example.org"), mid, midKey)
	v = CheckSigner(leaf2, time.Time{}, &Trust{Anchors: []*x509.Certificate{ca}, Intermediates: []*x509.Certificate{mid}, Now: func() time.Time { return testNow }})
	if !v.Trusted || len(v.Chain) != 3 {
		t.Fatalf("%+v", v)
	}
}

// S13: each way a signer's certificate can fail to be trusted, worded.
func TestS13_SignerCertificateTrust(t *testing.T) {
	ca, caKey := makeCert(t, certSpec{cn: "Test CA", ca: true}, nil, nil)
	other, otherKey := makeCert(t, certSpec{cn: "Other CA", ca: true}, nil, nil)
	selfSigned, _ := makeCert(t, leafSpec("alice@example.org"), nil, nil)
	notCA, notCAKey := makeCert(t, leafSpec("mallory@example.org"), ca, caKey)
	byLeaf, _ := makeCert(t, leafSpec("alice@example.org"), notCA, notCAKey)
	serverOnly := leafSpec("alice@example.org")
	serverOnly.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	noEKUServer, _ := makeCert(t, serverOnly, ca, caKey)
	expiredSpec := leafSpec("alice@example.org")
	expiredSpec.notBefore, expiredSpec.notAfter = testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour)
	expired, _ := makeCert(t, expiredSpec, ca, caKey)
	encOnlySpec := leafSpec("alice@example.org")
	encOnlySpec.keyUsage = x509.KeyUsageKeyEncipherment
	encOnly, _ := makeCert(t, encOnlySpec, ca, caKey)
	untrusted, _ := makeCert(t, leafSpec("alice@example.org"), other, otherKey)
	good, _ := makeCert(t, leafSpec("alice@example.org"), ca, caKey)

	trust := &Trust{Anchors: []*x509.Certificate{ca}, Intermediates: []*x509.Certificate{notCA}, Now: func() time.Time { return testNow }}
	for _, c := range []struct {
		name        string
		cert        *x509.Certificate
		signingTime time.Time
		want        string
	}{
		{"self-signed", selfSigned, time.Time{}, "self-signed"},
		{"leaf used as CA", byLeaf, time.Time{}, "without being a CA"},
		{"untrusted chain", untrusted, time.Time{}, "does not chain"},
		{"no emailProtection", noEKUServer, time.Time{}, "email protection"},
		{"expired", expired, time.Time{}, "expired"},
		{"signing time in the future", good, testNow.Add(48 * time.Hour), "in the future"},
		{"key usage", encOnly, time.Time{}, "key usage"},
		{"a CA as signer", ca, time.Time{}, "CA certificate"},
	} {
		v := CheckSigner(c.cert, c.signingTime, trust)
		if v.Trusted || !strings.Contains(strings.Join(v.Problems, "; "), c.want) {
			t.Errorf("%s: trusted=%v problems %q, want %q", c.name, v.Trusted, v.Problems, c.want)
		}
	}
	// No anchors at all: never trusted, and it says what to do.
	v := CheckSigner(good, time.Time{}, &Trust{Now: func() time.Time { return testNow }})
	if v.Trusted || !strings.Contains(strings.Join(v.Problems, ";"), "keys trust") {
		t.Errorf("no anchors: %+v", v)
	}
}

func TestCertificateEmailsFromSubject(t *testing.T) {
	c := &x509.Certificate{Subject: pkix.Name{Names: []pkix.AttributeTypeAndValue{{Type: []int{1, 2, 840, 113549, 1, 9, 1}, Value: "Carol@Example.org"}}}}
	if got := CertificateEmails(c); len(got) != 1 || got[0] != "carol@example.org" {
		t.Fatalf("%v", got)
	}
}

// S07: judging a signer fetches nothing. The leaf names its issuer's
// certificate (AIA), an OCSP responder and a CRL at a server that counts
// requests; the issuer is not given, so the chain is incomplete, and it
// must stay so: not trusted, and not one request.
func TestS07_CheckSignerFetchesNothing(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	root, rootKey := makeCert(t, certSpec{cn: "Root", ca: true}, nil, nil)
	mid, midKey := makeCert(t, certSpec{cn: "Mid", ca: true}, root, rootKey)
	spec := leafSpec("alice@example.org")
	leaf, _ := makeCert(t, spec, mid, midKey)
	leaf.IssuingCertificateURL = []string{srv.URL + "/mid.crt"}
	leaf.OCSPServer = []string{srv.URL + "/ocsp"}
	leaf.CRLDistributionPoints = []string{srv.URL + "/crl"}
	v := CheckSigner(leaf, time.Time{}, &Trust{Anchors: []*x509.Certificate{root}, Now: func() time.Time { return testNow }})
	if v.Trusted || hits.Load() != 0 {
		t.Fatalf("trusted=%v, %d requests", v.Trusted, hits.Load())
	}
}
