package smimea

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Certificate usages (RFC 6698 §2.1.1, names from RFC 7218).
const (
	// UsagePKIXTA (0): the data names a CA certificate on the PKIX path
	// of the end-entity certificate, which must also validate to the
	// usual trust anchors.
	UsagePKIXTA uint8 = 0
	// UsagePKIXEE (1): the data names the end-entity certificate, which
	// must also validate to the usual trust anchors.
	UsagePKIXEE uint8 = 1
	// UsageDANETA (2): the data names a certificate that is the trust
	// anchor of the end-entity certificate's path, in place of the usual
	// trust anchors.
	UsageDANETA uint8 = 2
	// UsageDANEEE (3): the data names the end-entity certificate; no path
	// validation.
	UsageDANEEE uint8 = 3
)

// Selectors (RFC 6698 §2.1.2): which part of a certificate the data is
// about.
const (
	// SelectorCert (0): the whole certificate, DER.
	SelectorCert uint8 = 0
	// SelectorSPKI (1): the SubjectPublicKeyInfo, DER.
	SelectorSPKI uint8 = 1
)

// Matching types (RFC 6698 §2.1.3): how the data presents the selected
// part.
const (
	// MatchingFull (0): the selected part itself.
	MatchingFull uint8 = 0
	// MatchingSHA256 (1): its SHA-256 digest.
	MatchingSHA256 uint8 = 1
	// MatchingSHA512 (2): its SHA-512 digest.
	MatchingSHA512 uint8 = 2
)

// maxData is the most certificate association data one record can hold:
// RDATA is at most 65535 octets, three of which are the parameters.
const maxData = 65535 - 3

// maxPresentation bounds the text ParseRecord reads: a full record in hex,
// with room for an owner name, line breaks and comments.
const maxPresentation = 4 * maxData

var (
	usageNames    = [...]string{"PKIX-TA", "PKIX-EE", "DANE-TA", "DANE-EE"}
	selectorNames = [...]string{"Cert", "SPKI"}
	matchingNames = [...]string{"Full", "SHA2-256", "SHA2-512"}
)

// UsageName returns the RFC 7218 name of a certificate usage ("DANE-EE"),
// or "usage N" for one this package does not implement.
func UsageName(u uint8) string {
	if int(u) < len(usageNames) {
		return usageNames[u]
	}
	return "usage " + strconv.Itoa(int(u))
}

// Record is the data of one SMIMEA (RFC 8162) or TLSA (RFC 6698) record:
// both types have the same RDATA.
type Record struct {
	Usage        uint8  // certificate usage: UsagePKIXTA … UsageDANEEE
	Selector     uint8  // SelectorCert or SelectorSPKI
	MatchingType uint8  // MatchingFull, MatchingSHA256 or MatchingSHA512
	Data         []byte // certificate association data
}

// Validate checks that the record is one this package can act on: usage
// 0 to 3, selector 0 or 1, matching type 0 to 2, a digest of the right
// length, and, for matching type 0, data that parses as a certificate
// (selector 0) or a SubjectPublicKeyInfo (selector 1). The private-use
// values 255 are refused: their meaning is not known here. Errors are
// *[RecordError].
func (r Record) Validate() error {
	if err := r.checkParams(); err != nil {
		return err
	}
	switch {
	case len(r.Data) == 0:
		return recordErrorf("the certificate association data is empty")
	case len(r.Data) > maxData:
		return recordErrorf("the certificate association data is %d octets, more than a record holds", len(r.Data))
	}
	switch r.MatchingType {
	case MatchingSHA256:
		if len(r.Data) != sha256.Size {
			return recordErrorf("a SHA-256 digest is 32 octets, not %d", len(r.Data))
		}
	case MatchingSHA512:
		if len(r.Data) != sha512.Size {
			return recordErrorf("a SHA-512 digest is 64 octets, not %d", len(r.Data))
		}
	case MatchingFull:
		if r.Selector == SelectorCert {
			if _, err := x509.ParseCertificate(r.Data); err != nil {
				return recordErrorf("the data is not a DER certificate: %v", err)
			}
		} else if err := checkSPKI(r.Data); err != nil {
			return err
		}
	}
	return nil
}

