package cms

import (
	"bufio"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Streaming counterparts of Encrypt and Decrypt. They work in constant
// memory (a few 64 KiB buffers, plus at most streamMemSpool octets of
// spooled ciphertext when decrypting) whatever the size of the content.

const (
	// streamChunk is the size of the content segments written and of the
	// I/O buffers.
	streamChunk = 64 << 10
	// streamMemSpool is how much ciphertext DecryptTo keeps in memory
	// before it moves it to an unlinked temporary file.
	streamMemSpool = 16 << 20
	// streamMaxElement bounds every element other than the content that
	// DecryptTo holds in memory (RecipientInfos, algorithm, attributes).
	streamMaxElement = 4 << 20
	// streamMaxInput bounds the whole input DecryptTo reads (64 GiB, about
	// the most AES-GCM may encrypt under one key and nonce).
	streamMaxInput = 1 << 36
)

// EncryptTo is the streaming form of [Encrypt]: it reads the content from
// r until EOF and writes to w a ContentInfo with AuthEnvelopedData
// (AES-GCM) or EnvelopedData (AES-CBC), with the same choices and options
// as Encrypt. The output is BER as "openssl cms -encrypt -stream" writes
// it: indefinite lengths for the enclosing structures and the
// encryptedContent as a constructed OCTET STRING of segments of at most
// 64 KiB (plus padding); the GCM tag follows as the mac. [ToDER] turns it
// into the DER that Encrypt would have written (apart from the segments,
// which Decrypt accepts). Memory use does not depend on the content size.
//
// On error, w may have received a partial message.
func EncryptTo(w io.Writer, r io.Reader, recipients []*x509.Certificate, opts *EncryptOptions) error {
	if opts == nil {
		opts = &EncryptOptions{}
	}
	if len(recipients) == 0 {
		return errors.New("cms: no recipients")
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	alg := opts.Algorithm
	if alg == ContentAlgorithmDefault {
		alg = AES256GCM
	}
	if alg.oid() == nil {
		return fmt.Errorf("cms: unknown content algorithm %v", alg)
	}
	ctype := opts.ContentType
	if ctype == nil {
		ctype = envOIDData
	}
	params, err := envNewContentParams(rnd, alg)
	if err != nil {
		return err
	}
	cek := make([]byte, alg.KeySize())
	if _, err := io.ReadFull(rnd, cek); err != nil {
		return fmt.Errorf("cms: reading random key: %w", err)
	}
	defer clear(cek)

	var ris cryptobyte.Builder
	allV0 := true
	for i, cert := range recipients {
		if cert == nil {
			return fmt.Errorf("cms: recipient %d is nil", i)
		}
		v, err := envAddRecipientInfo(&ris, cert, cek, opts, rnd)
		if err != nil {
			return fmt.Errorf("cms: recipient %d: %w", i, err)
		}
		if v != 0 {
			allV0 = false
		}
	}
	risDER, err := ris.Bytes()
	if err != nil {
		return err
	}

	var gcm *gcmStream
	var cbc cipher.BlockMode
	if alg.AEAD() {
		if gcm, err = newGCMStream(cek, params.iv); err != nil {
			return err
		}
	} else {
		block, err := aes.NewCipher(cek)
		if err != nil {
			return err
		}
		cbc = cipher.NewCBCEncrypter(block, params.iv)
	}

	// Everything up to the encryptedContent's segments.
	outer, version := envOIDEnvelopedData, int64(0)
	if alg.AEAD() {
		outer = envOIDAuthEnvelopedData
	} else if !allV0 {
		version = 2 // RFC 5652 §6.1
	}
	var hb cryptobyte.Builder
	hb.AddBytes([]byte{0x30, 0x80}) // ContentInfo
	hb.AddASN1ObjectIdentifier(outer)
	hb.AddBytes([]byte{0xa0, 0x80, 0x30, 0x80}) // [0] EXPLICIT, (Auth)EnvelopedData
	hb.AddASN1Int64(version)
	hb.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) { b.AddBytes(risDER) })
	hb.AddBytes([]byte{0x30, 0x80}) // EncryptedContentInfo
	hb.AddASN1ObjectIdentifier(ctype)
	envMarshalContentAlgorithm(&hb, params)
	hb.AddBytes([]byte{0xa0, 0x80}) // encryptedContent [0] IMPLICIT OCTET STRING, constructed
	head, err := hb.Bytes()
	if err != nil {
		return err
	}
	if _, err := w.Write(head); err != nil {
		return err
	}

	// Segments: each is written with its header placed just before the
	// data in buf, in one Write.
	const hdrRoom = 8
	buf := make([]byte, hdrRoom+streamChunk+aes.BlockSize)
	data := buf[hdrRoom:]
	pend := 0 // CBC: octets of an incomplete block carried over
	for eof := false; !eof; {
		n, err := io.ReadFull(r, data[pend:pend+streamChunk])
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			eof = true
		default:
			return err
		}
		total := pend + n
		full := total
		if gcm != nil {
			if err := gcm.seal(data[:total], data[:total]); err != nil {
				return err
			}
		} else {
			full = total - total%aes.BlockSize
			if eof {
				// PKCS #7: 1 to 16 octets, each holding the count.
				p := aes.BlockSize - total%aes.BlockSize
				for i := total; i < total+p; i++ {
					data[i] = byte(p)
				}
				full = total + p
			}
			cbc.CryptBlocks(data[:full], data[:full])
		}
		if full > 0 {
			var h [hdrRoom]byte
			hdr := appendLength(append(h[:0], 0x04), full)
			start := hdrRoom - len(hdr)
			copy(buf[start:], hdr)
			if _, err := w.Write(buf[start : hdrRoom+full]); err != nil {
				return err
			}
		}
		if !eof {
			pend = copy(data, data[full:total])
		}
	}

	tail := []byte{0, 0, 0, 0} // end of encryptedContent, EncryptedContentInfo
	if gcm != nil {
		tag := gcm.tag(nil)
		tail = append(append(tail, 0x04, byte(len(tag))), tag[:]...)
	}
	tail = append(tail, 0, 0, 0, 0, 0, 0) // (Auth)EnvelopedData, [0], ContentInfo
	_, err = w.Write(tail)
	return err
}

