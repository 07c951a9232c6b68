package pkcs8

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	encoding_asn1 "encoding/asn1"
	"encoding/pem"
	"errors"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/scrypt"
)

// testPassphrase protects the keys in testdata/ and the fuzz seeds.
//
// The testdata/openssl-*.pem files were made by OpenSSL 3.0 from
// testdata/openssl-plain.pem (a throwaway P-256 key) with, respectively:
//
//	openssl pkcs8 -topk8 -v2 aes-128-cbc -v2prf hmacWithSHA1 -iter 2048
//	openssl pkcs8 -topk8 -v2 aes-192-cbc -v2prf hmacWithSHA224 -iter 1000
//	openssl pkey -aes256                       (hmacWithSHA256, 2048 iterations)
//	openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA384 -iter 1000
//	openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA512 -iter 1000
//	openssl pkcs8 -topk8 -scrypt -scrypt_N 1024 -scrypt_r 8 -scrypt_p 1
//	openssl pkcs8 -topk8 -v1 PBE-SHA1-3DES      (PBES1-style, unsupported)
const testPassphrase = "correct horse battery staple"

// testKey is a freshly generated key and its PKCS#8 encoding.
type testKey struct {
	name string
	key  crypto.Signer // *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
	der  []byte
}

func (k testKey) publicDER(t testing.TB) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func generateTestKeys(t testing.TB) []testKey {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var keys []testKey
	for _, k := range []struct {
		name string
		key  crypto.Signer
	}{{"RSA", rsaKey}, {"ECDSA-P256", ecKey}, {"Ed25519", edKey}} {
		der, err := x509.MarshalPKCS8PrivateKey(k.key)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, testKey{name: k.name, key: k.key, der: der})
	}
	return keys
}

// smallPKI returns a small valid PrivateKeyInfo (an Ed25519 key) without
// needing a random source.
func smallPKI(t testing.TB) []byte {
	t.Helper()
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = byte(i)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// readPEMFile returns the DER contents of the single PEM block of the given
// type in path.
func readPEMFile(t testing.TB, path, wantType string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, rest := pem.Decode(data)
	if block == nil {
		t.Fatalf("%s: no PEM block", path)
	}
	if block.Type != wantType {
		t.Fatalf("%s: PEM type %q, want %q", path, block.Type, wantType)
	}
	if strings.TrimSpace(string(rest)) != "" {
		t.Fatalf("%s: trailing data after PEM block", path)
	}
	return block.Bytes
}

func writePEMFile(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func testdataPath(name string) string { return filepath.Join("testdata", name) }

// blobSpec describes an EncryptedPrivateKeyInfo built by buildBlob, an
// encoder independent of Encrypt that can also produce unusual and invalid
// encodings.
type blobSpec struct {
	encAlg encoding_asn1.ObjectIdentifier // default PBES2

	useScrypt bool
	salt      []byte // default 8 bytes

	// PBKDF2
	iterations  int64 // default 1
	keyLength   int64 // 0: absent
	prf         encoding_asn1.ObjectIdentifier
	prfNoParams bool // encode the prf AlgorithmIdentifier without NULL
	prfHash     func() hash.Hash

	// scrypt
	n, r, p int64

	kdf          encoding_asn1.ObjectIdentifier // if set, replaces the KDF OID
	rawKDFParams []byte                         // if set, replaces the encoded KDF parameters

	cipher  encoding_asn1.ObjectIdentifier // default aes256-CBC
	keySize int                            // default 32
	iv      []byte                         // default 16 bytes

	key       []byte              // if set, used instead of deriving a key
	plaintext []byte              // if set, encrypted as is (no padding added)
	mutate    func([]byte) []byte // applied to the ciphertext
}

func buildBlob(t testing.TB, spec blobSpec, pki []byte, passphrase string) []byte {
	t.Helper()
	if spec.encAlg == nil {
		spec.encAlg = oidPBES2
	}
	if spec.salt == nil {
		spec.salt = []byte("saltsalt")
	}
	if spec.iterations == 0 {
		spec.iterations = 1
	}
	if spec.cipher == nil {
		spec.cipher = oidAES256CBC
	}
	if spec.keySize == 0 {
		spec.keySize = 32
	}
	if spec.iv == nil {
		spec.iv = []byte("0123456789abcdef")
	}
	if spec.prfHash == nil {
		spec.prfHash = prfByOID(spec.prf)
		if spec.prf == nil {
			spec.prfHash = prfByOID(oidHMACWithSHA1)
		}
	}

	key := spec.key
	if key == nil {
		var err error
		if spec.useScrypt {
			key, err = scrypt.Key([]byte(passphrase), spec.salt, int(spec.n), int(spec.r), int(spec.p), spec.keySize)
		} else {
			key, err = pbkdf2.Key(spec.prfHash, passphrase, spec.salt, int(spec.iterations), spec.keySize)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	plaintext := spec.plaintext
	if plaintext == nil {
		padLen := 16 - len(pki)%16
		plaintext = append([]byte{}, pki...)
		for range padLen {
			plaintext = append(plaintext, byte(padLen))
		}
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	ciphertext := make([]byte, len(plaintext))
	encIV := spec.iv
	if len(encIV) != aes.BlockSize {
		encIV = make([]byte, aes.BlockSize) // invalid IV requested; the blob will not decrypt anyway
	}
	cipher.NewCBCEncrypter(block, encIV).CryptBlocks(ciphertext, plaintext)
	if spec.mutate != nil {
		ciphertext = spec.mutate(ciphertext)
	}

	kdfOID := oidPBKDF2
	if spec.useScrypt {
		kdfOID = oidScrypt
	}
	if spec.kdf != nil {
		kdfOID = spec.kdf
	}
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(spec.encAlg)
			b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(kdfOID)
					if spec.rawKDFParams != nil {
						b.AddBytes(spec.rawKDFParams)
						return
					}
					b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1OctetString(spec.salt)
						if spec.useScrypt {
							b.AddASN1Int64(spec.n)
							b.AddASN1Int64(spec.r)
							b.AddASN1Int64(spec.p)
							if spec.keyLength != 0 {
								b.AddASN1Int64(spec.keyLength)
							}
							return
						}
						b.AddASN1Int64(spec.iterations)
						if spec.keyLength != 0 {
							b.AddASN1Int64(spec.keyLength)
						}
						if spec.prf != nil {
							b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddASN1ObjectIdentifier(spec.prf)
								if !spec.prfNoParams {
									b.AddASN1NULL()
								}
							})
						}
					})
				})
				b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(spec.cipher)
					b.AddASN1OctetString(spec.iv)
				})
			})
		})
		b.AddASN1OctetString(ciphertext)
	})
	return b.BytesOrPanic()
}

// checkCleanError fails the test unless err is a non-nil error of this
// package (prefixed "pkcs8: ").
func checkCleanError(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		t.Fatal("got nil error, want an error")
	}
	if !strings.HasPrefix(err.Error(), "pkcs8: ") {
		t.Fatalf("error %q is not prefixed with \"pkcs8: \"", err)
	}
}

func isUnsupported(err error) bool {
	var ue UnsupportedError
	return errors.As(err, &ue)
}
