package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/hex"
	mrand "math/rand/v2"
	"testing"
)

func gcmStdSeal(t testing.TB, key, nonce, pt, aad []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead.Seal(nil, nonce, pt, aad)
}

// gcmChunks splits n octets into random pieces (some empty).
func gcmChunks(rng *mrand.Rand, n int) []int {
	var out []int
	for n > 0 {
		var c int
		switch rng.IntN(4) {
		case 0:
			c = rng.IntN(17)
		case 1:
			c = rng.IntN(100)
		default:
			c = rng.IntN(20000)
		}
		c = min(c, n)
		out = append(out, c)
		n -= c
	}
	return out
}

func TestGCMStreamMatchesStdlib(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(1, 2))
	lengths := []int{0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4096, 65536, 65537, 100000}
	for i := 0; i < 60; i++ {
		lengths = append(lengths, rng.IntN(100001))
	}
	for i, n := range lengths {
		key := make([]byte, []int{16, 32}[i%2])
		nonce := make([]byte, 12)
		fill := func(b []byte) {
			for j := range b {
				b[j] = byte(rng.Uint32())
			}
		}
		fill(key)
		fill(nonce)
		pt := make([]byte, n)
		fill(pt)
		var aad []byte
		switch i % 4 {
		case 1:
			aad = make([]byte, rng.IntN(40))
		case 2:
			aad = make([]byte, rng.IntN(3000))
		}
		fill(aad)
		want := gcmStdSeal(t, key, nonce, pt, aad)

		// Seal in random pieces.
		s, err := newGCMStream(key, nonce)
		if err != nil {
			t.Fatal(err)
		}
		ct := make([]byte, n)
		off := 0
		for _, c := range gcmChunks(rng, n) {
			if err := s.seal(ct[off:off+c], pt[off:off+c]); err != nil {
				t.Fatal(err)
			}
			off += c
		}
		tag := s.tag(aad)
		got := append(ct, tag[:]...)
		if !bytes.Equal(got, want) {
			t.Fatalf("len %d aad %d: sealed output differs from crypto/cipher", n, len(aad))
		}

		// Open: hash in other pieces, verify, then decrypt.
		o, _ := newGCMStream(key, nonce)
		off = 0
		for _, c := range gcmChunks(rng, n) {
			if err := o.hashCiphertext(ct[off : off+c]); err != nil {
				t.Fatal(err)
			}
			off += c
		}
		if !o.verify(aad, tag[:]) {
			t.Fatalf("len %d: own tag rejected", n)
		}
		dec := make([]byte, n)
		o.keystream().XORKeyStream(dec, ct)
		if !bytes.Equal(dec, pt) {
			t.Fatalf("len %d: decryption differs", n)
		}
		bad := tag
		bad[rng.IntN(16)] ^= 1 << rng.IntN(8)
		if o.verify(aad, bad[:]) || o.verify(aad, tag[:15]) {
			t.Fatalf("len %d: bad tag accepted", n)
		}
	}
}

// Test cases 1-4 of the GCM specification (McGrew and Viega), which SP
// 800-38D's validation vectors include.
func TestGCMStreamVectors(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p4 := "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
	c4 := "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
	for i, v := range []struct{ k, iv, p, a, c, t string }{
		{"00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
		{"00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "",
			"0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
		{"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", p4 + "1aafd255", "",
			c4 + "473f5985", "4d5c2af327cd64a62cf35abd2ba6fab4"},
		{"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", p4, "feedfacedeadbeeffeedfacedeadbeefabaddad2",
			c4, "5bc94fbc3221a5db94fae95ae7121a47"},
	} {
		s, err := newGCMStream(h(v.k), h(v.iv))
		if err != nil {
			t.Fatal(err)
		}
		p := h(v.p)
		ct := make([]byte, len(p))
		if err := s.seal(ct, p); err != nil {
			t.Fatal(err)
		}
		tag := s.tag(h(v.a))
		if !bytes.Equal(ct, h(v.c)) || !bytes.Equal(tag[:], h(v.t)) {
			t.Errorf("test case %d: got %x %x", i+1, ct, tag)
		}
	}
}

// gfMul returns x·y by the bit-serial algorithm of SP 800-38D §6.3
// (Algorithm 1), in constant time: no branch or index depends on the
// operands: the reference mul1 is checked against.
func gfMul(x, y gfElem) gfElem {
	var z gfElem
	v := y
	for i := 0; i < 128; i++ {
		var bit uint64
		if i < 64 {
			bit = x.hi >> (63 - i) & 1
		} else {
			bit = x.lo >> (127 - i) & 1
		}
		z.hi ^= v.hi & -bit
		z.lo ^= v.lo & -bit
		v = v.mulX()
	}
	return z
}

func TestGFMulAgreesWithMul1AndPow(t *testing.T) {
	rng := mrand.New(mrand.NewPCG(3, 4))
	for i := 0; i < 200; i++ {
		hk := gfElem{rng.Uint64(), rng.Uint64()}
		x := gfElem{rng.Uint64(), rng.Uint64()}
		var k ghashKey
		k.init(hk)
		if k.mul1(x) != gfMul(x, hk) || gfMul(x, hk) != gfMul(hk, x) {
			t.Fatal("mul1 and bitwise multiplication differ")
		}
		n := rng.Uint64N(5000)
		want := gfElem{hi: 1 << 63}
		for range n {
			want = gfMul(want, hk)
		}
		if gfPowCT(&k, n) != want {
			t.Fatalf("gfPowCT(h, %d) differs from repeated multiplication", n)
		}
	}
}

// The crypto/cipher path and the mul1 fallback give the same state, for
// lengths around the chunk and block edges, written in odd pieces.
func TestGHASHBulkAgreesWithFallback(t *testing.T) {
	block, err := aes.NewCipher(make([]byte, 16))
	if err != nil {
		t.Fatal(err)
	}
	var h [16]byte
	block.Encrypt(h[:], h[:])
	var k ghashKey
	k.init(gfLoad(h[:]))
	rng := mrand.New(mrand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 15, 16, 17, ghashChunk - 1, ghashChunk, ghashChunk + 1, 3*ghashChunk + 29} {
		data := make([]byte, n)
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		bulk, slow := newGHASH(&k, block), newGHASH(&k, nil)
		if bulk.bulk == nil {
			t.Fatal("crypto/cipher's GCM is not used")
		}
		for _, c := range gcmChunks(rng, n) {
			bulk.write(data[:c])
			slow.write(data[:c])
			data = data[c:]
		}
		if b, s := bulk.sum(), slow.sum(); b != s {
			t.Fatalf("%d octets: bulk %x, fallback %x", n, b, s)
		}
	}
}

func BenchmarkGHASH(b *testing.B) {
	block, _ := aes.NewCipher(make([]byte, 32))
	var k ghashKey
	k.init(gfElem{0x0123456789abcdef, 0xfedcba9876543210})
	for _, bc := range []struct {
		name  string
		block cipher.Block
	}{{"crypto-cipher", block}, {"mul1", nil}} {
		b.Run(bc.name, func(b *testing.B) {
			g := newGHASH(&k, bc.block)
			buf := make([]byte, 64<<10)
			b.SetBytes(int64(len(buf)))
			for b.Loop() {
				g.write(buf)
			}
		})
	}
}

func BenchmarkGCMStreamSeal(b *testing.B) {
	s, _ := newGCMStream(make([]byte, 32), make([]byte, 12))
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		if err := s.seal(buf, buf); err != nil {
			s, _ = newGCMStream(make([]byte, 32), make([]byte, 12))
		}
	}
}
