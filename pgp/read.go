package pgp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Result is what reading an OpenPGP message found.
type Result struct {
	Encrypted bool
	// Integrity: the encrypted data was authenticated (MDC or AEAD).
	// Read returns an error instead of a Result whose encryption is not
	// intact, so for an encrypted message this is always true.
	Integrity bool
	// Algorithm names the cipher and packet format, e.g.
	// "AES-256, SEIPDv1 (MDC)" or "AES-256-OCB, SEIPDv2".
	Algorithm string
	// DecryptedWith is the fingerprint of the user's key that decrypted
	// the message.
	DecryptedWith string
	// Recipients are the key IDs the message is encrypted to.
	Recipients []string
	// Signatures has one verdict per signature, in message order.
	Signatures []Signature
	// Filename is the literal data's file name, as the sender set it:
	// untrusted, escape before display (S16).
	Filename string
	// Size is the number of plaintext bytes.
	Size int64
	// Cleartext: the message was a cleartext-signed one (RFC 9580 §7).
	Cleartext bool
}

// Signature is the verdict on one signature.
type Signature struct {
	// Valid: the signature verifies with a key that could sign when it
	// was made (not expired, not revoked), over a hash we accept (not
	// SHA-1: S19), and any intended recipients match. Binding the
	// signer to a From address is the caller's part.
	Valid bool
	// Err says why the signature is not valid.
	Err error
	// Fingerprint is the signer's primary key fingerprint when the key is
	// known; else the issuer fingerprint the signature carries, if any.
	Fingerprint string
	// KeyID is the issuer key ID from the signature.
	KeyID string
	// SigningKey is the fingerprint of the key (primary or subkey) that
	// made the signature, when the signer is known.
	SigningKey string
	// Known: the signer's key was found.
	Known bool
	// Entity is the signer's key, when known.
	Entity *openpgp.Entity
	// Emails are the addresses of the signer key's valid user IDs.
	Emails []string
	// UserIDs are the signer key's valid user IDs (untrusted strings).
	UserIDs []string
	Created time.Time
	Hash    string
	// Text: a text-mode signature (over canonical CRLF text).
	Text bool
}

// Read reads an OpenPGP message, armored or binary, encrypted or signed or
// both, or a cleartext-signed message, and writes its plaintext to w. It
// writes nothing until the whole message has been authenticated: an
// integrity failure is an *IntegrityError with not one byte written. A
// signature that does not verify is not an error: see Result.Signatures.
func Read(r io.Reader, w io.Writer, kr Keyring, opts *Options) (*Result, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var body io.Reader = br
	switch sniff(br) {
	case sniffCleartext:
		return readCleartext(br, w, kr, opts)
	case sniffArmor:
		typ, b, err := decodeArmor(br)
		if err != nil {
			return nil, &FormatError{Reason: "armor: " + err.Error()}
		}
		if typ != "PGP MESSAGE" {
			return nil, &FormatError{Reason: fmt.Sprintf("expected an armored PGP MESSAGE, found %q", typ)}
		}
		body = b
	case sniffEmpty:
		return nil, &FormatError{Reason: "no input"}
	}
	rec := &recorder{r: body, max: 4096}
	fr := &framer{r: rec}
	rg := &ring{k: kr}
	cfg := opts.config()
	md, err := openpgp.ReadMessage(fr, rg, nil, cfg)
	if err != nil {
		return nil, readError(err, rg, rec.buf)
	}
	res := &Result{Encrypted: md.IsEncrypted, Recipients: keyIDs(md.EncryptedToKeyIds)}
	sp := newSpool(opts.memoryLimit(), opts.tempDir())
	defer sp.Close()
	if _, err := io.Copy(sp, md.UnverifiedBody); err != nil {
		if sp.err != nil {
			// The spool could not keep the plaintext: a local failure,
			// not a verdict on the message.
			return nil, sp.err
		}
		if md.IsEncrypted {
			return nil, &IntegrityError{Reason: bodyErrorReason(err)}
		}
		return nil, &FormatError{Reason: err.Error()}
	}
	if md.IsEncrypted {
		if fr.stray != 0 {
			return nil, &FormatError{Reason: fmt.Sprintf("a packet of type %d outside the encrypted data", fr.stray)}
		}
		res.Integrity = true
		res.Algorithm = algorithmName(rec.buf, md.DecryptedWithAlgorithm)
		if md.DecryptedWith.Entity != nil {
			res.DecryptedWith = fingerprint(md.DecryptedWith.Entity)
		}
	}
	if md.LiteralData != nil {
		res.Filename = md.LiteralData.FileName
	}
	res.Size = sp.Len()
	res.Signatures = signatures(md)
	if _, err := sp.WriteTo(w); err != nil {
		return nil, err
	}
	return res, nil
}

