// Package pkcs8 encrypts and decrypts PKCS#8 private keys with PBES2 (RFC 8018).
//
// An encrypted key is an EncryptedPrivateKeyInfo (RFC 5958, section 3) whose
// encryptionAlgorithm is PBES2 (RFC 8018, section 6.2). [Encrypt] always
// produces PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC, which is what
// OpenSSL 3 produces by default and what `openssl pkey` reads.
//
// [Decrypt] accepts PBES2 with either PBKDF2 (RFC 8018, section 5.2; PRF
// hmacWithSHA1, hmacWithSHA224, hmacWithSHA256, hmacWithSHA384 or
// hmacWithSHA512) or scrypt (RFC 7914, section 7) as the key derivation
// function and aes128-CBC, aes192-CBC or aes256-CBC as the encryption scheme,
// and, for reading only, des-ede3-cbc (what OpenSSL 3.0's `req -newkey`
// writes by default). Everything else, including the PBES1 schemes of RFC 8018 section 6.1 and
// the PKCS#12 PBE schemes, is rejected with an [UnsupportedError].
//
// The input of [Decrypt] is treated as hostile: it is parsed as strict DER,
// the cost parameters of the key derivation functions are bounded so that a
// single call uses a bounded amount of time and memory, and the CBC padding is
// checked in constant time.
package pkcs8

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/pbkdf2"
	cryptorand "crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	encoding_asn1 "encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"io"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/scrypt"
)

// ErrIncorrectPassphrase is returned by [Decrypt] when the passphrase is
// wrong: the decrypted data has invalid padding or is not a PKCS#8
// PrivateKeyInfo.
var ErrIncorrectPassphrase = errors.New("pkcs8: incorrect passphrase")

// UnsupportedError is returned by [Decrypt] when the EncryptedPrivateKeyInfo
// is well formed but uses an algorithm (encryption scheme, key derivation
// function, pseudorandom function or cipher) this package does not implement.
// It is returned as a value; match it with
//
//	var ue pkcs8.UnsupportedError
//	if errors.As(err, &ue) { ... }
type UnsupportedError struct{ What string }

func (e UnsupportedError) Error() string { return "pkcs8: unsupported " + e.What }

var (
	errMalformed        = errors.New("pkcs8: malformed EncryptedPrivateKeyInfo")
	errMalformedPBES2   = errors.New("pkcs8: malformed PBES2 parameters")
	errMalformedPBKDF2  = errors.New("pkcs8: malformed PBKDF2 parameters")
	errMalformedScrypt  = errors.New("pkcs8: malformed scrypt parameters")
	errMalformedCipher  = errors.New("pkcs8: malformed encryption scheme parameters")
	errCiphertextLength = errors.New("pkcs8: encrypted data length is not a non-zero multiple of the block size")
	errKeyLength        = errors.New("pkcs8: key derivation function key length does not match the cipher key size")
	errIterations       = errors.New("pkcs8: PBKDF2 iteration count out of range")
	errScryptCost       = errors.New("pkcs8: scrypt cost parameters out of range")
	errNotPrivateKey    = errors.New("pkcs8: input is not a PKCS#8 PrivateKeyInfo")
)

// Object identifiers. These are never modified.
var (
	// RFC 8018, appendices A.2, A.4, B.1 and B.2.
	oidPBES2              = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2             = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACWithSHA1       = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidHMACWithSHA224     = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}
	oidHMACWithSHA256     = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidHMACWithSHA384     = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}
	oidHMACWithSHA512     = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	oidAES128CBC          = encoding_asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC          = encoding_asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC          = encoding_asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESEDE3CBC         = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidPKCS5              = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}     // PBES1 schemes are .1, .3, .4, .6, .10, .11
	oidPKCS12PBEAlgorithm = encoding_asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1} // PKCS#12 appendix C

	// RFC 7914, section 7.
	oidScrypt = encoding_asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11591, 4, 11}
)

