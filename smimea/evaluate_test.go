package smimea

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"
)

// pki is a root CA, an intermediate CA under it, and hugh@example.com's
// certificate under the intermediate.
type pki struct {
	root, inter *issuer
	leaf        *x509.Certificate
	roots       *x509.CertPool
}

func newPKI(t testing.TB) *pki {
	t.Helper()
	root := newCA(t, "Test Root", nil)
	inter := newCA(t, "Test Intermediate", root)
	roots := x509.NewCertPool()
	roots.AddCert(root.cert)
	return &pki{root: root, inter: inter, leaf: newLeaf(t, inter, leafSpec{}), roots: roots}
}

func TestEvaluateUsages(t *testing.T) {
	p := newPKI(t)
	stranger := newCA(t, "Unrelated CA", nil)
	otherLeaf := newLeaf(t, p.inter, leafSpec{})
	withRoots := &Options{Roots: p.roots, Now: testNow}
	noRoots := &Options{Roots: x509.NewCertPool(), Now: testNow}
	chain := []*x509.Certificate{p.inter.cert}

	rec := func(c *x509.Certificate, u, s, m uint8) Record { return mustRecord(t, c, u, s, m) }
	for _, tc := range []struct {
		name   string
		record Record
		chain  []*x509.Certificate
		opts   *Options
		want   error // nil: the record vouches for the leaf
	}{
		// DANE-EE: the DNS binds the certificate; no roots, no chain needed.
		{"3 0 0", rec(p.leaf, 3, 0, 0), nil, noRoots, nil},
		{"3 1 1", rec(p.leaf, 3, 1, 1), nil, noRoots, nil},
		{"3 0 2", rec(p.leaf, 3, 0, 2), nil, noRoots, nil},
		{"3 1 1 of another certificate", rec(otherLeaf, 3, 1, 1), nil, noRoots, ErrNoMatch},

		// PKIX-EE: matches the leaf and validates to the roots.
		{"1 1 1", rec(p.leaf, 1, 1, 1), chain, withRoots, nil},
		{"1 0 0", rec(p.leaf, 1, 0, 0), chain, withRoots, nil},
		{"1 1 1 without the roots", rec(p.leaf, 1, 1, 1), chain, noRoots, ErrPathValidation},
		{"1 1 1 without the intermediate", rec(p.leaf, 1, 1, 1), nil, withRoots, ErrPathValidation},
		{"1 1 1 of another certificate", rec(otherLeaf, 1, 1, 1), chain, withRoots, ErrNoMatch},

		// PKIX-TA: a CA on the validated path; the roots still required.
		{"0 0 1 of the root", rec(p.root.cert, 0, 0, 1), chain, withRoots, nil},
		{"0 1 1 of the intermediate", rec(p.inter.cert, 0, 1, 1), chain, withRoots, nil},
		{"0 0 1 of an unrelated CA", rec(stranger.cert, 0, 0, 1), chain, withRoots, ErrNoMatch},
		{"0 0 1 of the leaf", rec(p.leaf, 0, 0, 1), chain, withRoots, ErrNoMatch},
		{"0 0 1 of the root without the roots", rec(p.root.cert, 0, 0, 1), chain, noRoots, ErrPathValidation},

		// DANE-TA: the record names the anchor; the usual roots do not matter.
		{"2 0 1 of the intermediate", rec(p.inter.cert, 2, 0, 1), chain, noRoots, nil},
		{"2 1 1 of the intermediate", rec(p.inter.cert, 2, 1, 1), chain, noRoots, nil},
		{"2 0 1 of the root in the chain", rec(p.root.cert, 2, 0, 1), []*x509.Certificate{p.inter.cert, p.root.cert}, noRoots, nil},
		{"2 0 0 of the root, not in the chain", rec(p.root.cert, 2, 0, 0), chain, noRoots, nil},
		{"2 0 1 of the root, not in the chain", rec(p.root.cert, 2, 0, 1), chain, noRoots, ErrNoMatch},
		{"2 0 0 of the intermediate, nothing in the chain", rec(p.inter.cert, 2, 0, 0), nil, noRoots, nil},
		{"2 0 0 of the root, intermediate missing", rec(p.root.cert, 2, 0, 0), nil, noRoots, ErrPathValidation},
		{"2 0 1 of an unrelated CA in the chain", rec(stranger.cert, 2, 0, 1), []*x509.Certificate{p.inter.cert, stranger.cert}, noRoots, ErrPathValidation},
		{"2 0 0 of the leaf", rec(p.leaf, 2, 0, 0), chain, noRoots, ErrNoMatch},
		{"2 0 1 of another leaf in the chain", rec(otherLeaf, 2, 0, 1), []*x509.Certificate{p.inter.cert, otherLeaf}, noRoots, ErrPathValidation},
	} {
		got, err := Evaluate([]Record{tc.record}, "hugh@example.com", p.leaf, tc.chain, tc.opts)
		switch {
		case tc.want == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want == nil && !got.Equal(tc.record):
			t.Errorf("%s: returned another record", tc.name)
		case tc.want != nil && !errors.Is(err, tc.want):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		res := EvaluateAll([]Record{tc.record}, "hugh@example.com", p.leaf, tc.chain, tc.opts)
		if len(res) != 1 || res[0].Matched() != (tc.want == nil) || (tc.want != nil && !errors.Is(res[0].Err, tc.want)) {
			t.Errorf("%s: EvaluateAll = %+v", tc.name, res)
		}
	}
}

// TestS49_CertificateForAnotherAddress: a record that matches the
// certificate does not make it the address's: the certificate must name
// the address asked for, local part exactly.
func TestS49_CertificateForAnotherAddress(t *testing.T) {
	alice := newLeaf(t, nil, leafSpec{emails: []string{"alice@example.com"}})
	opts := &Options{Now: testNow}
	records := []Record{mustRecord(t, alice, UsageDANEEE, SelectorCert, MatchingFull)}
	_, err := Evaluate(records, "hugh@example.com", alice, nil, opts)
	var me *MismatchError
	if !errors.As(err, &me) || !errors.Is(err, ErrAddressMismatch) {
		t.Fatalf("Evaluate = %v, want a MismatchError", err)
	}
	if me.Addr != "hugh@example.com" || len(me.Certificate) != 1 || me.Certificate[0] != "alice@example.com" {
		t.Errorf("MismatchError = %+v", me)
	}
	if !strings.Contains(err.Error(), "for alice@example.com, not hugh@example.com") {
		t.Errorf("message: %v", err)
	}
	if _, _, err := CertificateFor(records, "hugh@example.com", opts); !errors.Is(err, ErrAddressMismatch) {
		t.Errorf("CertificateFor = %v", err)
	}
	for _, res := range EvaluateAll(records, "hugh@example.com", alice, nil, opts) {
		if !errors.Is(res.Err, ErrAddressMismatch) {
			t.Errorf("EvaluateAll: %v", res.Err)
		}
	}

	// Case: the local part must be equal as written; the domain need not.
	hugh := newLeaf(t, nil, leafSpec{emails: []string{"hugh@EXAMPLE.com"}})
	records = []Record{mustRecord(t, hugh, UsageDANEEE, SelectorSPKI, MatchingSHA256)}
	if _, err := Evaluate(records, "hugh@example.COM", hugh, nil, opts); err != nil {
		t.Errorf("domain case: %v", err)
	}
	if _, err := Evaluate(records, "Hugh@example.com", hugh, nil, opts); !errors.Is(err, ErrAddressMismatch) {
		t.Errorf("Hugh vs hugh: %v", err)
	}
	fb, _ := LowerCaseFallback("Hugh@example.com")
	if _, err := Evaluate(records, fb, hugh, nil, opts); err != nil {
		t.Errorf("the fallback address %s: %v", fb, err)
	}
	// Same address, quoted in the certificate: the same mailbox.
	quoted := newLeaf(t, nil, leafSpec{emails: []string{`"hugh"@example.com`}})
	if err := CheckCertificate(quoted, "hugh@example.com", opts); err != nil {
		t.Errorf("quoted SAN: %v", err)
	}
	// A SAN that names a sub-domain or another local part is not enough.
	for _, san := range []string{"hugh@mail.example.com", "hugh.x@example.com", "xhugh@example.com", "hugh@example.com.evil.test"} {
		c := newLeaf(t, nil, leafSpec{emails: []string{san}})
		if err := CheckCertificate(c, "hugh@example.com", opts); !errors.Is(err, ErrAddressMismatch) {
			t.Errorf("SAN %s: %v", san, err)
		}
	}
}

func TestCertificateAddresses(t *testing.T) {
	opts := &Options{Now: testNow}
	// Legacy: only the subject's emailAddress, no SAN.
	legacy := newLeaf(t, nil, leafSpec{noEmails: true, subjectEmail: "hugh@example.com"})
	if err := CheckCertificate(legacy, "hugh@example.com", opts); err != nil {
		t.Errorf("legacy emailAddress: %v", err)
	}
	// With SANs the subject's emailAddress is not looked at.
	both := newLeaf(t, nil, leafSpec{emails: []string{"alice@example.com"}, subjectEmail: "hugh@example.com"})
	if err := CheckCertificate(both, "hugh@example.com", opts); !errors.Is(err, ErrAddressMismatch) {
		t.Errorf("SAN and subject disagree: %v", err)
	}
	if got := CertificateAddresses(both); len(got) != 1 || got[0] != "alice@example.com" {
		t.Errorf("CertificateAddresses = %q", got)
	}
	// No address at all.
	none := newLeaf(t, nil, leafSpec{noEmails: true})
	err := CheckCertificate(none, "hugh@example.com", opts)
	if !errors.Is(err, ErrAddressMismatch) || !strings.Contains(err.Error(), "names no email address") {
		t.Errorf("no address: %v", err)
	}
	// RFC 9598 SmtpUTF8Mailbox, for a non-ASCII local part; the domain
	// in U-labels matches the A-labels of the address and vice versa.
	intl := newLeaf(t, nil, leafSpec{noEmails: true, utf8Mailbox: "hélène@bücher.example"})
	if got := CertificateAddresses(intl); len(got) != 1 || got[0] != "hélène@bücher.example" {
		t.Errorf("CertificateAddresses = %q", got)
	}
	for _, addr := range []string{"hélène@bücher.example", "hélène@xn--bcher-kva.example", "he\u0301le\u0300ne@bücher.example"} {
		if err := CheckCertificate(intl, addr, opts); err != nil {
			t.Errorf("%s: %v", addr, err)
		}
	}
	if err := CheckCertificate(intl, "helene@bücher.example", opts); !errors.Is(err, ErrAddressMismatch) {
		t.Errorf("helene: %v", err)
	}
	if CertificateAddresses(nil) != nil {
		t.Error("CertificateAddresses(nil)")
	}
}

func TestCheckCertificateUsable(t *testing.T) {
	opts := &Options{Now: testNow}
	for _, tc := range []struct {
		name   string
		spec   leafSpec
		reason string
	}{
		{"expired", leafSpec{notAfter: testNow.Add(-time.Hour)}, "expired on"},
		{"signing only", leafSpec{keyUsage: x509.KeyUsageDigitalSignature}, "keyAgreement"},
		{"server auth only", leafSpec{extKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, "emailProtection"},
		{"Ed25519", leafSpec{ed25519: true, keyUsage: x509.KeyUsageDigitalSignature}, "Ed25519 key cannot encrypt"},
		{"CA", leafSpec{isCA: true, keyUsage: x509.KeyUsageCertSign | x509.KeyUsageKeyAgreement}, "CA certificate"},
	} {
		c := newLeaf(t, nil, tc.spec)
		err := CheckCertificate(c, "hugh@example.com", opts)
		var ue *UnusableError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnusable) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: %v, want an UnusableError about %q", tc.name, err, tc.reason)
		}
		// Evaluate refuses it even for a DANE-EE record that matches.
		if _, err := Evaluate([]Record{mustRecord(t, c, 3, 0, 0)}, "hugh@example.com", c, nil, opts); !errors.Is(err, ErrUnusable) {
			t.Errorf("%s: Evaluate = %v", tc.name, err)
		}
	}
	// Not yet valid, at the given clock.
	c := newLeaf(t, nil, leafSpec{})
	if err := CheckCertificate(c, "hugh@example.com", &Options{Now: testNotBefore.Add(-time.Minute)}); !errors.Is(err, ErrUnusable) {
		t.Errorf("not yet valid: %v", err)
	}
	// anyExtendedKeyUsage and no EKU at all are fine.
	for _, eku := range [][]x509.ExtKeyUsage{{x509.ExtKeyUsageAny}, {}} {
		if err := CheckCertificate(newLeaf(t, nil, leafSpec{extKeyUsage: eku}), "hugh@example.com", opts); err != nil {
			t.Errorf("EKU %v: %v", eku, err)
		}
	}
	if err := CheckCertificate(nil, "hugh@example.com", opts); !errors.Is(err, ErrNoCertificate) {
		t.Errorf("nil: %v", err)
	}
	if err := CheckCertificate(c, "hugh", opts); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("bad address: %v", err)
	}
}