type sniffKind int

const (
	sniffBinary sniffKind = iota
	sniffArmor
	sniffCleartext
	sniffEmpty
)

// sniff tells armored from binary input, skipping leading white space.
func sniff(br *bufio.Reader) sniffKind {
	head, _ := br.Peek(4096)
	t := bytes.TrimLeft(head, " \t\r\n")
	switch {
	case len(head) == 0:
		return sniffEmpty
	case bytes.HasPrefix(t, []byte("-----BEGIN PGP SIGNED MESSAGE-----")):
		return sniffCleartext
	case bytes.HasPrefix(t, []byte("-----BEGIN PGP ")):
		return sniffArmor
	case len(t) == 0:
		return sniffEmpty
	}
	// Binary OpenPGP packets have the top bit of their first octet set.
	if head[0]&0x80 == 0 && bytes.Contains(head, []byte("-----BEGIN PGP ")) {
		return sniffArmor
	}
	return sniffBinary
}

// recorder keeps the first bytes read through it, so the packet
// structure can be looked at after go-crypto has consumed it.
type recorder struct {
	r   io.Reader
	buf []byte
	max int
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	if room := rc.max - len(rc.buf); room > 0 && n > 0 {
		rc.buf = append(rc.buf, p[:min(n, room)]...)
	}
	return n, err
}

// framer follows the top-level packet framing of the input as go-crypto
// reads it. go-crypto's packet grammar check does not see where decrypted
// packets end, so it takes packets after the encrypted data as part of the
// message: an empty encrypted container followed by cleartext literal
// data would be read as that cleartext, "encrypted" (S08), and a signature
// could sit outside the encryption (S18). An encrypted message is key
// packets and one encrypted data packet, and nothing else; stray is the
// type of the first packet that breaks this (marker and padding packets
// are ignored, as go-crypto ignores them).
type framer struct {
	r     io.Reader
	hdr   []byte // the octets of the header being read
	cont  bool   // hdr is the length of a partial body's next chunk
	skip  int64  // body octets left in the current chunk
	done  bool   // the framing is no longer followed: an indeterminate length runs to the end, or the data is not OpenPGP
	seen  bool   // an encrypted data packet was seen
	stray byte
}

func (f *framer) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.feed(p[:n])
	return n, err
}

func (f *framer) feed(p []byte) {
	for len(p) > 0 && !f.done {
		if f.skip > 0 {
			n := min(int64(len(p)), f.skip)
			f.skip -= n
			p = p[n:]
			continue
		}
		f.hdr = append(f.hdr, p[0])
		p = p[1:]
		f.header()
	}
}

// header reads the packet header in f.hdr once it is complete.
func (f *framer) header() {
	h := f.hdr
	at := 0 // where the new-format length starts
	if !f.cont {
		switch {
		case h[0]&0x80 == 0:
			f.done = true
			return
		case h[0]&0x40 == 0: // old format: tag in bits 5-2, length type in bits 1-0
			lt := h[0] & 3
			if lt == 3 {
				f.packet(h[0] >> 2 & 0x0f)
				f.done = true
				return
			}
			size := 1 << lt
			if len(h) < 1+size {
				return
			}
			var n int64
			for _, c := range h[1 : 1+size] {
				n = n<<8 | int64(c)
			}
			f.packet(h[0] >> 2 & 0x0f)
			f.skip, f.hdr = n, h[:0]
			return
		}
		at = 1
	}
	if len(h) <= at {
		return
	}
	var n int64
	partial := false
	switch l := h[at]; {
	case l < 192:
		n = int64(l)
	case l < 224:
		if len(h) < at+2 {
			return
		}
		n = int64(l-192)<<8 + int64(h[at+1]) + 192
	case l == 255:
		if len(h) < at+5 {
			return
		}
		n = int64(binary.BigEndian.Uint32(h[at+1 : at+5]))
	default:
		n, partial = 1<<(l&0x1f), true
	}
	if !f.cont {
		f.packet(h[0] & 0x3f)
	}
	f.cont, f.skip, f.hdr = partial, n, h[:0]
}

