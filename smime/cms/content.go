package cms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// ContentAlgorithm names a content-encryption algorithm for EnvelopedData
// (AES-CBC, RFC 3565) or AuthEnvelopedData (AES-GCM, RFC 5084).
type ContentAlgorithm int

const (
	// ContentAlgorithmDefault selects AES-256-GCM in AuthEnvelopedData.
	ContentAlgorithmDefault ContentAlgorithm = iota
	AES128CBC
	AES256CBC
	AES128GCM
	AES256GCM
)

// String returns the OpenSSL-style name of the algorithm.
func (a ContentAlgorithm) String() string {
	switch a {
	case AES128CBC:
		return "aes-128-cbc"
	case AES256CBC:
		return "aes-256-cbc"
	case AES128GCM:
		return "aes-128-gcm"
	case AES256GCM:
		return "aes-256-gcm"
	case ContentAlgorithmDefault:
		return "default"
	}
	return fmt.Sprintf("ContentAlgorithm(%d)", int(a))
}

// KeySize is the content-encryption key length in octets.
func (a ContentAlgorithm) KeySize() int {
	switch a {
	case AES128CBC, AES128GCM:
		return 16
	case AES256CBC, AES256GCM, ContentAlgorithmDefault:
		return 32
	}
	return 0
}

// AEAD reports whether the algorithm provides integrity (AES-GCM). AES-CBC
// content has no integrity protection (SECURITY.md S05).
func (a ContentAlgorithm) AEAD() bool {
	return a == AES128GCM || a == AES256GCM || a == ContentAlgorithmDefault
}

func (a ContentAlgorithm) oid() asn1.ObjectIdentifier {
	switch a {
	case AES128CBC:
		return envOIDAES128CBC
	case AES256CBC:
		return envOIDAES256CBC
	case AES128GCM:
		return envOIDAES128GCM
	case AES256GCM, ContentAlgorithmDefault:
		return envOIDAES256GCM
	}
	return nil
}

var (
	envOIDAES128CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	envOIDAES256CBC = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	envOIDAES128GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	envOIDAES256GCM = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
)

const (
	envGCMNonceSize = 12
	envGCMTagSize   = 16
	// RFC 5084 §3.2: aes-ICVlen DEFAULT 12.
	envGCMDefaultICVLen = 12
)

// ErrContentDecryption is the single error returned for any failure to
// decrypt or authenticate content: bad padding, bad length, bad tag. It never
// says which check failed (padding oracle, SECURITY.md S09).
var ErrContentDecryption = errors.New("cms: content decryption failed")

// envContentParams is a parsed contentEncryptionAlgorithm.
type envContentParams struct {
	alg   ContentAlgorithm
	iv    []byte // CBC IV (16 octets) or GCM nonce (12 octets)
	icvLn int    // GCM only
}

// envParseContentAlgorithm parses a contentEncryptionAlgorithm
// AlgorithmIdentifier (DER, including the outer SEQUENCE).
func envParseContentAlgorithm(der cryptobyte.String) (*envContentParams, error) {
	var algID, params cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !der.ReadASN1(&algID, cbasn1.SEQUENCE) || !der.Empty() ||
		!algID.ReadASN1ObjectIdentifier(&oid) {
		return nil, errors.New("cms: malformed content-encryption AlgorithmIdentifier")
	}
	var tag cbasn1.Tag
	if !algID.ReadAnyASN1(&params, &tag) || !algID.Empty() {
		return nil, errors.New("cms: content-encryption algorithm parameters missing")
	}
	p := &envContentParams{}
	switch {
	case oid.Equal(envOIDAES128CBC), oid.Equal(envOIDAES256CBC):
		p.alg = AES128CBC
		if oid.Equal(envOIDAES256CBC) {
			p.alg = AES256CBC
		}
		if tag != cbasn1.OCTET_STRING || len(params) != aes.BlockSize {
			return nil, errors.New("cms: AES-CBC IV must be a 16-octet OCTET STRING")
		}
		p.iv = append([]byte(nil), params...)
	case oid.Equal(envOIDAES128GCM), oid.Equal(envOIDAES256GCM):
		p.alg = AES128GCM
		if oid.Equal(envOIDAES256GCM) {
			p.alg = AES256GCM
		}
		if tag != cbasn1.SEQUENCE {
			return nil, errors.New("cms: malformed GCMParameters")
		}
		var nonce cryptobyte.String
		if !params.ReadASN1(&nonce, cbasn1.OCTET_STRING) {
			return nil, errors.New("cms: malformed GCMParameters nonce")
		}
		icv := int64(envGCMDefaultICVLen)
		if !params.Empty() {
			if !params.ReadASN1Int64WithTag(&icv, cbasn1.INTEGER) || !params.Empty() {
				return nil, errors.New("cms: malformed GCMParameters ICVlen")
			}
			// DER: a DEFAULT value must not be encoded; tolerate it
			// anyway since it is rejected below.
		}
		if len(nonce) != envGCMNonceSize {
			return nil, fmt.Errorf("cms: unsupported AES-GCM nonce length %d (want 12)", len(nonce))
		}
		if icv != envGCMTagSize {
			return nil, fmt.Errorf("cms: unsupported AES-GCM ICV length %d (want 16)", icv)
		}
		p.iv = append([]byte(nil), nonce...)
		p.icvLn = int(icv)
	default:
		return nil, fmt.Errorf("cms: unsupported content-encryption algorithm %v", oid)
	}
	return p, nil
}

