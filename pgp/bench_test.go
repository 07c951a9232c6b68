package pgp_test

// Benchmarks of the OpenPGP fast paths, with Curve25519 keys made in
// process: encrypt+sign and decrypt+verify of a 1 KiB message (the cost
// of one mail), and encrypt and decrypt of 64 MiB (throughput: armor,
// AES-256-CFB, the SHA-1 MDC, the spool). bench/pgp.sh compares the CLI
// with gpg; these isolate the library.
//
//	go test -run '^$' -bench . -benchmem ./pgp/
//	go test -run '^$' -bench 'Read64MiB/armor' -cpuprofile cpu.out ./pgp/
//
// The 64 MiB benchmarks have an armor and a binary variant, so that the
// cost of the armor can be told from that of the cryptography.

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"github.com/securemail/securemail/pgp"
)

type benchKeys struct {
	alice, bob *openpgp.Entity // both with their secret keys
	to         []pgp.Recipient // bob, and alice herself
	ring       pgp.Entities
}

var (
	benchOnce sync.Once
	bk        benchKeys
	benchErr  error
)

// keys makes the benchmark keys once: alice sends, bob receives, and
// the message is encrypted to both, as the CLI does.
func keys(b *testing.B) *benchKeys {
	b.Helper()
	benchOnce.Do(func() {
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultCipher: packet.CipherAES256}
		if bk.alice, benchErr = openpgp.NewEntity("Alice", "", "alice@example.org", cfg); benchErr != nil {
			return
		}
		if bk.bob, benchErr = openpgp.NewEntity("Bob", "", "bob@example.org", cfg); benchErr != nil {
			return
		}
		bk.to = []pgp.Recipient{{Name: "bob@example.org", Key: bk.bob}, {Name: "yourself", Key: bk.alice}}
		bk.ring = pgp.Entities{bk.alice, bk.bob}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return &bk
}

// payload is n bytes of incompressible data, the same on every call.
func payload(n int) []byte {
	p := make([]byte, n)
	r := rand.NewChaCha8([32]byte{'p', 'g', 'p'})
	r.Read(p)
	return p
}

// encrypt encrypts data to bob and alice, signed by signer if not nil.
func encrypt(b *testing.B, w io.Writer, data []byte, signer *openpgp.Entity, armor bool) {
	k := keys(b)
	wc, err := pgp.Encrypt(w, k.to, signer, &pgp.WriteParams{Armor: armor})
	if err != nil {
		b.Fatal(err)
	}
	// 32 KiB writes, as io.Copy from the CLI's stdin makes them.
	for p := data; len(p) > 0; {
		n := min(len(p), 32<<10)
		if _, err := wc.Write(p[:n]); err != nil {
			b.Fatal(err)
		}
		p = p[n:]
	}
	if err := wc.Close(); err != nil {
		b.Fatal(err)
	}
}

// sealed is data encrypted (and signed by alice when sign is set).
func sealed(b *testing.B, data []byte, sign, armor bool) []byte {
	var signer *openpgp.Entity
	if sign {
		signer = keys(b).alice
	}
	var buf bytes.Buffer
	encrypt(b, &buf, data, signer, armor)
	return buf.Bytes()
}

// countingDiscard counts what it is given, to check that the plaintext
// came out whole.
type countingDiscard struct{ n int64 }

func (c *countingDiscard) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func read(b *testing.B, msg []byte, size int, wantSig bool, opts *pgp.Options) {
	var out countingDiscard
	res, err := pgp.Read(bytes.NewReader(msg), &out, keys(b).ring, opts)
	if err != nil {
		b.Fatal(err)
	}
	if out.n != int64(size) || !res.Integrity {
		b.Fatalf("read %d bytes (integrity %v), want %d", out.n, res.Integrity, size)
	}
	if wantSig && (len(res.Signatures) != 1 || !res.Signatures[0].Valid) {
		b.Fatalf("signatures: %+v", res.Signatures)
	}
}

// BenchmarkEncryptSign1KiB: one mail's worth, encrypted to two
// Curve25519 keys and signed with Ed25519, armored.
func BenchmarkEncryptSign1KiB(b *testing.B) {
	data := payload(1 << 10)
	k := keys(b)
	var buf bytes.Buffer
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		encrypt(b, &buf, data, k.alice, true)
	}
}

// BenchmarkReadVerify1KiB: decrypting and verifying that mail.
func BenchmarkReadVerify1KiB(b *testing.B) {
	data := payload(1 << 10)
	msg := sealed(b, data, true, true)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		read(b, msg, len(data), true, nil)
	}
}

// BenchmarkEncrypt64MiB: bulk encryption to two keys, unsigned.
func BenchmarkEncrypt64MiB(b *testing.B) {
	data := payload(64 << 20)
	for _, armor := range []bool{true, false} {
		b.Run(variant(armor), func(b *testing.B) {
			keys(b)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				encrypt(b, io.Discard, data, nil, armor)
			}
		})
	}
}

// BenchmarkRead64MiB: bulk decryption, through the spool (64 MiB is
// above the 16 MiB memory limit, so the encrypted temporary file is
// used).
func BenchmarkRead64MiB(b *testing.B) {
	data := payload(64 << 20)
	for _, armor := range []bool{true, false} {
		b.Run(variant(armor), func(b *testing.B) {
			msg := sealed(b, data, false, armor)
			opts := &pgp.Options{TempDir: b.TempDir()}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				read(b, msg, len(data), false, opts)
			}
		})
	}
}

func variant(armor bool) string {
	if armor {
		return "armor"
	}
	return "binary"
}