// packet notes a top-level packet of type tag.
func (f *framer) packet(tag byte) {
	const (
		pkesk, skesk, se, marker, seipd, aead, padding = 1, 3, 9, 10, 18, 20, 21
	)
	switch {
	case f.stray != 0 || tag == marker || tag == padding:
	case tag == se || tag == seipd || tag == aead:
		if f.seen {
			f.stray = tag
		}
		f.seen = true
	case f.seen || (tag != pkesk && tag != skesk):
		f.stray = tag
	}
}

// readError turns go-crypto's errors before the body into ours.
func readError(err error, rg *ring, prefix []byte) error {
	var unsupported pgperrors.UnsupportedError
	var structural pgperrors.StructuralError
	switch {
	case errors.Is(err, pgperrors.ErrKeyIncorrect) && rg.found && rg.err == nil:
		// A key was there and its session key would not come out: not
		// a missing key but an algorithm we lack (Camellia, Twofish).
		return &UnsupportedError{Reason: "the message is encrypted to your key, but with a cipher or key format that is not supported"}
	case errors.Is(err, pgperrors.ErrKeyIncorrect):
		return &NoKeyError{KeyIDs: recipientIDs(prefix), Err: rg.err}
	case errors.As(err, &unsupported) && strings.Contains(string(unsupported), "integrity"):
		return &IntegrityError{Reason: "the data is encrypted without integrity protection (a legacy Symmetrically Encrypted packet)"}
	case isEncryptedPrefix(prefix):
		// Anything else that fails once a session key is in play is
		// reported alike, so that it cannot serve as an oracle.
		if errors.As(err, &structural) && !hasEncryptedData(prefix) {
			return &FormatError{Reason: string(structural)}
		}
		return &IntegrityError{Reason: bodyErrorReason(err)}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &FormatError{Reason: "the data ends before the message does"}
	}
	return &FormatError{Reason: strings.TrimPrefix(err.Error(), "openpgp: ")}
}

func bodyErrorReason(err error) string {
	switch {
	case errors.Is(err, pgperrors.ErrMDCHashMismatch):
		return "the modification detection code does not match"
	case errors.Is(err, pgperrors.ErrMDCMissing):
		return "the modification detection code is missing"
	case errors.Is(err, pgperrors.ErrAEADTagVerification):
		return "an authentication tag does not verify"
	}
	return strings.TrimPrefix(err.Error(), "openpgp: ")
}

// packetsIn lists the packets at the start of a recorded message (only
// their headers are needed: key packets and the encrypted data header).
func packetsIn(prefix []byte) []packet.Packet {
	var out []packet.Packet
	r := packet.NewReader(bytes.NewReader(prefix))
	for len(out) < 64 {
		p, err := r.Next()
		if err != nil {
			return out
		}
		out = append(out, p)
		switch p.(type) {
		case *packet.SymmetricallyEncrypted, *packet.AEADEncrypted:
			return out
		}
	}
	return out
}

func isEncryptedPrefix(prefix []byte) bool {
	for _, p := range packetsIn(prefix) {
		switch p.(type) {
		case *packet.EncryptedKey, *packet.SymmetricKeyEncrypted, *packet.SymmetricallyEncrypted, *packet.AEADEncrypted:
			return true
		}
	}
	return false
}

func hasEncryptedData(prefix []byte) bool {
	for _, p := range packetsIn(prefix) {
		switch p.(type) {
		case *packet.SymmetricallyEncrypted, *packet.AEADEncrypted:
			return true
		}
	}
	return false
}

func recipientIDs(prefix []byte) []string {
	var ids []uint64
	for _, p := range packetsIn(prefix) {
		if ek, ok := p.(*packet.EncryptedKey); ok {
			ids = append(ids, ek.KeyId)
		}
	}
	return keyIDs(ids)
}

func keyIDs(ids []uint64) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = fmt.Sprintf("%016X", id)
	}
	return out
}

// algorithmName names the cipher and the encrypted-data format.
func algorithmName(prefix []byte, c packet.CipherFunction) string {
	name := cipherName(c)
	for _, p := range packetsIn(prefix) {
		switch p := p.(type) {
		case *packet.SymmetricallyEncrypted:
			if p.Version == 2 {
				return cipherName(p.Cipher) + "-" + aeadName(p.Mode) + ", SEIPDv2"
			}
			return name + ", SEIPDv1 (MDC)"
		case *packet.AEADEncrypted:
			return name + ", AEAD (LibrePGP)"
		}
	}
	return name
}

