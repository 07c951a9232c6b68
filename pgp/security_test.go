package pgp

// Attack tests for the OpenPGP items of SECURITY.md (S03, S04, S08, S16,
// S17, S18, S19, S20). Every attack message is built here, from go-crypto's
// packet serializers, by editing the bytes of a message our own Encrypt or
// Sign made, or (S19) with gpg, so each case shows exactly what it does.

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/securemail/securemail/message"
)

// Packet tags used by the attacks (RFC 9580 §5).
const (
	secTagPKESK   = 1
	secTagSig     = 2
	secTagSKESK   = 3
	secTagOPS     = 4
	secTagComp    = 8
	secTagSE      = 9
	secTagLiteral = 11
	secTagSEIPD   = 18
)

// ---- building and editing packets ----

// secRawPacket is one top-level packet with its body, partial-length chunks
// joined.
type secRawPacket struct {
	tag  byte
	body []byte
}

// secSplitPackets parses the top-level packet framing of a binary message
// (old and new formats, partial lengths). The bodies are copies.
func secSplitPackets(t testing.TB, data []byte) []secRawPacket {
	t.Helper()
	var out []secRawPacket
	for len(data) > 0 {
		h := data[0]
		if h&0x80 == 0 {
			t.Fatalf("no packet header at %#x", h)
		}
		var p secRawPacket
		if h&0x40 != 0 {
			p.tag = h & 0x3f
			data = data[1:]
			for {
				var n int
				var partial bool
				switch l := data[0]; {
				case l < 192:
					n, data = int(l), data[1:]
				case l < 224:
					n, data = (int(l)-192)<<8+int(data[1])+192, data[2:]
				case l == 255:
					n, data = int(binary.BigEndian.Uint32(data[1:5])), data[5:]
				default:
					n, partial, data = 1<<(l&0x1f), true, data[1:]
				}
				p.body = append(p.body, data[:n]...)
				data = data[n:]
				if !partial {
					break
				}
			}
		} else {
			p.tag = h >> 2 & 0x0f
			var n int
			switch h & 3 {
			case 0:
				n, data = int(data[1]), data[2:]
			case 1:
				n, data = int(binary.BigEndian.Uint16(data[1:3])), data[3:]
			case 2:
				n, data = int(binary.BigEndian.Uint32(data[1:5])), data[5:]
			default:
				n, data = len(data)-1, data[1:]
			}
			p.body = append([]byte(nil), data[:n]...)
			data = data[n:]
		}
		out = append(out, p)
	}
	return out
}

// secJoinPackets serializes packets in the new format with five-octet
// lengths.
func secJoinPackets(ps ...secRawPacket) []byte {
	var b []byte
	for _, p := range ps {
		b = append(b, 0xc0|p.tag, 0xff)
		b = binary.BigEndian.AppendUint32(b, uint32(len(p.body)))
		b = append(b, p.body...)
	}
	return b
}

// secLastWithTag returns the index of the last top-level packet with tag.
func secLastWithTag(t testing.TB, ps []secRawPacket, tag byte) int {
	t.Helper()
	for i := len(ps) - 1; i >= 0; i-- {
		if ps[i].tag == tag {
			return i
		}
	}
	t.Fatalf("no packet with tag %d", tag)
	return -1
}

// secEditPacket rewrites msg with the body of its last packet with tag
// replaced by edit(body).
func secEditPacket(t testing.TB, msg []byte, tag byte, edit func(body []byte) []byte) []byte {
	t.Helper()
	ps := secSplitPackets(t, msg)
	i := secLastWithTag(t, ps, tag)
	ps[i].body = edit(ps[i].body)
	return secJoinPackets(ps...)
}

// secFlipAt returns an edit that flips the low bit of body[at(len(body))].
func secFlipAt(at func(n int) int) func([]byte) []byte {
	return func(b []byte) []byte {
		b[at(len(b))] ^= 0x01
		return b
	}
}

type secNopWriteCloser struct{ io.Writer }

func (secNopWriteCloser) Close() error { return nil }