// DecryptTo is the streaming form of [Decrypt]: it reads one ContentInfo
// holding EnvelopedData or AuthEnvelopedData from r, as DER or BER
// (indefinite lengths, constructed encryptedContent, as "openssl cms
// -stream" writes), decrypts it for cert and key and writes the content
// to w. Nothing after the ContentInfo may follow in r. The reader is
// strict and bounded as ToDER is (S15): elements other than the content
// are held in memory up to 4 MiB each, nesting up to DefaultMaxDepth.
//
// Nothing is written to w unless the whole message has been read and
// parsed, and, for AuthEnvelopedData, the whole content authenticated
// (S06): the ciphertext is spooled, in memory up to 16 MiB and beyond
// that in an unlinked temporary file in os.TempDir() (set TMPDIR to move
// it), while GHASH runs over it; only when the tag matches is it
// decrypted from the spool to w. EnvelopedData (AES-CBC) goes through the
// same spool, and its padding is checked before any output, so a bad
// padding or a truncated message also leaves w untouched. CBC content
// nevertheless has no integrity (S05): info.Integrity is false and the
// caller must treat the output as untrusted, as with Decrypt.
//
// Once output has started only w's own errors (or a read error on the
// spool file) can stop it, and then w holds a prefix of the content.
// Content-layer failures are ErrContentDecryption, as in Decrypt.
func DecryptTo(w io.Writer, r io.Reader, cert *x509.Certificate, key crypto.PrivateKey, opts *DecryptOptions) (*DecryptInfo, error) {
	return decryptTo(w, r, cert, key, opts, streamMemSpool)
}

