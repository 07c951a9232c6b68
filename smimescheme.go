package securemail

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/smime"
	"github.com/securemail/securemail/smime/cms"
)

// SMIME is the S/MIME 4.0 scheme of the pipeline (RFC 8551): a Handler
// for received mail (multipart/signed, opaque signed-data, enveloped and
// authEnveloped data) and a Protector for outgoing mail, with
// certificates and identities from a keystore.
type SMIME struct {
	Store *keystore.Store
	// Passphrase is asked for the passphrase of a sealed identity.
	Passphrase func(e keystore.Entry) ([]byte, error)
	// Now is the clock for certificate validity and signing time; nil
	// means time.Now.
	Now func() time.Time
	// System adds the system's root certificates to the trust anchors
	// the keystore holds.
	System bool
	// Options tune composing (randomness, content algorithm); nil means
	// the defaults (AES-256-GCM).
	Options *smime.Options
}

var (
	_ Handler    = (*SMIME)(nil)
	_ Protector  = (*SMIME)(nil)
	_ KeyChecker = (*SMIME)(nil)
)

func (s *SMIME) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handles implements Handler.
func (s *SMIME) Handles(m *message.Message) bool {
	root := m.Root
	return smime.IsSigned(root) || smime.IsEnveloped(m, root) || smime.IsOpaque(m, root)
}

// Unwrap implements Handler. Failed verdicts are in the result, not
// errors.
func (s *SMIME) Unwrap(m *message.Message, opts *OpenOptions) (*Unwrapped, error) {
	root := m.Root
	from := fromAddress(m)
	switch {
	case smime.IsSigned(root):
		signed, sig, err := smime.SignedParts(m, root)
		if err != nil {
			return smimeFailedSignature(nil, err), nil
		}
		return s.verify(sig, signed, from, m), nil
	case smime.IsEnveloped(m, root):
		der, err := smime.MIMEData(m, root)
		if err != nil {
			return smimeFailedEncryption(err), nil
		}
		return s.decrypt(der), nil
	case smime.IsOpaque(m, root):
		der, err := smime.MIMEData(m, root)
		if err != nil {
			return smimeFailedSignature(nil, err), nil
		}
		return s.verify(der, nil, from, m), nil
	}
	return nil, errors.New("securemail: not an S/MIME message")
}

// fromAddress is the single address of m's From field, lower-cased, or "".
func fromAddress(m *message.Message) string {
	if vs := m.Root.Header.Values("From"); len(vs) == 1 {
		if a, err := mail.ParseAddress(vs[0]); err == nil {
			return strings.ToLower(a.Address)
		}
	}
	return ""
}

// verify checks a SignedData: detached over signed when signed is not
// nil (multipart/signed), else encapsulating the content (opaque).
func (s *SMIME) verify(sigDER, signed []byte, from string, m *message.Message) *Unwrapped {
	sd, err := cms.ParseSignedData(sigDER, nil)
	if err != nil {
		return smimeFailedSignature(entityOrNil(signed), err)
	}
	vo := &cms.VerifyOptions{Certificates: s.contactCertificates(from)}
	inner := signed
	if signed != nil {
		vo.Detached = bytes.NewReader(signed)
	} else if sd.Encapsulated {
		inner = sd.Content
	}
	res, err := sd.Verify(vo)
	switch {
	case errors.Is(err, cms.ErrUnsigned):
		// S12: no signer at all is no signature.
		u := &Unwrapped{Warnings: []string{"the S/MIME signature has no signers: the message is not signed"}}
		if inner != nil {
			u.Inner = entityMessage(inner)
		}
		return u
	case errors.Is(err, cms.ErrContent) && signed != nil && sd.Encapsulated:
		// S10: content both beside and inside the signature.
		return smimeFailedSignature(entityMessage(signed), errors.New("the S/MIME signature carries content of its own besides the signed part: neither is treated as signed"))
	case err != nil:
		return smimeFailedSignature(entityOrNil(inner), err)
	}
	u := &Unwrapped{Signatures: s.SignatureReports(sd, res, from)}
	if inner != nil {
		u.Inner = entityMessage(inner)
	}
	s.offerCertificates(sd, res, from, m)
	return u
}

func entityOrNil(b []byte) []byte {
	if b == nil {
		return nil
	}
	return entityMessage(b)
}