// literal is a Literal Data packet (binary) holding data.
func secLiteral(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := packet.SerializeLiteral(secNopWriteCloser{&b}, true, name, 0)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// compressed is a ZLIB Compressed Data packet holding the packets inner.
func secCompressed(t testing.TB, inner []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := packet.SerializeCompressed(secNopWriteCloser{&b}, packet.CompressionZLIB, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(inner)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func secSessionKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// pkesk is a Public-Key Encrypted Session Key packet giving sk (AES-256)
// to the encryption key of to; aead selects the v6 packet that goes with
// SEIPDv2.
func secPkesk(t testing.TB, to *openpgp.Entity, sk []byte, aead bool) []byte {
	t.Helper()
	k, ok := to.EncryptionKey(time.Now(), nil)
	if !ok {
		t.Fatal("recipient has no encryption key")
	}
	var b bytes.Buffer
	if err := packet.SerializeEncryptedKeyAEAD(&b, k.PublicKey, packet.CipherAES256, aead, sk, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// seipd is a Symmetrically Encrypted Integrity Protected Data packet
// (v1 with MDC, or v2 with AES-256-OCB when aead) holding inner under sk.
func secSeipd(t testing.TB, sk, inner []byte, aead bool) []byte {
	t.Helper()
	var b bytes.Buffer
	suite := packet.CipherSuite{Cipher: packet.CipherAES256, Mode: packet.AEADModeOCB}
	w, err := packet.SerializeSymmetricallyEncrypted(&b, packet.CipherAES256, aead, suite, sk, &packet.Config{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(inner)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// secSealTo encrypts the packets inner to to: PKESK + SEIPD, as any sender
// with to's public key can.
func secSealTo(t testing.TB, to *openpgp.Entity, inner []byte, aead bool) []byte {
	t.Helper()
	sk := secSessionKey(t)
	return append(secPkesk(t, to, sk, aead), secSeipd(t, sk, inner, aead)...)
}

// secCfbEncrypt encrypts plain in OpenPGP CFB mode under an AES-256 key: the
// random prefix with its two check octets, then the data; resync is the
// legacy variant of the Symmetrically Encrypted (tag 9) packet.
func secCfbEncrypt(t testing.TB, sk, plain []byte, resync bool) []byte {
	t.Helper()
	block, err := aes.NewCipher(sk)
	if err != nil {
		t.Fatal(err)
	}
	iv := make([]byte, block.BlockSize())
	rand.Read(iv)
	mode := packet.OCFBNoResync
	if resync {
		mode = packet.OCFBResync
	}
	s, prefix := packet.NewOCFBEncrypter(block, iv, mode)
	ct := make([]byte, len(plain))
	s.XORKeyStream(ct, plain)
	return append(prefix, ct...)
}

// secSigSpec describes one message signature to forge or make.
type secSigSpec struct {
	key        *packet.PrivateKey // signing key (primary or subkey)
	hash       crypto.Hash        // default SHA-256
	created    time.Time          // default a minute ago
	notations  []*packet.Notation
	recipients []*openpgp.Entity // intended recipients
	over       []byte            // data actually signed, when not the message body
	text       bool              // a text (0x01) signature, as in cleartext-signed messages
}

func (s secSigSpec) hashFunc() crypto.Hash {
	if s.hash == 0 {
		return crypto.SHA256
	}
	return s.hash
}

// onePass is the One-Pass Signature packet announcing s.
func (s secSigSpec) onePass(t testing.TB, last bool) []byte {
	t.Helper()
	ops := &packet.OnePassSignature{
		Version: 3, SigType: packet.SigTypeBinary, Hash: s.hashFunc(),
		PubKeyAlgo: s.key.PubKeyAlgo, KeyId: s.key.KeyId, IsLast: last,
	}
	var b bytes.Buffer
	if err := ops.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// signature is a binary-document Signature packet over body (or s.over),
// made directly with the packet API, so no key-validity or hash policy of
// go-crypto's writer gets in the way.
func (s secSigSpec) signature(t testing.TB, body []byte) []byte {
	t.Helper()
	created := s.created
	if created.IsZero() {
		created = time.Now().Add(-time.Minute)
	}
	sigType := packet.SigTypeBinary
	if s.text {
		sigType = packet.SigTypeText
	}
	sig := &packet.Signature{
		Version: s.key.Version, SigType: sigType, PubKeyAlgo: s.key.PubKeyAlgo,
		Hash: s.hashFunc(), CreationTime: created, IssuerKeyId: &s.key.KeyId,
		Notations: s.notations,
	}
	for _, r := range s.recipients {
		sig.IntendedRecipients = append(sig.IntendedRecipients,
			&packet.Recipient{KeyVersion: r.PrimaryKey.Version, Fingerprint: r.PrimaryKey.Fingerprint})
	}
	h, err := sig.PrepareSign(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.over != nil {
		h.Write(s.over)
	} else {
		h.Write(body)
	}
	// go-crypto salts v4 signatures with a notation, for which it knows
	// no salt size with SHA-1: leave it out there.
	cfg := &packet.Config{NonDeterministicSignaturesViaNotation: packet.BoolPointer(s.hashFunc() != crypto.SHA1)}
	if err := sig.Sign(h, s.key, cfg); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sig.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// secSignedPackets is a one-pass signed message: an OPS packet per spec, the
// literal data, and the signatures in the bracketing (reverse) order.
func secSignedPackets(t testing.TB, body []byte, specs ...secSigSpec) []byte {
	t.Helper()
	var b []byte
	for i, s := range specs {
		b = append(b, s.onePass(t, i == len(specs)-1)...)
	}
	b = append(b, secLiteral(t, "", body)...)
	for i := len(specs) - 1; i >= 0; i-- {
		b = append(b, specs[i].signature(t, body)...)
	}
	return b
}

// secNewKeyWith makes a v4 Ed25519/Curve25519 key as newKey does, with its
// configuration changed by edit (creation time, lifetime, AEAD, v6).
func secNewKeyWith(t testing.TB, name string, edit func(*packet.Config)) *openpgp.Entity {
	t.Helper()
	cfg := &packet.Config{
		Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultCipher: packet.CipherAES256,
		Time: func() time.Time { return time.Now().Add(-time.Hour) },
	}
	if edit != nil {
		edit(cfg)
	}
	e, err := openpgp.NewEntity(name, "", name+"@example.org", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// ---- reading and judging ----

// secCountingWriter counts what reaches it: the attacks must get nothing
// through.
type secCountingWriter struct{ n int }

func (w *secCountingWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

// secMustReject reads msg and requires an error, no Result, and not one byte
// of output. wantIntegrity asks for an *IntegrityError (otherwise any
// error; structural garbage may be a *FormatError).
func secMustReject(t testing.TB, msg []byte, kr Keyring, opts *Options, wantIntegrity bool) error {
	t.Helper()
	var out secCountingWriter
	res, err := Read(bytes.NewReader(msg), &out, kr, opts)
	if err == nil {
		t.Fatalf("accepted: %+v", res)
	}
	if res != nil {
		t.Errorf("a Result beside the error: %+v", res)
	}
	if out.n != 0 {
		t.Errorf("%d plaintext bytes released before the error %v", out.n, err)
	}
	var ie *IntegrityError
	if wantIntegrity && !errors.As(err, &ie) {
		t.Errorf("error %T %v, want *IntegrityError", err, err)
	}
	return err
}

// secMustRead reads msg and requires success.
func secMustRead(t testing.TB, msg []byte, kr Keyring, opts *Options) (*Result, []byte) {
	t.Helper()
	var out bytes.Buffer
	res, err := Read(bytes.NewReader(msg), &out, kr, opts)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return res, out.Bytes()
}

var secFullFingerprint = regexp.MustCompile(`^[0-9A-F]{40}$`)

// secMustBeInvalid requires exactly one signature, not valid, with a reason,
// by the known key signer, named by its full fingerprint (S20).
func secMustBeInvalid(t testing.TB, res *Result, signer *openpgp.Entity, reason string) {
	t.Helper()
	if len(res.Signatures) != 1 {
		t.Fatalf("%d signatures, want 1", len(res.Signatures))
	}
	s := res.Signatures[0]
	if s.Valid || s.Err == nil {
		t.Fatalf("signature accepted: %+v", s)
	}
	if reason != "" && !strings.Contains(strings.ToLower(s.Err.Error()), reason) {
		t.Errorf("reason %q does not mention %q", s.Err, reason)
	}
	if !secFullFingerprint.MatchString(s.Fingerprint) || s.Fingerprint != fingerprint(signer) {
		t.Errorf("fingerprint %q, want the full %s", s.Fingerprint, fingerprint(signer))
	}
	if !s.Known {
		t.Errorf("the signer's key was given but not found")
	}
}

func secMustBeValid(t testing.TB, res *Result, signer *openpgp.Entity) {
	t.Helper()
	if len(res.Signatures) != 1 {
		t.Fatalf("%d signatures, want 1", len(res.Signatures))
	}
	if s := res.Signatures[0]; !s.Valid || s.Fingerprint != fingerprint(signer) {
		t.Fatalf("signature %+v (error %v), want valid by %s", s, s.Err, fingerprint(signer))
	}
}

// ---- S03: integrity ----

// secV1Message is a signed SEIPDv1 (MDC) message from alice to bob made by
// our own Encrypt (the keys do not advertise SEIPDv2).
func secV1Message(t testing.TB, plain []byte) (msg []byte, alice, bob *openpgp.Entity) {
	t.Helper()
	alice, bob = newKey(t, "alice"), newKey(t, "bob")
	msg = encryptTo(t, plain, alice, false, publicOnly(t, bob))
	ps := secSplitPackets(t, msg)
	if b := ps[secLastWithTag(t, ps, secTagSEIPD)].body; b[0] != 1 {
		t.Fatalf("SEIPD version %d, want 1", b[0])
	}
	return msg, alice, bob
}

func TestS03_MDCStripped(t *testing.T) {
	plain := bytes.Repeat([]byte("attack at dawn; "), 40)
	msg, alice, bob := secV1Message(t, plain)
	kr := Entities{bob, publicOnly(t, alice)}
	if _, out := secMustRead(t, msg, kr, nil); !bytes.Equal(out, plain) {
		t.Fatal("the untampered message does not read back")
	}

	t.Run("last 22 octets cut", func(t *testing.T) {
		// The MDC packet is the last 22 octets of the SEIPD plaintext, so
		// of its ciphertext (CFB keeps positions): cutting them strips it.
		attack := secEditPacket(t, msg, secTagSEIPD, func(b []byte) []byte { return b[:len(b)-22] })
		secMustReject(t, attack, kr, nil, true)
	})

	t.Run("well-formed SEIPD without MDC", func(t *testing.T) {
		// A sender who builds the packet by hand: a correct prefix and a
		// complete literal packet, encrypted as SEIPDv1 demands, but no MDC
		// packet after it.
		sk := secSessionKey(t)
		body := append([]byte{1}, secCfbEncrypt(t, sk, secLiteral(t, "", plain), false)...)
		attack := append(secPkesk(t, bob, sk, false), secJoinPackets(secRawPacket{secTagSEIPD, body})...)
		secMustReject(t, attack, kr, nil, true)
	})
}

func TestS03_MDCWrong(t *testing.T) {
	plain := bytes.Repeat([]byte("transfer 100 EUR to Bob. "), 20)
	msg, alice, bob := secV1Message(t, plain)
	kr := Entities{bob, publicOnly(t, alice)}
	cases := []struct {
		name string
		at   func(n int) int // index in the SEIPD body
	}{
		{"MDC hash, last octet", func(n int) int { return n - 1 }},
		{"MDC packet header", func(n int) int { return n - 22 }},
		// Body: version (1), prefix (16+2), then the packets.
		{"random prefix", func(int) int { return 1 + 3 }},
		{"prefix check octets", func(int) int { return 1 + 16 }},
		{"ciphertext of the literal data", func(n int) int { return n - 22 - 100 }},
		{"last octet before the MDC", func(n int) int { return n - 23 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			secMustReject(t, secEditPacket(t, msg, secTagSEIPD, secFlipAt(c.at)), kr, nil, true)
		})
	}
}

func TestS03_DowngradeToSE(t *testing.T) {
	plain := []byte("the quarterly numbers are in\n")
	msg, alice, bob := secV1Message(t, plain)
	kr := Entities{bob, publicOnly(t, alice)}
	// Strip the SEIPD version octet and re-frame the same ciphertext as a
	// legacy Symmetrically Encrypted (tag 9) packet, which has no MDC.
	ps := secSplitPackets(t, msg)
	i := secLastWithTag(t, ps, secTagSEIPD)
	ps[i] = secRawPacket{secTagSE, ps[i].body[1:]}
	err := secMustReject(t, secJoinPackets(ps...), kr, nil, true)
	if !strings.Contains(err.Error(), "integrity") {
		t.Errorf("error %q", err)
	}
}

func TestS03_LegacySE(t *testing.T) {
	alice, bob := newKey(t, "alice"), newKey(t, "bob")
	kr := Entities{bob, publicOnly(t, alice)}
	// A genuine legacy message: session key to bob, and a tag 9 packet
	// that decrypts (CFB with resync) to a literal packet. It would read
	// fine if tag 9 were allowed; it must not be.
	sk := secSessionKey(t)
	se := secJoinPackets(secRawPacket{secTagSE, secCfbEncrypt(t, sk, secLiteral(t, "", []byte("hello from 1998\n")), true)})
	secMustReject(t, append(secPkesk(t, bob, sk, false), se...), kr, nil, true)
	// The same, signed inside by alice: a good signature does not make up
	// for the missing integrity protection.
	signed := secSignedPackets(t, []byte("signed, not protected\n"), secSigSpec{key: alice.PrivateKey})
	se = secJoinPackets(secRawPacket{secTagSE, secCfbEncrypt(t, sk, signed, true)})
	secMustReject(t, append(secPkesk(t, bob, sk, false), se...), kr, nil, true)
}

func TestS03_AEADTagFlipped(t *testing.T) {
	keys := []struct {
		name string
		edit func(*packet.Config)
	}{
		// A v4 key whose self-signature advertises SEIPDv2.
		{"v4 key with SEIPDv2 feature", func(c *packet.Config) { c.AEADConfig = &packet.AEADConfig{} }},
		// A v6 key (RFC 9580), which implies SEIPDv2.
		{"v6 key", func(c *packet.Config) {
			c.V6Keys = true
			c.Algorithm = packet.PubKeyAlgoEd25519
			c.AEADConfig = &packet.AEADConfig{}
		}},
	}
	// Three chunks of 256 KiB and a bit: flips land in a middle chunk, in
	// the last chunk and in the final tag.
	plain := bytes.Repeat([]byte("0123456789abcdef"), (600<<10)/16)
	for _, k := range keys {
		t.Run(k.name, func(t *testing.T) {
			alice, bob := secNewKeyWith(t, "alice", k.edit), secNewKeyWith(t, "bob", k.edit)
			msg := encryptTo(t, plain, alice, false, publicOnly(t, bob))
			kr := Entities{bob, publicOnly(t, alice)}
			res, out := secMustRead(t, msg, kr, nil)
			if !strings.Contains(res.Algorithm, "SEIPDv2") || !bytes.Equal(out, plain) {
				t.Fatalf("untampered message: algorithm %q, %d bytes", res.Algorithm, len(out))
			}
			secMustBeValid(t, res, alice)
			// SEIPDv2 body: version, cipher, mode, chunk size, 32-octet
			// salt (36 octets), then chunks each with a 16-octet tag, then
			// the final 16-octet tag.
			ps := secSplitPackets(t, msg)
			if b := ps[secLastWithTag(t, ps, secTagSEIPD)].body; b[0] != 2 || b[3] != 12 || (len(b)-36-16)%(256<<10+16) == 0 {
				t.Fatalf("SEIPD version %d, chunk size octet %d, %d octets: not three chunks of 256 KiB", b[0], b[3], len(b))
			}
			cases := []struct {
				name string
				edit func([]byte) []byte
			}{
				{"final tag", secFlipAt(func(n int) int { return n - 1 })},
				{"tag of the last chunk", secFlipAt(func(n int) int { return n - 17 })},
				{"last octet of the last chunk", secFlipAt(func(n int) int { return n - 33 })},
				{"first chunk", secFlipAt(func(int) int { return 36 })},
				{"middle chunk", secFlipAt(func(n int) int { return 36 + 300<<10 })},
				{"salt", secFlipAt(func(int) int { return 4 })},
				{"chunk size octet", secFlipAt(func(int) int { return 3 })},
				{"final tag cut", func(b []byte) []byte { return b[:len(b)-16] }},
				// Drop the last chunk and keep the final tag.
				{"last chunk cut", func(b []byte) []byte {
					cut := 36 + 2*(256<<10+16)
					return append(b[:cut:cut], b[len(b)-16:]...)
				}},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					secMustReject(t, secEditPacket(t, msg, secTagSEIPD, c.edit), kr, nil, true)
				})
			}
		})
	}
}

// ---- S04: streaming release ----

func TestS04_TamperedTailReleasesNothing(t *testing.T) {
	noSpoolLeft := func(t *testing.T, dir string) {
		t.Helper()
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			t.Errorf("left in the spool directory: %s", e.Name())
		}
	}
	pattern := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		return b
	}
	// The last octet of the literal data sits just before the 22-octet
	// MDC packet: every block before it decrypts cleanly, so a reader
	// that streams would have released all but the last block.
	lastData := func(n int) int { return n - 23 }

	t.Run("20 MiB, default memory limit", func(t *testing.T) {
		// 20 MiB: beyond the default 16 MiB memory spool, so the plaintext
		// goes through the encrypted temporary file.
		msg, alice, bob := secV1Message(t, pattern(20<<20))
		dir := t.TempDir()
		attack := secEditPacket(t, msg, secTagSEIPD, secFlipAt(lastData))
		secMustReject(t, attack, Entities{bob, publicOnly(t, alice)}, &Options{TempDir: dir}, true)
		noSpoolLeft(t, dir)
	})

	// The rest forces the file spool cheaply with a 64 KiB memory limit.
	plain := pattern(2 << 20)
	msg, alice, bob := secV1Message(t, plain)
	kr := Entities{bob, publicOnly(t, alice)}
	small := func(dir string) *Options { return &Options{TempDir: dir, MemoryLimit: 64 << 10} }

	t.Run("control: untampered reads back through the file spool", func(t *testing.T) {
		dir := t.TempDir()
		res, out := secMustRead(t, msg, kr, small(dir))
		if !bytes.Equal(out, plain) || res.Size != int64(len(plain)) {
			t.Fatalf("%d bytes read back, want the %d written", len(out), len(plain))
		}
		noSpoolLeft(t, dir)
	})

	t.Run("control: the spool does go to a file", func(t *testing.T) {
		// With the spool directory missing, a message larger than the
		// memory limit cannot be read: proof the file path is taken. That
		// is a local failure, not a verdict on the message.
		var out secCountingWriter
		_, err := Read(bytes.NewReader(msg), &out, kr, small(t.TempDir()+"/missing"))
		if err == nil {
			t.Fatal("read without a spool directory")
		}
		var ie *IntegrityError
		if errors.As(err, &ie) {
			t.Errorf("a spool failure reported as an integrity failure: %v", err)
		}
		if out.n != 0 {
			t.Errorf("%d bytes written", out.n)
		}
	})

	cases := []struct {
		name   string
		memory int
		at     func(n int) int
	}{
		{"last data octet", 64 << 10, lastData},
		{"MDC", 64 << 10, func(n int) int { return n - 1 }},
		{"one block past the memory limit", 64 << 10, func(int) int { return 1 + 18 + 100<<10 }},
		{"MDC, all in memory", 0, func(n int) int { return n - 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			attack := secEditPacket(t, msg, secTagSEIPD, secFlipAt(c.at))
			secMustReject(t, attack, kr, &Options{TempDir: dir, MemoryLimit: c.memory}, true)
			noSpoolLeft(t, dir)
		})
	}

	t.Run("SEIPDv2, last chunk", func(t *testing.T) {
		aead := func(c *packet.Config) { c.AEADConfig = &packet.AEADConfig{} }
		alice, bob := secNewKeyWith(t, "alice", aead), secNewKeyWith(t, "bob", aead)
		msg := encryptTo(t, plain, alice, false, publicOnly(t, bob))
		dir := t.TempDir()
		attack := secEditPacket(t, msg, secTagSEIPD, secFlipAt(func(n int) int { return n - 33 }))
		secMustReject(t, attack, Entities{bob, publicOnly(t, alice)}, small(dir), true)
		noSpoolLeft(t, dir)
	})
}

// ---- S08: encryption spoofing ----

func TestS08_EmptyEncryptedBesideCleartext(t *testing.T) {
	alice, bob, eve := newKey(t, "alice"), newKey(t, "bob"), newKey(t, "eve")
	kr := Entities{bob, publicOnly(t, alice)}
	spoof := []byte("Please wire the money today. -- your boss\n")
	clear := secLiteral(t, "", spoof)
	emptyLit := secLiteral(t, "", nil)

	cases := []struct {
		name string
		msg  func() []byte
	}{
		{"empty literal inside, cleartext literal after", func() []byte {
			return append(secSealTo(t, bob, emptyLit, false), clear...)
		}},
		{"nothing inside, cleartext literal after", func() []byte {
			return append(secSealTo(t, bob, nil, false), clear...)
		}},
		{"nothing inside (SEIPDv2), cleartext literal after", func() []byte {
			return append(secSealTo(t, bob, nil, true), clear...)
		}},
		{"empty compressed inside, cleartext literal after", func() []byte {
			return append(secSealTo(t, bob, secCompressed(t, nil), false), clear...)
		}},
		{"nothing inside, signed cleartext after", func() []byte {
			return append(secSealTo(t, bob, nil, false), secSignedPackets(t, spoof, secSigSpec{key: eve.PrivateKey})...)
		}},
		{"nothing inside, compressed cleartext after", func() []byte {
			return append(secSealTo(t, bob, nil, false), secCompressed(t, clear)...)
		}},
		{"cleartext literal before", func() []byte {
			return append(append([]byte(nil), clear...), secSealTo(t, bob, emptyLit, false)...)
		}},
		{"cleartext literal between key and data packets", func() []byte {
			sk := secSessionKey(t)
			m := append(secPkesk(t, bob, sk, false), clear...)
			return append(m, secSeipd(t, sk, emptyLit, false)...)
		}},
		{"two encrypted packets, the second empty", func() []byte {
			sk := secSessionKey(t)
			m := append(secPkesk(t, bob, sk, false), secSeipd(t, sk, secLiteral(t, "", []byte("real")), false)...)
			return append(m, secSeipd(t, sk, nil, false)...)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			secMustReject(t, c.msg(), kr, nil, false)
		})
	}

	// The same containers without the cleartext beside them are well
	// formed: an empty message, reported as encrypted and empty.
	res, out := secMustRead(t, secSealTo(t, bob, emptyLit, false), kr, nil)
	if !res.Encrypted || len(out) != 0 {
		t.Fatalf("empty encrypted literal: %+v, %d bytes", res, len(out))
	}
}

// ---- S16: display-string injection ----

// TestS16_InjectedUserIDAndFilename: Read returns the user IDs of a signer
// and the literal file name raw (that is documented: callers escape), so
// what is checked here is that message.SafeLine, which the securemail
// pipeline applies to them before display, leaves no control character:
// no line break for a fake "[GNUPG:] GOODSIG" line, no ESC for a terminal
// sequence.
func TestS16_InjectedUserIDAndFilename(t *testing.T) {
	evil := "Alice\n[GNUPG:] GOODSIG 0123456789ABCDEF Bob\r\x1b[2J\x1b]0;pwned\x07\x1b[1;32mGood signature\x1b[0m\u202e"
	alice, err := openpgp.NewEntity(evil, "", "alice@example.org", &packet.Config{
		Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519,
		Time: func() time.Time { return time.Now().Add(-time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var msg bytes.Buffer
	w, err := Sign(&msg, alice, &WriteParams{Filename: evil})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("hi\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	res, _ := secMustRead(t, msg.Bytes(), Entities{publicOnly(t, alice)}, nil)
	secMustBeValid(t, res, alice)
	if len(res.Signatures[0].UserIDs) != 1 {
		t.Fatalf("user IDs %q", res.Signatures[0].UserIDs)
	}
	for _, s := range []string{res.Filename, res.Signatures[0].UserIDs[0]} {
		if !strings.Contains(s, "[GNUPG:]") || !strings.Contains(s, "\x1b") {
			t.Fatalf("the injected string did not come through: %q", s)
		}
		safe := message.SafeLine(s)
		for _, r := range safe {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u202e' {
				t.Errorf("SafeLine left %U in %q", r, safe)
			}
		}
	}
}

// ---- S17: several signatures ----

func TestS17_TwoSignatures(t *testing.T) {
	alice, eve := newKey(t, "alice"), newKey(t, "eve")
	body := []byte("I, Alice, agree.\n")
	good := secSigSpec{key: alice.PrivateKey}
	// Eve's signature is over other data: it does not verify.
	bad := secSigSpec{key: eve.PrivateKey, over: []byte("something else")}

	verdicts := func(t *testing.T, res *Result) (a, e Signature) {
		t.Helper()
		if len(res.Signatures) != 2 {
			t.Fatalf("%d signatures, want 2", len(res.Signatures))
		}
		for _, s := range res.Signatures {
			switch s.KeyID {
			case secFmtKeyID(alice):
				a = s
			case secFmtKeyID(eve):
				e = s
			default:
				t.Fatalf("signature by %s", s.KeyID)
			}
		}
		if !a.Valid || a.Err != nil || a.Fingerprint != fingerprint(alice) {
			t.Errorf("alice's signature %+v", a)
		}
		if e.Valid || e.Err == nil {
			t.Errorf("eve's signature merged into a good verdict: %+v", e)
		}
		if e.Fingerprint != fingerprint(eve) {
			t.Errorf("eve's fingerprint %q, want the full %s", e.Fingerprint, fingerprint(eve))
		}
		return a, e
	}

	for _, order := range []string{"alice first", "eve first"} {
		t.Run(order+", eve unknown", func(t *testing.T) {
			specs := []secSigSpec{good, {key: eve.PrivateKey}}
			if order == "eve first" {
				specs[0], specs[1] = specs[1], specs[0]
			}
			res, out := secMustRead(t, secSignedPackets(t, body, specs...), Entities{publicOnly(t, alice)}, nil)
			if !bytes.Equal(out, body) {
				t.Fatalf("body %q", out)
			}
			_, e := verdicts(t, res)
			if e.Known || !errors.Is(e.Err, ErrUnknownSigner) {
				t.Errorf("eve's key is not in the keyring: %+v", e)
			}
		})
		t.Run(order+", eve's signature bad", func(t *testing.T) {
			specs := []secSigSpec{good, bad}
			if order == "eve first" {
				specs[0], specs[1] = specs[1], specs[0]
			}
			res, _ := secMustRead(t, secSignedPackets(t, body, specs...), Entities{publicOnly(t, alice), publicOnly(t, eve)}, nil)
			if _, e := verdicts(t, res); !e.Known {
				t.Errorf("eve's key was given: %+v", e)
			}
		})
	}

	t.Run("signed and encrypted", func(t *testing.T) {
		bob := newKey(t, "bob")
		msg := secSealTo(t, bob, secSignedPackets(t, body, good, bad), true)
		res, _ := secMustRead(t, msg, Entities{bob, publicOnly(t, alice), publicOnly(t, eve)}, nil)
		verdicts(t, res)
	})

	t.Run("detached", func(t *testing.T) {
		sigs := append(good.signature(t, body), bad.signature(t, body)...)
		res, err := VerifyDetached(bytes.NewReader(body), sigs, Entities{publicOnly(t, alice), publicOnly(t, eve)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		verdicts(t, &Result{Signatures: res})
	})
}

// secFmtKeyID is the key ID of a v4 primary key: its fingerprint's last 16
// hex digits.
func secFmtKeyID(e *openpgp.Entity) string { return fingerprint(e)[24:] }

// ---- S18: message grammar ----

func TestS18_MessageGrammar(t *testing.T) {
	alice, bob := newKey(t, "alice"), newKey(t, "bob")
	kr := Entities{bob, publicOnly(t, alice)}
	body := []byte("signed text\n")
	injected := secLiteral(t, "", []byte("UNSIGNED: ignore the above, pay Eve\n"))
	signed := func() []byte { return secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey}) }
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	rejected := []struct {
		name string
		msg  func() []byte
	}{
		{"unsigned literal before a signed message", func() []byte { return cat(injected, signed()) }},
		{"unsigned literal after a signed message", func() []byte { return cat(signed(), injected) }},
		{"unsigned literal between literal and signature", func() []byte {
			s := secSigSpec{key: alice.PrivateKey}
			return cat(s.onePass(t, true), secLiteral(t, "", body), injected, s.signature(t, body))
		}},
		{"two literal packets", func() []byte { return cat(secLiteral(t, "", body), injected) }},
		{"unsigned literal after a compressed signed message", func() []byte { return cat(secCompressed(t, signed()), injected) }},
		{"unsigned literal beside a signed message inside compression", func() []byte { return secCompressed(t, cat(signed(), injected)) }},
		{"unsigned literal after a signed message, inside encryption", func() []byte {
			return secSealTo(t, bob, cat(signed(), injected), false)
		}},
		{"signed message inside a signed message", func() []byte {
			// OPS(alice, last) OPS(alice, last) LD SIG SIG: the inner
			// one-pass signature follows one that said it was the last.
			s := secSigSpec{key: alice.PrivateKey}
			return cat(s.onePass(t, true), signed(), s.signature(t, body))
		}},
		{"signature outside the encrypted data", func() []byte {
			s := secSigSpec{key: alice.PrivateKey}
			return cat(secSealTo(t, bob, cat(s.onePass(t, true), secLiteral(t, "", body)), false), s.signature(t, body))
		}},
		{"one-pass signature outside the encrypted data", func() []byte {
			s := secSigSpec{key: alice.PrivateKey}
			return cat(s.onePass(t, true), secSealTo(t, bob, secLiteral(t, "", body), false), s.signature(t, body))
		}},
		{"literal only, no signature after the one-pass", func() []byte {
			return cat(secSigSpec{key: alice.PrivateKey}.onePass(t, true), secLiteral(t, "", body))
		}},
	}
	for _, c := range rejected {
		t.Run(c.name, func(t *testing.T) {
			secMustReject(t, c.msg(), kr, nil, false)
		})
	}

	// Compressed inside compressed inside a signed message is the RFC
	// grammar (a Compressed Message holds any OpenPGP Message), and
	// go-crypto reads it. It is harmless: there is still exactly one
	// literal packet and the one signature covers exactly it.
	t.Run("compressed in compressed in signed is read as one signed literal", func(t *testing.T) {
		s := secSigSpec{key: alice.PrivateKey}
		msg := cat(s.onePass(t, true), secCompressed(t, secCompressed(t, secLiteral(t, "", body))), s.signature(t, body))
		res, out := secMustRead(t, msg, kr, nil)
		if !bytes.Equal(out, body) {
			t.Fatalf("body %q", out)
		}
		secMustBeValid(t, res, alice)
	})
	// A Signature packet before a one-pass signed message (the "old
	// style" of RFC 4880 §11.3 around a signed message) is grammatical
	// too. Both signatures are over the same one literal, each judged on
	// its own: a bad outer one stays bad.
	t.Run("old-style signature around a signed message: separate verdicts", func(t *testing.T) {
		outer := secSigSpec{key: alice.PrivateKey, over: []byte("other text")}
		res, out := secMustRead(t, cat(outer.signature(t, body), signed()), kr, nil)
		if !bytes.Equal(out, body) || len(res.Signatures) != 2 {
			t.Fatalf("body %q, %d signatures", out, len(res.Signatures))
		}
		valid := 0
		for _, s := range res.Signatures {
			if s.Valid {
				valid++
			}
		}
		if valid != 1 {
			t.Errorf("%d valid signatures, want 1: %+v", valid, res.Signatures)
		}
	})
}

// ---- S19: SHA-1 ----

func TestS19_SHA1SignatureRejected(t *testing.T) {
	alice := newKey(t, "alice")
	kr := Entities{publicOnly(t, alice)}
	body := []byte("signed with SHA-1\n")
	sha1Sig := secSigSpec{key: alice.PrivateKey, hash: crypto.SHA1}

	mentionsHash := func(t *testing.T, s Signature) {
		t.Helper()
		if s.Valid || s.Err == nil {
			t.Fatalf("SHA-1 signature accepted: %+v", s)
		}
		if msg := strings.ToUpper(s.Err.Error()); !strings.Contains(msg, "SHA-1") && !strings.Contains(msg, "SHA1") {
			t.Errorf("error %q does not name the hash", s.Err)
		}
		if s.Hash != "SHA1" {
			t.Errorf("hash %q", s.Hash)
		}
		if s.Fingerprint != fingerprint(alice) {
			t.Errorf("fingerprint %q", s.Fingerprint)
		}
	}

	t.Run("one-pass signed", func(t *testing.T) {
		res, _ := secMustRead(t, secSignedPackets(t, body, sha1Sig), kr, nil)
		mentionsHash(t, res.Signatures[0])
	})
	t.Run("signed and encrypted", func(t *testing.T) {
		bob := newKey(t, "bob")
		res, _ := secMustRead(t, secSealTo(t, bob, secSignedPackets(t, body, sha1Sig), false), Entities{bob, publicOnly(t, alice)}, nil)
		mentionsHash(t, res.Signatures[0])
	})
	t.Run("detached", func(t *testing.T) {
		sigs, err := VerifyDetached(bytes.NewReader(body), sha1Sig.signature(t, body), kr, nil)
		if err != nil {
			t.Fatal(err)
		}
		mentionsHash(t, sigs[0])
	})
	t.Run("cleartext", func(t *testing.T) {
		// go-crypto's clearsign writer will not use SHA-1, so the message
		// is put together here: the signed text is the line without its
		// final line break, signed as text.
		text := bytes.TrimSuffix(body, []byte("\n"))
		sig := secSigSpec{key: alice.PrivateKey, hash: crypto.SHA1, text: true}.signature(t, text)
		var b bytes.Buffer
		b.WriteString("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA1\n\n")
		b.Write(body)
		aw, err := armor.Encode(&b, "PGP SIGNATURE", nil)
		if err != nil {
			t.Fatal(err)
		}
		aw.Write(sig)
		if err := aw.Close(); err != nil {
			t.Fatal(err)
		}
		b.WriteString("\n")
		res, plain, _, err := VerifyCleartext(b.Bytes(), kr, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(plain, text) {
			t.Fatalf("text %q", plain)
		}
		mentionsHash(t, res.Signatures[0])

		// Control: the same construction with SHA-256 verifies.
		sig = secSigSpec{key: alice.PrivateKey, text: true}.signature(t, text)
		b.Reset()
		b.WriteString("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n")
		b.Write(body)
		aw, _ = armor.Encode(&b, "PGP SIGNATURE", nil)
		aw.Write(sig)
		aw.Close()
		res, _, _, err = VerifyCleartext(b.Bytes(), kr, nil)
		if err != nil {
			t.Fatal(err)
		}
		secMustBeValid(t, res, alice)
	})
	t.Run("control: SHA-256 verifies", func(t *testing.T) {
		res, _ := secMustRead(t, secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey}), kr, nil)
		secMustBeValid(t, res, alice)
	})
	t.Run("made by gpg --digest-algo SHA1", func(t *testing.T) {
		home := secGpgHome(t)
		secGpgRun(t, home, nil, "--quick-gen-key", "Gail <gail@example.org>", "ed25519", "sign", "never")
		pub := secGpgRun(t, home, nil, "--export", "gail@example.org")
		gail, err := openpgp.ReadEntity(packet.NewReader(bytes.NewReader(pub)))
		if err != nil {
			t.Fatal(err)
		}
		msg := secGpgRun(t, home, body, "--digest-algo", "SHA1", "--compress-algo", "none", "--sign")
		res, out := secMustRead(t, msg, Entities{gail}, nil)
		if !bytes.Equal(out, body) || len(res.Signatures) != 1 {
			t.Fatalf("body %q, signatures %+v", out, res.Signatures)
		}
		s := res.Signatures[0]
		if s.Valid || s.Err == nil || s.Hash != "SHA1" || s.Fingerprint != fingerprint(gail) {
			t.Fatalf("gpg's SHA-1 signature: %+v", s)
		}
		// The same key with SHA-256 verifies: the refusal is the hash's.
		msg = secGpgRun(t, home, body, "--digest-algo", "SHA256", "--sign")
		res, _ = secMustRead(t, msg, Entities{gail}, nil)
		secMustBeValid(t, res, gail)
	})
}

// secGpgHome returns a fresh GNUPGHOME for gpg, and stops its agent at
// the end. Without gpg the test is skipped, except on CI (CI=true), where
// it fails.
func secGpgHome(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"gpg", "gpgconf"} {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is needed on CI: %v", name, err)
			}
			t.Skipf("%s not installed: %v", name, err)
		}
	}
	home := t.TempDir()
	// The agent's socket may live in the home directory, and a socket
	// path must fit in 108 octets.
	if len(home) > 80 {
		d, err := os.MkdirTemp("", "g")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		home = d
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		cmd.Run()
	})
	return home
}

func secGpgRun(t *testing.T, home string, stdin []byte, args ...string) []byte {
	t.Helper()
	args = append([]string{"--batch", "--pinentry-mode", "loopback", "--passphrase", "", "--no-tty", "--quiet"}, args...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "gpg", args...)
	cmd.Env = append(os.Environ(), "GNUPGHOME="+home, "LC_ALL=C")
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// ---- S20: key and signature validity ----

func TestS20_RevokedKey(t *testing.T) {
	body := []byte("signed before the key was revoked\n")
	cases := []struct {
		name      string
		reason    packet.ReasonForRevocation
		signedAgo time.Duration // signature age; the revocation is 10 minutes old
		valid     bool
	}{
		// A compromised key is invalid for every signature, whenever made.
		{"compromised, signature before the revocation", packet.KeyCompromised, 30 * time.Minute, false},
		{"no reason, signature before the revocation", packet.NoReason, 30 * time.Minute, false},
		// A retired key: signatures after the revocation are invalid; the
		// ones made before it stay good (RFC 9580 §5.2.3.31).
		{"superseded, signature after the revocation", packet.KeySuperseded, time.Minute, false},
		{"retired, signature after the revocation", packet.KeyRetired, time.Minute, false},
		{"superseded, signature before the revocation", packet.KeySuperseded, 30 * time.Minute, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			alice := newKey(t, "alice")
			msg := secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, created: time.Now().Add(-c.signedAgo)})
			revoked := time.Now().Add(-10 * time.Minute)
			if err := alice.Revoke(c.reason, "test", &packet.Config{Time: func() time.Time { return revoked }}); err != nil {
				t.Fatal(err)
			}
			res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
			if c.valid {
				secMustBeValid(t, res, alice)
			} else {
				secMustBeInvalid(t, res, alice, "revoked")
			}
		})
	}
}

func TestS20_RevokedSigningSubkey(t *testing.T) {
	alice := newKey(t, "alice")
	if err := alice.AddSigningSubkey(&packet.Config{Time: func() time.Time { return time.Now().Add(-time.Hour) }}); err != nil {
		t.Fatal(err)
	}
	sub := alice.Subkeys[len(alice.Subkeys)-1].PrivateKey
	msg := secSignedPackets(t, []byte("signed by the subkey\n"), secSigSpec{key: sub})
	res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
	secMustBeValid(t, res, alice)

	if err := alice.Subkeys[len(alice.Subkeys)-1].Revoke(packet.KeyCompromised, "", nil); err != nil {
		t.Fatal(err)
	}
	res, _ = secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
	secMustBeInvalid(t, res, alice, "")
	if got := res.Signatures[0].KeyID; got != secHexKeyID(sub.KeyId) {
		t.Errorf("key ID %s, want the subkey's", got)
	}
}

func secHexKeyID(id uint64) string { return fmt.Sprintf("%016X", id) }

func TestS20_ExpiredKey(t *testing.T) {
	day := 24 * time.Hour
	created := time.Now().Add(-30 * day)
	// Valid for ten days, 30 days ago.
	expiring := func(c *packet.Config) {
		c.Time = func() time.Time { return created }
		c.KeyLifetimeSecs = uint32((10 * day).Seconds())
	}
	body := []byte("signed with an expired key\n")

	t.Run("primary key, signature after expiry", func(t *testing.T) {
		alice := secNewKeyWith(t, "alice", expiring)
		msg := secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, created: time.Now().Add(-5 * day)})
		res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
		secMustBeInvalid(t, res, alice, "expired")
	})
	t.Run("primary key, signature before expiry, read with Options.Now", func(t *testing.T) {
		// Verified as of a day after signing, the key was good: valid.
		// Verified now, the signature is judged at its creation time too:
		// a key's later expiry does not void its past signatures.
		alice := secNewKeyWith(t, "alice", expiring)
		signed := created.Add(2 * day)
		msg := secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, created: signed})
		res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, &Options{Now: func() time.Time { return signed.Add(day) }})
		secMustBeValid(t, res, alice)
	})
	t.Run("primary key, signature dated after expiry, Options.Now in the past", func(t *testing.T) {
		alice := secNewKeyWith(t, "alice", expiring)
		signed := created.Add(15 * day)
		msg := secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, created: signed})
		res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, &Options{Now: func() time.Time { return signed.Add(time.Hour) }})
		secMustBeInvalid(t, res, alice, "expired")
	})
	t.Run("signing subkey, signature after expiry", func(t *testing.T) {
		alice := secNewKeyWith(t, "alice", func(c *packet.Config) { c.Time = func() time.Time { return created } })
		if err := alice.AddSigningSubkey(&packet.Config{
			Time: func() time.Time { return created }, KeyLifetimeSecs: uint32((10 * day).Seconds()),
		}); err != nil {
			t.Fatal(err)
		}
		sub := alice.Subkeys[len(alice.Subkeys)-1].PrivateKey
		msg := secSignedPackets(t, body, secSigSpec{key: sub, created: time.Now().Add(-5 * day)})
		res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
		secMustBeInvalid(t, res, alice, "")
	})
	t.Run("signature from the future", func(t *testing.T) {
		alice := newKey(t, "alice")
		msg := secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, created: time.Now().Add(48 * time.Hour)})
		res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
		secMustBeInvalid(t, res, alice, "")
	})
}

