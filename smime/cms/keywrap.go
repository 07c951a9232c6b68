package cms

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"errors"
)

// AES Key Wrap, RFC 3394 §2.2 (index-based formulation), with the default
// initial value A6A6A6A6A6A6A6A6 (§2.2.3.1).

var envKeyWrapIV = [8]byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}

// ErrKeyUnwrap is returned when an AES key unwrap fails its integrity check
// or the input has an invalid length.
var ErrKeyUnwrap = errors.New("cms: AES key unwrap failed")

// envAESKeyWrap wraps plaintext key data (a multiple of 8 octets, at least
// 16) under kek (16, 24 or 32 octets).
func envAESKeyWrap(kek, plaintext []byte) ([]byte, error) {
	if len(plaintext) < 16 || len(plaintext)%8 != 0 {
		return nil, errors.New("cms: key wrap input must be a multiple of 8 octets, at least 16")
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(plaintext) / 8
	out := make([]byte, 8+len(plaintext))
	copy(out[8:], plaintext) // R[1..n] live in out[8:]
	var a [8]byte
	copy(a[:], envKeyWrapIV[:])
	var b [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			r := out[8*i : 8*i+8]
			copy(b[:8], a[:])
			copy(b[8:], r)
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a[:], binary.BigEndian.Uint64(b[:8])^t)
			copy(r, b[8:])
		}
	}
	copy(out[:8], a[:])
	return out, nil
}

// envAESKeyUnwrap reverses envAESKeyWrap and checks the integrity value in
// constant time. Any failure yields ErrKeyUnwrap.
func envAESKeyUnwrap(kek, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < 24 || len(ciphertext)%8 != 0 {
		return nil, ErrKeyUnwrap
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(ciphertext)/8 - 1
	out := make([]byte, 8*n)
	copy(out, ciphertext[8:])
	var a [8]byte
	copy(a[:], ciphertext[:8])
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			r := out[8*(i-1) : 8*i]
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a[:])^t)
			copy(b[8:], r)
			block.Decrypt(b[:], b[:])
			copy(a[:], b[:8])
			copy(r, b[8:])
		}
	}
	if subtle.ConstantTimeCompare(a[:], envKeyWrapIV[:]) != 1 {
		clear(out)
		return nil, ErrKeyUnwrap
	}
	return out, nil
}
