// Package pgp is securemail's OpenPGP layer (RFC 9580, RFC 4880 for
// GnuPG 2.2 peers) and PGP/MIME (RFC 3156), on
// github.com/ProtonMail/go-crypto/openpgp/v2.
//
// Hybrid encryption: a fresh session key encrypts the data once (SEIPD
// v2 with AEAD when every recipient's key asks for it, SEIPD v1 with its
// modification detection code otherwise), and that key is encrypted to
// the encryption subkey of each recipient and of the sender. Signing
// happens in the same pass.
//
// Reading is strict. A message without integrity protection, or whose
// MDC or AEAD tag does not check, is an error and not one byte of its
// plaintext is released: Decrypt spools the plaintext (in memory, or
// encrypted under a throw-away key in an unlinked temporary file) until
// the whole message has been authenticated, and only then copies it to
// the caller (SECURITY.md S03, S04). Every signature gets its own verdict
// (S17); SHA-1 signatures are refused (S19); the signing key must have
// been valid when the signature was made (S20).
//
// Strings that come from a message (literal file names, user IDs) are
// returned as they are: callers escape them before display (S16), as
// the securemail pipeline does.
package pgp
