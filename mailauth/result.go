package mailauth

import "fmt"

// Result is an authentication result word of RFC 8601 §2.7: the closed
// set every method here reports in. The zero value is None.
type Result uint8

const (
	// None: nothing to evaluate (no signature, no record, no facts).
	None Result = iota
	// Pass: the method's check succeeded.
	Pass
	// Fail: the check was made and failed (a signature that does not
	// verify, an SPF -all match, a DMARC policy not met).
	Fail
	// SoftFail: SPF ~all: probably not authorised.
	SoftFail
	// Neutral: SPF ?all or no match: no assertion either way.
	Neutral
	// Policy: a DKIM signature that verifies but that local policy does
	// not accept (RFC 8601 §2.7.1): here, a message whose From field is
	// ambiguous (S32), or a signature beyond the work limit (S38).
	Policy
	// TempError: a temporary failure, typically DNS (timeout, SERVFAIL,
	// a DNSSEC-bogus answer); retrying later may give another result.
	TempError
	// PermError: a permanent error: a malformed signature or record, a
	// missing or revoked key, an algorithm or key size refused.
	PermError
)

var resultNames = [...]string{
	None:      "none",
	Pass:      "pass",
	Fail:      "fail",
	SoftFail:  "softfail",
	Neutral:   "neutral",
	Policy:    "policy",
	TempError: "temperror",
	PermError: "permerror",
}

// String returns the RFC 8601 word.
func (r Result) String() string {
	if int(r) >= len(resultNames) {
		return fmt.Sprintf("Result(%d)", int(r))
	}
	return resultNames[r]
}

// MarshalText writes the RFC 8601 word.
func (r Result) MarshalText() ([]byte, error) {
	if int(r) >= len(resultNames) {
		return nil, fmt.Errorf("mailauth: invalid result %d", int(r))
	}
	return []byte(resultNames[r]), nil
}

// UnmarshalText reads a word MarshalText wrote.
func (r *Result) UnmarshalText(b []byte) error {
	v, err := ParseResult(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// ParseResult reads an RFC 8601 result word, ignoring ASCII case.
// "hardfail", the obsolete synonym of fail (RFC 8601 §2.7.2), reads as
// Fail.
func ParseResult(s string) (Result, error) {
	for i, n := range resultNames {
		if equalFoldASCII(s, n) {
			return Result(i), nil
		}
	}
	if equalFoldASCII(s, "hardfail") {
		return Fail, nil
	}
	return None, fmt.Errorf("mailauth: unknown result %q", s)
}
