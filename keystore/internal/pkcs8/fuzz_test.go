package pkcs8

import (
	"bytes"
	"testing"
)

// fuzzSeeds returns valid EncryptedPrivateKeyInfo blobs, all protected with
// testPassphrase, covering every supported KDF, PRF and cipher, plus the
// OpenSSL-produced files in testdata/.
func fuzzSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	pki := smallPKI(tb)
	var seeds [][]byte

	// Deterministic random source so the seed corpus is stable.
	random := bytes.Repeat([]byte("fuzz-seed-random"), 2)
	ours, err := Encrypt(bytes.NewReader(random), pki, []byte(testPassphrase), 1)
	if err != nil {
		tb.Fatal(err)
	}
	seeds = append(seeds, ours)

	for _, spec := range []blobSpec{
		{cipher: oidAES128CBC, keySize: 16},
		{cipher: oidAES192CBC, keySize: 24, prf: oidHMACWithSHA224, keyLength: 24},
		{prf: oidHMACWithSHA384, iterations: 2},
		{prf: oidHMACWithSHA512, prfNoParams: true},
		{useScrypt: true, n: 2, r: 1, p: 1},
		{useScrypt: true, n: 4, r: 2, p: 2, keyLength: 16, cipher: oidAES128CBC, keySize: 16},
	} {
		seeds = append(seeds, buildBlob(tb, spec, pki, testPassphrase))
	}

	for _, name := range []string{"sha1", "sha224", "sha256", "sha384", "sha512", "scrypt", "pbes1"} {
		seeds = append(seeds, readPEMFile(tb, testdataPath("openssl-"+name+".pem"), "ENCRYPTED PRIVATE KEY"))
	}
	return seeds
}

func TestFuzzSeeds(t *testing.T) {
	seeds := fuzzSeeds(t)
	if len(seeds) == 0 {
		t.Fatal("fuzzSeeds returned no seeds")
	}
	decrypted := 0
	for i, s := range seeds {
		if _, err := Decrypt(s, []byte(testPassphrase)); err == nil {
			decrypted++
		} else if !isUnsupported(err) {
			t.Errorf("seed %d: %v", i, err)
		}
	}
	if decrypted == 0 {
		t.Fatal("no seed decrypts")
	}
}

func FuzzDecrypt(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	pass := []byte(testPassphrase)
	f.Fuzz(func(t *testing.T, der []byte) {
		in := bytes.Clone(der)
		isEPKI := IsEncryptedPrivateKeyInfo(der)
		out, err := Decrypt(der, pass)
		if !bytes.Equal(in, der) {
			t.Fatal("Decrypt modified its input")
		}
		if err != nil {
			checkCleanError(t, err)
			if out != nil {
				t.Fatal("non-nil output with an error")
			}
			return
		}
		if !isEPKI {
			t.Fatal("Decrypt succeeded but IsEncryptedPrivateKeyInfo = false")
		}
		if !isPrivateKeyInfo(out) {
			t.Fatal("Decrypt returned something that is not a PrivateKeyInfo")
		}
		// What decrypts must survive a round trip through Encrypt.
		re, err := Encrypt(bytes.NewReader(make([]byte, 32)), out, pass, 1)
		if err != nil {
			t.Fatal(err)
		}
		if out2, err := Decrypt(re, pass); err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("round trip of decrypted output failed: %v", err)
		}
	})
}