func decryptTo(w io.Writer, r io.Reader, cert *x509.Certificate, key crypto.PrivateKey, opts *DecryptOptions, memSpool int64) (_ *DecryptInfo, err error) {
	if opts == nil {
		opts = &DecryptOptions{}
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.Reader
	}
	s := &berStream{br: bufio.NewReaderSize(r, streamChunk)}
	root := &streamFrame{end: math.MaxInt64}

	ci, err := s.open(root, 0x30, "ContentInfo")
	if err != nil {
		return nil, err
	}
	var oid asn1.ObjectIdentifier
	if err := s.readDER(ci, "content type", func(d *cryptobyte.String) bool {
		return d.ReadASN1ObjectIdentifier(&oid)
	}); err != nil {
		return nil, err
	}
	var auth bool
	switch {
	case oid.Equal(envOIDEnvelopedData):
	case oid.Equal(envOIDAuthEnvelopedData):
		auth = true
	default:
		return nil, fmt.Errorf("cms: content type %v is not (Auth)EnvelopedData", oid)
	}
	explicit, err := s.open(ci, 0xa0, "ContentInfo content")
	if err != nil {
		return nil, err
	}
	body, err := s.open(explicit, 0x30, "enveloped content")
	if err != nil {
		return nil, err
	}
	var version int64
	if err := s.readDER(body, "version", func(d *cryptobyte.String) bool {
		return d.ReadASN1Int64WithTag(&version, cbasn1.INTEGER)
	}); err != nil {
		return nil, err
	}
	if auth && version != 0 {
		return nil, errors.New("cms: AuthEnvelopedData version must be 0")
	}
	if !auth && version != 0 && version != 2 && version != 3 && version != 4 {
		return nil, errors.New("cms: bad EnvelopedData version")
	}
	if id, err := s.peekID(body); err != nil {
		return nil, err
	} else if id == 0xa0 { // originatorInfo: not needed
		if _, err := s.element(body, streamMaxElement); err != nil {
			return nil, err
		}
	}
	var ris []envRecipientInfo
	if err := s.readDERErr(body, "RecipientInfos", func(d *cryptobyte.String) error {
		var err error
		ris, err = envParseRecipientInfos(d)
		return err
	}); err != nil {
		return nil, err
	}
	eci, err := s.open(body, 0x30, "EncryptedContentInfo")
	if err != nil {
		return nil, err
	}
	var ctype asn1.ObjectIdentifier
	if err := s.readDER(eci, "content type", func(d *cryptobyte.String) bool {
		return d.ReadASN1ObjectIdentifier(&ctype)
	}); err != nil {
		return nil, err
	}
	var params *envContentParams
	if err := s.readDERErr(eci, "contentEncryptionAlgorithm", func(d *cryptobyte.String) error {
		var err error
		params, err = envParseContentAlgorithm(*d)
		*d = nil
		return err
	}); err != nil {
		return nil, err
	}
	if auth != params.alg.AEAD() {
		if auth {
			return nil, fmt.Errorf("cms: %v is not allowed in AuthEnvelopedData", params.alg)
		}
		return nil, fmt.Errorf("cms: %v is not allowed in EnvelopedData", params.alg)
	}

	if cert == nil && opts.Choose != nil {
		if cert, key, err = opts.Choose(func(c *x509.Certificate) bool { return envNames(ris, c) }); err != nil {
			return nil, err
		}
	}
	// The key is needed before the content: GHASH's key depends on it.
	cek, kind, err := envRecipientDecrypt(ris, cert, key, params.alg.KeySize(), rnd)
	if err != nil {
		return nil, err
	}
	defer clear(cek)
	var gcm *gcmStream
	var block cipher.Block
	if auth {
		if gcm, err = newGCMStream(cek, params.iv); err != nil {
			return nil, ErrContentDecryption
		}
	} else if block, err = aes.NewCipher(cek); err != nil {
		return nil, ErrContentDecryption
	}

	sp := &streamSpool{memMax: memSpool}
	defer sp.close()
	buf := make([]byte, streamChunk)
	err = s.content(eci, buf, func(p []byte) error {
		if gcm != nil {
			if err := gcm.hashCiphertext(p); err != nil {
				return err
			}
		}
		return sp.write(p)
	})
	if err != nil {
		return nil, err
	}
	if err := s.close(eci, "EncryptedContentInfo"); err != nil {
		return nil, err
	}

	var aad, mac []byte
	if auth {
		id, err := s.peekID(body)
		if err != nil {
			return nil, err
		}
		if id == 0xa1 {
			if err := s.readDERErr(body, "authAttrs", func(d *cryptobyte.String) error {
				elem := *d
				*d = nil
				if !envCheckAttributes(elem) {
					return errors.New("cms: malformed authAttrs")
				}
				aad = envAuthAttrsAAD(elem)
				return nil
			}); err != nil {
				return nil, err
			}
		}
		if err := s.readDER(body, "mac", func(d *cryptobyte.String) bool {
			var m cryptobyte.String
			ok := d.ReadASN1(&m, cbasn1.OCTET_STRING)
			mac = m
			return ok
		}); err != nil {
			return nil, err
		}
		if id, err := s.peekID(body); err != nil {
			return nil, err
		} else if id == 0xa2 { // unauthAttrs
			if _, err := s.element(body, streamMaxElement); err != nil {
				return nil, err
			}
		}
	} else if id, err := s.peekID(body); err != nil {
		return nil, err
	} else if id == 0xa1 { // unprotectedAttrs
		if _, err := s.element(body, streamMaxElement); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		f    *streamFrame
		name string
	}{{body, "enveloped content"}, {explicit, "ContentInfo content"}, {ci, "ContentInfo"}} {
		if err := s.close(f.f, f.name); err != nil {
			return nil, err
		}
	}
	if _, err := s.br.Peek(1); err != io.EOF {
		if err != nil {
			return nil, err
		}
		return nil, &Error{Kind: ErrTrailingData, Offset: s.pos(), Msg: "data after the ContentInfo"}
	}

	info := &DecryptInfo{
		AuthEnveloped: auth,
		Algorithm:     params.alg,
		Integrity:     auth,
		ContentType:   ctype,
		Recipient:     kind,
	}
	if opts.Sink != nil {
		sw := &sinkWriter{info: info, sink: opts.Sink}
		defer func() {
			if err == nil && sw.w == nil {
				_, err = sw.Write(nil)
			}
		}()
		w = sw
	}
	if auth {
		if len(mac) != params.icvLn || !gcm.verify(aad, mac) {
			return nil, ErrContentDecryption
		}
		// Authenticated: release.
		ctr := gcm.keystream()
		return info, sp.each(buf, func(p []byte) error {
			ctr.XORKeyStream(p, p)
			_, err := w.Write(p)
			return err
		})
	}
	return info, streamCBCRelease(w, sp, block, params.iv, buf)
}