func cipherName(c packet.CipherFunction) string {
	switch c {
	case packet.CipherAES128:
		return "AES-128"
	case packet.CipherAES192:
		return "AES-192"
	case packet.CipherAES256:
		return "AES-256"
	case packet.Cipher3DES:
		return "3DES"
	case packet.CipherCAST5:
		return "CAST5"
	}
	return fmt.Sprintf("cipher %d", c)
}

func aeadName(m packet.AEADMode) string {
	switch m {
	case packet.AEADModeEAX:
		return "EAX"
	case packet.AEADModeOCB:
		return "OCB"
	case packet.AEADModeGCM:
		return "GCM"
	}
	return fmt.Sprintf("mode %d", m)
}

// signatures turns go-crypto's signature candidates into verdicts.
func signatures(md *openpgp.MessageDetails) []Signature {
	out := make([]Signature, 0, len(md.SignatureCandidates))
	for _, c := range md.SignatureCandidates {
		s := candidateVerdict(c)
		if s.Valid && md.IsEncrypted && !intendedFor(c.CorrespondingSig, md.DecryptedWith.Entity) {
			s.Valid = false
			s.Err = errors.New("the signature's intended recipients do not include the key that decrypted the message (forwarded by someone else?)")
		}
		out = append(out, s)
	}
	return out
}

// intendedFor reports whether sig, when it names intended recipients,
// names the key e that decrypted the message (S20). go-crypto checks this
// too, but not when the message also has a passphrase packet, which
// anyone who re-encrypts a signed message can add.
func intendedFor(sig *packet.Signature, e *openpgp.Entity) bool {
	if sig == nil || len(sig.IntendedRecipients) == 0 {
		return true
	}
	if e == nil {
		return false
	}
	for _, r := range sig.IntendedRecipients {
		if bytes.Equal(r.Fingerprint, e.PrimaryKey.Fingerprint) {
			return true
		}
	}
	return false
}

func candidateVerdict(c *openpgp.SignatureCandidate) Signature {
	s := Signature{KeyID: fmt.Sprintf("%016X", c.IssuerKeyId), Hash: hashName(c.HashAlgorithm), Text: c.SigType == packet.SigTypeText}
	if len(c.IssuerFingerprint) > 0 {
		s.Fingerprint = strings.ToUpper(hex.EncodeToString(c.IssuerFingerprint))
	}
	if c.CorrespondingSig != nil {
		s.Created = c.CorrespondingSig.CreationTime
		if len(c.CorrespondingSig.IssuerFingerprint) > 0 && s.Fingerprint == "" {
			s.Fingerprint = strings.ToUpper(hex.EncodeToString(c.CorrespondingSig.IssuerFingerprint))
		}
	}
	if e := c.SignedByEntity; e != nil {
		s.Known = true
		s.Entity = e
		s.Fingerprint = fingerprint(e)
		s.UserIDs, s.Emails = identities(e, s.Created)
	}
	if c.SignedBy != nil && c.SignedBy.PublicKey != nil {
		s.SigningKey = strings.ToUpper(hex.EncodeToString(c.SignedBy.PublicKey.Fingerprint))
	}
	switch {
	case c.SignatureError == nil && c.SignedBy != nil:
		s.Valid = true
	case c.SignatureError != nil:
		s.Err = signatureError(c.SignatureError)
	case c.SignedByEntity == nil:
		s.Err = ErrUnknownSigner
	default:
		s.Err = errors.New("the signature was not checked")
	}
	return s
}

// ErrUnknownSigner: the signing key is not in the keyring.
var ErrUnknownSigner = errors.New("the signer's key is unknown")

func signatureError(err error) error {
	if errors.Is(err, pgperrors.ErrUnknownIssuer) {
		return ErrUnknownSigner
	}
	msg := strings.TrimPrefix(err.Error(), "openpgp: ")
	return errors.New(msg)
}

func hashName(h interface{ String() string }) string {
	return strings.ReplaceAll(h.String(), "-", "")
}

// identities returns the valid user IDs of e at time t and their
// addresses, lower-cased.
func identities(e *openpgp.Entity, t time.Time) (uids, emails []string) {
	if t.IsZero() {
		t = time.Now()
	}
	for name, id := range e.Identities {
		if _, err := id.Verify(t, nil); err != nil {
			continue
		}
		uids = append(uids, name)
		if id.UserId != nil && id.UserId.Email != "" {
			emails = append(emails, strings.ToLower(id.UserId.Email))
		}
	}
	slices.Sort(uids)
	slices.Sort(emails)
	return uids, slices.Compact(emails)
}