// checkParams checks the usage, selector and matching type.
func (r Record) checkParams() error {
	switch {
	case r.Usage == 255:
		return recordErrorf("certificate usage 255 (PrivCert) is for private use and has no meaning here")
	case r.Usage > UsageDANEEE:
		return recordErrorf("certificate usage %d is not defined (0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE)", r.Usage)
	case r.Selector == 255:
		return recordErrorf("selector 255 (PrivSel) is for private use and has no meaning here")
	case r.Selector > SelectorSPKI:
		return recordErrorf("selector %d is not defined (0 Cert, 1 SPKI)", r.Selector)
	case r.MatchingType == 255:
		return recordErrorf("matching type 255 (PrivMatch) is for private use and has no meaning here")
	case r.MatchingType > MatchingSHA512:
		return recordErrorf("matching type %d is not defined (0 Full, 1 SHA2-256, 2 SHA2-512)", r.MatchingType)
	}
	return nil
}

// checkSPKI checks that der is one DER SubjectPublicKeyInfo (RFC 5280
// §4.1): the structure only, so that keys of algorithms crypto/x509 does
// not know still parse.
func checkSPKI(der []byte) error {
	bad := recordErrorf("the data is not a DER SubjectPublicKeyInfo")
	in := cryptobyte.String(der)
	var spki, alg cryptobyte.String
	var oid asn1.ObjectIdentifier
	var key asn1.BitString
	if !in.ReadASN1(&spki, cbasn1.SEQUENCE) || !in.Empty() ||
		!spki.ReadASN1(&alg, cbasn1.SEQUENCE) ||
		!alg.ReadASN1ObjectIdentifier(&oid) ||
		!spki.ReadASN1BitString(&key) || !spki.Empty() || len(key.Bytes) == 0 {
		return bad
	}
	if !alg.Empty() { // the parameters: one value of any type
		var params cryptobyte.String
		var tag cbasn1.Tag
		if !alg.ReadAnyASN1Element(&params, &tag) || !alg.Empty() {
			return bad
		}
	}
	return nil
}

// NewRecord makes the record of cert with the given parameters: the whole
// certificate or its SubjectPublicKeyInfo (selector), as is or as a
// SHA-256 or SHA-512 digest (matching type).
func NewRecord(cert *x509.Certificate, usage, selector, matching uint8) (Record, error) {
	if cert == nil {
		return Record{}, recordErrorf("no certificate")
	}
	r := Record{Usage: usage, Selector: selector, MatchingType: matching}
	if err := r.checkParams(); err != nil {
		return Record{}, err
	}
	r.Data = digest(selected(cert, selector), matching)
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}

// selected is the part of cert a selector names, or nil.
func selected(cert *x509.Certificate, selector uint8) []byte {
	switch selector {
	case SelectorCert:
		return cert.Raw
	case SelectorSPKI:
		return cert.RawSubjectPublicKeyInfo
	}
	return nil
}

// digest presents b as a matching type asks: a copy, or a digest.
func digest(b []byte, matching uint8) []byte {
	switch matching {
	case MatchingSHA256:
		sum := sha256.Sum256(b)
		return sum[:]
	case MatchingSHA512:
		sum := sha512.Sum512(b)
		return sum[:]
	}
	return bytes.Clone(b)
}

// Matches reports whether the record's data is cert's: its DER or its
// SubjectPublicKeyInfo (selector), as is or hashed (matching type). It
// says nothing about the usage; see [Evaluate] for that.
func (r Record) Matches(cert *x509.Certificate) bool {
	if cert == nil || r.Selector > SelectorSPKI || len(r.Data) == 0 {
		return false
	}
	in := selected(cert, r.Selector)
	switch r.MatchingType {
	case MatchingFull:
		return bytes.Equal(in, r.Data)
	case MatchingSHA256, MatchingSHA512:
		return subtle.ConstantTimeCompare(digest(in, r.MatchingType), r.Data) == 1
	}
	return false
}