// sinkWriter asks DecryptOptions.Sink for the real writer at the first
// Write.
type sinkWriter struct {
	info *DecryptInfo
	sink func(*DecryptInfo) (io.Writer, error)
	w    io.Writer
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	if s.w == nil {
		w, err := s.sink(s.info)
		if err != nil {
			return 0, err
		}
		if w == nil {
			w = io.Discard
		}
		s.w = w
	}
	if len(p) == 0 {
		return 0, nil
	}
	return s.w.Write(p)
}

// streamCBCRelease decrypts the spooled CBC ciphertext to w. The last
// block, and so the padding, is checked first: on a bad length or padding
// nothing is written.
func streamCBCRelease(w io.Writer, sp *streamSpool, block cipher.Block, iv, buf []byte) error {
	const bs = aes.BlockSize
	n := sp.n
	if n == 0 || n%bs != 0 {
		return ErrContentDecryption
	}
	var tail [2 * bs]byte
	prev, last := tail[:bs], tail[bs:]
	if n >= 2*bs {
		if err := sp.readAt(tail[:], n-2*bs); err != nil {
			return err
		}
	} else {
		copy(prev, iv)
		if err := sp.readAt(last, 0); err != nil {
			return err
		}
	}
	block.Decrypt(last, last)
	for i := range last {
		last[i] ^= prev[i]
	}
	keep, ok := envPKCS7UnpadLen(last)
	clear(tail[:])
	if ok != 1 {
		return ErrContentDecryption
	}
	dec := cipher.NewCBCDecrypter(block, iv)
	limit := n - bs + int64(keep) // octets of content
	var off int64
	return sp.each(buf, func(p []byte) error {
		// Pieces are whole blocks: the spool hands out multiples of
		// streamChunk, and n is a multiple of the block size.
		dec.CryptBlocks(p, p)
		out := p
		if off+int64(len(p)) > limit {
			out = p[:limit-off]
		}
		off += int64(len(p))
		if len(out) == 0 {
			return nil
		}
		_, err := w.Write(out)
		return err
	})
}

// streamSpool keeps the ciphertext between the authentication pass and
// the decryption pass: in memory, in streamChunk pieces, up to memMax
// octets, then in an unlinked temporary file.
type streamSpool struct {
	memMax int64
	mem    [][]byte
	n      int64
	f      *os.File
	name   string // set if the file could not be unlinked while open
}

