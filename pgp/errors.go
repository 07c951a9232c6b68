package pgp

import (
	"fmt"
	"strings"
)

// IntegrityError says a message failed its integrity check, or had none:
// nothing of its plaintext was released (S03, S04).
type IntegrityError struct {
	Reason string
}

func (e *IntegrityError) Error() string {
	return "pgp: the message failed its integrity check: " + e.Reason + "; nothing of it was released"
}

// NoKeyError says none of the user's keys can decrypt a message.
type NoKeyError struct {
	// KeyIDs are the recipients' key IDs the message names (0000000000000000
	// for a hidden recipient).
	KeyIDs []string
	// Err is why an identity that could have decrypted could not be used
	// (a wrong passphrase, say), if one could.
	Err error
}

func (e *NoKeyError) Error() string {
	if e.Err != nil {
		return "pgp: cannot decrypt: " + e.Err.Error()
	}
	if len(e.KeyIDs) == 0 {
		return "pgp: the message is not encrypted to a public key"
	}
	return "pgp: no secret key for this message: it is encrypted to key " + strings.Join(e.KeyIDs, ", ")
}

func (e *NoKeyError) Unwrap() error { return e.Err }

// FormatError says the input is not a well-formed OpenPGP message.
type FormatError struct {
	Reason string
}

func (e *FormatError) Error() string { return "pgp: malformed OpenPGP data: " + e.Reason }

// RecipientError says a recipient has no usable encryption key.
type RecipientError struct {
	Recipient string // address or fingerprint
	Reason    string
}

func (e *RecipientError) Error() string {
	return fmt.Sprintf("pgp: no usable encryption key for %s: %s", e.Recipient, e.Reason)
}

// SignerError says the sender's key cannot sign.
type SignerError struct {
	Signer string
	Reason string
}

func (e *SignerError) Error() string {
	return fmt.Sprintf("pgp: key %s cannot sign: %s", e.Signer, e.Reason)
}

// UnsupportedError says the input uses an algorithm or format this
// implementation does not have.
type UnsupportedError struct {
	Reason string
}

func (e *UnsupportedError) Error() string { return "pgp: " + e.Reason }