const (
	// defaultIterations is the PBKDF2 iteration count used by Encrypt when
	// iterations is 0 (OWASP 2023 recommendation for PBKDF2-HMAC-SHA256).
	defaultIterations = 600000

	// maxIterations bounds the PBKDF2 iteration count accepted by Decrypt
	// (and produced by Encrypt).
	maxIterations = 10000000

	// maxScryptMemory bounds the memory scrypt may allocate, computed as
	// 128*r*(N+p+2) bytes, which covers the V, B and XY buffers.
	maxScryptMemory = 256 << 20

	// maxScryptWork bounds the total scrypt mixing work, 128*N*r*p bytes
	// of ROMix input, so that a large p cannot make a call run for minutes.
	maxScryptWork = 1 << 30

	saltSize  = 16
	blockSize = aes.BlockSize
)

// Encrypt wraps an unencrypted PKCS#8 PrivateKeyInfo (DER) into an
// EncryptedPrivateKeyInfo (DER): PBES2 with PBKDF2-HMAC-SHA256 (16-byte random
// salt, iterations iterations, 0 means 600000) and AES-256-CBC (random IV),
// PKCS#7 padding.
//
// Salt and IV are read from rand; if rand is nil, crypto/rand.Reader is used.
// privateKeyInfo must be a DER PrivateKeyInfo (or RFC 5958 OneAsymmetricKey),
// for example the output of x509.MarshalPKCS8PrivateKey.
func Encrypt(rand io.Reader, privateKeyInfo, passphrase []byte, iterations int) ([]byte, error) {
	if iterations == 0 {
		iterations = defaultIterations
	}
	if iterations < 0 || iterations > maxIterations {
		return nil, errIterations
	}
	if !isPrivateKeyInfo(privateKeyInfo) {
		return nil, errNotPrivateKey
	}
	if rand == nil {
		rand = cryptorand.Reader
	}

	saltAndIV := make([]byte, saltSize+blockSize)
	if _, err := io.ReadFull(rand, saltAndIV); err != nil {
		return nil, fmt.Errorf("pkcs8: reading random salt and IV: %w", err)
	}
	salt, iv := saltAndIV[:saltSize], saltAndIV[saltSize:]

	key, err := pbkdf2.Key(sha256.New, string(passphrase), salt, iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("pkcs8: deriving key: %w", err)
	}
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("pkcs8: %w", err)
	}

	padLen := blockSize - len(privateKeyInfo)%blockSize
	buf := make([]byte, len(privateKeyInfo)+padLen)
	copy(buf, privateKeyInfo)
	for i := len(privateKeyInfo); i < len(buf); i++ {
		buf[i] = byte(padLen)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)

	b := cryptobyte.NewBuilder(make([]byte, 0, len(buf)+128))
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // EncryptedPrivateKeyInfo
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // encryptionAlgorithm
			b.AddASN1ObjectIdentifier(oidPBES2)
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // PBES2-params
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // keyDerivationFunc
					b.AddASN1ObjectIdentifier(oidPBKDF2)
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // PBKDF2-params
						b.AddASN1OctetString(salt)
						b.AddASN1Int64(int64(iterations))
						b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // prf
							b.AddASN1ObjectIdentifier(oidHMACWithSHA256)
							b.AddASN1NULL()
						})
					})
				})
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) { // encryptionScheme
					b.AddASN1ObjectIdentifier(oidAES256CBC)
					b.AddASN1OctetString(iv)
				})
			})
		})
		b.AddASN1OctetString(buf) // encryptedData
	})
	der, err := b.Bytes()
	if err != nil {
		return nil, fmt.Errorf("pkcs8: encoding EncryptedPrivateKeyInfo: %w", err)
	}
	return der, nil
}

