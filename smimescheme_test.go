package securemail

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/smime"
	"github.com/securemail/securemail/smime/cms"
)

// testCA issues S/MIME certificates for the tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

var serial int64 = 100

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: key}
}

// issue makes a key and certificate for addr; change may alter the
// template (expiry, EKU).
func (ca *testCA) issue(t *testing.T, addr string, change func(*x509.Certificate)) (*ecdsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: addr},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(12 * time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: []string{addr},
	}
	if change != nil {
		change(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return key, c
}

func certPEM(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func keyPEM(t *testing.T, k any) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// smimeStores makes alice's and bob's keystores, each with its identity
// issued by one CA they both trust, and the other's certificate.
func smimeStores(t *testing.T) (alice, bob *keystore.Store, ca *testCA) {
	t.Helper()
	ca = newTestCA(t)
	dir := t.TempDir()
	certs := map[string]*x509.Certificate{}
	stores := map[string]*keystore.Store{}
	for _, name := range []string{"alice", "bob"} {
		s, err := keystore.Open(filepath.Join(dir, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		k, c := ca.issue(t, name+"@example.org", nil)
		in := append(certPEM(c), keyPEM(t, k)...)
		if _, err := s.Import([]keystore.Input{{Name: name, Data: in}}, &keystore.ImportOptions{NoPassphrase: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AddTrustAnchor(keystore.Input{Name: "ca", Data: certPEM(ca.cert)}); err != nil {
			t.Fatal(err)
		}
		certs[name], stores[name] = c, s
	}
	for from, to := range map[string]string{"alice": "bob", "bob": "alice"} {
		if _, err := stores[to].Import([]keystore.Input{{Name: from, Data: certPEM(certs[from])}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	return stores["alice"], stores["bob"], ca
}

func TestSMIMEProtectOpenRoundTrip(t *testing.T) {
	aliceStore, bobStore, _ := smimeStores(t)
	for _, pol := range []Policy{{Sign: true}, {Encrypt: true}, {Sign: true, Encrypt: true}} {
		// GCM as if Bob had advertised it (see TestS05_SMIMEAlgorithmFromCapabilities).
		gcm := &smime.Options{Algorithm: cms.AES256GCM}
		raw, err := Protect(draft(), pol, &ProtectOptions{Protectors: []Protector{&SMIME{Store: aliceStore, Options: gcm}}})
		if err != nil {
			t.Fatalf("%+v: %v", pol, err)
		}
		if pol.Encrypt && (bytes.Contains(raw, []byte("Meet at noon")) || bytes.Contains(raw, []byte("Secret plans"))) {
			t.Fatalf("%+v: plaintext outside:\n%s", pol, raw)
		}
		if pol.Encrypt && !bytes.Contains(raw, []byte("smime-type=authEnveloped-data")) {
			t.Fatalf("%+v: not authEnveloped:\n%s", pol, raw)
		}
		if !pol.Encrypt && (!bytes.Contains(raw, []byte(`protocol="application/pkcs7-signature"`)) || !bytes.Contains(raw, []byte(`micalg=sha-256`))) {
			t.Fatalf("%+v: wrong multipart/signed:\n%s", pol, raw)
		}
		for name, st := range map[string]*keystore.Store{"bob": bobStore, "alice": aliceStore} {
			rep, view, err := Open(raw, &OpenOptions{Handlers: []Handler{&PGP{Store: st}, &SMIME{Store: st}}})
			if err != nil {
				t.Fatalf("%+v %s: %v", pol, name, err)
			}
			if view.Body != "Meet at noon.\n" || headerOf(view, "Subject") != "Secret plans" {
				t.Fatalf("%+v %s: view %+v\n%s", pol, name, view, raw)
			}
			wantEnc := "none"
			if pol.Encrypt {
				wantEnc = "smime"
			}
			if rep.Encryption.Kind != wantEnc || (pol.Encrypt && !(rep.Encryption.OK && rep.Encryption.Integrity && rep.Encryption.Algorithm == "AES-256-GCM")) {
				t.Fatalf("%+v %s: encryption %+v", pol, name, rep.Encryption)
			}
			if pol.Sign != (len(rep.Signatures) == 1) || (pol.Sign && !rep.Verified()) {
				t.Fatalf("%+v %s: report %+v", pol, name, rep)
			}
			if pol.Sign {
				s := rep.Signatures[0]
				if s.Kind != "smime" || s.Signer != "alice@example.org" || !regexp.MustCompile(`^[0-9A-F]{64}$`).MatchString(s.Fingerprint) {
					t.Fatalf("%+v %s: signature %+v", pol, name, s)
				}
			}
			if rep.Failed() {
				t.Fatalf("%+v %s: failed %+v", pol, name, rep)
			}
		}
	}
}

// signedBy makes a multipart/signed message from addr with the signer's
// key and certificate given.
func signedBy(t *testing.T, from string, signers []cms.Signer, extra *cms.SignOptions) []byte {
	t.Helper()
	entity := []byte("Content-Type: text/plain; charset=us-ascii\r\n\r\nHello.\r\n")
	var body []byte
	var err error
	if extra == nil {
		body, err = smime.WrapSigned(entity, signers, nil)
	} else {
		var sig []byte
		if extra.Detached {
			sig, err = cms.SignDetached(bytes.NewReader(entity), signers, extra)
		} else {
			sig, err = cms.Sign(entity, signers, extra)
		}
		if err == nil {
			body, err = message.ComposeMultipart(rand.Reader, "multipart/signed",
				[][2]string{{"protocol", smime.SignatureType}, {"micalg", "sha-256"}},
				[][]byte{entity, append([]byte("Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n"), base64.StdEncoding.EncodeToString(sig)...)})
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte("From: "+from+"\r\nTo: bob@example.org\r\nSubject: hi\r\nMIME-Version: 1.0\r\n"), body...)
}

func openWith(t *testing.T, st *keystore.Store, raw []byte) *Report {
	t.Helper()
	rep, _, err := Open(raw, &OpenOptions{Handlers: []Handler{&SMIME{Store: st}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func errText(s SignatureReport) string {
	if s.Error == nil {
		return ""
	}
	return *s.Error
}

// S13: an untrusted signer is not valid, and the report says why.
func TestS13_S23_SMIMEUntrustedOrOtherSigner(t *testing.T) {
	_, bobStore, ca := smimeStores(t)
	other := newTestCA(t)
	cases := []struct {
		name string
		ca   *testCA
		tmpl func(*x509.Certificate)
		want string
	}{
		{"untrusted chain", other, nil, "does not chain"},
		{"no EKU", ca, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }, "email protection"},
		{"expired", ca, func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
		}, "expired"},
	}
	for _, tc := range cases {
		k, c := tc.ca.issue(t, "carol@example.org", tc.tmpl)
		raw := signedBy(t, "carol@example.org", []cms.Signer{{Certificate: c, Key: k}}, nil)
		rep := openWith(t, bobStore, raw)
		if len(rep.Signatures) != 1 || rep.Signatures[0].Valid || !strings.Contains(errText(rep.Signatures[0]), tc.want) || !rep.Failed() {
			t.Errorf("%s: %+v %q", tc.name, rep.Signatures, errText(rep.Signatures[0]))
		}
	}
	// S23: trusted, but for another address than From.
	k, c := ca.issue(t, "carol@example.org", nil)
	rep := openWith(t, bobStore, signedBy(t, "alice@example.org", []cms.Signer{{Certificate: c, Key: k}}, nil))
	if rep.Signatures[0].Valid || rep.Signatures[0].MatchesFrom || !rep.Failed() {
		t.Errorf("From mismatch: %+v", rep.Signatures)
	}
}

// S11: one good and one bad signer are reported each on its own.
func TestS11_SMIMETwoSigners(t *testing.T) {
	_, bobStore, ca := smimeStores(t)
	other := newTestCA(t)
	k1, c1 := ca.issue(t, "carol@example.org", nil)
	k2, c2 := other.issue(t, "carol@example.org", nil)
	rep := openWith(t, bobStore, signedBy(t, "carol@example.org", []cms.Signer{{Certificate: c1, Key: k1}, {Certificate: c2, Key: k2}}, nil))
	// DER sorts the signerInfos: count rather than rely on order.
	valid := 0
	for _, s := range rep.Signatures {
		if s.Valid {
			valid++
		}
	}
	if len(rep.Signatures) != 2 || valid != 1 || !rep.Failed() || rep.Verified() {
		t.Fatalf("%+v", rep.Signatures)
	}
}

// S10: eContent inside a multipart/signed is an error, not a signature.
func TestS10_SMIMEContentInsideMultipartSigned(t *testing.T) {
	_, bobStore, ca := smimeStores(t)
	k, c := ca.issue(t, "carol@example.org", nil)
	rep := openWith(t, bobStore, signedBy(t, "carol@example.org", []cms.Signer{{Certificate: c, Key: k}}, &cms.SignOptions{}))
	if len(rep.Signatures) != 1 || rep.Signatures[0].Valid || !rep.Failed() {
		t.Fatalf("%+v", rep.Signatures)
	}
}

// A changed body does not verify; the certificate of a correct
// signature is offered to the keystore with provenance message (S28).
func TestS28_S14_SMIMETamperAndCertificateFromMessage(t *testing.T) {
	_, bobStore, ca := smimeStores(t)
	k, c := ca.issue(t, "carol@example.org", nil)
	raw := signedBy(t, "carol@example.org", []cms.Signer{{Certificate: c, Key: k}}, nil)
	bad := bytes.Replace(raw, []byte("Hello."), []byte("Hellp."), 1)
	rep := openWith(t, bobStore, bad)
	if rep.Signatures[0].Valid || !rep.Failed() {
		t.Fatalf("tampered: %+v", rep.Signatures)
	}
	if _, ok := bobStore.Get(keystore.CertificateFingerprint(c.Raw)); ok {
		t.Fatal("certificate of an invalid signature was imported")
	}
	rep = openWith(t, bobStore, raw)
	if !rep.Verified() || rep.Signatures[0].KeySource != "message" {
		t.Fatalf("good: %+v", rep.Signatures)
	}
	e, ok := bobStore.Get(keystore.CertificateFingerprint(c.Raw))
	if !ok || e.Source != keystore.Message {
		t.Fatalf("certificate not kept with provenance message: %+v %v", e, ok)
	}
	// A signer certificate for another address than From is not kept.
	k2, c2 := ca.issue(t, "dave@example.org", nil)
	openWith(t, bobStore, signedBy(t, "carol@example.org", []cms.Signer{{Certificate: c2, Key: k2}}, nil))
	if _, ok := bobStore.Get(keystore.CertificateFingerprint(c2.Raw)); ok {
		t.Fatal("certificate for another address was imported")
	}
}

// S12: a SignedData without signers is unsigned.
func TestS12_SMIMEZeroSigners(t *testing.T) {
	_, bobStore, _ := smimeStores(t)
	// ContentInfo { signedData, [0] { v1, {}, { data }, {} } } by hand:
	// cms.Sign refuses to make one.
	sd, err := asn1.Marshal(struct {
		Version int
		Digests asn1.RawValue
		Encap   struct{ Type asn1.ObjectIdentifier }
		Signers asn1.RawValue
	}{1, asn1.RawValue{Class: 0, Tag: 17, IsCompound: true}, struct{ Type asn1.ObjectIdentifier }{cms.OIDData}, asn1.RawValue{Class: 0, Tag: 17, IsCompound: true}})
	if err != nil {
		t.Fatal(err)
	}
	ci, err := asn1.Marshal(struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue
	}{cms.OIDSignedData, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sd}})
	if err != nil {
		t.Fatal(err)
	}
	entity := []byte("Content-Type: text/plain\r\n\r\nHello.\r\n")
	body, err := message.ComposeMultipart(rand.Reader, "multipart/signed",
		[][2]string{{"protocol", smime.SignatureType}, {"micalg", "sha-256"}},
		[][]byte{entity, append([]byte("Content-Type: application/pkcs7-signature\r\nContent-Transfer-Encoding: base64\r\n\r\n"), base64.StdEncoding.EncodeToString(ci)...)})
	if err != nil {
		t.Fatal(err)
	}
	raw := append([]byte("From: carol@example.org\r\nMIME-Version: 1.0\r\n"), body...)
	rep := openWith(t, bobStore, raw)
	if len(rep.Signatures) != 0 || rep.Verified() {
		t.Fatalf("%+v %s", rep, errText(rep.Signatures[0]))
	}
}

// S05: CBC EnvelopedData is reported without integrity, warned about,
// and its HTML is not rendered.
func TestS05_SMIMECBCNoHTML(t *testing.T) {
	aliceStore, bobStore, _ := smimeStores(t)
	d := draft()
	d.HTML = "<p>Meet at <b>noon</b></p>"
	raw, err := Protect(d, Policy{Encrypt: true}, &ProtectOptions{Protectors: []Protector{&SMIME{Store: aliceStore, Options: &smime.Options{Algorithm: cms.AES256CBC}}}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("smime-type=enveloped-data")) {
		t.Fatalf("%s", raw)
	}
	rep, view, err := Open(raw, &OpenOptions{Handlers: []Handler{&SMIME{Store: bobStore}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encryption.Kind != "smime" || !rep.Encryption.OK || rep.Encryption.Integrity || rep.Encryption.Algorithm != "AES-256-CBC" || !rep.Failed() {
		t.Fatalf("%+v", rep.Encryption)
	}
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "integrity") {
		t.Fatalf("no warning: %v", rep.Warnings)
	}
	_ = view
	// An HTML-only message under CBC is not rendered.
	in := []byte("From: alice@example.org\r\nTo: bob@example.org\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<p>Visit evil</p>\r\n")
	raw, err = ProtectMessage(in, Policy{Encrypt: true}, nil, "", &ProtectOptions{Protectors: []Protector{&SMIME{Store: aliceStore, Options: &smime.Options{Algorithm: cms.AES256CBC}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, view, err = Open(raw, &OpenOptions{Handlers: []Handler{&SMIME{Store: bobStore}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(view.Body, "Visit evil") {
		t.Fatalf("HTML rendered from CBC content: %q", view.Body)
	}
	// The same under GCM is rendered.
	raw, err = ProtectMessage(in, Policy{Encrypt: true}, nil, "", &ProtectOptions{Protectors: []Protector{&SMIME{Store: aliceStore, Options: &smime.Options{Algorithm: cms.AES256GCM}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, view, err = Open(raw, &OpenOptions{Handlers: []Handler{&SMIME{Store: bobStore}}})
	if err != nil || !strings.Contains(view.Body, "Visit evil") {
		t.Fatalf("%v %q", err, view.Body)
	}
}

// Decryption without a matching identity says so; a tampered GCM message
// yields nothing.
func TestSMIMEDecryptFailures(t *testing.T) {
	aliceStore, bobStore, _ := smimeStores(t)
	raw, err := Protect(draft(), Policy{Encrypt: true}, &ProtectOptions{Protectors: []Protector{&SMIME{Store: aliceStore, Options: &smime.Options{Algorithm: cms.AES256GCM}}}})
	if err != nil {
		t.Fatal(err)
	}
	carol, err := keystore.Open(filepath.Join(t.TempDir(), "carol"), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, view, err := Open(raw, &OpenOptions{Handlers: []Handler{&SMIME{Store: carol}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encryption.OK || rep.Encryption.Err != ErrNoSMIMEIdentity || view.Body != "" {
		t.Fatalf("%+v %q", rep.Encryption, view.Body)
	}
	// Flip a byte of the ciphertext inside the base64.
	m, _ := message.Parse(raw, nil)
	der, _ := m.TransferDecode(m.Root)
	der[len(der)-40] ^= 1
	bad := append(raw[:m.Root.BodyStart:m.Root.BodyStart], base64.StdEncoding.EncodeToString(der)...)
	rep, view, err = Open(bad, &OpenOptions{Handlers: []Handler{&SMIME{Store: bobStore}}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Encryption.OK || !rep.Failed() || view.Body != "" {
		t.Fatalf("%+v %q", rep.Encryption, view.Body)
	}
}

// The scheme is chosen by what the recipients have.
func TestSMIMEAutoScheme(t *testing.T) {
	aliceStore, _, _ := smimeStores(t)
	in := []byte("From: alice@example.org\r\nTo: bob@example.org\r\nSubject: x\r\n\r\nhi\r\n")
	out, err := ProtectMessage(in, Policy{Encrypt: true}, nil, "", &ProtectOptions{Protectors: []Protector{&PGP{Store: aliceStore}, &SMIME{Store: aliceStore}}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(out, []byte("application/pkcs7-mime")) {
		t.Fatalf("%s", out)
	}
}

// RFC 8551 §2.7 and S05: mail goes out as AES-GCM only to recipients who
// advertised it in a verified signed message; to others as AES-CBC, which
// every agent reads. Bob's capabilities are learnt from his signed mail.
func TestS05_SMIMEAlgorithmFromCapabilities(t *testing.T) {
	aliceStore, bobStore, _ := smimeStores(t)
	alg := func() string {
		t.Helper()
		raw, err := Protect(draft(), Policy{Encrypt: true, Sign: true}, &ProtectOptions{Protectors: []Protector{&SMIME{Store: aliceStore}}})
		if err != nil {
			t.Fatal(err)
		}
		rep, _, err := Open(raw, &OpenOptions{Handlers: []Handler{&SMIME{Store: bobStore}}})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Failed() {
			t.Fatalf("%+v", rep)
		}
		return rep.Encryption.Algorithm
	}
	if got := alg(); got != "AES-256-CBC" {
		t.Fatalf("capabilities unknown: %s, want AES-256-CBC", got)
	}
	// Bob writes to Alice, signed: his smimeCapabilities reach her store.
	d := draft()
	d.From, d.To = d.To[0], []*mail.Address{d.From}
	signed, err := Protect(d, Policy{Sign: true}, &ProtectOptions{Protectors: []Protector{&SMIME{Store: bobStore}}})
	if err != nil {
		t.Fatal(err)
	}
	rep, _, err := Open(signed, &OpenOptions{Handlers: []Handler{&SMIME{Store: aliceStore}}})
	if err != nil || !rep.Verified() {
		t.Fatalf("%v %+v", err, rep)
	}
	e := aliceStore.Lookup("bob@example.org")
	if len(e) == 0 || !e[0].AESGCM || !e[0].RSAOAEP {
		t.Fatalf("capabilities not recorded: %+v", e)
	}
	if got := alg(); got != "AES-256-GCM" {
		t.Fatalf("capabilities known: %s, want AES-256-GCM", got)
	}
}

// A signature carries the intermediate CA from the signer's keystore, so
// a reader who trusts only the root can build the path.
func TestSMIMESignatureCarriesIntermediates(t *testing.T) {
	root := newTestCA(t)
	ikey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	itmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "Test Intermediate"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	ider, err := x509.CreateCertificate(rand.Reader, itmpl, root.cert, &ikey.PublicKey, root.key)
	if err != nil {
		t.Fatal(err)
	}
	icert, _ := x509.ParseCertificate(ider)
	inter := &testCA{cert: icert, key: ikey}
	k, c := inter.issue(t, "alice@example.org", nil)

	dir := t.TempDir()
	alice, err := keystore.Open(filepath.Join(dir, "alice"), nil)
	if err != nil {
		t.Fatal(err)
	}
	in := append(append(certPEM(c), keyPEM(t, k)...), certPEM(icert)...)
	if _, err := alice.Import([]keystore.Input{{Name: "alice", Data: in}}, &keystore.ImportOptions{NoPassphrase: true}); err != nil {
		t.Fatal(err)
	}
	// The root is in alice's store too (as a trust anchor): it is left out.
	if _, err := alice.AddTrustAnchor(keystore.Input{Name: "root", Data: certPEM(root.cert)}); err != nil {
		t.Fatal(err)
	}
	scheme := &SMIME{Store: alice}
	if chain := scheme.Chain(c); len(chain) != 1 || !chain[0].Equal(icert) {
		t.Fatalf("Chain = %d certificates, want the intermediate only", len(chain))
	}
	if chain := scheme.Chain(root.cert); len(chain) != 0 {
		t.Fatalf("Chain(root) = %d certificates", len(chain))
	}
	bob, err := keystore.Open(filepath.Join(dir, "bob"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AddTrustAnchor(keystore.Input{Name: "root", Data: certPEM(root.cert)}); err != nil {
		t.Fatal(err)
	}
	raw, err := Protect(draft(), Policy{Sign: true}, &ProtectOptions{Protectors: []Protector{scheme}})
	if err != nil {
		t.Fatal(err)
	}
	rep := openWith(t, bob, raw)
	if !rep.Verified() || len(rep.Signatures) != 1 || rep.Signatures[0].Signer != "alice@example.org" {
		t.Fatalf("bob, trusting the root only: %+v", rep.Signatures)
	}
}
