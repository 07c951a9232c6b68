package keystore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the Argon2id parameters used to seal new secret keys. They
// are stored with each sealed key, so changing them never breaks old keys.
type KDFParams struct {
	Time    uint32 // passes
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultKDF is RFC 9106's second recommended Argon2id setting
// (t=3, m=64 MiB, p=4).
var DefaultKDF = KDFParams{Time: 3, Memory: 64 * 1024, Threads: 4}

// Limits on parameters read from disk, so a tampered file cannot make us
// allocate without bound.
const (
	maxKDFMemory = 1024 * 1024 // 1 GiB in KiB
	maxKDFTime   = 64
)

// Envelope layouts. A sealed key is
//
//	"SMSEAL1\n" | t u32 | m u32 | p u8 | salt[16] | check[16] | nonce[12] | AES-256-GCM(ciphertext)
//
// The key and a passphrase check value both come from Argon2id(passphrase,
// salt). The check tells a wrong passphrase (exit 2) apart from a tampered
// envelope (exit 1); it gives a guesser nothing the AEAD tag does not. The
// header and the fingerprint of the key are the GCM additional data, so an
// envelope cannot be moved to another entry unnoticed (S54).
//
// A key the user chose to keep without a passphrase is
//
//	"SMPLAIN1" | plaintext
var (
	sealMagic  = []byte("SMSEAL1\n")
	plainMagic = []byte("SMPLAIN1")
)

const (
	saltLen   = 16
	checkLen  = 16
	nonceLen  = 12
	headerLen = 8 + 4 + 4 + 1 + saltLen + checkLen + nonceLen
)

// ErrWrongPassphrase is returned when a passphrase does not unlock a key.
var ErrWrongPassphrase = errors.New("keystore: wrong passphrase")

// sealed reports whether an envelope is protected by a passphrase.
func sealed(envelope []byte) bool { return bytes.HasPrefix(envelope, sealMagic) }

func seal(rnd io.Reader, params KDFParams, passphrase, plaintext []byte, fingerprint string) ([]byte, error) {
	if passphrase == nil {
		return append(append([]byte{}, plainMagic...), plaintext...), nil
	}
	if len(passphrase) == 0 {
		return nil, errors.New("keystore: empty passphrase")
	}
	hdr := make([]byte, headerLen)
	copy(hdr, sealMagic)
	binary.BigEndian.PutUint32(hdr[8:], params.Time)
	binary.BigEndian.PutUint32(hdr[12:], params.Memory)
	hdr[16] = params.Threads
	salt := hdr[17 : 17+saltLen]
	if _, err := io.ReadFull(rnd, salt); err != nil {
		return nil, err
	}
	key, check := deriveKeys(passphrase, salt, params)
	copy(hdr[17+saltLen:], check)
	nonce := hdr[17+saltLen+checkLen:]
	if _, err := io.ReadFull(rnd, nonce); err != nil {
		return nil, err
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return aead.Seal(hdr, nonce, plaintext, additionalData(hdr, fingerprint)), nil
}

// open decrypts an envelope. A nil passphrase opens only plaintext
// envelopes; needPassphrase reports that one is required.
func open(envelope, passphrase []byte, fingerprint string) (plaintext []byte, err error) {
	if bytes.HasPrefix(envelope, plainMagic) {
		return envelope[len(plainMagic):], nil
	}
	if !sealed(envelope) || len(envelope) < headerLen+16 {
		return nil, &IntegrityError{Fingerprint: fingerprint, Reason: "secret key file is not a sealed key"}
	}
	if passphrase == nil {
		return nil, errNeedPassphrase
	}
	hdr := envelope[:headerLen]
	params := KDFParams{
		Time:    binary.BigEndian.Uint32(hdr[8:]),
		Memory:  binary.BigEndian.Uint32(hdr[12:]),
		Threads: hdr[16],
	}
	if params.Time == 0 || params.Time > maxKDFTime || params.Memory < 8 || params.Memory > maxKDFMemory || params.Threads == 0 {
		return nil, &IntegrityError{Fingerprint: fingerprint, Reason: fmt.Sprintf("implausible key derivation parameters t=%d m=%d p=%d", params.Time, params.Memory, params.Threads)}
	}
	salt := hdr[17 : 17+saltLen]
	key, check := deriveKeys(passphrase, salt, params)
	if subtle.ConstantTimeCompare(check, hdr[17+saltLen:17+saltLen+checkLen]) != 1 {
		return nil, ErrWrongPassphrase
	}
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := hdr[17+saltLen+checkLen:]
	pt, err := aead.Open(nil, nonce, envelope[headerLen:], additionalData(hdr, fingerprint))
	if err != nil {
		return nil, &IntegrityError{Fingerprint: fingerprint, Reason: "sealed secret key failed authentication (tampered or corrupt)"}
	}
	return pt, nil
}

var errNeedPassphrase = errors.New("keystore: a passphrase is needed")

func deriveKeys(passphrase, salt []byte, p KDFParams) (key, check []byte) {
	out := argon2.IDKey(passphrase, salt, p.Time, p.Memory, p.Threads, 32+32)
	sum := sha256.Sum256(out[32:])
	return out[:32], sum[:checkLen]
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func additionalData(hdr []byte, fingerprint string) []byte {
	ad := make([]byte, 0, len(hdr)+len(fingerprint))
	ad = append(ad, hdr...)
	return append(ad, fingerprint...)
}