// Decrypt unwraps an EncryptedPrivateKeyInfo (DER) and returns the
// PrivateKeyInfo DER.
//
// It returns ErrIncorrectPassphrase if the passphrase is wrong, an
// UnsupportedError if the key is protected with an algorithm this package
// does not implement, and another error if the input is malformed or its
// cost parameters exceed this package's limits.
func Decrypt(encryptedPrivateKeyInfo, passphrase []byte) ([]byte, error) {
	epki, err := parseEncryptedPrivateKeyInfo(encryptedPrivateKeyInfo)
	if err != nil {
		return nil, err
	}
	if !epki.algorithm.oid.Equal(oidPBES2) {
		return nil, UnsupportedError{What: "encryption algorithm " + describeOID(epki.algorithm.oid)}
	}
	kdf, encScheme, err := parsePBES2Params(epki.algorithm.params)
	if err != nil {
		return nil, err
	}
	keySize, iv, newBlock, err := parseEncryptionScheme(encScheme)
	if err != nil {
		return nil, err
	}
	bs := len(iv)
	ciphertext := epki.encryptedData
	if len(ciphertext) == 0 || len(ciphertext)%bs != 0 {
		return nil, errCiphertextLength
	}
	deriver, err := parseKDF(kdf, keySize)
	if err != nil {
		return nil, err
	}

	// All structural checks are done; only now run the expensive KDF.
	key, err := deriver.deriveKey(passphrase, keySize)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	block, err := newBlock(key)
	if err != nil {
		return nil, fmt.Errorf("pkcs8: %w", err)
	}
	plaintext := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plaintext, ciphertext)

	n, ok := unpad(plaintext, bs)
	if !ok || !isPrivateKeyInfo(plaintext[:n]) {
		clear(plaintext)
		return nil, ErrIncorrectPassphrase
	}
	clear(plaintext[n:])
	return plaintext[:n:n], nil
}

// IsEncryptedPrivateKeyInfo reports whether der parses as an
// EncryptedPrivateKeyInfo with a PBES2 algorithm (cheap structural check, no
// decryption). It does not check whether the PBES2 parameters name
// algorithms supported by [Decrypt].
func IsEncryptedPrivateKeyInfo(der []byte) bool {
	epki, err := parseEncryptedPrivateKeyInfo(der)
	if err != nil || !epki.algorithm.oid.Equal(oidPBES2) {
		return false
	}
	_, _, err = parsePBES2Params(epki.algorithm.params)
	return err == nil
}

// encryptedPrivateKeyInfo is the parsed form of
//
//	EncryptedPrivateKeyInfo ::= SEQUENCE {
//	    encryptionAlgorithm  AlgorithmIdentifier,
//	    encryptedData        OCTET STRING }
type encryptedPrivateKeyInfo struct {
	algorithm     algorithmIdentifier
	encryptedData []byte
}

func parseEncryptedPrivateKeyInfo(der []byte) (encryptedPrivateKeyInfo, error) {
	var epki encryptedPrivateKeyInfo
	input := cryptobyte.String(der)
	var seq cryptobyte.String
	if !input.ReadASN1(&seq, asn1.SEQUENCE) || !input.Empty() {
		return epki, errMalformed
	}
	if !readAlgorithmIdentifier(&seq, &epki.algorithm) ||
		!seq.ReadASN1Bytes(&epki.encryptedData, asn1.OCTET_STRING) ||
		!seq.Empty() {
		return epki, errMalformed
	}
	return epki, nil
}

// algorithmIdentifier is a parsed
//
//	AlgorithmIdentifier ::= SEQUENCE {
//	    algorithm   OBJECT IDENTIFIER,
//	    parameters  ANY DEFINED BY algorithm OPTIONAL }
type algorithmIdentifier struct {
	oid    encoding_asn1.ObjectIdentifier
	params cryptobyte.String // complete encoding, empty if absent
}

// readAlgorithmIdentifier reads an AlgorithmIdentifier from s into out.
func readAlgorithmIdentifier(s *cryptobyte.String, out *algorithmIdentifier) bool {
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, asn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&out.oid) {
		return false
	}
	out.params = nil
	if !seq.Empty() {
		var tag asn1.Tag
		if !seq.ReadAnyASN1Element(&out.params, &tag) || !seq.Empty() {
			return false
		}
	}
	return true
}

