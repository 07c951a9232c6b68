package pkcs8

import (
	"bytes"
	"crypto"
	"crypto/x509"
	encoding_asn1 "encoding/asn1"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
)

func TestRoundTrip(t *testing.T) {
	for _, k := range generateTestKeys(t) {
		t.Run(k.name, func(t *testing.T) {
			pass := []byte("s3cret passphrase")
			enc, err := Encrypt(nil, k.der, pass, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if !IsEncryptedPrivateKeyInfo(enc) {
				t.Error("IsEncryptedPrivateKeyInfo(Encrypt output) = false")
			}
			if IsEncryptedPrivateKeyInfo(k.der) {
				t.Error("IsEncryptedPrivateKeyInfo(plain PrivateKeyInfo) = true")
			}
			if bytes.Contains(enc, k.der[len(k.der)-32:]) {
				t.Error("Encrypt output contains plaintext key material")
			}

			encCopy := bytes.Clone(enc)
			got, err := Decrypt(enc, pass)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(enc, encCopy) {
				t.Error("Decrypt modified its input")
			}
			if !bytes.Equal(got, k.der) {
				t.Fatal("Decrypt(Encrypt(k)) != k")
			}
			parsed, err := x509.ParsePKCS8PrivateKey(got)
			if err != nil {
				t.Fatal(err)
			}
			if !k.key.(interface{ Equal(crypto.PrivateKey) bool }).Equal(parsed) {
				t.Error("parsed key differs from original")
			}

			for _, wrong := range [][]byte{[]byte("s3cret passphrasE"), nil, []byte("")} {
				if _, err := Decrypt(enc, wrong); err != ErrIncorrectPassphrase {
					t.Errorf("Decrypt with wrong passphrase %q: err = %v, want ErrIncorrectPassphrase", wrong, err)
				}
			}
		})
	}
}

func TestRoundTripEmptyPassphrase(t *testing.T) {
	pki := smallPKI(t)
	enc, err := Encrypt(nil, pki, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decrypt(enc, []byte{})
	if err != nil || !bytes.Equal(got, pki) {
		t.Fatalf("Decrypt = %x, %v", got, err)
	}
	if _, err := Decrypt(enc, []byte("x")); err != ErrIncorrectPassphrase {
		t.Fatalf("err = %v, want ErrIncorrectPassphrase", err)
	}
}

// TestEncryptParameters checks that Encrypt produces exactly the algorithms
// its documentation promises.
func TestEncryptParameters(t *testing.T) {
	pki := smallPKI(t)
	random := bytes.Repeat([]byte{0xA5}, 16)
	random = append(random, bytes.Repeat([]byte{0x5A}, 16)...)
	enc, err := Encrypt(bytes.NewReader(random), pki, []byte("pw"), 1234)
	if err != nil {
		t.Fatal(err)
	}
	enc2, err := Encrypt(bytes.NewReader(random), pki, []byte("pw"), 1234)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Error("Encrypt is not deterministic for a fixed random source")
	}

	epki, err := parseEncryptedPrivateKeyInfo(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !epki.algorithm.oid.Equal(oidPBES2) {
		t.Fatalf("algorithm %v, want PBES2", epki.algorithm.oid)
	}
	kdf, encScheme, err := parsePBES2Params(epki.algorithm.params)
	if err != nil {
		t.Fatal(err)
	}
	if !encScheme.oid.Equal(oidAES256CBC) {
		t.Errorf("cipher %v, want aes256-CBC", encScheme.oid)
	}
	keySize, iv, _, err := parseEncryptionScheme(encScheme)
	if err != nil || keySize != 32 || !bytes.Equal(iv, random[16:]) {
		t.Errorf("encryption scheme: keySize %d iv %x err %v", keySize, iv, err)
	}
	if !kdf.oid.Equal(oidPBKDF2) {
		t.Fatalf("kdf %v, want PBKDF2", kdf.oid)
	}
	// Walk the PBKDF2-params by hand to check the PRF OID and NULL.
	params := kdf.params
	var seq, prf cryptobyte.String
	var salt []byte
	var iter int64
	var prfOID encoding_asn1.ObjectIdentifier
	if !params.ReadASN1(&seq, asn1.SEQUENCE) ||
		!seq.ReadASN1Bytes(&salt, asn1.OCTET_STRING) ||
		!seq.ReadASN1Integer(&iter) ||
		!seq.ReadASN1(&prf, asn1.SEQUENCE) || !seq.Empty() ||
		!prf.ReadASN1ObjectIdentifier(&prfOID) ||
		!prf.SkipASN1(asn1.NULL) || !prf.Empty() {
		t.Fatal("unexpected PBKDF2-params encoding")
	}
	if !bytes.Equal(salt, random[:16]) {
		t.Errorf("salt %x, want %x", salt, random[:16])
	}
	if iter != 1234 {
		t.Errorf("iterations %d, want 1234", iter)
	}
	if !prfOID.Equal(oidHMACWithSHA256) {
		t.Errorf("prf %v, want hmacWithSHA256", prfOID)
	}
	if len(epki.encryptedData)%16 != 0 || len(epki.encryptedData) <= len(pki) {
		t.Errorf("ciphertext length %d for %d-byte plaintext", len(epki.encryptedData), len(pki))
	}
}

func TestEncryptDefaultIterations(t *testing.T) {
	if testing.Short() {
		t.Skip("600000 PBKDF2 iterations")
	}
	pki := smallPKI(t)
	enc, err := Encrypt(nil, pki, []byte("pw"), 0)
	if err != nil {
		t.Fatal(err)
	}
	epki, _ := parseEncryptedPrivateKeyInfo(enc)
	kdf, _, _ := parsePBES2Params(epki.algorithm.params)
	d, err := parseKDF(kdf, 32)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.(*pbkdf2Params).iterations; got != 600000 {
		t.Errorf("default iterations = %d, want 600000", got)
	}
	if got, err := Decrypt(enc, []byte("pw")); err != nil || !bytes.Equal(got, pki) {
		t.Errorf("Decrypt = %v", err)
	}
}

func TestEncryptErrors(t *testing.T) {
	pki := smallPKI(t)
	for _, iter := range []int{-1, -600000, maxIterations + 1, 1 << 40} {
		_, err := Encrypt(nil, pki, []byte("pw"), iter)
		checkCleanError(t, err)
	}
	for _, bad := range [][]byte{nil, {}, {0x30, 0x00}, pki[:len(pki)-1], append(bytes.Clone(pki), 0)} {
		_, err := Encrypt(nil, bad, []byte("pw"), 1)
		checkCleanError(t, err)
	}
	_, err := Encrypt(iotest.ErrReader(errors.New("boom")), pki, []byte("pw"), 1)
	checkCleanError(t, err)
	_, err = Encrypt(bytes.NewReader(make([]byte, 31)), pki, []byte("pw"), 1)
	checkCleanError(t, err)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short random: err = %v, want wrapping io.ErrUnexpectedEOF", err)
	}
}

// TestOpenSSLVectors decrypts files produced by OpenSSL 3 (see testPassphrase)
// so that interoperability is covered even where openssl is not installed.
func TestOpenSSLVectors(t *testing.T) {
	plain := readPEMFile(t, testdataPath("openssl-plain.pem"), "PRIVATE KEY")
	for _, name := range []string{"sha1", "sha224", "sha256", "sha384", "sha512", "scrypt"} {
		t.Run(name, func(t *testing.T) {
			der := readPEMFile(t, testdataPath("openssl-"+name+".pem"), "ENCRYPTED PRIVATE KEY")
			if !IsEncryptedPrivateKeyInfo(der) {
				t.Error("IsEncryptedPrivateKeyInfo = false")
			}
			got, err := Decrypt(der, []byte(testPassphrase))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, plain) {
				t.Fatalf("decrypted key differs from testdata/openssl-plain.pem")
			}
			if _, err := Decrypt(der, []byte(testPassphrase+"!")); err != ErrIncorrectPassphrase {
				t.Fatalf("wrong passphrase: err = %v", err)
			}
		})
	}
	t.Run("pbes1", func(t *testing.T) {
		der := readPEMFile(t, testdataPath("openssl-pbes1.pem"), "ENCRYPTED PRIVATE KEY")
		if IsEncryptedPrivateKeyInfo(der) {
			t.Error("IsEncryptedPrivateKeyInfo(PBES1) = true")
		}
		_, err := Decrypt(der, []byte(testPassphrase))
		checkCleanError(t, err)
		if !isUnsupported(err) {
			t.Fatalf("err = %v, want UnsupportedError", err)
		}
	})
}