// contactCertificates are the keystore's certificates for addr, candidates
// for a signer whose message carries no certificate.
func (s *SMIME) contactCertificates(addr string) []*x509.Certificate {
	if s.Store == nil || addr == "" {
		return nil
	}
	var out []*x509.Certificate
	for _, e := range s.Store.Lookup(addr) {
		if e.Kind != keystore.SMIME {
			continue
		}
		if c, err := s.Store.Certificate(e.Fingerprint); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// trust is what signers are judged against: the keystore's anchors (and
// the system's when System), with the message's certificates and the
// keystore's CA certificates as intermediates.
func (s *SMIME) trust(sd *cms.SignedData) *smime.Trust {
	t := &smime.Trust{System: s.System, Now: s.now, Intermediates: slices.Clone(sd.Certificates)}
	if s.Store == nil {
		return t
	}
	t.Anchors, _ = s.Store.TrustAnchors()
	for _, e := range s.Store.Entries() {
		if e.Kind == keystore.SMIME && e.CA && !e.TrustAnchor {
			if c, err := s.Store.Certificate(e.Fingerprint); err == nil {
				t.Intermediates = append(t.Intermediates, c)
			}
		}
	}
	return t
}

// SignatureReports turns the per-signer results of a SignedData into the
// pipeline's verdicts, one each (S11): valid only when the signature is
// correct and the certificate is trusted for email now (S13).
func (s *SMIME) SignatureReports(sd *cms.SignedData, res *cms.VerifyResult, from string) []SignatureReport {
	trust := s.trust(sd)
	out := make([]SignatureReport, 0, len(res.Signers))
	for _, sr := range res.Signers {
		r := SignatureReport{Kind: "smime", CoversRoot: true}
		cert := sr.Certificate
		if cert != nil {
			r.Fingerprint = keystore.CertificateFingerprint(cert.Raw)
			r.Emails = smime.CertificateEmails(cert)
			if len(r.Emails) > 0 {
				r.Signer = r.Emails[0]
				if slices.Contains(r.Emails, from) {
					r.Signer = from
				}
			}
			r.KeySource = "message"
			if s.Store != nil {
				if e, ok := s.Store.Get(r.Fingerprint); ok {
					r.KeySource = "keystore"
					if e.Source == keystore.Message {
						r.KeySource = "message"
					}
				}
			}
		}
		if !sr.Valid {
			msg := signerError(sr)
			r.Error = &msg
			out = append(out, r)
			continue
		}
		v := smime.CheckSigner(cert, sr.SigningTime, trust)
		if !v.Trusted {
			msg := "the signature is correct, but the signer's certificate is not trusted: " + strings.Join(v.Problems, "; ")
			r.Error = &msg
		} else {
			r.Valid = true
		}
		out = append(out, r)
	}
	return out
}

// signerError words why a signerInfo did not verify.
func signerError(sr cms.SignerResult) string {
	switch {
	case errors.Is(sr.Err, cms.ErrSignerNotFound):
		return "the signer's certificate is neither in the message nor in the keystore"
	case errors.Is(sr.Err, cms.ErrDigestMismatch), errors.Is(sr.Err, cms.ErrBadSignature):
		return "the signature does not match the content: the message was changed or the signature is forged"
	case errors.Is(sr.Err, cms.ErrWeakAlgorithm):
		return "the signature uses a weak algorithm and is not accepted"
	case errors.Is(sr.Err, cms.ErrWeakKey):
		return "the signer's key is too weak and is not accepted"
	case sr.Err != nil:
		return strings.TrimPrefix(sr.Err.Error(), "cms: ")
	}
	return "the signature is not valid"
}

// offerCertificates hands the certificates of correct signatures for the
// From address to the keystore with provenance "message" (S28). The
// keystore ignores those for other addresses or the user's own, and
// never lets them replace a pinned certificate; one already present is
// left alone. Failures are not the reader's concern.
func (s *SMIME) offerCertificates(sd *cms.SignedData, res *cms.VerifyResult, from string, m *message.Message) {
	if s.Store == nil || from == "" {
		return
	}
	for _, sr := range res.Signers {
		if !sr.Valid || sr.Certificate == nil {
			continue
		}
		c := sr.Certificate
		if !slices.Contains(smime.CertificateEmails(c), from) {
			continue
		}
		fpr := keystore.CertificateFingerprint(c.Raw)
		if _, ok := s.Store.Get(fpr); !ok {
			origin := ""
			if m != nil {
				origin = message.SafeLine(m.Root.Header.Get("Message-ID"))
			}
			data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
			_, _ = s.Store.Import([]keystore.Input{{Name: "message", Data: data}},
				&keystore.ImportOptions{Source: keystore.Message, Origin: origin, Sender: from})
		}
		if e, ok := s.Store.Get(fpr); ok && !e.Secret && sr.Capabilities != nil {
			gcm, oaep := advertised(sr.Capabilities)
			if gcm != e.AESGCM || oaep != e.RSAOAEP {
				_ = s.Store.SetCapabilities(fpr, gcm, oaep)
			}
		}
	}
}

// advertised reads AES-GCM and RSAES-OAEP from smimeCapabilities.
func advertised(caps []cms.AlgorithmIdentifier) (gcm, oaep bool) {
	for _, c := range caps {
		switch {
		case c.Algorithm.Equal(cms.OIDAES256GCM), c.Algorithm.Equal(cms.OIDAES128GCM):
			gcm = true
		case c.Algorithm.Equal(cms.OIDRSAESOAEP):
			oaep = true
		}
	}
	return gcm, oaep
}

// smimeFailedSignature is the verdict on a signature that cannot be
// checked at all: not valid.
func smimeFailedSignature(inner []byte, err error) *Unwrapped {
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "smime: "), "cms: ")
	return &Unwrapped{Inner: inner, Signatures: []SignatureReport{{Kind: "smime", CoversRoot: true, Error: &msg}}}
}