func TestEvaluateErrorPrecedence(t *testing.T) {
	p := newPKI(t)
	opts := &Options{Roots: x509.NewCertPool(), Now: testNow}
	chain := []*x509.Certificate{p.inter.cert}
	malformed := Record{Usage: 3, Selector: 0, MatchingType: 1, Data: []byte{1, 2, 3}}
	noMatch := mustRecord(t, newLeaf(t, nil, leafSpec{}), 3, 1, 1)
	pathFails := mustRecord(t, p.leaf, 1, 1, 1) // no roots
	good := mustRecord(t, p.leaf, 3, 1, 1)

	check := func(name string, records []Record, want error) {
		t.Helper()
		_, err := Evaluate(records, "hugh@example.com", p.leaf, chain, opts)
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", name, err, want)
		}
	}
	check("only malformed", []Record{malformed, malformed}, ErrMalformedRecord)
	check("malformed and no match", []Record{malformed, noMatch}, ErrNoMatch)
	check("no match and path failure", []Record{noMatch, pathFails}, ErrPathValidation)
	check("no records", nil, ErrNoMatch)
	if got, err := Evaluate([]Record{malformed, noMatch, pathFails, good}, "hugh@example.com", p.leaf, chain, opts); err != nil || !got.Equal(good) {
		t.Errorf("one good record among bad ones: %v", err)
	}
	res := EvaluateAll([]Record{malformed, noMatch, pathFails, good}, "hugh@example.com", p.leaf, chain, opts)
	wants := []error{ErrMalformedRecord, ErrNoMatch, ErrPathValidation, nil}
	for i, r := range res {
		if (wants[i] == nil) != r.Matched() || wants[i] != nil && !errors.Is(r.Err, wants[i]) {
			t.Errorf("EvaluateAll[%d] = %v, want %v", i, r.Err, wants[i])
		}
	}
	// A bad leaf: malformed records stay malformed, the others carry the
	// leaf's error.
	alice := newLeaf(t, nil, leafSpec{emails: []string{"alice@example.com"}})
	res = EvaluateAll([]Record{malformed, good}, "hugh@example.com", alice, nil, opts)
	if !errors.Is(res[0].Err, ErrMalformedRecord) || !errors.Is(res[1].Err, ErrAddressMismatch) {
		t.Errorf("EvaluateAll with another's certificate: %v, %v", res[0].Err, res[1].Err)
	}
	// The messages say which record and why.
	_, err := Evaluate([]Record{noMatch}, "hugh@example.com", p.leaf, nil, opts)
	if err == nil || err.Error() != "smimea: the record for hugh@example.com does not match the certificate" {
		t.Errorf("message: %v", err)
	}
	_, err = Evaluate([]Record{pathFails}, "hugh@example.com", p.leaf, chain, opts)
	var pe *PathError
	if !errors.As(err, &pe) || pe.Usage != UsagePKIXEE || !strings.HasPrefix(err.Error(), "smimea: PKIX-EE record: the certificate path does not validate: ") {
		t.Errorf("PathError: %v", err)
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("the PathError does not unwrap to x509's error: %v", err)
	}
}