// envMarshalContentAlgorithm appends the AlgorithmIdentifier for p.
func envMarshalContentAlgorithm(b *cryptobyte.Builder, p *envContentParams) {
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(p.alg.oid())
		if p.alg.AEAD() {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(p.iv)
				// 16 differs from the DEFAULT (12), so DER encodes it.
				b.AddASN1Int64(int64(p.icvLn))
			})
		} else {
			b.AddASN1OctetString(p.iv)
		}
	})
}

// envNewContentParams draws a fresh IV or nonce for alg.
func envNewContentParams(rnd io.Reader, alg ContentAlgorithm) (*envContentParams, error) {
	if alg == ContentAlgorithmDefault {
		alg = AES256GCM
	}
	p := &envContentParams{alg: alg}
	switch alg {
	case AES128CBC, AES256CBC:
		p.iv = make([]byte, aes.BlockSize)
	case AES128GCM, AES256GCM:
		p.iv = make([]byte, envGCMNonceSize)
		p.icvLn = envGCMTagSize
	default:
		return nil, fmt.Errorf("cms: unknown content algorithm %v", alg)
	}
	if _, err := io.ReadFull(rnd, p.iv); err != nil {
		return nil, fmt.Errorf("cms: reading random IV: %w", err)
	}
	return p, nil
}

// envCBCEncrypt pads plaintext with PKCS#7 and encrypts it with AES-CBC.
func envCBCEncrypt(key, iv, plaintext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != aes.BlockSize {
		return nil, errors.New("cms: bad CBC IV length")
	}
	n := aes.BlockSize - len(plaintext)%aes.BlockSize
	out := make([]byte, len(plaintext)+n)
	copy(out, plaintext)
	for i := len(plaintext); i < len(out); i++ {
		out[i] = byte(n)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out, out)
	return out, nil
}

// envCBCDecrypt decrypts AES-CBC and removes PKCS#7 padding. All padding
// checks run in constant time with respect to the padding contents, and every
// failure returns ErrContentDecryption.
func envCBCDecrypt(key, iv, ciphertext []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, ErrContentDecryption
	}
	if len(iv) != aes.BlockSize || len(ciphertext) == 0 || len(ciphertext)%aes.BlockSize != 0 {
		return nil, ErrContentDecryption
	}
	pt := make([]byte, len(ciphertext))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ciphertext)
	n, ok := envPKCS7UnpadLen(pt[len(pt)-aes.BlockSize:])
	if ok != 1 {
		clear(pt)
		return nil, ErrContentDecryption
	}
	return pt[:len(pt)-aes.BlockSize+n], nil
}

// envPKCS7UnpadLen examines the final block and returns the number of
// message bytes in it and ok==1 when the padding is well formed. It does not
// branch on secret data.
func envPKCS7UnpadLen(last []byte) (keep int, ok int) {
	const bs = aes.BlockSize
	pad := int(last[bs-1])
	// 1 <= pad <= bs
	good := subtle.ConstantTimeLessOrEq(1, pad) & subtle.ConstantTimeLessOrEq(pad, bs)
	for i := 0; i < bs; i++ {
		// Positions bs-pad .. bs-1 must equal pad.
		inPad := subtle.ConstantTimeLessOrEq(bs-pad, i)
		eq := subtle.ConstantTimeByteEq(last[i], byte(pad))
		// if inPad then require eq
		good &= eq | (inPad ^ 1)
	}
	// When bad, keep is a harmless value; callers must check ok first.
	keep = subtle.ConstantTimeSelect(good, bs-pad, 0)
	return keep, good
}

// envGCMSeal encrypts plaintext and returns ciphertext and tag separately.
func envGCMSeal(key, nonce, plaintext, aad []byte) (ct, tag []byte, err error) {
	aead, err := envNewGCM(key)
	if err != nil {
		return nil, nil, err
	}
	if len(nonce) != envGCMNonceSize {
		return nil, nil, errors.New("cms: bad GCM nonce length")
	}
	out := aead.Seal(nil, nonce, plaintext, aad)
	n := len(out) - envGCMTagSize
	return out[:n:n], out[n:], nil
}

// envGCMOpen authenticates and decrypts. On any failure it returns nil and
// ErrContentDecryption: no plaintext byte is ever released unauthenticated.
func envGCMOpen(key, nonce, ciphertext, tag, aad []byte) ([]byte, error) {
	if len(tag) != envGCMTagSize || len(nonce) != envGCMNonceSize {
		return nil, ErrContentDecryption
	}
	aead, err := envNewGCM(key)
	if err != nil {
		return nil, ErrContentDecryption
	}
	buf := make([]byte, 0, len(ciphertext)+len(tag))
	buf = append(buf, ciphertext...)
	buf = append(buf, tag...)
	pt, err := aead.Open(buf[:0], nonce, buf, aad)
	if err != nil {
		clear(buf)
		return nil, ErrContentDecryption
	}
	return pt, nil
}

func envNewGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
