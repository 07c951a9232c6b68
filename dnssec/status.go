// Package dnssec is a validating stub resolver: it asks a recursive
// resolver for an answer with the DO bit, then proves the answer itself,
// walking the chain of trust down from trust anchors (the IANA root KSKs,
// or anchors given by the caller). The resolver's AD bit is never trusted.
//
// miekg/dns supplies the wire format and the check of one RRSIG over one
// RRset; the chain walk, the denial-of-existence proofs, the signer-name
// and validity-window checks and the work limits are this package's.
package dnssec

import "fmt"

// Status is the outcome of validating an answer (RFC 4035 §4.3).
type Status int

const (
	// Indeterminate: the answer could not be obtained or judged (a
	// timeout, a SERVFAIL from the resolver, a work limit hit before any
	// verdict). Not usable; may succeed later.
	Indeterminate Status = iota
	// Secure: a chain of signed DNSKEY, DS and RRSIG records leads from a
	// trust anchor to the answer, or to a proof that there is none.
	Secure
	// Insecure: a proven absence of DS records (or algorithms this
	// validator does not implement, or NSEC3 opt-out or too many NSEC3
	// iterations) leaves the answer unsigned. It may be true; nothing
	// vouches for it.
	Insecure
	// Bogus: the answer should be signed and is not, or its signatures or
	// proofs are wrong. An attack or a broken zone; never used.
	Bogus
)

var statusNames = [...]string{
	Indeterminate: "indeterminate",
	Secure:        "secure",
	Insecure:      "insecure",
	Bogus:         "bogus",
}

// String returns the lower-case name used in reports and JSON.
func (s Status) String() string {
	if s < 0 || int(s) >= len(statusNames) {
		return fmt.Sprintf("Status(%d)", int(s))
	}
	return statusNames[s]
}

// MarshalText writes the name String returns.
func (s Status) MarshalText() ([]byte, error) {
	if s < 0 || int(s) >= len(statusNames) {
		return nil, fmt.Errorf("dnssec: invalid status %d", int(s))
	}
	return []byte(statusNames[s]), nil
}

// UnmarshalText reads a name MarshalText wrote.
func (s *Status) UnmarshalText(b []byte) error {
	for i, n := range statusNames {
		if string(b) == n {
			*s = Status(i)
			return nil
		}
	}
	return fmt.Errorf("dnssec: unknown status %q", b)
}
