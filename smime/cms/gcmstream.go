package cms

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"encoding/binary"
	"errors"
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
// The multiplication by H uses 8-bit tables (Shoup's method): per key,
// m[b] = b·H for every octet b, and r[d] folds back the eight bits that a
// shift by x^8 pushes out. Four tables, for H, H^2, H^3 and H^4, let four
// blocks be multiplied independently and summed (aggregated reduction),
// which keeps the CPU busy. Cache-timing caveat: the table indices are
// bytes of the GHASH state, which depends on H (a secret derived from the
// key) and on the data; an attacker sharing the CPU caches may learn
// something about H from the access pattern. This is the usual trade-off
// of table-driven GHASH (and what portable OpenSSL builds without PCLMUL
// do); gfMul below is the constant-time bitwise multiplication used for
// the few non-bulk products.

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

// gfMul returns x·y by the bit-serial algorithm of SP 800-38D §6.3
// (Algorithm 1), in constant time: no branch or index depends on the
// operands. It is slow; the bulk path uses the tables.
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

// gfPow returns h^n.
func gfPow(h gfElem, n uint64) gfElem {
	r := gfElem{hi: 1 << 63} // the polynomial 1
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			r = gfMul(r, h)
		}
		h = gfMul(h, h)
	}
	return r
}

// ghashTable holds b·P for every octet b and a fixed P.
type ghashTable [256]gfElem

func (t *ghashTable) init(p gfElem) {
	// The octet's most significant bit is the coefficient of x^0.
	v := p
	for bit := 0x80; bit > 0; bit >>= 1 {
		t[bit] = v
		v = v.mulX()
	}
	t[0] = gfElem{}
	for i := 2; i < 256; i++ {
		if i&(i-1) != 0 {
			low := i & -i
			t[i] = gfElem{t[i^low].hi ^ t[low].hi, t[i^low].lo ^ t[low].lo}
		}
	}
}

// ghashKey is the per-key state of GHASH: t[j][b] = b·x^(8j)·H, the
// product by H of a block whose only non-zero octet is b at position j.
// A product X·H is then the sum of t[j][X_j] over the sixteen octets:
// sixteen independent look-ups and no reduction in the loop (64 KiB of
// tables per key).
type ghashKey struct {
	h gfElem
	t [16]ghashRow
}

// ghashRow pads a table so that the sixteen tables do not start 4 KiB
// apart, which would put the same entry of each in one cache set.
type ghashRow struct {
	m ghashTable
	_ [64]byte
}

func (k *ghashKey) init(h gfElem) {
	k.h = h
	p := h
	for j := range k.t {
		k.t[j].m.init(p)
		for i := 0; i < 8; i++ {
			p = p.mulX()
		}
	}
}

// mul1 returns x·H.
func (k *ghashKey) mul1(x gfElem) gfElem {
	t := &k.t
	a := &t[0].m[byte(x.hi>>56)]
	b := &t[1].m[byte(x.hi>>48)]
	zh, zl := a.hi^b.hi, a.lo^b.lo
	a, b = &t[2].m[byte(x.hi>>40)], &t[3].m[byte(x.hi>>32)]
	yh, yl := a.hi^b.hi, a.lo^b.lo
	a, b = &t[4].m[byte(x.hi>>24)], &t[5].m[byte(x.hi>>16)]
	zh, zl = zh^a.hi^b.hi, zl^a.lo^b.lo
	a, b = &t[6].m[byte(x.hi>>8)], &t[7].m[byte(x.hi)]
	yh, yl = yh^a.hi^b.hi, yl^a.lo^b.lo
	a, b = &t[8].m[byte(x.lo>>56)], &t[9].m[byte(x.lo>>48)]
	zh, zl = zh^a.hi^b.hi, zl^a.lo^b.lo
	a, b = &t[10].m[byte(x.lo>>40)], &t[11].m[byte(x.lo>>32)]
	yh, yl = yh^a.hi^b.hi, yl^a.lo^b.lo
	a, b = &t[12].m[byte(x.lo>>24)], &t[13].m[byte(x.lo>>16)]
	zh, zl = zh^a.hi^b.hi, zl^a.lo^b.lo
	a, b = &t[14].m[byte(x.lo>>8)], &t[15].m[byte(x.lo)]
	yh, yl = yh^a.hi^b.hi, yl^a.lo^b.lo
	return gfElem{zh ^ yh, zl ^ yl}
}

// ghash is a streaming GHASH over a byte sequence that is zero-padded to
// a whole block at the end (as SP 800-38D pads C and A).
type ghash struct {
	key  *ghashKey
	y    gfElem
	buf  [16]byte
	nbuf int
	n    uint64 // octets absorbed
}

func (g *ghash) write(p []byte) {
	g.n += uint64(len(p))
	if g.nbuf > 0 {
		c := copy(g.buf[g.nbuf:], p)
		g.nbuf += c
		p = p[c:]
		if g.nbuf < 16 {
			return
		}
		g.y = g.key.mul1(xorElem(g.y, gfLoad(g.buf[:])))
		g.nbuf = 0
	}
	for len(p) >= 16 {
		g.y = g.key.mul1(xorElem(g.y, gfLoad(p)))
		p = p[16:]
	}
	g.nbuf = copy(g.buf[:], p)
}

// sum pads the last partial block and returns the state: the sum of X_i
// times H^(m-i+1) over the m padded blocks.
func (g *ghash) sum() gfElem {
	if g.nbuf > 0 {
		clear(g.buf[g.nbuf:])
		g.y = g.key.mul1(xorElem(g.y, gfLoad(g.buf[:])))
		g.nbuf = 0
	}
	return g.y
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
	ct     ghash
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
	s.ct.key = &s.key
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
	y := s.ct.sum()
	if len(aad) > 0 {
		// GHASH(A || C) = GHASH(A)·H^c + GHASH(C), c the number of
		// ciphertext blocks.
		a := ghash{key: &s.key}
		a.write(aad)
		c := (s.ct.n + 15) / 16
		y = xorElem(gfMul(a.sum(), gfPow(s.key.h, c)), y)
	}
	l := gfElem{uint64(len(aad)) * 8, s.ct.n * 8}
	y = s.key.mul1(xorElem(y, l))
	var t [16]byte
	y.put(t[:])
	subtle.XORBytes(t[:], t[:], s.tagKey[:])
	return t
}

// verify reports, in constant time, whether tag is the right one.
func (s *gcmStream) verify(aad, tag []byte) bool {
	want := s.tag(aad)
	return len(tag) == len(want) && subtle.ConstantTimeCompare(want[:], tag) == 1
}
