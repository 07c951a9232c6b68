package keystore

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// detectSeeds are real inputs of every format Detect knows.
func detectSeeds(t testing.TB) [][]byte {
	e := newEntity(t, "Seed", "seed@example.org", time.Unix(1700000000, 0), 0)
	pub := publicBytes(t, e)
	var armored, armoredSecret bytes.Buffer
	armorPGP(&armored, "PGP PUBLIC KEY BLOCK", pub)
	armorPGP(&armoredSecret, "PGP PRIVATE KEY BLOCK", secretBytes(t, e))
	s := newTestStore(t)
	res, err := s.Generate(GenerateRequest{Email: "seed@example.org", SMIME: true, Algo: "p256", Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	var certPEM, keyPEM, p12 bytes.Buffer
	if err := s.Export(&certPEM, res[0].Fingerprint, ExportPEM); err != nil {
		t.Fatal(err)
	}
	key, cert, err := s.UnlockSMIME(res[0].Fingerprint, testPass)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pem.Encode(&keyPEM, &pem.Block{Type: "PRIVATE KEY", Bytes: der})
	// A PKCS#12 with few PBKDF2 iterations, so fuzzing stays fast.
	pfx, err := pkcs12.Modern2023.Encode(key, cert, nil, string(testPass))
	if err != nil {
		t.Fatal(err)
	}
	p12.Write(pfx)
	return [][]byte{pub, armored.Bytes(), append(armored.Bytes(), armoredSecret.Bytes()...), cert.Raw, certPEM.Bytes(),
		der, append(keyPEM.Bytes(), certPEM.Bytes()...), p12.Bytes()}
}

func TestDetectSeeds(t *testing.T) {
	seeds := detectSeeds(t)
	if len(seeds) == 0 {
		t.Fatal("no seeds")
	}
	want := []Format{FormatPGP, FormatPGP, FormatPGP, FormatCertificate, FormatCertificate, FormatPKCS8, FormatPKCS8, FormatPKCS12}
	for i, seed := range seeds {
		blocks, err := Detect(seed)
		if err != nil || blocks[0].Format != want[i] {
			t.Errorf("seed %d: %v %v", i, blocks, err)
		}
	}
}

// FuzzDetect feeds arbitrary bytes to the format detector and on to the
// parsers Import uses: no input may panic, and whatever Detect accepts as
// OpenPGP must either parse or fail cleanly.
func FuzzDetect(f *testing.F) {
	for _, s := range detectSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = parseInput(Input{Name: "fuzz", Data: data}, passFunc(testPass))
		blocks, err := Detect(data)
		if err != nil {
			return
		}
		for _, b := range blocks {
			if len(b.Data) == 0 {
				t.Fatalf("empty %s block accepted", b.Format)
			}
		}
	})
}
