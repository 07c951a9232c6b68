// Package keystore holds a user's own secret keys (identities) and their
// contacts' OpenPGP keys and X.509 certificates, with where each came from.
//
// # Layout and crash safety
//
// A [Store] is a directory: index.json lists every key as an [Entry], and
// objects/ holds the key material under the SHA-256 of its content. Objects
// are written once (temp file, fsync, hard link: never overwriting) and the
// index is replaced atomically (temp file, fsync, rename, directory fsync)
// under an exclusive file lock, after re-reading it, so a process killed at
// any point leaves the previous store intact and concurrent importers all
// keep their keys. Files are created 0600 in 0700 directories.
//
// # Secret keys at rest
//
// Secret keys are sealed with a key derived by Argon2id ([DefaultKDF],
// RFC 9106) and AES-256-GCM, with the key's fingerprint as additional data.
// Unlocking ([Store.UnlockPGP], [Store.UnlockSMIME]) checks that the secret
// belongs to the stored public key, so tampered public parameters are
// refused ([IntegrityError]). Keys are stored without a passphrase only when
// the caller passes none explicitly.
//
// # Provenance and pinning
//
// Each entry records its [Source] (generated, imported, smimea, message),
// when it was obtained and from where, and the addresses it is pinned for.
// A key arriving for an address that already has a different pinned key of
// the same kind is kept but reported as a [Conflict], and pinned only when
// asked ([ImportOptions.Pin]). Keys are named by address or full
// fingerprint; short key IDs are refused ([ShortKeyIDError]).
//
// # Formats
//
// [Detect] recognises ASCII-armored and binary OpenPGP keys, PEM and DER
// certificates, PKCS#8 (plain or PBES2-encrypted, RFC 5958/8018), PKCS#1,
// SEC1 and PKCS#12. Exports are what GnuPG and OpenSSL read: OpenPGP secret
// keys protected with iterated+salted S2K (RFC 4880 §3.7.1.3) for GnuPG
// 2.2, encrypted PKCS#8 for openssl pkey, and PKCS#12 with AES-256-CBC and
// PBKDF2-SHA256.
package keystore
