package smimea

import (
	"errors"
	"fmt"
	"strings"
)

// The kinds of error the package returns. Each error it returns matches
// exactly one of them with errors.Is; the struct errors below carry the
// details.
var (
	// ErrInvalidAddress: the address is not an addr-spec that can name a
	// DNS record (*AddressError).
	ErrInvalidAddress = errors.New("smimea: invalid email address")
	// ErrMalformedRecord: a record is not valid SMIMEA/TLSA data, or uses
	// a parameter this package does not implement (*RecordError).
	ErrMalformedRecord = errors.New("smimea: malformed record")
	// ErrNoMatch: no record matches the certificate (*NoMatchError).
	ErrNoMatch = errors.New("smimea: no record matches the certificate")
	// ErrAddressMismatch: the certificate is not issued to the address
	// asked for (*MismatchError, S49).
	ErrAddressMismatch = errors.New("smimea: the certificate is not for the address")
	// ErrPathValidation: a PKIX-TA, PKIX-EE or DANE-TA record matches but
	// the certificate path does not validate (*PathError).
	ErrPathValidation = errors.New("smimea: certificate path validation failed")
	// ErrUnusable: the certificate is for the address but cannot be used
	// to encrypt to it: key usage, extended key usage, key type, validity
	// period, or a CA certificate (*UnusableError).
	ErrUnusable = errors.New("smimea: the certificate cannot be used for encryption")
	// ErrNoCertificate: a record holds a digest or a bare public key, not
	// a certificate, or no record carries an end-entity certificate.
	ErrNoCertificate = errors.New("smimea: the record does not carry a certificate")
)

// AddressError reports an address that cannot name a record.
type AddressError struct {
	Addr   string // the address as given
	Reason string // why it is refused
}

// Error says what is wrong, for a person.
func (e *AddressError) Error() string {
	return fmt.Sprintf("smimea: %q is not a valid email address: %s", e.Addr, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidAddress) true.
func (e *AddressError) Is(target error) bool { return target == ErrInvalidAddress }

// RecordError reports a malformed or unsupported record.
type RecordError struct {
	Reason string
}

// Error says what is wrong, for a person.
func (e *RecordError) Error() string { return "smimea: malformed record: " + e.Reason }

// Is makes errors.Is(err, ErrMalformedRecord) true.
func (e *RecordError) Is(target error) bool { return target == ErrMalformedRecord }

func recordErrorf(format string, args ...any) error {
	return &RecordError{Reason: fmt.Sprintf(format, args...)}
}

// NoMatchError reports that no record matched the certificate.
type NoMatchError struct {
	Addr    string // the address asked for
	Records int    // how many records were tried
	// Reason says why, for the verdict on one record (in a [Result]).
	Reason string
}

// Error says what is wrong, for a person.
func (e *NoMatchError) Error() string {
	switch {
	case e.Reason != "":
		return "smimea: " + e.Reason
	case e.Records == 0:
		return fmt.Sprintf("smimea: no record for %s to match the certificate against", e.Addr)
	case e.Records == 1:
		return fmt.Sprintf("smimea: the record for %s does not match the certificate", e.Addr)
	}
	return fmt.Sprintf("smimea: none of the %d records for %s matches the certificate", e.Records, e.Addr)
}

// Is makes errors.Is(err, ErrNoMatch) true.
func (e *NoMatchError) Is(target error) bool { return target == ErrNoMatch }

// MismatchError reports a certificate that does not name the address
// asked for (S49).
type MismatchError struct {
	Addr string // the address asked for
	// Certificate lists the addresses the certificate does name: its
	// rfc822Name and SmtpUTF8Mailbox alternative names, or the subject's
	// emailAddress when it has neither. Empty when it names none.
	Certificate []string
}

// Error says what is wrong, for a person.
func (e *MismatchError) Error() string {
	if len(e.Certificate) == 0 {
		return fmt.Sprintf("smimea: the certificate names no email address, so it is not %s's", e.Addr)
	}
	return fmt.Sprintf("smimea: the certificate is for %s, not %s", strings.Join(e.Certificate, ", "), e.Addr)
}

// Is makes errors.Is(err, ErrAddressMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrAddressMismatch }

// PathError reports a record that matched but whose PKIX or DANE-TA path
// validation failed.
type PathError struct {
	Usage uint8 // the record's certificate usage
	Err   error // from crypto/x509, or why no anchor could be used
}

// Error says what is wrong, for a person.
func (e *PathError) Error() string {
	return fmt.Sprintf("smimea: %s record: the certificate path does not validate: %v", UsageName(e.Usage), e.Err)
}

// Is makes errors.Is(err, ErrPathValidation) true.
func (e *PathError) Is(target error) bool { return target == ErrPathValidation }

// Unwrap returns the underlying validation error.
func (e *PathError) Unwrap() error { return e.Err }

// UnusableError reports a certificate that cannot be used to encrypt.
type UnusableError struct {
	Reason string
}

// Error says what is wrong, for a person.
func (e *UnusableError) Error() string {
	return "smimea: the certificate cannot be used for encryption: " + e.Reason
}

// Is makes errors.Is(err, ErrUnusable) true.
func (e *UnusableError) Is(target error) bool { return target == ErrUnusable }