func TestS20_SignatureOlderThanKey(t *testing.T) {
	alice := newKey(t, "alice") // created an hour ago
	msg := secSignedPackets(t, []byte("back-dated\n"), secSigSpec{key: alice.PrivateKey, created: time.Now().Add(-48 * time.Hour)})
	res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
	secMustBeInvalid(t, res, alice, "")
}

func TestS20_UnknownCriticalNotation(t *testing.T) {
	alice := newKey(t, "alice")
	body := []byte("with a notation\n")
	notation := func(critical bool) []*packet.Notation {
		return []*packet.Notation{{Name: "must-understand@evil.example", Value: []byte("x"), IsCritical: critical, IsHumanReadable: true}}
	}
	msg := secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, notations: notation(true)})
	res, _ := secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
	secMustBeInvalid(t, res, alice, "critical notation")

	// Control: the same notation, not critical, is ignored.
	msg = secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, notations: notation(false)})
	res, _ = secMustRead(t, msg, Entities{publicOnly(t, alice)}, nil)
	secMustBeValid(t, res, alice)
}

// TestS20_IntendedRecipientMismatch: surreptitious forwarding. Alice signs
// for bob (intended recipient bob); bob decrypts and re-encrypts alice's
// signed message to carol. Carol must not see a good signature, since
// alice never wrote to her. (A signature without intended-recipient
// subpackets, as GnuPG 2.2 makes, cannot be told apart from a forwarded
// one: that case stays valid, and binding signer to From and To is the
// caller's part.)
func TestS20_IntendedRecipientMismatch(t *testing.T) {
	alice, bob, carol := newKey(t, "alice"), newKey(t, "bob"), newKey(t, "carol")
	body := []byte("Dear Bob, you are fired.\n")
	inner := secSignedPackets(t, body, secSigSpec{key: alice.PrivateKey, recipients: []*openpgp.Entity{bob}})

	for _, aead := range []bool{false, true} {
		name := "SEIPDv1"
		if aead {
			name = "SEIPDv2"
		}
		t.Run(name+", to bob (control)", func(t *testing.T) {
			res, _ := secMustRead(t, secSealTo(t, bob, inner, aead), Entities{bob, publicOnly(t, alice)}, nil)
			secMustBeValid(t, res, alice)
		})
		t.Run(name+", forwarded to carol", func(t *testing.T) {
			res, out := secMustRead(t, secSealTo(t, carol, inner, aead), Entities{carol, publicOnly(t, alice)}, nil)
			if !bytes.Equal(out, body) {
				t.Fatalf("body %q", out)
			}
			secMustBeInvalid(t, res, alice, "recipient")
		})
		t.Run(name+", forwarded to carol with a passphrase packet added", func(t *testing.T) {
			// go-crypto skips the intended-recipient check whenever the
			// message also has a passphrase (SKESK) packet; adding one for
			// the same session key costs the forwarder nothing.
			sk := secSessionKey(t)
			var skesk bytes.Buffer
			if err := packet.SerializeSymmetricKeyEncryptedAEADReuseKey(&skesk, sk, []byte("pw"), aead, &packet.Config{DefaultCipher: packet.CipherAES256}); err != nil {
				t.Fatal(err)
			}
			msg := bytes.Join([][]byte{secPkesk(t, carol, sk, aead), skesk.Bytes(), secSeipd(t, sk, inner, aead)}, nil)
			res, _ := secMustRead(t, msg, Entities{carol, publicOnly(t, alice)}, nil)
			secMustBeInvalid(t, res, alice, "recipient")
		})
	}

	t.Run("our Encrypt names the recipients", func(t *testing.T) {
		msg := encryptTo(t, body, alice, false, publicOnly(t, bob))
		res, _ := secMustRead(t, msg, Entities{bob, publicOnly(t, alice)}, nil)
		secMustBeValid(t, res, alice)
	})
}
