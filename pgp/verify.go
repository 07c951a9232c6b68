package pgp

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// maxCleartext bounds a cleartext-signed message, which is read whole.
const maxCleartext = 256 << 20

// VerifyDetached checks the detached signatures in sig (armored or
// binary) over signed, each on its own.
func VerifyDetached(signed io.Reader, sig []byte, kr Keyring, opts *Options) ([]Signature, error) {
	body, err := signatureBody(sig)
	if err != nil {
		return nil, err
	}
	cfg := opts.config()
	md, err := openpgp.VerifyDetachedSignatureReader(&ring{k: kr}, signed, body, cfg)
	if err != nil {
		if errors.Is(err, pgperrors.ErrUnknownIssuer) {
			return nil, &FormatError{Reason: noSignatureReason(sig)}
		}
		return nil, &FormatError{Reason: err.Error()}
	}
	if _, err := io.Copy(io.Discard, md.UnverifiedBody); err != nil {
		return nil, err
	}
	return signatures(md), nil
}

// signatureBody returns the binary packets of a detached signature.
func signatureBody(sig []byte) (io.Reader, error) {
	t := bytes.TrimLeft(sig, " \t\r\n")
	if !bytes.HasPrefix(t, []byte("-----BEGIN PGP ")) {
		if len(t) == 0 {
			return nil, &FormatError{Reason: "the signature is empty"}
		}
		return bytes.NewReader(sig), nil
	}
	blk, err := armor.Decode(bytes.NewReader(t))
	if err != nil {
		return nil, &FormatError{Reason: "armor: " + err.Error()}
	}
	if blk.Type != "PGP SIGNATURE" {
		return nil, &FormatError{Reason: "expected an armored PGP SIGNATURE, found " + blk.Type}
	}
	// Read it whole so a bad checksum is an error here.
	data, err := io.ReadAll(io.LimitReader(blk.Body, 1<<20))
	if err != nil {
		return nil, &FormatError{Reason: "armor: " + err.Error()}
	}
	return bytes.NewReader(data), nil
}

// readCleartext reads a cleartext-signed message (RFC 9580 §7).
func readCleartext(br *bufio.Reader, w io.Writer, kr Keyring, opts *Options) (*Result, error) {
	data, err := io.ReadAll(io.LimitReader(br, maxCleartext+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCleartext {
		return nil, &FormatError{Reason: "a cleartext-signed message larger than 256 MiB"}
	}
	res, plain, _, err := VerifyCleartext(data, kr, opts)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	return res, nil
}

// VerifyCleartext checks a cleartext-signed block at the start of data
// (after white space) and returns the verdicts, the signed text and what
// follows the block.
func VerifyCleartext(data []byte, kr Keyring, opts *Options) (*Result, []byte, []byte, error) {
	b, rest := clearsign.Decode(data)
	if b == nil {
		return nil, nil, nil, &FormatError{Reason: "a malformed cleartext-signed message"}
	}
	sig, err := io.ReadAll(io.LimitReader(b.ArmoredSignature.Body, 1<<20))
	if err != nil {
		return nil, nil, nil, &FormatError{Reason: "the signature block: " + err.Error()}
	}
	sigs, err := VerifyDetached(bytes.NewReader(b.Bytes), sig, kr, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	return &Result{Signatures: sigs, Cleartext: true, Size: int64(len(b.Plaintext))}, b.Plaintext, rest, nil
}

// noSignatureReason says why no signature was found in sig: go-crypto
// skips signature packets it cannot read (an unsupported hash or
// algorithm), so read the first packet again to hear why.
func noSignatureReason(sig []byte) string {
	body, err := signatureBody(sig)
	if err != nil {
		return err.Error()
	}
	if _, err := packet.Read(body); err != nil {
		var unsupported pgperrors.UnsupportedError
		if errors.As(err, &unsupported) {
			return "the signature uses an algorithm that is not supported (" + string(unsupported) + ")"
		}
		return "no signature found: " + err.Error()
	}
	return "no signature found"
}
