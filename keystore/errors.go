package keystore

import (
	"fmt"
	"strings"
)

// NotFoundError says no key matched a query (an address or a fingerprint).
type NotFoundError struct {
	Query string
}

func (e *NotFoundError) Error() string { return "keystore: no key for " + e.Query }

// AmbiguousError says a query matched several keys where one was needed.
type AmbiguousError struct {
	Query        string
	Fingerprints []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("keystore: %s matches %d keys (%s): give the full fingerprint", e.Query, len(e.Fingerprints), strings.Join(e.Fingerprints, ", "))
}

// FormatError says input could not be read as a key or certificate.
type FormatError struct {
	Source string // file name or "-" for standard input
	Reason string
}

func (e *FormatError) Error() string {
	if e.Source == "" {
		return "keystore: " + e.Reason
	}
	return "keystore: " + e.Source + ": " + e.Reason
}

// IntegrityError says stored or imported key material failed a consistency
// or authentication check: tampered public parameters (S54), a sealed key
// that does not authenticate, a store object whose hash does not match.
type IntegrityError struct {
	Fingerprint string
	Reason      string
}

func (e *IntegrityError) Error() string {
	if e.Fingerprint == "" {
		return "keystore: " + e.Reason
	}
	return "keystore: key " + e.Fingerprint + ": " + e.Reason
}

// RejectedError says a key was refused on import because it cannot be used:
// revoked, or expired without AllowExpired.
type RejectedError struct {
	Fingerprint string
	Reason      string
}

func (e *RejectedError) Error() string {
	return "keystore: key " + e.Fingerprint + " not imported: " + e.Reason
}

// ShortKeyIDError says a key was named by a short or long key ID instead of
// a full fingerprint; IDs of 32 or 64 bits collide and are never accepted.
type ShortKeyIDError struct {
	ID string
}

func (e *ShortKeyIDError) Error() string {
	return fmt.Sprintf("keystore: %q is not a full fingerprint (short key IDs collide)", e.ID)
}

// PassphraseError wraps a failure to obtain a passphrase.
type PassphraseError struct {
	Err error
}

func (e *PassphraseError) Error() string { return e.Err.Error() }
func (e *PassphraseError) Unwrap() error { return e.Err }

// SecretKeyError says a secret key would be deleted without the caller
// saying so.
type SecretKeyError struct {
	Fingerprint string
}

func (e *SecretKeyError) Error() string {
	return "keystore: " + e.Fingerprint + " is one of your secret keys: deleting it needs --secret"
}

// NotCAError says a certificate that is not a CA was offered as an S/MIME
// trust anchor.
type NotCAError struct {
	Fingerprint string
}

func (e *NotCAError) Error() string {
	return "keystore: certificate " + e.Fingerprint + " is not a CA certificate (basicConstraints cA is not set): only CAs can be trust anchors"
}
