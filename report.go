package securemail

import "github.com/securemail/securemail/mailauth"

// Report is the verdict on a received message, in the JSON shape of
// CLI.md ("The JSON report").
type Report struct {
	Encryption EncryptionReport  `json:"encryption"`
	Signatures []SignatureReport `json:"signatures"`
	// From is the address of the single From field, or "" when there is
	// none or it is ambiguous (then Warnings say why).
	From string `json:"from"`
	// FromHeader is the From field as the message carries it (made safe for
	// display), so a person sees what was judged (S32).
	FromHeader string   `json:"from_header"`
	Warnings   []string `json:"warnings"`
	// Auth is the DKIM/SPF/DMARC/ARC verdict on the message as received,
	// when it was asked for (OpenOptions.Auth); nil otherwise.
	Auth *mailauth.Verdict `json:"auth"`
}

// EncryptionReport says how the root of the message was encrypted.
type EncryptionReport struct {
	Kind      string `json:"kind"` // "pgp", "smime" or "none"
	OK        bool   `json:"ok"`
	Integrity bool   `json:"integrity"`
	Algorithm string `json:"algorithm,omitempty"`
	// Partial: only part of the message was encrypted (an inline block
	// with text around it, S22); the rest is shown apart as unprotected.
	Partial bool    `json:"partial,omitempty"`
	Error   *string `json:"error"`
	// Err is the error behind Error, for callers that map it (to an exit
	// code, say).
	Err error `json:"-"`
}

// SignatureReport is the verdict on one signature.
type SignatureReport struct {
	Kind        string `json:"kind"` // "pgp" or "smime"
	Valid       bool   `json:"valid"`
	Signer      string `json:"signer"`
	Fingerprint string `json:"fingerprint"`
	// MatchesFrom: the signer's key or certificate carries the From
	// address (S23).
	MatchesFrom bool `json:"matches_from"`
	// CoversRoot: the signature covers the whole message, not a part of it
	// (S21).
	CoversRoot bool `json:"covers_root"`
	// KeySource says where the signer's key or certificate came from:
	// "keystore", "smimea", "message", or "" when unknown.
	KeySource string  `json:"key_source,omitempty"`
	Error     *string `json:"error"`
	// Emails are the addresses the signer's key or certificate carries;
	// Open compares them with the From address.
	Emails []string `json:"-"`
}

// Verified reports whether the message is what it claims: encryption (if
// any) intact, and every signature valid, covering the root and made by
// the From address. An unsigned, unencrypted message is not "verified"
// but not failed either; see Failed.
func (r *Report) Verified() bool {
	if r.encryptionFailed() || r.Encryption.Partial || len(r.Signatures) == 0 {
		return false
	}
	return r.signedWell()
}

// Failed reports whether a security verdict failed: a decryption
// failure, encryption without integrity (S/MIME CBC) that no valid
// signature makes up for, or a signature that is not valid, does not
// cover the message, or was not made by the sender (CLI.md exit code 1).
func (r *Report) Failed() bool {
	return r.encryptionFailed() || !r.signedWell()
}

// signedWell: every signature (none is fine) is valid, covers the root
// and was made by the From address.
func (r *Report) signedWell() bool {
	for _, s := range r.Signatures {
		if !s.Valid || !s.CoversRoot || !s.MatchesFrom {
			return false
		}
	}
	return true
}

// encryptionFailed: the message was encrypted and could not be read, or
// it carries no integrity protection of its own (S/MIME EnvelopedData,
// CBC) and no valid signature inside vouches for its content.
func (r *Report) encryptionFailed() bool {
	switch {
	case r.Encryption.Kind == "none":
		return false
	case !r.Encryption.OK:
		return true
	case !r.Encryption.Integrity:
		return len(r.Signatures) == 0 || !r.signedWell()
	}
	return false
}

func (r *Report) warn(w string) {
	for _, have := range r.Warnings {
		if have == w {
			return
		}
	}
	r.Warnings = append(r.Warnings, w)
}
