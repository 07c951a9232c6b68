package pkcs8

import (
	"bytes"
	"crypto/x509"
	"testing"
)

// decryptNoPanic calls Decrypt and turns a panic into a test failure.
func decryptNoPanic(t *testing.T, blob, passphrase []byte) (out []byte, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Decrypt panicked on %x: %v", blob, r)
		}
	}()
	return Decrypt(blob, passphrase)
}

func TestDecryptTruncated(t *testing.T) {
	pass := []byte("pw")
	pki := smallPKI(t)
	ours, err := Encrypt(nil, pki, pass, 1)
	if err != nil {
		t.Fatal(err)
	}
	blobs := map[string][]byte{
		"Encrypt":      ours,
		"scrypt":       buildBlob(t, blobSpec{useScrypt: true, n: 2, r: 1, p: 1, keyLength: 32}, pki, "pw"),
		"pbkdf2-full":  buildBlob(t, blobSpec{keyLength: 16, cipher: oidAES128CBC, keySize: 16, prf: oidHMACWithSHA512}, pki, "pw"),
		"openssl-sha1": readPEMFile(t, testdataPath("openssl-sha1.pem"), "ENCRYPTED PRIVATE KEY"),
	}
	for name, blob := range blobs {
		p := pass
		if name == "openssl-sha1" {
			p = []byte(testPassphrase)
		}
		if _, err := decryptNoPanic(t, blob, p); err != nil {
			t.Fatalf("%s: untruncated blob does not decrypt: %v", name, err)
		}
		for n := range len(blob) {
			trunc := blob[:n:n]
			_, err := decryptNoPanic(t, trunc, p)
			checkCleanError(t, err)
			if IsEncryptedPrivateKeyInfo(trunc) {
				t.Errorf("%s: IsEncryptedPrivateKeyInfo(blob[:%d]) = true", name, n)
			}
		}
		// Trailing garbage is rejected too.
		for _, extra := range [][]byte{{0}, {0x05, 0x00}, bytes.Repeat([]byte{0xFF}, 16)} {
			_, err := decryptNoPanic(t, append(bytes.Clone(blob), extra...), p)
			checkCleanError(t, err)
		}
	}
}

func TestDecryptBadPadding(t *testing.T) {
	pki := smallPKI(t)
	padded := func(last []byte) []byte {
		// pki followed by a filler so that the padding block is all "last".
		pt := append(bytes.Clone(pki), bytes.Repeat([]byte{0}, (16-len(pki)%16)%16)...)
		return append(pt, last...)
	}
	correctPad := func(padLen int) []byte {
		pt := bytes.Clone(pki)
		for range padLen {
			pt = append(pt, byte(padLen))
		}
		return pt
	}
	validLen := 16 - len(pki)%16
	for name, pt := range map[string][]byte{
		"last byte 0x00":    padded(bytes.Repeat([]byte{0x00}, 16)),
		"last byte 0x11":    padded(bytes.Repeat([]byte{0x11}, 16)),
		"last byte 0xFF":    padded(bytes.Repeat([]byte{0xFF}, 16)),
		"inconsistent pad":  append(correctPad(validLen)[:len(pki)+validLen-1], byte(validLen+1)),
		"first pad byte":    func() []byte { p := correctPad(validLen); p[len(pki)] ^= 1; return p }(),
		"middle pad byte":   func() []byte { p := correctPad(validLen); p[len(pki)+validLen/2] ^= 0x80; return p }(),
		"no padding block":  append(bytes.Clone(pki), bytes.Repeat([]byte{0}, validLen)...),
		"pad too short":     func() []byte { p := correctPad(validLen); p[len(p)-1] = 1; p[len(p)-2] = 7; return p }(),
		"pad length > 16":   correctPad(validLen + 16),
		"valid pad garbage": append(bytes.Repeat([]byte{0x30}, 32), bytes.Repeat([]byte{16}, 16)...),
		"valid pad, not PKI": func() []byte {
			bad := append(bytes.Clone(pki), 0x00, 0x00) // trailing data after the SEQUENCE
			pad := 16 - len(bad)%16
			for range pad {
				bad = append(bad, byte(pad))
			}
			return bad
		}(),
	} {
		t.Run(name, func(t *testing.T) {
			if len(pt)%16 != 0 {
				t.Fatalf("test bug: plaintext length %d", len(pt))
			}
			blob := buildBlob(t, blobSpec{plaintext: pt}, pki, "pw")
			_, err := decryptNoPanic(t, blob, []byte("pw"))
			if err != ErrIncorrectPassphrase {
				t.Fatalf("err = %v, want ErrIncorrectPassphrase", err)
			}
		})
	}
	// Sanity check: the same construction with correct padding decrypts.
	// (smallPKI is 48 bytes long, so this is a full block of padding.)
	for _, pt := range [][]byte{correctPad(validLen)} {
		blob := buildBlob(t, blobSpec{plaintext: pt}, pki, "pw")
		if got, err := decryptNoPanic(t, blob, []byte("pw")); err != nil || !bytes.Equal(got, pki) {
			t.Fatalf("correct padding: err = %v", err)
		}
	}
}