// parsePBES2Params parses
//
//	PBES2-params ::= SEQUENCE {
//	    keyDerivationFunc  AlgorithmIdentifier {{PBES2-KDFs}},
//	    encryptionScheme   AlgorithmIdentifier {{PBES2-Encs}} }

func parsePBES2Params(params cryptobyte.String) (kdf, enc algorithmIdentifier, err error) {
	var seq cryptobyte.String
	if !params.ReadASN1(&seq, asn1.SEQUENCE) || !params.Empty() {
		return kdf, enc, errMalformedPBES2
	}
	if !readAlgorithmIdentifier(&seq, &kdf) || !readAlgorithmIdentifier(&seq, &enc) || !seq.Empty() {
		return kdf, enc, errMalformedPBES2
	}
	return kdf, enc, nil
}

// parseEncryptionScheme returns the key size, the IV and the block cipher
// of an aesXXX-CBC or des-ede3-cbc encryption scheme, whose parameters are
//
//	AES-IV ::= OCTET STRING (SIZE(16))
//	DES-EDE3-CBC-Params ::= OCTET STRING (SIZE(8))
//
// Triple DES is only read: OpenSSL 3.0's `req -newkey` still writes it by
// default, and its keys should import; we never write it.
func parseEncryptionScheme(enc algorithmIdentifier) (keySize int, iv []byte, newBlock func([]byte) (cipher.Block, error), err error) {
	ivSize := blockSize
	newBlock = aes.NewCipher
	switch {
	case enc.oid.Equal(oidAES128CBC):
		keySize = 16
	case enc.oid.Equal(oidAES192CBC):
		keySize = 24
	case enc.oid.Equal(oidAES256CBC):
		keySize = 32
	case enc.oid.Equal(oidDESEDE3CBC):
		keySize, ivSize, newBlock = 24, des.BlockSize, des.NewTripleDESCipher
	default:
		return 0, nil, nil, UnsupportedError{What: "encryption scheme " + enc.oid.String()}
	}
	params := enc.params
	if !params.ReadASN1Bytes(&iv, asn1.OCTET_STRING) || !params.Empty() || len(iv) != ivSize {
		return 0, nil, nil, errMalformedCipher
	}
	return keySize, iv, newBlock, nil
}

// keyDeriver is a parsed, validated key derivation function.
type keyDeriver interface {
	deriveKey(passphrase []byte, size int) ([]byte, error)
}

func parseKDF(kdf algorithmIdentifier, keySize int) (keyDeriver, error) {
	switch {
	case kdf.oid.Equal(oidPBKDF2):
		return parsePBKDF2Params(kdf.params, keySize)
	case kdf.oid.Equal(oidScrypt):
		return parseScryptParams(kdf.params, keySize)
	default:
		return nil, UnsupportedError{What: "key derivation function " + kdf.oid.String()}
	}
}

type pbkdf2Params struct {
	salt       []byte
	iterations int
	prf        func() hash.Hash
}