// smimeFailedEncryption is the verdict on an encrypted message that
// cannot be read: nothing of it is shown.
func smimeFailedEncryption(err error) *Unwrapped {
	msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "smime: "), "cms: ")
	return &Unwrapped{Encryption: &EncryptionReport{Kind: "smime", Error: &msg, Err: err}}
}

// ErrNoSMIMEIdentity says an S/MIME message is encrypted to none of the
// user's certificates.
var ErrNoSMIMEIdentity = &keystore.NotFoundError{Query: "an S/MIME identity this message is encrypted to"}

// decrypt reads EnvelopedData or AuthEnvelopedData with the user's
// identity whose certificate is among the recipients.
func (s *SMIME) decrypt(ber []byte) *Unwrapped {
	der, err := cms.ToDER(ber, nil)
	if err != nil {
		return smimeFailedEncryption(err)
	}
	plain, info, err := s.DecryptCMS(der)
	if err != nil {
		return smimeFailedEncryption(err)
	}
	u := &Unwrapped{Encryption: &EncryptionReport{Kind: "smime", OK: true, Integrity: info.Integrity, Algorithm: strings.ToUpper(info.Algorithm.String())}}
	if !info.Integrity {
		u.NoHTML = true
		u.Warnings = append(u.Warnings, "the message is encrypted with "+info.Algorithm.String()+", which does not protect its integrity: anyone could have changed it; HTML in it is not shown")
	}
	if len(bytes.TrimSpace(plain)) == 0 {
		u.Warnings = append(u.Warnings, "the encrypted part is empty")
	}
	u.Inner = entityMessage(message.Canonicalize(plain))
	return u
}

// DecryptCMS decrypts a DER EnvelopedData or AuthEnvelopedData with the
// first of the user's S/MIME identities it is addressed to. Only that
// identity is unlocked (and its passphrase asked for).
func (s *SMIME) DecryptCMS(der []byte) ([]byte, *cms.DecryptInfo, error) {
	var probeErr error
	cert, key, err := s.chooseIdentity(func(cert *x509.Certificate) bool {
		// A probe without the key tells whether a recipient names the
		// certificate, before any passphrase is asked for.
		_, _, err := cms.Decrypt(der, cert, nil, nil)
		if err != nil && cms.IsMalformed(err) {
			probeErr = err
			return false
		}
		return !errors.Is(err, cms.ErrNoRecipient)
	})
	if probeErr != nil {
		return nil, nil, probeErr
	}
	if err != nil {
		return nil, nil, err
	}
	return cms.Decrypt(der, cert, key, nil)
}