func TestDecryptAlgorithms(t *testing.T) {
	pki := smallPKI(t)
	ciphers := []struct {
		name    string
		oid     encoding_asn1.ObjectIdentifier
		keySize int
	}{
		{"aes128", oidAES128CBC, 16},
		{"aes192", oidAES192CBC, 24},
		{"aes256", oidAES256CBC, 32},
	}
	prfs := []struct {
		name string
		oid  encoding_asn1.ObjectIdentifier
	}{
		{"default-sha1", nil},
		{"sha1", oidHMACWithSHA1},
		{"sha224", oidHMACWithSHA224},
		{"sha256", oidHMACWithSHA256},
		{"sha384", oidHMACWithSHA384},
		{"sha512", oidHMACWithSHA512},
	}
	for _, c := range ciphers {
		for _, prf := range prfs {
			for _, withKeyLength := range []bool{false, true} {
				for _, noNULL := range []bool{false, true} {
					spec := blobSpec{cipher: c.oid, keySize: c.keySize, prf: prf.oid, iterations: 3, prfNoParams: noNULL}
					if withKeyLength {
						spec.keyLength = int64(c.keySize)
					}
					blob := buildBlob(t, spec, pki, "pw")
					got, err := Decrypt(blob, []byte("pw"))
					if err != nil || !bytes.Equal(got, pki) {
						t.Errorf("pbkdf2 %s %s keyLength=%v noNULL=%v: err %v", c.name, prf.name, withKeyLength, noNULL, err)
					}
				}
			}
		}
		for _, withKeyLength := range []bool{false, true} {
			spec := blobSpec{useScrypt: true, n: 16, r: 1, p: 2, cipher: c.oid, keySize: c.keySize}
			if withKeyLength {
				spec.keyLength = int64(c.keySize)
			}
			blob := buildBlob(t, spec, pki, "pw")
			got, err := Decrypt(blob, []byte("pw"))
			if err != nil || !bytes.Equal(got, pki) {
				t.Errorf("scrypt %s keyLength=%v: err %v", c.name, withKeyLength, err)
			}
			if _, err := Decrypt(blob, []byte("pW")); err != ErrIncorrectPassphrase {
				t.Errorf("scrypt %s wrong passphrase: err = %v", c.name, err)
			}
		}
	}
}