// Certificate returns the certificate a record carries whole (selector
// 0, matching type 0, as in the usual "3 0 0" SMIMEA record): the way a
// sender learns a recipient's certificate from the DNS. Other records
// hold a digest or a bare key: the error then matches [ErrNoCertificate].
// Using the certificate still takes [Evaluate].
func (r Record) Certificate() (*x509.Certificate, error) {
	if r.Selector != SelectorCert || r.MatchingType != MatchingFull {
		what := "the public key"
		if r.Selector == SelectorCert {
			what = "a digest of the certificate"
		}
		if r.Selector == SelectorSPKI && r.MatchingType != MatchingFull {
			what = "a digest of the public key"
		}
		return nil, fmt.Errorf("%w: it holds %s (%d %d %d)", ErrNoCertificate, what, r.Usage, r.Selector, r.MatchingType)
	}
	cert, err := x509.ParseCertificate(r.Data)
	if err != nil {
		return nil, recordErrorf("the data is not a DER certificate: %v", err)
	}
	return cert, nil
}

// Equal reports whether two records have the same parameters and data.
func (r Record) Equal(o Record) bool {
	return r.Usage == o.Usage && r.Selector == o.Selector && r.MatchingType == o.MatchingType && bytes.Equal(r.Data, o.Data)
}

// String returns the record's RDATA in presentation format: the three
// parameters in decimal and the data in lower-case hex, "3 1 1 29f3…".
func (r Record) String() string {
	return fmt.Sprintf("%d %d %d %s", r.Usage, r.Selector, r.MatchingType, hex.EncodeToString(r.Data))
}

// ZoneLine returns the record as one zone-file line (RFC 1035 §5.1):
//
//	owner [ttl] IN rrtype usage selector matching hex
//
// owner is written as given (pass a fully qualified name, as
// [OwnerName] and [TLSAName] return); a ttl of 0 is left out, so that the
// zone's $TTL applies; rrtype is "SMIMEA" or "TLSA". The data is one run
// of lower-case hex. [ParseRecord] reads the line back.
func (r Record) ZoneLine(owner string, ttl uint32, rrtype string) string {
	var b strings.Builder
	b.Grow(len(owner) + len(rrtype) + 2*len(r.Data) + 32)
	b.WriteString(owner)
	if ttl > 0 {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatUint(uint64(ttl), 10))
	}
	b.WriteString(" IN ")
	b.WriteString(strings.ToUpper(rrtype))
	b.WriteByte(' ')
	b.WriteString(r.String())
	return b.String()
}

// ToRR returns the record as a miekg/dns resource record of type
// dns.TypeSMIMEA or dns.TypeTLSA, class IN, for owner (fully qualified)
// and ttl.
func (r Record) ToRR(owner string, ttl uint32, rrtype uint16) (dns.RR, error) {
	hdr := dns.RR_Header{Name: owner, Rrtype: rrtype, Class: dns.ClassINET, Ttl: ttl}
	data := hex.EncodeToString(r.Data)
	switch rrtype {
	case dns.TypeSMIMEA:
		return &dns.SMIMEA{Hdr: hdr, Usage: r.Usage, Selector: r.Selector, MatchingType: r.MatchingType, Certificate: data}, nil
	case dns.TypeTLSA:
		return &dns.TLSA{Hdr: hdr, Usage: r.Usage, Selector: r.Selector, MatchingType: r.MatchingType, Certificate: data}, nil
	}
	return nil, fmt.Errorf("smimea: a record of type %s cannot hold SMIMEA or TLSA data", dns.Type(rrtype))
}

// FromRR reads the data of a *dns.SMIMEA or *dns.TLSA record and checks
// it with [Record.Validate].
func FromRR(rr dns.RR) (Record, error) {
	var r Record
	var data string
	switch v := rr.(type) {
	case *dns.SMIMEA:
		if v == nil {
			return Record{}, recordErrorf("no record")
		}
		r.Usage, r.Selector, r.MatchingType, data = v.Usage, v.Selector, v.MatchingType, v.Certificate
	case *dns.TLSA:
		if v == nil {
			return Record{}, recordErrorf("no record")
		}
		r.Usage, r.Selector, r.MatchingType, data = v.Usage, v.Selector, v.MatchingType, v.Certificate
	case nil:
		return Record{}, recordErrorf("no record")
	default:
		return Record{}, recordErrorf("a %s record is neither SMIMEA nor TLSA", dns.Type(rr.Header().Rrtype))
	}
	b, err := hex.DecodeString(data)
	if err != nil {
		return Record{}, recordErrorf("the data is not hexadecimal")
	}
	r.Data = b
	if err := r.Validate(); err != nil {
		return Record{}, err
	}
	return r, nil
}