// parsePBKDF2Params parses
//
//	PBKDF2-params ::= SEQUENCE {
//	    salt CHOICE {
//	        specified OCTET STRING,
//	        otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}} },
//	    iterationCount INTEGER (1..MAX),
//	    keyLength INTEGER (1..MAX) OPTIONAL,
//	    prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
func parsePBKDF2Params(params cryptobyte.String, keySize int) (*pbkdf2Params, error) {
	var seq cryptobyte.String
	if !params.ReadASN1(&seq, asn1.SEQUENCE) || !params.Empty() {
		return nil, errMalformedPBKDF2
	}
	p := &pbkdf2Params{prf: sha1.New}
	if seq.PeekASN1Tag(asn1.SEQUENCE) {
		return nil, UnsupportedError{What: "PBKDF2 salt source"}
	}
	var iterations int64
	if !seq.ReadASN1Bytes(&p.salt, asn1.OCTET_STRING) || !seq.ReadASN1Integer(&iterations) {
		return nil, errMalformedPBKDF2
	}
	if iterations < 1 || iterations > maxIterations {
		return nil, errIterations
	}
	p.iterations = int(iterations)
	if seq.PeekASN1Tag(asn1.INTEGER) {
		var keyLength int64
		if !seq.ReadASN1Integer(&keyLength) {
			return nil, errMalformedPBKDF2
		}
		if keyLength != int64(keySize) {
			return nil, errKeyLength
		}
	}
	if !seq.Empty() {
		// The DER encoding omits the default hmacWithSHA1, but an explicit
		// hmacWithSHA1 is accepted too.
		var prf algorithmIdentifier
		if !readAlgorithmIdentifier(&seq, &prf) || !seq.Empty() || !isAbsentOrNULL(prf.params) {
			return nil, errMalformedPBKDF2
		}
		p.prf = prfByOID(prf.oid)
		if p.prf == nil {
			return nil, UnsupportedError{What: "PBKDF2 pseudorandom function " + prf.oid.String()}
		}
	}
	return p, nil
}

func (p *pbkdf2Params) deriveKey(passphrase []byte, size int) ([]byte, error) {
	key, err := pbkdf2.Key(p.prf, string(passphrase), p.salt, p.iterations, size)
	if err != nil {
		return nil, fmt.Errorf("pkcs8: deriving key: %w", err)
	}
	return key, nil
}

// prfByOID maps an RFC 8018 PRF OID to its hash constructor; it returns nil
// for unsupported PRFs.
func prfByOID(oid encoding_asn1.ObjectIdentifier) func() hash.Hash {
	switch {
	case oid.Equal(oidHMACWithSHA1):
		return sha1.New
	case oid.Equal(oidHMACWithSHA224):
		return sha256.New224
	case oid.Equal(oidHMACWithSHA256):
		return sha256.New
	case oid.Equal(oidHMACWithSHA384):
		return sha512.New384
	case oid.Equal(oidHMACWithSHA512):
		return sha512.New
	}
	return nil
}

func isAbsentOrNULL(params cryptobyte.String) bool {
	if len(params) == 0 {
		return true
	}
	var null cryptobyte.String
	return params.ReadASN1(&null, asn1.NULL) && null.Empty() && params.Empty()
}

type scryptParams struct {
	salt    []byte
	n, r, p int
}

// parseScryptParams parses
//
//	scrypt-params ::= SEQUENCE {
//	    salt OCTET STRING,
//	    costParameter INTEGER (1..MAX),
//	    blockSize INTEGER (1..MAX),
//	    parallelizationParameter INTEGER (1..MAX),
//	    keyLength INTEGER (1..MAX) OPTIONAL }
func parseScryptParams(params cryptobyte.String, keySize int) (*scryptParams, error) {
	var seq cryptobyte.String
	if !params.ReadASN1(&seq, asn1.SEQUENCE) || !params.Empty() {
		return nil, errMalformedScrypt
	}
	sp := new(scryptParams)
	var n, r, p int64
	if !seq.ReadASN1Bytes(&sp.salt, asn1.OCTET_STRING) ||
		!seq.ReadASN1Integer(&n) ||
		!seq.ReadASN1Integer(&r) ||
		!seq.ReadASN1Integer(&p) {
		return nil, errMalformedScrypt
	}
	if !seq.Empty() {
		var keyLength int64
		if !seq.ReadASN1Integer(&keyLength) || !seq.Empty() {
			return nil, errMalformedScrypt
		}
		if keyLength != int64(keySize) {
			return nil, errKeyLength
		}
	}
	// N must be a power of two greater than 1; r and p at least 1. Bound each
	// before multiplying so the products below cannot overflow.
	if n < 2 || n&(n-1) != 0 || n > maxScryptMemory/128 ||
		r < 1 || r > maxScryptMemory/128 ||
		p < 1 || p > maxScryptMemory/128 {
		return nil, errScryptCost
	}
	// The memory bound implies n*r <= 2^21, so 128*n*r*p cannot overflow.
	if 128*r*(n+p+2) > maxScryptMemory || 128*n*r*p > maxScryptWork {
		return nil, errScryptCost
	}
	sp.n, sp.r, sp.p = int(n), int(r), int(p)
	return sp, nil
}