// DecryptCMSTo decrypts a CMS EnvelopedData or AuthEnvelopedData read
// from r, DER or the BER of "openssl cms -stream", to w, streaming
// (cms.DecryptTo: nothing is written before the content is authenticated),
// with the identity in the keystore the message names. Only that
// identity's passphrase is asked for. sink, when not nil, chooses the
// writer once the content type is known (cms.DecryptOptions.Sink).
func (s *SMIME) DecryptCMSTo(w io.Writer, r io.Reader, sink func(*cms.DecryptInfo) (io.Writer, error)) (*cms.DecryptInfo, error) {
	if w == nil && sink == nil {
		w = io.Discard
	}
	return cms.DecryptTo(w, r, nil, nil, &cms.DecryptOptions{Choose: s.chooseIdentity, Sink: sink})
}

// chooseIdentity unlocks the first S/MIME identity whose certificate
// names accepts, or fails with ErrNoSMIMEIdentity.
func (s *SMIME) chooseIdentity(names func(*x509.Certificate) bool) (*x509.Certificate, crypto.PrivateKey, error) {
	if s.Store == nil {
		return nil, nil, ErrNoSMIMEIdentity
	}
	for _, e := range s.Store.Entries() {
		if e.Kind != keystore.SMIME || !e.Secret {
			continue
		}
		cert, err := s.Store.Certificate(e.Fingerprint)
		if err != nil || !names(cert) {
			continue
		}
		var pass []byte
		if e.Protected {
			if s.Passphrase == nil {
				return nil, nil, &keystore.PassphraseError{Err: fmt.Errorf("keystore: key %s is protected: a passphrase is needed", e.Fingerprint)}
			}
			if pass, err = s.Passphrase(e); err != nil {
				return nil, nil, err
			}
		}
		key, _, err := s.Store.UnlockSMIME(e.Fingerprint, pass)
		if err != nil {
			return nil, nil, err
		}
		return cert, key, nil
	}
	return nil, nil, ErrNoSMIMEIdentity
}

// Scheme implements Protector.
func (s *SMIME) Scheme() string { return "smime" }

// Wrap implements Protector: multipart/signed (RFC 8551 §3.5.3), or
// application/pkcs7-mime authEnveloped-data to every recipient and the
// sender, signed inside when the policy says so (§3.7).
func (s *SMIME) Wrap(entity []byte, d *message.Draft, p Policy) ([]byte, error) {
	if d.From == nil {
		return nil, errors.New("securemail: the message has no From address to sign or encrypt for")
	}
	var signers []cms.Signer
	if p.Sign {
		sg, err := s.Signer(d.From.Address)
		if err != nil {
			return nil, err
		}
		signers = []cms.Signer{sg}
	}
	opts := s.composeOptions()
	if len(signers) > 0 && opts.Certificates == nil {
		opts.Certificates = s.Chain(signers[0].Certificate)
	}
	if !p.Encrypt {
		return smime.WrapSigned(entity, signers, opts)
	}
	to, err := s.Recipients(Recipients(d))
	if err != nil {
		return nil, err
	}
	if opts.Algorithm == cms.ContentAlgorithmDefault {
		opts.Algorithm, opts.RSAPadding = s.AlgorithmsFor(to)
	}
	if p.Sign {
		return smime.WrapSignedEnveloped(entity, signers, to, opts)
	}
	return smime.WrapEnveloped(entity, to, opts)
}

// AlgorithmsFor picks what every recipient can read (RFC 8551 §2.7):
// AES-256-GCM (AuthEnvelopedData) only when each advertised it, else
// AES-256-CBC; RSAES-OAEP only when each RSA recipient advertised it,
// else PKCS#1 v1.5. The sender's own certificate counts as capable.
func (s *SMIME) AlgorithmsFor(to []*x509.Certificate) (cms.ContentAlgorithm, cms.RSAPadding) {
	gcm, oaep := true, true
	for _, c := range to {
		e, ok := s.Store.Get(keystore.CertificateFingerprint(c.Raw))
		if ok && e.Secret {
			continue // our own: we read everything
		}
		if !ok || !e.AESGCM {
			gcm = false
		}
		if _, isRSA := c.PublicKey.(*rsa.PublicKey); isRSA && (!ok || !e.RSAOAEP) {
			oaep = false
		}
	}
	alg, pad := cms.AES256CBC, cms.RSAPaddingPKCS1v15
	if gcm {
		alg = cms.AES256GCM
	}
	if oaep {
		pad = cms.RSAPaddingOAEP
	}
	return alg, pad
}