func TestCertificateFor(t *testing.T) {
	p := newPKI(t)
	opts := &Options{Roots: x509.NewCertPool(), Now: testNow}
	// "3 0 0": the usual record carries the certificate.
	cert, rec, err := CertificateFor([]Record{mustRecord(t, p.leaf, 3, 0, 0)}, "hugh@example.com", opts)
	if err != nil || !cert.Equal(p.leaf) || rec.Usage != 3 {
		t.Fatalf("3 0 0: %v", err)
	}
	// A DANE-TA record carries the intermediate, a PKIX-EE one the leaf;
	// without PKIX roots the PKIX-EE record fails but the DANE-TA vouches.
	records := []Record{mustRecord(t, p.leaf, 1, 0, 0), mustRecord(t, p.inter.cert, 2, 0, 0)}
	cert, rec, err = CertificateFor(records, "hugh@example.com", opts)
	if err != nil || !cert.Equal(p.leaf) || rec.Usage != UsageDANETA {
		t.Fatalf("1 0 0 + 2 0 0: %v, %+v", err, rec)
	}
	// Digests only: the sender cannot learn the certificate from them.
	_, _, err = CertificateFor([]Record{mustRecord(t, p.leaf, 3, 1, 1)}, "hugh@example.com", opts)
	if !errors.Is(err, ErrNoCertificate) {
		t.Errorf("3 1 1 only: %v", err)
	}
	// Two end-entity certificates, the first another person's: the second wins.
	alice := newLeaf(t, nil, leafSpec{emails: []string{"alice@example.com"}})
	records = []Record{mustRecord(t, alice, 3, 0, 0), mustRecord(t, p.leaf, 3, 0, 0)}
	if cert, _, err := CertificateFor(records, "hugh@example.com", opts); err != nil || !cert.Equal(p.leaf) {
		t.Errorf("two certificates: %v", err)
	}
	if _, _, err := CertificateFor(records[:1], "hugh@example.com", opts); !errors.Is(err, ErrAddressMismatch) {
		t.Errorf("only alice's: %v", err)
	}
	if _, _, err := CertificateFor(records, "not an address", opts); !errors.Is(err, ErrInvalidAddress) {
		t.Errorf("bad address: %v", err)
	}
}