func (sp *scryptParams) deriveKey(passphrase []byte, size int) ([]byte, error) {
	key, err := scrypt.Key(passphrase, sp.salt, sp.n, sp.r, sp.p, size)
	if err != nil {
		return nil, fmt.Errorf("pkcs8: deriving key: %w", err)
	}
	return key, nil
}

// unpad checks the PKCS#7 padding of buf, whose length is a non-zero multiple
// of the block size, in constant time. It returns the length of the data
// without padding and whether the padding was valid; the time taken does not
// depend on the padding bytes.
func unpad(buf []byte, bs int) (int, bool) {
	if len(buf) < bs || len(buf)%bs != 0 {
		return 0, false
	}
	last := buf[len(buf)-bs:]
	padLen := int(last[bs-1])
	good := subtle.ConstantTimeLessOrEq(1, padLen) & subtle.ConstantTimeLessOrEq(padLen, bs)
	for i := 1; i <= bs; i++ {
		// Byte i from the end must equal padLen if it is part of the padding.
		inPadding := subtle.ConstantTimeLessOrEq(i, padLen)
		matches := subtle.ConstantTimeByteEq(last[bs-i], byte(padLen))
		good &= subtle.ConstantTimeSelect(inPadding, matches, 1)
	}
	n := len(buf) - subtle.ConstantTimeSelect(good, padLen, 0)
	return n, good == 1
}

// isPrivateKeyInfo reports whether der is exactly one DER
//
//	PrivateKeyInfo ::= SEQUENCE {          -- OneAsymmetricKey in RFC 5958
//	    version              INTEGER,      -- v1(0) or v2(1)
//	    privateKeyAlgorithm  AlgorithmIdentifier,
//	    privateKey           OCTET STRING,
//	    attributes           [0] IMPLICIT Attributes OPTIONAL,
//	    publicKey            [1] IMPLICIT BIT STRING OPTIONAL }
func isPrivateKeyInfo(der []byte) bool {
	input := cryptobyte.String(der)
	var seq cryptobyte.String
	var version int64
	if !input.ReadASN1(&seq, asn1.SEQUENCE) || !input.Empty() ||
		!seq.ReadASN1Integer(&version) || (version != 0 && version != 1) {
		return false
	}
	var alg algorithmIdentifier
	if !readAlgorithmIdentifier(&seq, &alg) {
		return false
	}
	return seq.SkipASN1(asn1.OCTET_STRING) &&
		seq.SkipOptionalASN1(asn1.Tag(0).ContextSpecific().Constructed()) &&
		seq.SkipOptionalASN1(asn1.Tag(1).ContextSpecific()) &&
		seq.Empty()
}

// describeOID renders an unsupported encryption algorithm OID, naming the
// families that are recognised but deliberately not implemented.
func describeOID(oid encoding_asn1.ObjectIdentifier) string {
	s := oid.String()
	if len(oid) == len(oidPKCS5)+1 && oid[:len(oidPKCS5)].Equal(oidPKCS5) {
		switch oid[len(oidPKCS5)] {
		case 1, 3, 4, 6, 10, 11:
			return s + " (PBES1)"
		}
	}
	if len(oid) == len(oidPKCS12PBEAlgorithm)+1 && oid[:len(oidPKCS12PBEAlgorithm)].Equal(oidPKCS12PBEAlgorithm) {
		return s + " (PKCS#12 PBE)"
	}
	return s
}
