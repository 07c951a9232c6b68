package pgp

import (
	"bytes"
	"crypto"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Recipient is a key to encrypt to, with the name an error should use
// for it (the address it was chosen for).
type Recipient struct {
	Name string
	Key  *openpgp.Entity
}

// WriteParams shape the output of Encrypt and Sign.
type WriteParams struct {
	// Armor: ASCII armor (RFC 9580 §6) instead of binary packets.
	Armor bool
	// Filename goes into the literal data packet ("" for mail).
	Filename string
	Options  *Options
}

// Encrypt returns a writer whose input is encrypted to every recipient
// with one fresh session key (hybrid encryption), and signed by signer
// (if not nil) in the same pass, signature inside the encryption. The
// caller includes the sender among the recipients so the sent copy stays
// readable. Close finishes the message.
func Encrypt(w io.Writer, to []Recipient, signer *openpgp.Entity, p *WriteParams) (io.WriteCloser, error) {
	if p == nil {
		p = &WriteParams{}
	}
	cfg := p.Options.config()
	if len(to) == 0 {
		return nil, &RecipientError{Recipient: "(nobody)", Reason: "no recipients"}
	}
	keys := make([]*openpgp.Entity, 0, len(to))
	seen := map[string]bool{}
	for _, r := range to {
		if r.Key == nil {
			return nil, &RecipientError{Recipient: r.Name, Reason: "no key"}
		}
		if _, err := r.Key.EncryptionKeyWithError(cfg.Now(), cfg); err != nil {
			return nil, &RecipientError{Recipient: r.Name, Reason: keyProblem(err)}
		}
		if f := fingerprint(r.Key); !seen[f] {
			seen[f] = true
			keys = append(keys, r.Key)
		}
	}
	var signers []*openpgp.Entity
	if signer != nil {
		if err := CanSign(signer, p.Options); err != nil {
			return nil, err
		}
		signers = []*openpgp.Entity{signer}
	}
	out, closeOut, err := armored(w, p.Armor, "PGP MESSAGE")
	if err != nil {
		return nil, err
	}
	pt, err := openpgp.EncryptWithParams(out, keys, nil, &openpgp.EncryptParams{
		Signers: signers,
		Hints:   &openpgp.FileHints{IsUTF8: false, FileName: p.Filename},
		Config:  cfg,
	})
	if err != nil {
		return nil, fmt.Errorf("pgp: encrypt: %w", err)
	}
	return &chainCloser{Writer: pt, closers: []io.Closer{pt, closeOut}}, nil
}

// Sign returns a writer whose input becomes a signed OpenPGP message
// (one-pass signature, literal data, signature).
func Sign(w io.Writer, signer *openpgp.Entity, p *WriteParams) (io.WriteCloser, error) {
	if p == nil {
		p = &WriteParams{}
	}
	if err := CanSign(signer, p.Options); err != nil {
		return nil, err
	}
	out, closeOut, err := armored(w, p.Armor, "PGP MESSAGE")
	if err != nil {
		return nil, err
	}
	in, err := openpgp.SignWithParams(out, []*openpgp.Entity{signer}, &openpgp.SignParams{
		Hints:  &openpgp.FileHints{FileName: p.Filename},
		Config: p.Options.config(),
	})
	if err != nil {
		return nil, fmt.Errorf("pgp: sign: %w", err)
	}
	return &chainCloser{Writer: in, closers: []io.Closer{in, closeOut}}, nil
}

// DetachSign makes an armored detached signature (binary mode) over
// data, and returns it with the hash it used.
func DetachSign(data []byte, signer *openpgp.Entity, opts *Options) ([]byte, crypto.Hash, error) {
	if err := CanSign(signer, opts); err != nil {
		return nil, 0, err
	}
	var sig bytes.Buffer
	if err := openpgp.DetachSign(&sig, []*openpgp.Entity{signer}, bytes.NewReader(data), opts.config()); err != nil {
		return nil, 0, fmt.Errorf("pgp: sign: %w", err)
	}
	p, err := packet.Read(bytes.NewReader(sig.Bytes()))
	if err != nil {
		return nil, 0, fmt.Errorf("pgp: sign: %w", err)
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		return nil, 0, fmt.Errorf("pgp: sign: produced %T", p)
	}
	var out bytes.Buffer
	aw, err := armor.Encode(&out, "PGP SIGNATURE", nil)
	if err != nil {
		return nil, 0, err
	}
	aw.Write(sig.Bytes())
	if err := aw.Close(); err != nil {
		return nil, 0, err
	}
	out.WriteString("\n")
	return out.Bytes(), s.Hash, nil
}

// CanSign checks that signer has a usable signing key whose private part
// is available.
func CanSign(signer *openpgp.Entity, opts *Options) error {
	if signer == nil {
		return &SignerError{Signer: "(none)", Reason: "no key"}
	}
	cfg := opts.config()
	k, err := signerKey(signer, cfg)
	if err != nil {
		return &SignerError{Signer: fingerprint(signer), Reason: keyProblem(err)}
	}
	if k.PrivateKey == nil {
		return &SignerError{Signer: fingerprint(signer), Reason: "its secret key is not available"}
	}
	if k.PrivateKey.Encrypted {
		return &SignerError{Signer: fingerprint(signer), Reason: "its secret key is locked"}
	}
	return nil
}

func signerKey(e *openpgp.Entity, cfg *packet.Config) (openpgp.Key, error) {
	k, ok := e.SigningKey(cfg.Now(), cfg)
	if !ok {
		return openpgp.Key{}, fmt.Errorf("no valid signing key (expired, revoked, or not allowed to sign)")
	}
	return k, nil
}

// keyProblem words go-crypto's key selection errors for a person.
func keyProblem(err error) string {
	msg := strings.TrimPrefix(err.Error(), "openpgp: ")
	switch {
	case strings.Contains(msg, "expired"):
		return "the key has expired"
	case strings.Contains(msg, "revoked"):
		return "the key is revoked"
	case strings.Contains(msg, "no valid encryption"), strings.Contains(msg, "no encryption"):
		return "the key has no valid encryption subkey"
	}
	return msg
}

// armored wraps w in ASCII armor when asked.
func armored(w io.Writer, armor bool, blockType string) (io.Writer, io.Closer, error) {
	if !armor {
		return w, nopCloser{}, nil
	}
	aw, err := armorEncode(w, blockType)
	if err != nil {
		return nil, nil, err
	}
	return aw, &armorCloser{aw: aw, w: w}, nil
}

func armorEncode(w io.Writer, blockType string) (io.WriteCloser, error) {
	return newArmorWriter(w, blockType)
}

type armorCloser struct {
	aw io.WriteCloser
	w  io.Writer
}

func (a *armorCloser) Close() error {
	if err := a.aw.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(a.w, "\n")
	return err
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// chainCloser closes its closers in order.
type chainCloser struct {
	io.Writer
	closers []io.Closer
}

func (c *chainCloser) Close() error {
	for _, cl := range c.closers {
		if err := cl.Close(); err != nil {
			return err
		}
	}
	return nil
}