func (sp *streamSpool) write(p []byte) error {
	if sp.f == nil && sp.n+int64(len(p)) > sp.memMax {
		if err := sp.spill(); err != nil {
			return err
		}
	}
	if sp.f != nil {
		if _, err := sp.f.Write(p); err != nil {
			return fmt.Errorf("cms: spool: %w", err)
		}
		sp.n += int64(len(p))
		return nil
	}
	sp.n += int64(len(p))
	for len(p) > 0 {
		if len(sp.mem) == 0 || len(sp.mem[len(sp.mem)-1]) == streamChunk {
			sp.mem = append(sp.mem, make([]byte, 0, streamChunk))
		}
		last := &sp.mem[len(sp.mem)-1]
		c := min(len(p), streamChunk-len(*last))
		*last = append(*last, p[:c]...)
		p = p[c:]
	}
	return nil
}

func (sp *streamSpool) spill() error {
	f, err := os.CreateTemp("", "cms-spool-*")
	if err != nil {
		return fmt.Errorf("cms: spool: %w", err)
	}
	if os.Remove(f.Name()) != nil {
		sp.name = f.Name() // Windows: remove after closing
	}
	sp.f = f
	for _, c := range sp.mem {
		if _, err := f.Write(c); err != nil {
			return fmt.Errorf("cms: spool: %w", err)
		}
	}
	sp.mem = nil
	return nil
}

func (sp *streamSpool) readAt(p []byte, off int64) error {
	if sp.f != nil {
		_, err := sp.f.ReadAt(p, off)
		return err
	}
	for len(p) > 0 {
		c := copy(p, sp.mem[off/streamChunk][off%streamChunk:])
		p, off = p[c:], off+int64(c)
	}
	return nil
}

// each hands the spooled octets to fn in order, in pieces that are whole
// multiples of streamChunk except the last; fn may modify them.
func (sp *streamSpool) each(buf []byte, fn func([]byte) error) error {
	if sp.f == nil {
		for _, c := range sp.mem {
			if err := fn(c); err != nil {
				return err
			}
		}
		return nil
	}
	if _, err := sp.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	for {
		n, err := io.ReadFull(sp.f, buf)
		if n > 0 {
			if err := fn(buf[:n]); err != nil {
				return err
			}
		}
		switch err {
		case nil:
		case io.EOF, io.ErrUnexpectedEOF:
			return nil
		default:
			return err
		}
	}
}

func (sp *streamSpool) close() {
	sp.mem = nil
	if sp.f != nil {
		sp.f.Close()
		if sp.name != "" {
			os.Remove(sp.name)
		}
		sp.f = nil
	}
}

// berStream reads BER from a stream one TLV at a time, with the checks
// of ToDER: minimal lengths of at most four octets, no indefinite length
// on primitive values, children inside their parent, bounded depth.
type berStream struct {
	br  *bufio.Reader
	off int64 // octets consumed
}

// streamFrame is an open constructed value.
type streamFrame struct {
	indef bool
	end   int64 // definite: offset of the end; indefinite: the parent's bound
	depth int
	done  bool // indefinite: end-of-contents consumed
}

type streamHdr struct {
	raw         []byte // identifier and length octets
	id          byte   // first identifier octet
	high        bool   // high tag number form
	constructed bool
	indef       bool
	length      int64
}

func (s *berStream) pos() int {
	if s.off > math.MaxInt32 {
		return -1
	}
	return int(s.off)
}

func (s *berStream) errf(kind Kind, format string, args ...any) error {
	return &Error{Kind: kind, Offset: s.pos(), Msg: fmt.Sprintf(format, args...)}
}

func (s *berStream) byte1() (byte, error) {
	b, err := s.br.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, s.errf(ErrTruncated, "input ends early")
		}
		return 0, err
	}
	s.off++
	return b, nil
}

func (s *berStream) readFull(p []byte) error {
	n, err := io.ReadFull(s.br, p)
	s.off += int64(n)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return s.errf(ErrTruncated, "input ends early")
	}
	return err
}