func TestDecryptUnsupported(t *testing.T) {
	pki := smallPKI(t)
	oid := func(arcs ...int) encoding_asn1.ObjectIdentifier { return arcs }
	for name, spec := range map[string]blobSpec{
		"PBES1 pbeWithMD5AndDES-CBC":  {encAlg: oid(1, 2, 840, 113549, 1, 5, 3)},
		"PBES1 pbeWithSHA1AndDES-CBC": {encAlg: oid(1, 2, 840, 113549, 1, 5, 10)},
		"PKCS#12 3DES":                {encAlg: oid(1, 2, 840, 113549, 1, 12, 1, 3)},
		"PBMAC1 as encryption":        {encAlg: oid(1, 2, 840, 113549, 1, 5, 14)},
		"hmacWithSHA512-256":          {prf: oid(1, 2, 840, 113549, 2, 13), prfHash: prfByOID(oidHMACWithSHA512)},
		"hmacWithMD5":                 {prf: oid(1, 2, 840, 113549, 2, 6), prfHash: prfByOID(oidHMACWithSHA1)},
		"aes256-GCM":                  {cipher: oid(2, 16, 840, 1, 101, 3, 4, 1, 46)},
		"aes256-ECB":                  {cipher: oid(2, 16, 840, 1, 101, 3, 4, 1, 41)},
		"unknown KDF":                 {kdf: oid(1, 2, 840, 113549, 1, 5, 99), rawKDFParams: []byte{0x05, 0x00}},
		"PBES1 KDF inside PBES2":      {kdf: oid(1, 2, 840, 113549, 1, 5, 3), rawKDFParams: []byte{0x05, 0x00}},
		"PBKDF2 otherSource salt": {rawKDFParams: seq(
			seq(oidDER(t, oid(1, 2, 3))),
			[]byte{0x02, 0x01, 0x01},
		)},
	} {
		t.Run(name, func(t *testing.T) {
			blob := buildBlob(t, spec, pki, "pw")
			_, err := Decrypt(blob, []byte("pw"))
			checkCleanError(t, err)
			if !isUnsupported(err) {
				t.Fatalf("err = %v, want UnsupportedError", err)
			}
			if !strings.HasPrefix(err.Error(), "pkcs8: unsupported ") {
				t.Errorf("err = %q", err)
			}
		})
	}
	if got := (UnsupportedError{What: "thing"}).Error(); got != "pkcs8: unsupported thing" {
		t.Errorf("Error() = %q", got)
	}
	_, err := Decrypt(buildBlob(t, blobSpec{encAlg: oid(1, 2, 840, 113549, 1, 5, 3)}, pki, "pw"), nil)
	if !strings.Contains(err.Error(), "PBES1") {
		t.Errorf("PBES1 error %q does not say PBES1", err)
	}
}

