package cms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math/bits"
)

// Streaming AES-GCM (NIST SP 800-38D) for EncryptTo and DecryptTo:
// crypto/cipher's AES-CTR makes the keystream, GHASH is our own. Only
// 96-bit nonces (J0 = IV || 0^31 || 1) and 128-bit tags are supported.
//
// GHASH works on 128-bit blocks read as polynomials over GF(2) with the
// first bit of the first octet the coefficient of x^0 (SP 800-38D §6.3).
// A block is held as two big-endian uint64 halves, so multiplying by x is
// a right shift of the 128-bit value, and the x^128 that falls out at the
// low end is reduced by x^128 = x^7 + x^2 + x + 1, the constant
// R = 0xe1 || 0^120.
//
// GHASH runs in crypto/cipher's GCM where it can (see ghash), and
// otherwise on mul1, below; both are constant-time on amd64 and arm64.

// gfElem is an element of GF(2^128) in GCM's bit order.
type gfElem struct{ hi, lo uint64 }

func gfLoad(b []byte) gfElem {
	return gfElem{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

func (e gfElem) put(b []byte) {
	binary.BigEndian.PutUint64(b, e.hi)
	binary.BigEndian.PutUint64(b[8:], e.lo)
}

// mulX returns e·x.
func (e gfElem) mulX() gfElem {
	lsb := e.lo & 1
	return gfElem{e.hi>>1 ^ 0xe1<<56&-lsb, e.lo>>1 | e.hi<<63}
}

// The multiplication by H is constant-time: no branch and no memory
// index depends on H or on the data, so nothing about H (a secret derived
// from the key) leaks through the caches or the branch predictor. It
// works on the polynomials in the usual bit order (coefficient of x^i at
// bit i), to which a GCM block is brought by reversing the bits of each
// half, and multiplies 64-bit halves without carries by the
// integer-multiplication method: each operand is split into four with
// the masks 0x1111…, 0x2222…, 0x4444…, 0x8888…, so that in every integer
// product the bits of one residue class mod 4 are at most 16 apart-sums
// (never carrying into the next position of the same class below bit 64),
// and the class-k bits of the carry-less product are the class-k bits of
// four integer products XORed. The high half of a 64×64 product is the
// low half of the product of the bit-reversed operands, reversed and
// shifted by one. Karatsuba makes a 128×128 product of three 64×64 ones,
// and x^128 = x^7 + x^2 + x + 1 folds the upper half back.

const (
	clm0 = 0x1111111111111111
	clm1 = clm0 << 1
	clm2 = clm0 << 2
	clm3 = clm0 << 3
)

// clmulLow returns the low 64 bits of the carry-less product of x and y.
func clmulLow(x, y uint64) uint64 {
	x0, x1, x2, x3 := x&clm0, x&clm1, x&clm2, x&clm3
	y0, y1, y2, y3 := y&clm0, y&clm1, y&clm2, y&clm3
	z0 := x0*y0 ^ x1*y3 ^ x2*y2 ^ x3*y1
	z1 := x0*y1 ^ x1*y0 ^ x2*y3 ^ x3*y2
	z2 := x0*y2 ^ x1*y1 ^ x2*y0 ^ x3*y3
	z3 := x0*y3 ^ x1*y2 ^ x2*y1 ^ x3*y0
	return z0&clm0 | z1&clm1 | z2&clm2 | z3&clm3
}

// clmul returns the 128-bit carry-less product of x and y; xr and yr are
// their bit reversals.
func clmul(x, y, xr, yr uint64) (hi, lo uint64) {
	return bits.Reverse64(clmulLow(xr, yr)) >> 1, clmulLow(x, y)
}

// ghashKey is the per-key state of GHASH: H in GCM's order, and its
// halves in the usual bit order with their reversals, for mul1.
type ghashKey struct {
	h             gfElem
	h0, h1, hm    uint64 // coefficients of x^0..x^63, x^64..x^127, their sum
	h0r, h1r, hmr uint64 // bit reversals of h0, h1, hm
}

func (k *ghashKey) init(h gfElem) {
	k.h = h
	k.h0, k.h1 = bits.Reverse64(h.hi), bits.Reverse64(h.lo)
	k.hm = k.h0 ^ k.h1
	k.h0r, k.h1r, k.hmr = h.hi, h.lo, bits.Reverse64(k.hm)
}

// mul1 returns x·H, in constant time.
func (k *ghashKey) mul1(x gfElem) gfElem {
	a0r, a1r := x.hi, x.lo // GCM order is the bit reversal of the usual one
	a0, a1 := bits.Reverse64(a0r), bits.Reverse64(a1r)
	am := a0 ^ a1
	lh, ll := clmul(a0, k.h0, a0r, k.h0r)
	hh, hl := clmul(a1, k.h1, a1r, k.h1r)
	mh, ml := clmul(am, k.hm, bits.Reverse64(am), k.hmr)
	mh, ml = mh^lh^hh, ml^ll^hl
	// The 256-bit product p3:p2:p1:p0.
	p0, p1, p2, p3 := ll, lh^ml, hl^mh, hh
	// p3:p2 · x^128 = p3:p2 · (x^7 + x^2 + x + 1); what passes x^127
	// (at most seven bits) is folded once more.
	o := p3>>63 ^ p3>>62 ^ p3>>57
	r1 := p3 ^ (p3<<1 | p2>>63) ^ (p3<<2 | p2>>62) ^ (p3<<7 | p2>>57)
	r0 := p2 ^ p2<<1 ^ p2<<2 ^ p2<<7 ^ o ^ o<<1 ^ o<<2 ^ o<<7
	return gfElem{bits.Reverse64(p0 ^ r0), bits.Reverse64(p1 ^ r1)}
}

// ghashChunk is how many octets of data go to crypto/cipher's GCM at a
// time (see ghash).
const ghashChunk = 16 << 10

// ghash is a streaming GHASH over a byte sequence that is zero-padded to
// a whole block at the end (as SP 800-38D pads C and A).
//
// It hands whole chunks to crypto/cipher's AES-GCM as additional data,
// to use its GHASH (carry-less multiplication instructions where the CPU
// has them): sealing an empty plaintext under a fixed nonce with AAD A
// gives E(J0) ⊕ (Y_A ⊕ L_A)·H, where Y_A is A's GHASH state and L_A its
// length block, so Y_A·H = tag ⊕ E(J0) ⊕ L_A·H. No tag from this ever
// leaves the process, and no plaintext is encrypted under the nonce. The
// chunks' states are joined by linearity: Y = Y_1·H^m ⊕ Y_2 for a second
// chunk of m blocks. Without crypto/cipher's GCM it falls back to mul1,
// block by block.
type ghash struct {
	key  *ghashKey
	bulk *ghashBulk
	w    gfElem // the state times H
	buf  []byte // pending octets, fewer than ghashChunk
	n    uint64 // octets absorbed
}

// ghashBulk is the crypto/cipher side of a ghash.
type ghashBulk struct {
	aead   cipher.AEAD
	ej0    gfElem   // E(K, J0) for the zero nonce
	hChunk ghashKey // H^(ghashChunk/16)
	tag    [16]byte
}

var ghashZeroNonce [12]byte

func newGHASH(key *ghashKey, block cipher.Block) *ghash {
	g := &ghash{key: key}
	if block == nil {
		return g
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return g
	}
	var j0 [16]byte
	j0[15] = 1
	block.Encrypt(j0[:], j0[:])
	b := &ghashBulk{aead: aead, ej0: gfLoad(j0[:])}
	b.hChunk.init(gfPowCT(key, ghashChunk/16))
	g.bulk = b
	return g
}

func (g *ghash) write(p []byte) {
	g.n += uint64(len(p))
	if len(g.buf) > 0 {
		k := min(len(p), ghashChunk-len(g.buf))
		g.buf = append(g.buf, p[:k]...)
		p = p[k:]
		if len(g.buf) < ghashChunk {
			return
		}
		g.absorb(g.buf, nil)
		g.buf = g.buf[:0]
	}
	for len(p) >= ghashChunk {
		g.absorb(p[:ghashChunk], nil)
		p = p[ghashChunk:]
	}
	if len(p) > 0 {
		if g.buf == nil {
			g.buf = make([]byte, 0, ghashChunk)
		}
		g.buf = append(g.buf, p...)
	}
}

// absorb joins p, zero-padded to whole blocks, to the state. hm is H^m
// for m = the number of blocks, or nil to compute it.
func (g *ghash) absorb(p []byte, hm *ghashKey) {
	m := uint64(len(p)+15) / 16
	if m == 0 {
		return
	}
	var z gfElem // Y_p·H
	if b := g.bulk; b != nil {
		t := b.aead.Seal(b.tag[:0], ghashZeroNonce[:], nil, p)
		l := gfElem{uint64(len(p)) * 8, 0}
		z = xorElem(xorElem(gfLoad(t), b.ej0), g.key.mul1(l))
		if len(p) == ghashChunk {
			hm = &b.hChunk
		}
	} else {
		var y gfElem
		var last [16]byte
		for len(p) > 0 {
			k := copy(last[:], p)
			clear(last[k:])
			y = g.key.mul1(xorElem(y, gfLoad(last[:])))
			p = p[k:]
		}
		z = g.key.mul1(y)
	}
	if hm == nil {
		hm = new(ghashKey)
		hm.init(gfPowCT(g.key, m))
	}
	g.w = xorElem(hm.mul1(g.w), z)
}

// sum pads the last partial block and returns the state times H: the sum
// of X_i·H^(m-i+2) over the m padded blocks.
func (g *ghash) sum() gfElem {
	g.absorb(g.buf, nil)
	g.buf = g.buf[:0]
	return g.w
}

// gfPowCT returns k.h^n, in constant time for a given n.
func gfPowCT(k *ghashKey, n uint64) gfElem {
	r := gfElem{hi: 1 << 63} // the polynomial 1
	var sq ghashKey
	sq.init(k.h)
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			r = sq.mul1(r)
		}
		h := sq.mul1(sq.h)
		sq.init(h)
	}
	return r
}

