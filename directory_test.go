package securemail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/internal/testkit"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/smimea"
)

// dirCert makes a self-signed encryption certificate for the addresses.
func dirCert(t *testing.T, addrs ...string) *x509.Certificate {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial++
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: addrs[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		EmailAddresses: addrs, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

// smimeaRR is the 3 0 0 SMIMEA record of cert published for addr.
func smimeaRR(t *testing.T, addr string, cert *x509.Certificate) dns.RR {
	t.Helper()
	name, err := smimea.OwnerName(addr)
	if err != nil {
		t.Fatal(err)
	}
	r, err := smimea.NewRecord(cert, 3, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := r.ToRR(name, 300, dns.TypeSMIMEA)
	if err != nil {
		t.Fatal(err)
	}
	return rr
}

// testDirectory serves a hierarchy with rrs and returns a Directory that
// validates from its anchor.
func testDirectory(t *testing.T, rrs ...dns.RR) *Directory {
	t.Helper()
	h, err := testkit.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Add(rrs...); err != nil {
		t.Fatal(err)
	}
	srv, err := h.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	anchors, err := h.AnchorRRs()
	if err != nil {
		t.Fatal(err)
	}
	r, err := dnssec.New(&dnssec.Options{Server: srv.Addr(), Anchors: anchors})
	if err != nil {
		t.Fatal(err)
	}
	return &Directory{Resolver: r}
}

// S40: only a secure answer is usable; insecure is reported, not used;
// bogus is an error of its own; FindKeys stores only what is usable.
func TestS40_DirectoryUsesOnlySecureAnswers(t *testing.T) {
	carol := dirCert(t, "carol@example.test")
	ina := dirCert(t, "ina@unsigned.test")
	eve := dirCert(t, "eve@expired.test")
	d := testDirectory(t, smimeaRR(t, "carol@example.test", carol), smimeaRR(t, "ina@unsigned.test", ina), smimeaRR(t, "eve@expired.test", eve))
	ctx := context.Background()

	k, err := d.SMIMEA(ctx, "carol@example.test")
	if err != nil || !k.Usable() || !k.Certificate.Equal(carol) || k.DNSSEC != dnssec.Secure || !k.Records[0].Matched || k.TTL == 0 {
		t.Fatalf("carol: %+v, %v", k, err)
	}
	k, err = d.SMIMEA(ctx, "ina@unsigned.test")
	if err != nil || k.Usable() || k.DNSSEC != dnssec.Insecure || !k.Found() || k.Certificate != nil || k.Problem == "" {
		t.Fatalf("ina (unsigned zone): %+v, %v", k, err)
	}
	k, err = d.SMIMEA(ctx, "eve@expired.test")
	if err != nil || k.Usable() || k.DNSSEC != dnssec.Bogus || k.Certificate != nil {
		t.Fatalf("eve (expired signatures): %+v, %v", k, err)
	}
	k, err = d.SMIMEA(ctx, "nobody@example.test")
	if err != nil || k.Usable() || k.Found() || k.DNSSEC != dnssec.Secure {
		t.Fatalf("nobody: %+v, %v", k, err)
	}

	st, err := keystore.Open(filepath.Join(t.TempDir(), "ks"), nil)
	if err != nil {
		t.Fatal(err)
	}
	smime := &SMIME{Store: st}
	has := func(a string) bool { return smime.CanEncryptTo([]string{a}) }
	looks, err := d.FindKeys(ctx, st, keystore.SMIME, []string{"carol@example.test", "ina@unsigned.test", "nobody@example.test"}, has)
	if err != nil || len(looks) != 3 {
		t.Fatalf("FindKeys: %d lookups, %v", len(looks), err)
	}
	if !has("carol@example.test") || has("ina@unsigned.test") || has("nobody@example.test") {
		t.Fatal("FindKeys stored the wrong certificates")
	}
	e := st.Lookup("carol@example.test")
	if len(e) != 1 || e[0].Source != keystore.SMIMEA || e[0].DNSSEC != "secure" || e[0].TTL == 0 || !e[0].PinnedFor("carol@example.test") {
		t.Fatalf("carol's entry: %+v", e)
	}
	var bogus *BogusError
	if _, err := d.FindKeys(ctx, st, keystore.SMIME, []string{"eve@expired.test"}, has); !errors.As(err, &bogus) {
		t.Fatalf("bogus answer: %v", err)
	}
	if has("eve@expired.test") {
		t.Fatal("a bogus answer's certificate was stored")
	}
}

// S49: the owner name hashes the local part only, and a record that
// vouches for a certificate of another address is not usable for this one.
func TestS49_DirectoryAddressMustMatch(t *testing.T) {
	other := dirCert(t, "mallory@example.test")
	upper := dirCert(t, "hugh@example.test")
	d := testDirectory(t, smimeaRR(t, "bob@example.test", other), smimeaRR(t, "hugh@example.test", upper))
	k, err := d.SMIMEA(context.Background(), "bob@example.test")
	if err != nil || k.Usable() || !k.Found() || k.Records[0].Matched || k.Problem == "" {
		t.Fatalf("bob with mallory's certificate: %+v, %v", k, err)
	}
	want, _ := smimea.OwnerName("bob@example.test")
	if k.Name != want || k.Name == dns.Fqdn(mustSMIMEAName(t, "bob@example.test")) {
		t.Fatalf("owner name %s, want %s", k.Name, want)
	}
	// Hugh@ as written finds nothing; hugh@ does, and the report says so.
	k, err = d.SMIMEA(context.Background(), "Hugh@example.test")
	if err != nil || !k.Usable() || !k.LowerCased || k.Asked != "hugh@example.test" {
		t.Fatalf("Hugh: %+v, %v", k, err)
	}
}

// mustSMIMEAName is miekg's name for the whole address, which S49 forbids.
func mustSMIMEAName(t *testing.T, addr string) string {
	name, err := dns.SMIMEAName(addr, "example.test")
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// A DNS key past its TTL is looked up again: still vouched for, it is
// refreshed; no longer vouched for, it is not used (StaleError).
func TestDirectoryRevalidatesStaleKeys(t *testing.T) {
	carol := dirCert(t, "carol@example.test")
	d := testDirectory(t, smimeaRR(t, "carol@example.test", carol))
	now := time.Now()
	d.Now = func() time.Time { return now }
	ctx := context.Background()
	st, err := keystore.Open(filepath.Join(t.TempDir(), "ks"), &keystore.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	smime := &SMIME{Store: st, Now: func() time.Time { return now }}
	has := func(a string) bool { return smime.CanEncryptTo([]string{a}) }
	if _, err := d.FindKeys(ctx, st, keystore.SMIME, []string{"carol@example.test"}, has); err != nil || !has("carol@example.test") {
		t.Fatal(err)
	}
	e := st.Lookup("carol@example.test")[0]
	if d.Stale(e) {
		t.Fatal("fresh entry is stale")
	}
	now = now.Add(time.Duration(e.TTL+1) * time.Second)
	if !d.Stale(e) {
		t.Fatal("entry past its TTL is not stale")
	}
	if _, err := d.FindKeys(ctx, st, keystore.SMIME, []string{"carol@example.test"}, has); err != nil {
		t.Fatal(err)
	}
	e2 := st.Lookup("carol@example.test")[0]
	if d.Stale(e2) || !e2.Obtained.After(e.Obtained) {
		t.Fatalf("not refreshed: obtained %v then %v", e.Obtained, e2.Obtained)
	}
	// The DNS now says nothing for carol (another hierarchy without her).
	d2 := testDirectory(t)
	d2.Now = d.Now
	now = now.Add(time.Duration(e.TTL+1) * time.Second)
	var stale *StaleError
	if _, err := d2.FindKeys(ctx, st, keystore.SMIME, []string{"carol@example.test"}, has); !errors.As(err, &stale) {
		t.Fatalf("withdrawn record: %v", err)
	}
	if !bytes.Contains([]byte(stale.Error()), []byte("no longer vouches")) {
		t.Fatal(stale.Error())
	}
}
