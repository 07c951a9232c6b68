package smimea

import (
	"crypto/x509"
	"testing"
)

func BenchmarkOwnerName(b *testing.B) {
	for b.Loop() {
		if _, err := OwnerName("hugh@example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseRecord reads a "3 0 0" zone line: a whole certificate in
// hex, parsed and checked.
func BenchmarkParseRecord(b *testing.B) {
	leaf := newLeaf(b, nil, leafSpec{})
	line := mustRecord(b, leaf, 3, 0, 0).ZoneLine(hughLabel+"._smimecert.example.com.", 3600, "SMIMEA")
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := ParseRecord(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCertificateFor is the work after a DNSSEC-secure answer: find
// the certificate in a "3 0 0" record and check it is the address's.
func BenchmarkCertificateFor(b *testing.B) {
	leaf := newLeaf(b, nil, leafSpec{})
	records := []Record{mustRecord(b, leaf, 3, 0, 0)}
	opts := &Options{Now: testNow}
	for b.Loop() {
		if _, _, err := CertificateFor(records, "hugh@example.com", opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateDANETA validates a path to a DANE-TA anchor.
func BenchmarkEvaluateDANETA(b *testing.B) {
	p := newPKI(b)
	records := []Record{mustRecord(b, p.inter.cert, 2, 1, 1)}
	opts := &Options{Now: testNow}
	chain := p.inter.cert
	for b.Loop() {
		if _, err := Evaluate(records, "hugh@example.com", p.leaf, []*x509.Certificate{chain}, opts); err != nil {
			b.Fatal(err)
		}
	}
}