func TestDecryptKeyLengthMismatch(t *testing.T) {
	pki := smallPKI(t)
	for _, spec := range []blobSpec{
		{keyLength: 16},
		{keyLength: 64},
		{cipher: oidAES128CBC, keySize: 16, keyLength: 32},
		{useScrypt: true, n: 2, r: 1, p: 1, keyLength: 16},
		{useScrypt: true, n: 2, r: 1, p: 1, keyLength: 33},
	} {
		_, err := Decrypt(buildBlob(t, spec, pki, "pw"), []byte("pw"))
		checkCleanError(t, err)
		if err == ErrIncorrectPassphrase || isUnsupported(err) {
			t.Errorf("keyLength %d: err = %v", spec.keyLength, err)
		}
	}
}

func TestParseScryptParamsBounds(t *testing.T) {
	enc := func(n, r, p int64) cryptobyte.String {
		b := cryptobyte.NewBuilder(nil)
		b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1OctetString([]byte("salt"))
			b.AddASN1Int64(n)
			b.AddASN1Int64(r)
			b.AddASN1Int64(p)
		})
		return b.BytesOrPanic()
	}
	for _, ok := range [][3]int64{
		{2, 1, 1},
		{16384, 8, 1}, // OpenSSL default, 16 MiB
		{1 << 17, 8, 1},
		{1 << 20, 1, 1},
		{1 << 17, 8, 8},
	} {
		if _, err := parseScryptParams(enc(ok[0], ok[1], ok[2]), 32); err != nil {
			t.Errorf("N=%d r=%d p=%d rejected: %v", ok[0], ok[1], ok[2], err)
		}
	}
	for _, bad := range [][3]int64{
		{0, 8, 1}, {1, 8, 1}, {3, 8, 1}, {1000, 8, 1}, {-16384, 8, 1},
		{16384, 0, 1}, {16384, -1, 1}, {16384, 8, 0}, {16384, 8, -1},
		{1 << 18, 8, 1}, // 256 MiB + 3 KiB
		{1 << 21, 1, 1},
		{1 << 30, 1, 1}, {1 << 62, 1, 1}, {1 << 17, 8, 9},
		{16384, 1 << 40, 1}, {16384, 8, 1 << 40}, {2, 1 << 20, 1 << 20},
		{16384, 8, 1 << 30}, {2, 1, 1 << 21},
	} {
		_, err := parseScryptParams(enc(bad[0], bad[1], bad[2]), 32)
		checkCleanError(t, err)
	}
}

func TestDecryptIterationBounds(t *testing.T) {
	pki := smallPKI(t)
	key := make([]byte, 32)
	for _, iter := range []int64{0, -1, maxIterations + 1, 1 << 31, 1 << 62} {
		spec := blobSpec{key: key}
		spec.rawKDFParams = seq(
			[]byte{0x04, 0x04, 's', 'a', 'l', 't'},
			intDER(iter),
		)
		_, err := Decrypt(buildBlob(t, spec, pki, "pw"), []byte("pw"))
		checkCleanError(t, err)
		if err == ErrIncorrectPassphrase || isUnsupported(err) {
			t.Errorf("iterations %d: err = %v", iter, err)
		}
	}
	// An INTEGER too large for int64.
	huge := append([]byte{0x02, 0x09, 0x01}, make([]byte, 8)...)
	_, err := Decrypt(buildBlob(t, blobSpec{key: key, rawKDFParams: seq([]byte{0x04, 0x01, 's'}, huge)}, pki, "pw"), []byte("pw"))
	checkCleanError(t, err)
}