func TestDecryptCiphertextLength(t *testing.T) {
	pki := smallPKI(t)
	for name, mutate := range map[string]func([]byte) []byte{
		"empty":          func(c []byte) []byte { return nil },
		"one byte":       func(c []byte) []byte { return c[:1] },
		"15 bytes":       func(c []byte) []byte { return c[:15] },
		"17 bytes":       func(c []byte) []byte { return c[:17] },
		"minus one":      func(c []byte) []byte { return c[:len(c)-1] },
		"plus one":       func(c []byte) []byte { return append(c, 0) },
		"plus half":      func(c []byte) []byte { return append(c, make([]byte, 8)...) },
		"one block only": func(c []byte) []byte { return c[:16] },
	} {
		t.Run(name, func(t *testing.T) {
			blob := buildBlob(t, blobSpec{mutate: mutate}, pki, "pw")
			_, err := decryptNoPanic(t, blob, []byte("pw"))
			checkCleanError(t, err)
			if name == "one block only" {
				// Structurally fine, but the plaintext is not a PrivateKeyInfo.
				if err != ErrIncorrectPassphrase {
					t.Fatalf("err = %v, want ErrIncorrectPassphrase", err)
				}
				return
			}
			if err != errCiphertextLength {
				t.Fatalf("err = %v, want %v", err, errCiphertextLength)
			}
		})
	}
}

func TestDecryptHugeCost(t *testing.T) {
	pki := smallPKI(t)
	key := make([]byte, 32) // the KDF must never run, so any key will do
	for name, spec := range map[string]blobSpec{
		"iterations 10000001":  {iterations: maxIterations + 1},
		"iterations 2^31":      {iterations: 1 << 31},
		"iterations 2^62":      {iterations: 1 << 62},
		"iterations 0":         {rawKDFParams: seq([]byte{0x04, 0x01, 's'}, intDER(0))},
		"iterations negative":  {rawKDFParams: seq([]byte{0x04, 0x01, 's'}, intDER(-5))},
		"scrypt N 2^20 r 8":    {useScrypt: true, n: 1 << 20, r: 8, p: 1},
		"scrypt N 2^31 r 1":    {useScrypt: true, n: 1 << 31, r: 1, p: 1},
		"scrypt r 2^30":        {useScrypt: true, n: 16384, r: 1 << 30, p: 1},
		"scrypt p 2^30":        {useScrypt: true, n: 16384, r: 8, p: 1 << 30},
		"scrypt N*r*p too big": {useScrypt: true, n: 1 << 17, r: 8, p: 64},
		"scrypt N not pow2":    {useScrypt: true, n: 1000, r: 8, p: 1},
		"scrypt N 1":           {useScrypt: true, n: 1, r: 8, p: 1},
		"scrypt r 0":           {useScrypt: true, n: 16, r: 0, p: 1},
		"scrypt p 0":           {useScrypt: true, n: 16, r: 1, p: 0},
	} {
		t.Run(name, func(t *testing.T) {
			spec.key = key
			blob := buildBlob(t, spec, pki, "pw")
			_, err := decryptNoPanic(t, blob, []byte("pw"))
			checkCleanError(t, err)
			if err == ErrIncorrectPassphrase || isUnsupported(err) {
				t.Fatalf("err = %v, want a cost/format error", err)
			}
		})
	}
}