func xorElem(a, b gfElem) gfElem { return gfElem{a.hi ^ b.hi, a.lo ^ b.lo} }

// gcmMaxText is the largest plaintext GCM allows: 2^39 - 256 bits.
const gcmMaxText = 1<<36 - 32

var errGCMTooLong = errors.New("cms: content too long for AES-GCM")

// gcmStream computes AES-GCM incrementally. The ciphertext is hashed
// from a zero state on its own; the AAD, which GCM hashes first, is
// folded in by tag, using the linearity of GHASH, so that it may arrive
// after the ciphertext (as authAttrs do in AuthEnvelopedData).
type gcmStream struct {
	block  cipher.Block
	nonce  [12]byte
	key    ghashKey
	ct     *ghash
	ctr    cipher.Stream // encryption keystream, from counter 2
	tagKey [16]byte      // E(K, J0)
}

func newGCMStream(key, nonce []byte) (*gcmStream, error) {
	if len(nonce) != envGCMNonceSize {
		return nil, errors.New("cms: bad GCM nonce length")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	s := &gcmStream{block: block}
	copy(s.nonce[:], nonce)
	var h [16]byte
	block.Encrypt(h[:], h[:])
	s.key.init(gfLoad(h[:]))
	clear(h[:])
	s.ct = newGHASH(&s.key, block)
	var j0 [16]byte
	copy(j0[:], nonce)
	j0[15] = 1
	block.Encrypt(s.tagKey[:], j0[:])
	s.ctr = s.keystream()
	return s, nil
}

// keystream returns a fresh AES-CTR stream starting at inc32(J0). The
// 32-bit counter cannot wrap: the length limit stops at 2^32-2 blocks.
func (s *gcmStream) keystream() cipher.Stream {
	var ctr [16]byte
	copy(ctr[:], s.nonce[:])
	ctr[15] = 2
	return cipher.NewCTR(s.block, ctr[:])
}

// seal encrypts src into dst (which may be src) and hashes the result.
func (s *gcmStream) seal(dst, src []byte) error {
	if s.ct.n+uint64(len(src)) > gcmMaxText {
		return errGCMTooLong
	}
	s.ctr.XORKeyStream(dst, src)
	s.ct.write(dst[:len(src)])
	return nil
}

// hashCiphertext absorbs ciphertext when opening; nothing is decrypted.
func (s *gcmStream) hashCiphertext(ct []byte) error {
	if s.ct.n+uint64(len(ct)) > gcmMaxText {
		return errGCMTooLong
	}
	s.ct.write(ct)
	return nil
}

// tag returns the authentication tag over aad and the ciphertext seen.
func (s *gcmStream) tag(aad []byte) [16]byte {
	w := s.ct.sum() // GHASH(C)·H
	if len(aad) > 0 {
		// GHASH(A || C) = GHASH(A)·H^c + GHASH(C), c the number of
		// ciphertext blocks.
		a := newGHASH(&s.key, s.block)
		a.write(aad)
		var hc ghashKey
		hc.init(gfPowCT(&s.key, (s.ct.n+15)/16))
		w = xorElem(hc.mul1(a.sum()), w)
	}
	// (GHASH ⊕ L)·H, L the lengths block.
	w = xorElem(w, s.key.mul1(gfElem{uint64(len(aad)) * 8, s.ct.n * 8}))
	var t [16]byte
	w.put(t[:])
	subtle.XORBytes(t[:], t[:], s.tagKey[:])
	return t
}

// verify reports, in constant time, whether tag is the right one.
func (s *gcmStream) verify(aad, tag []byte) bool {
	want := s.tag(aad)
	return len(tag) == len(want) && subtle.ConstantTimeCompare(want[:], tag) == 1
}