func TestUnpad(t *testing.T) {
	for padLen := 1; padLen <= 16; padLen++ {
		for _, blocks := range []int{1, 2} {
			buf := bytes.Repeat([]byte{0xEE}, 16*blocks)
			for i := len(buf) - padLen; i < len(buf); i++ {
				buf[i] = byte(padLen)
			}
			n, ok := unpad(buf, blockSize)
			if !ok || n != len(buf)-padLen {
				t.Errorf("padLen %d: unpad = %d, %v", padLen, n, ok)
			}
			// Corrupting any padding byte must invalidate it.
			for i := len(buf) - padLen; i < len(buf)-1; i++ {
				c := bytes.Clone(buf)
				c[i] ^= 0x40
				if _, ok := unpad(c, blockSize); ok {
					t.Errorf("padLen %d: corrupted byte %d accepted", padLen, i)
				}
			}
		}
	}
	for v := 0; v < 256; v++ {
		if v >= 1 && v <= 16 {
			continue
		}
		buf := bytes.Repeat([]byte{byte(v)}, 32)
		if _, ok := unpad(buf, blockSize); ok {
			t.Errorf("padding byte 0x%02x accepted", v)
		}
	}
	for _, l := range []int{0, 1, 15, 17} {
		if _, ok := unpad(bytes.Repeat([]byte{1}, l), blockSize); ok {
			t.Errorf("length %d accepted", l)
		}
	}
}

func TestIsPrivateKeyInfo(t *testing.T) {
	for _, k := range generateTestKeys(t) {
		if !isPrivateKeyInfo(k.der) {
			t.Errorf("%s: isPrivateKeyInfo = false", k.name)
		}
	}
	pki := smallPKI(t)
	// RFC 5958 v2 with attributes and public key.
	v2 := seq(
		intDER(1),
		seq(oidDER(t, encoding_asn1.ObjectIdentifier{1, 3, 101, 112})),
		[]byte{0x04, 0x02, 0x04, 0x00},
		[]byte{0xA0, 0x00},
		[]byte{0x81, 0x02, 0x00, 0xFF},
	)
	if !isPrivateKeyInfo(v2) {
		t.Error("OneAsymmetricKey v2 rejected")
	}
	for name, bad := range map[string][]byte{
		"empty":           nil,
		"trailing byte":   append(bytes.Clone(pki), 0),
		"truncated":       pki[:len(pki)-1],
		"version 2":       seq(intDER(2), seq(oidDER(t, oidPBES2)), []byte{0x04, 0x00}),
		"no alg OID":      seq(intDER(0), seq(), []byte{0x04, 0x00}),
		"no private key":  seq(intDER(0), seq(oidDER(t, oidPBES2))),
		"extra field":     seq(intDER(0), seq(oidDER(t, oidPBES2)), []byte{0x04, 0x00}, []byte{0x05, 0x00}),
		"wrong order":     seq(intDER(0), seq(oidDER(t, oidPBES2)), []byte{0x04, 0x00}, []byte{0x81, 0x00}, []byte{0xA0, 0x00}),
		"alg two params":  seq(intDER(0), seq(oidDER(t, oidPBES2), []byte{0x05, 0x00}, []byte{0x05, 0x00}), []byte{0x04, 0x00}),
		"set not seq":     append([]byte{0x31}, pki[1:]...),
		"indefinite len":  {0x30, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00},
		"non-minimal len": nonMinimal(seq(intDER(0), seq(oidDER(t, oidPBES2)), []byte{0x04, 0x00})),
	} {
		if isPrivateKeyInfo(bad) {
			t.Errorf("%s: accepted", name)
		}
	}
}

// seq returns the DER SEQUENCE of the concatenated elements.
func seq(elems ...[]byte) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1(asn1.SEQUENCE, func(b *cryptobyte.Builder) {
		for _, e := range elems {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

func oidDER(t testing.TB, oid encoding_asn1.ObjectIdentifier) []byte {
	t.Helper()
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1ObjectIdentifier(oid)
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// nonMinimal re-encodes a short-form DER element with a long-form length.
func nonMinimal(der []byte) []byte {
	return append([]byte{der[0], 0x81, der[1]}, der[2:]...)
}

func intDER(v int64) []byte {
	b := cryptobyte.NewBuilder(nil)
	b.AddASN1Int64(v)
	return b.BytesOrPanic()
}