func (s *SMIME) composeOptions() *smime.Options {
	o := &smime.Options{}
	if s.Options != nil {
		*o = *s.Options
	}
	if o.Now == nil {
		o.Now = s.now
	}
	return o
}

// Chain returns the CA certificates in the keystore that lead from cert
// towards a root, root excluded: the intermediates a signature should
// carry so that its readers can build the path (RFC 8550 §4.1). A
// self-signed certificate, or one whose issuer is not in the keystore,
// gets none.
func (s *SMIME) Chain(cert *x509.Certificate) []*x509.Certificate {
	if s.Store == nil || cert == nil {
		return nil
	}
	var cas []*x509.Certificate
	for _, e := range s.Store.Entries() {
		if e.Kind != keystore.SMIME || !e.CA {
			continue
		}
		if c, err := s.Store.Certificate(e.Fingerprint); err == nil {
			cas = append(cas, c)
		}
	}
	var chain []*x509.Certificate
	for cur := cert; len(chain) < 8; {
		var next *x509.Certificate
		for _, c := range cas {
			if bytes.Equal(c.RawSubject, cur.RawIssuer) && cur.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil || bytes.Equal(next.RawSubject, next.RawIssuer) || slices.ContainsFunc(chain, next.Equal) {
			break // no issuer known, or the root: readers have their own
		}
		chain = append(chain, next)
		cur = next
	}
	return chain
}

// Signer unlocks the user's S/MIME identity for addr.
func (s *SMIME) Signer(addr string) (cms.Signer, error) {
	e, err := s.identity(addr)
	if err != nil {
		return cms.Signer{}, err
	}
	var pass []byte
	if e.Protected && s.Passphrase != nil {
		if pass, err = s.Passphrase(e); err != nil {
			return cms.Signer{}, err
		}
	}
	key, cert, err := s.Store.UnlockSMIME(e.Fingerprint, pass)
	if err != nil {
		return cms.Signer{}, err
	}
	return cms.Signer{Certificate: cert, Key: key}, nil
}

// identity finds the user's own S/MIME identity for addr.
func (s *SMIME) identity(addr string) (keystore.Entry, error) {
	var cands []keystore.Entry
	for _, e := range s.Store.Lookup(addr) {
		if e.Kind == keystore.SMIME && e.Secret && !e.Revoked && !e.Expired(s.now()) {
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return keystore.Entry{}, &keystore.NotFoundError{Query: "S/MIME identity (certificate and key) for " + addr}
	}
	return newestPinnedFirst(cands, addr), nil
}

// Recipients resolves each address to its certificate; the error names
// every address without a usable one.
func (s *SMIME) Recipients(addrs []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	missing := &MissingKeysError{Scheme: "S/MIME"}
	for _, addr := range addrs {
		c, why := s.recipientCert(addr)
		if c == nil {
			missing.Addresses = append(missing.Addresses, addr)
			missing.Reasons = append(missing.Reasons, why)
			continue
		}
		out = append(out, c)
	}
	if len(missing.Addresses) > 0 {
		return nil, missing
	}
	return out, nil
}

// CanEncryptTo implements KeyChecker.
func (s *SMIME) CanEncryptTo(addrs []string) bool {
	for _, a := range addrs {
		if c, _ := s.recipientCert(a); c == nil {
			return false
		}
	}
	return true
}

func (s *SMIME) recipientCert(addr string) (*x509.Certificate, string) {
	now := s.now()
	var cands []keystore.Entry
	why := "no certificate"
	for _, e := range s.Store.Lookup(addr) {
		switch {
		case e.Kind != keystore.SMIME || e.CA:
		case e.Revoked:
			why = "its certificate is revoked"
		case e.Expired(now):
			why = "its certificate has expired"
		default:
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 {
		return nil, why
	}
	e := newestPinnedFirst(cands, addr)
	c, err := s.Store.Certificate(e.Fingerprint)
	if err != nil {
		return nil, err.Error()
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, "its certificate is not valid now"
	}
	if c.KeyUsage != 0 && c.KeyUsage&(x509.KeyUsageKeyEncipherment|x509.KeyUsageKeyAgreement) == 0 {
		return nil, "its certificate does not allow encryption"
	}
	if len(c.ExtKeyUsage) > 0 && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) && !slices.Contains(c.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return nil, "its certificate is not for email protection"
	}
	return c, ""
}