// header reads the identifier and length octets of a child of parent.
func (s *berStream) header(parent *streamFrame) (streamHdr, error) {
	var h streamHdr
	start := s.off
	if !parent.indef && start >= parent.end {
		return h, s.errf(ErrMalformed, "value expected past the end of its parent")
	}
	b, err := s.byte1()
	if err != nil {
		return h, err
	}
	h.raw = append(h.raw, b)
	h.id = b
	h.constructed = b&0x20 != 0
	if b == 0 {
		return h, s.errf(ErrMalformed, "unexpected end-of-contents or reserved tag 0")
	}
	if b&0x1f == 0x1f {
		h.high = true
		var num uint32
		for i := 0; ; i++ {
			c, err := s.byte1()
			if err != nil {
				return h, err
			}
			h.raw = append(h.raw, c)
			if i == 0 && c == 0x80 {
				return h, s.errf(ErrMalformed, "non-minimal tag number")
			}
			if i == 4 {
				return h, s.errf(ErrMalformed, "tag number too large")
			}
			num = num<<7 | uint32(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if num < 0x1f {
			return h, s.errf(ErrMalformed, "high tag number form for a low tag number")
		}
	}
	l, err := s.byte1()
	if err != nil {
		return h, err
	}
	h.raw = append(h.raw, l)
	switch {
	case l < 0x80:
		h.length = int64(l)
	case l == 0x80:
		if !h.constructed {
			return h, s.errf(ErrMalformed, "indefinite length on a primitive value")
		}
		h.indef = true
	case l == 0xff:
		return h, s.errf(ErrMalformed, "reserved length octet 0xff")
	default:
		n := int(l & 0x7f)
		if n > 4 {
			return h, s.errf(ErrMalformed, "length of %d octets is too long", n)
		}
		var v int64
		for i := 0; i < n; i++ {
			c, err := s.byte1()
			if err != nil {
				return h, err
			}
			if i == 0 && c == 0 {
				return h, s.errf(ErrMalformed, "non-minimal length")
			}
			h.raw = append(h.raw, c)
			v = v<<8 | int64(c)
		}
		if v < 0x80 {
			return h, s.errf(ErrMalformed, "non-minimal length")
		}
		h.length = v
	}
	if !h.indef && h.length > parent.end-s.off {
		return h, s.errf(ErrTruncated, "length %d exceeds its enclosing value", h.length)
	}
	if s.off+h.length > streamMaxInput {
		return h, s.errf(ErrTooLarge, "input beyond %d octets", int64(streamMaxInput))
	}
	return h, nil
}

func (s *berStream) child(parent *streamFrame, h streamHdr) (*streamFrame, error) {
	if parent.depth+1 > DefaultMaxDepth {
		return nil, s.errf(ErrTooDeep, "nesting deeper than %d", DefaultMaxDepth)
	}
	f := &streamFrame{indef: h.indef, end: parent.end, depth: parent.depth + 1}
	if !h.indef {
		f.end = s.off + h.length
	}
	return f, nil
}

// more reports whether f has another child, consuming an end-of-contents.
func (s *berStream) more(f *streamFrame) (bool, error) {
	if f.done {
		return false, nil
	}
	if !f.indef {
		return s.off < f.end, nil
	}
	p, err := s.br.Peek(2)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return false, s.errf(ErrTruncated, "missing end-of-contents")
		}
		return false, err
	}
	if p[0] == 0 && p[1] == 0 {
		if s.off+2 > f.end {
			return false, s.errf(ErrTruncated, "end-of-contents beyond the enclosing value")
		}
		s.br.Discard(2)
		s.off += 2
		f.done = true
		return false, nil
	}
	return true, nil
}

// peekID returns the identifier octet of the next child of f, or 0 if f
// has no more children.
func (s *berStream) peekID(f *streamFrame) (byte, error) {
	more, err := s.more(f)
	if err != nil || !more {
		return 0, err
	}
	p, err := s.br.Peek(1)
	if err != nil {
		return 0, s.errf(ErrTruncated, "input ends early")
	}
	return p[0], nil
}

// open reads the header of the next child of parent, which must be the
// constructed value with identifier octet id.
func (s *berStream) open(parent *streamFrame, id byte, name string) (*streamFrame, error) {
	if more, err := s.more(parent); err != nil {
		return nil, err
	} else if !more {
		return nil, s.errf(ErrMalformed, "%s missing", name)
	}
	h, err := s.header(parent)
	if err != nil {
		return nil, err
	}
	if h.high || h.id != id {
		return nil, s.errf(ErrMalformed, "malformed %s", name)
	}
	return s.child(parent, h)
}

