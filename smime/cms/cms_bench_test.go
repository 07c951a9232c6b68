package cms

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"sync"
	"testing"
)

// Benchmarks of the four operations on 1 KiB and 10 MiB with an RSA-3072
// key, as bench/smime.sh measures them per process against openssl cms:
//
//	go test -run '^$' -bench . -benchmem ./smime/cms/

var benchSizes = []struct {
	name string
	n    int
}{
	{"1KiB", 1 << 10},
	{"10MiB", 10 << 20},
}

type benchFixture struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
}

// benchKey is an RSA-3072 key and a certificate for it, made once.
var benchKey = sync.OnceValues(func() (*benchFixture, error) {
	k, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		return nil, err
	}
	f := sdtPKI()
	return &benchFixture{cert: f.issue("bench", &k.PublicKey), key: k}, nil
})

func benchSetup(b *testing.B, n int) (*benchFixture, []byte) {
	b.Helper()
	f, err := benchKey()
	if err != nil {
		b.Fatal(err)
	}
	content := make([]byte, n)
	if _, err := rand.Read(content); err != nil {
		b.Fatal(err)
	}
	return f, content
}

func BenchmarkSign(b *testing.B) {
	for _, s := range benchSizes {
		for _, detached := range []bool{true, false} {
			mode := "opaque"
			if detached {
				mode = "detached"
			}
			b.Run(fmt.Sprintf("%s/%s", s.name, mode), func(b *testing.B) {
				f, content := benchSetup(b, s.n)
				signers := []Signer{{Certificate: f.cert, Key: f.key}}
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if detached {
						_, err = SignDetached(bytes.NewReader(content), signers, nil)
					} else {
						_, err = Sign(content, signers, nil)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	for _, s := range benchSizes {
		b.Run(s.name+"/detached", func(b *testing.B) {
			f, content := benchSetup(b, s.n)
			msg, err := SignDetached(bytes.NewReader(content), []Signer{{Certificate: f.cert, Key: f.key}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				sd, err := ParseSignedData(msg, nil)
				if err != nil {
					b.Fatal(err)
				}
				res, err := sd.Verify(&VerifyOptions{Detached: bytes.NewReader(content)})
				if err != nil || !res.Signers[0].Valid {
					b.Fatalf("verify: %v", err)
				}
			}
		})
		b.Run(s.name+"/opaque", func(b *testing.B) {
			f, content := benchSetup(b, s.n)
			msg, err := Sign(content, []Signer{{Certificate: f.cert, Key: f.key}}, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(s.n))
			b.ReportAllocs()
			for b.Loop() {
				sd, err := ParseSignedData(msg, nil)
				if err != nil {
					b.Fatal(err)
				}
				res, err := sd.Verify(nil)
				if err != nil || !res.Signers[0].Valid {
					b.Fatalf("verify: %v", err)
				}
			}
		})
	}
}

var benchAlgorithms = []struct {
	name string
	opts EncryptOptions
}{
	{"gcm-oaep", EncryptOptions{Algorithm: AES256GCM, RSAPadding: RSAPaddingOAEP}},
	{"cbc-pkcs1v15", EncryptOptions{Algorithm: AES256CBC, RSAPadding: RSAPaddingPKCS1v15}},
}

func BenchmarkEncrypt(b *testing.B) {
	for _, s := range benchSizes {
		for _, a := range benchAlgorithms {
			b.Run(s.name+"/"+a.name, func(b *testing.B) {
				f, content := benchSetup(b, s.n)
				recips := []*x509.Certificate{f.cert}
				opts := a.opts
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Encrypt(content, recips, &opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecrypt(b *testing.B) {
	for _, s := range benchSizes {
		for _, a := range benchAlgorithms {
			b.Run(s.name+"/"+a.name, func(b *testing.B) {
				f, content := benchSetup(b, s.n)
				opts := a.opts
				msg, err := Encrypt(content, []*x509.Certificate{f.cert}, &opts)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(s.n))
				b.ReportAllocs()
				for b.Loop() {
					pt, _, err := Decrypt(msg, f.cert, f.key, nil)
					if err != nil || len(pt) != s.n {
						b.Fatalf("decrypt: %v", err)
					}
				}
			})
		}
	}
}