func TestDecryptMalformedStructure(t *testing.T) {
	pki := smallPKI(t)
	good := buildBlob(t, blobSpec{}, pki, "pw")
	ivOctets := []byte{0x04, 0x10}
	for name, blob := range map[string][]byte{
		"nil":               nil,
		"empty sequence":    {0x30, 0x00},
		"indefinite":        {0x30, 0x80, 0x00, 0x00},
		"not a sequence":    append([]byte{0x31}, good[1:]...),
		"plain PKCS#8":      pki,
		"non-minimal len":   nonMinimalLong(good),
		"IV 8 bytes":        buildBlob(t, blobSpec{iv: []byte("01234567")}, pki, "pw"),
		"IV 17 bytes":       buildBlob(t, blobSpec{iv: []byte("0123456789abcdefg")}, pki, "pw"),
		"IV empty":          buildBlob(t, blobSpec{iv: []byte{}}, pki, "pw"),
		"IV missing":        bytes.Replace(good, append(ivOctets, []byte("0123456789abcdef")...), nil, 1),
		"constructed data":  constructedOctets(t, good),
		"salt missing":      buildBlob(t, blobSpec{rawKDFParams: seq(intDER(1))}, pki, "pw"),
		"iter missing":      buildBlob(t, blobSpec{rawKDFParams: seq([]byte{0x04, 0x01, 's'})}, pki, "pw"),
		"kdf params NULL":   buildBlob(t, blobSpec{rawKDFParams: []byte{0x05, 0x00}}, pki, "pw"),
		"kdf params absent": buildBlob(t, blobSpec{rawKDFParams: []byte{}}, pki, "pw"),
		"pbkdf2 extra field": buildBlob(t, blobSpec{rawKDFParams: seq([]byte{0x04, 0x01, 's'}, intDER(1), intDER(32),
			seq(oidDER(t, oidHMACWithSHA256), []byte{0x05, 0x00}), []byte{0x05, 0x00})}, pki, "pw"),
		"prf params not NULL": buildBlob(t, blobSpec{rawKDFParams: seq([]byte{0x04, 0x01, 's'}, intDER(1),
			seq(oidDER(t, oidHMACWithSHA256), intDER(0)))}, pki, "pw"),
		"prf before keyLength": buildBlob(t, blobSpec{rawKDFParams: seq([]byte{0x04, 0x01, 's'}, intDER(1),
			seq(oidDER(t, oidHMACWithSHA256)), intDER(32))}, pki, "pw"),
		"scrypt extra field": buildBlob(t, blobSpec{useScrypt: true, key: make([]byte, 32), rawKDFParams: seq([]byte{0x04, 0x01, 's'},
			intDER(16), intDER(1), intDER(1), intDER(32), intDER(0))}, pki, "pw"),
		"scrypt missing p": buildBlob(t, blobSpec{useScrypt: true, key: make([]byte, 32), rawKDFParams: seq([]byte{0x04, 0x01, 's'},
			intDER(16), intDER(1))}, pki, "pw"),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := decryptNoPanic(t, blob, []byte("pw"))
			checkCleanError(t, err)
			if err == ErrIncorrectPassphrase {
				t.Fatalf("err = %v, want a format error", err)
			}
		})
	}
}

// nonMinimalLong re-encodes the outer length of a long-form DER element
// (0x30 0x81 LL or 0x30 0x82 HH LL) with one more, redundant, length octet.
func nonMinimalLong(der []byte) []byte {
	n := int(der[1] & 0x7f)
	out := []byte{der[0], 0x80 | byte(n+1), 0}
	out = append(out, der[2:2+n]...)
	return append(out, der[2+n:]...)
}

// constructedOctets flips the encryptedData OCTET STRING tag to the
// constructed (BER-only) form.
func constructedOctets(t *testing.T, good []byte) []byte {
	epki, err := parseEncryptedPrivateKeyInfo(good)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.LastIndex(good, epki.encryptedData)
	hdr := 2
	if len(epki.encryptedData) >= 128 {
		hdr = 3
	}
	if len(epki.encryptedData) >= 256 {
		hdr = 4
	}
	bad := bytes.Clone(good)
	bad[i-hdr] = 0x24
	return bad
}

// TestDecryptByteFlips flips every byte of a valid blob. Most flips must
// fail cleanly; the rest (for example in the first plaintext block via the
// IV) may still yield a PrivateKeyInfo, which then must really parse as one.
func TestDecryptByteFlips(t *testing.T) {
	pki := smallPKI(t)
	blob, err := Encrypt(nil, pki, []byte("pw"), 1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range blob {
		for _, x := range []byte{0x01, 0x80, 0xFF} {
			b := bytes.Clone(blob)
			b[i] ^= x
			got, err := decryptNoPanic(t, b, []byte("pw"))
			if err != nil {
				checkCleanError(t, err)
				continue
			}
			if !isPrivateKeyInfo(got) {
				t.Fatalf("flip %d^%#x: Decrypt returned a non-PrivateKeyInfo", i, x)
			}
			_, _ = x509.ParsePKCS8PrivateKey(got) // must not panic either
		}
	}
}