// close checks that f has no more children.
func (s *berStream) close(f *streamFrame, name string) error {
	more, err := s.more(f)
	if err != nil {
		return err
	}
	if more {
		return s.errf(ErrMalformed, "trailing data in %s", name)
	}
	return nil
}

// element reads the next child of parent whole, as BER, up to max octets.
func (s *berStream) element(parent *streamFrame, max int) ([]byte, error) {
	if more, err := s.more(parent); err != nil {
		return nil, err
	} else if !more {
		return nil, s.errf(ErrMalformed, "value missing")
	}
	return s.appendElement(nil, parent, max)
}

func (s *berStream) appendElement(out []byte, parent *streamFrame, max int) ([]byte, error) {
	h, err := s.header(parent)
	if err != nil {
		return nil, err
	}
	out = append(out, h.raw...)
	if !h.indef {
		if h.length > int64(max-len(out)) {
			return nil, s.errf(ErrTooLarge, "element larger than %d octets", max)
		}
		n := len(out)
		out = append(out, make([]byte, h.length)...)
		if err := s.readFull(out[n:]); err != nil {
			return nil, err
		}
		return out, nil
	}
	f, err := s.child(parent, h)
	if err != nil {
		return nil, err
	}
	for {
		more, err := s.more(f)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if out, err = s.appendElement(out, f, max); err != nil {
			return nil, err
		}
	}
	if len(out)+2 > max {
		return nil, s.errf(ErrTooLarge, "element larger than %d octets", max)
	}
	return append(out, 0, 0), nil
}

// readDERErr reads the next child of parent, converts it to DER and hands
// it to parse, which must consume all of it.
func (s *berStream) readDERErr(parent *streamFrame, name string, parse func(*cryptobyte.String) error) error {
	raw, err := s.element(parent, streamMaxElement)
	if err != nil {
		return err
	}
	der, err := ToDER(raw, nil)
	if err != nil {
		return err
	}
	d := cryptobyte.String(der)
	if err := parse(&d); err != nil {
		return err
	}
	if !d.Empty() {
		return fmt.Errorf("cms: malformed %s", name)
	}
	return nil
}

func (s *berStream) readDER(parent *streamFrame, name string, parse func(*cryptobyte.String) bool) error {
	return s.readDERErr(parent, name, func(d *cryptobyte.String) error {
		if !parse(d) {
			return fmt.Errorf("cms: malformed %s", name)
		}
		return nil
	})
}

// content streams encryptedContent [0] IMPLICIT OCTET STRING, primitive
// or constructed from OCTET STRING segments (nested ones too), to sink.
func (s *berStream) content(eci *streamFrame, buf []byte, sink func([]byte) error) error {
	id, err := s.peekID(eci)
	if err != nil {
		return err
	}
	if id != 0x80 && id != 0xa0 {
		return errors.New("cms: encryptedContent absent (detached content is not supported)")
	}
	return s.segment(eci, 0x80, buf, sink)
}

// segment streams a string value whose primitive identifier is prim (and
// constructed one prim|0x20) whose segments are OCTET STRINGs.
func (s *berStream) segment(parent *streamFrame, prim byte, buf []byte, sink func([]byte) error) error {
	h, err := s.header(parent)
	if err != nil {
		return err
	}
	switch {
	case !h.high && h.id == prim:
		for n := h.length; n > 0; {
			c := int(min(n, int64(len(buf))))
			if err := s.readFull(buf[:c]); err != nil {
				return err
			}
			if err := sink(buf[:c]); err != nil {
				return err
			}
			n -= int64(c)
		}
		return nil
	case !h.high && h.id == prim|0x20:
		f, err := s.child(parent, h)
		if err != nil {
			return err
		}
		for {
			more, err := s.more(f)
			if err != nil {
				return err
			}
			if !more {
				return nil
			}
			if err := s.segment(f, 0x04, buf, sink); err != nil {
				return err
			}
		}
	}
	return s.errf(ErrMalformed, "segment of a constructed string is not an OCTET STRING")
}
