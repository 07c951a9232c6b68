package keystore

import (
	"bytes"
	"encoding/pem"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/securemail/securemail/keystore/internal/pkcs8"
)

// Format is a kind of key or certificate encoding found in input.
type Format string

// The formats Detect recognises.
const (
	FormatPGP          Format = "openpgp"           // OpenPGP keyring (after armor is removed)
	FormatPGPSignature Format = "openpgp-signature" // OpenPGP key revocation certificate (signatures alone)
	FormatCertificate  Format = "x509"              // DER X.509 certificate
	FormatPKCS8        Format = "pkcs8"             // DER PrivateKeyInfo
	FormatPKCS8Enc     Format = "pkcs8-encrypted"   // DER EncryptedPrivateKeyInfo
	FormatPKCS1        Format = "pkcs1"             // DER RSAPrivateKey ("RSA PRIVATE KEY")
	FormatSEC1         Format = "sec1"              // DER ECPrivateKey ("EC PRIVATE KEY")
	FormatPKCS12       Format = "pkcs12"            // DER PFX
)

// Block is one recognised object in an input, with its armor or PEM
// wrapping removed.
type Block struct {
	Format Format
	Data   []byte
}

// maxInput bounds what Detect accepts: the largest sensible keyring.
const maxInput = 256 << 20

// Detect splits input into the key and certificate objects it holds:
// ASCII-armored or binary OpenPGP keys (any number), PEM blocks
// (certificates, PKCS#8, encrypted PKCS#8, PKCS#1, SEC1, PKCS#12), or one
// DER object. It looks at structure only; parsing the objects is the
// caller's job. Unknown or empty input is an error.
func Detect(data []byte) ([]Block, error) {
	if len(data) > maxInput {
		return nil, fmt.Errorf("input is larger than %d MiB", maxInput>>20)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("input is empty")
	}
	switch {
	case bytes.Contains(trimmed, []byte("-----BEGIN PGP ")):
		return detectArmor(trimmed)
	case bytes.Contains(trimmed, []byte("-----BEGIN ")):
		return detectPEM(trimmed)
	case isPGPKeyPacket(data):
		return []Block{{FormatPGP, data}}, nil
	case data[0] == 0x30:
		f, err := detectDER(data)
		if err != nil {
			return nil, err
		}
		return []Block{{f, data}}, nil
	}
	return nil, fmt.Errorf("not a key or certificate (neither OpenPGP, PEM nor DER)")
}

// isPGPKeyPacket reports whether data starts with an OpenPGP public- or
// secret-key packet header (RFC 9580 §4.2), old or new format.
func isPGPKeyPacket(data []byte) bool {
	tag := pgpPacketTag(data)
	return tag == 5 || tag == 6 // secret key, public key
}

// pgpPacketTag returns the tag of the OpenPGP packet data starts with, or
// -1 when data does not start with a packet header.
func pgpPacketTag(data []byte) int {
	if len(data) < 2 || data[0]&0x80 == 0 {
		return -1
	}
	if data[0]&0x40 != 0 {
		return int(data[0] & 0x3f)
	}
	return int(data[0]>>2) & 0x0f
}

// detectArmor decodes every "-----BEGIN PGP ... KEY BLOCK-----" section.
func detectArmor(data []byte) ([]Block, error) {
	var out []Block
	rest := data
	for {
		start := bytes.Index(rest, []byte("-----BEGIN PGP "))
		if start < 0 {
			break
		}
		rest = rest[start:]
		endHdr := bytes.Index(rest, []byte("-----END PGP "))
		if endHdr < 0 {
			return nil, fmt.Errorf("armored block %d has no END line (truncated?)", len(out)+1)
		}
		lineEnd := bytes.IndexByte(rest[endHdr:], '\n')
		var section []byte
		if lineEnd < 0 {
			section, rest = rest, nil
		} else {
			section, rest = rest[:endHdr+lineEnd+1], rest[endHdr+lineEnd+1:]
		}
		blk, err := armor.Decode(bytes.NewReader(section))
		if err != nil {
			return nil, fmt.Errorf("armored block %d: %v", len(out)+1, err)
		}
		if blk.Type != "PGP PUBLIC KEY BLOCK" && blk.Type != "PGP PRIVATE KEY BLOCK" {
			return nil, fmt.Errorf("armored block %d is a %q, not a key", len(out)+1, blk.Type)
		}
		var body bytes.Buffer
		if _, err := body.ReadFrom(blk.Body); err != nil {
			return nil, fmt.Errorf("armored block %d: %v", len(out)+1, err)
		}
		switch {
		case isPGPKeyPacket(body.Bytes()):
			out = append(out, Block{FormatPGP, body.Bytes()})
		case pgpPacketTag(body.Bytes()) == 2 && blk.Type == "PGP PUBLIC KEY BLOCK":
			// gpg's revocation certificates (openpgp-revocs.d/*.rev).
			out = append(out, Block{FormatPGPSignature, body.Bytes()})
		default:
			return nil, fmt.Errorf("armored block %d does not start with a key packet", len(out)+1)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no OpenPGP key block found")
	}
	return out, nil
}

// pemFormats maps PEM types to formats.
var pemFormats = map[string]Format{
	"CERTIFICATE":           FormatCertificate,
	"TRUSTED CERTIFICATE":   FormatCertificate,
	"PRIVATE KEY":           FormatPKCS8,
	"ENCRYPTED PRIVATE KEY": FormatPKCS8Enc,
	"RSA PRIVATE KEY":       FormatPKCS1,
	"EC PRIVATE KEY":        FormatSEC1,
	"PKCS12":                FormatPKCS12,
}

func detectPEM(data []byte) ([]Block, error) {
	var out []Block
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		f, ok := pemFormats[b.Type]
		if !ok {
			if b.Type == "EC PARAMETERS" {
				continue // openssl ecparam writes these before the key
			}
			return nil, fmt.Errorf("PEM block %q is not a certificate or private key", b.Type)
		}
		if len(b.Bytes) == 0 {
			return nil, fmt.Errorf("PEM block %q is empty", b.Type)
		}
		if _, legacy := b.Headers["DEK-Info"]; legacy {
			return nil, fmt.Errorf("PEM block %q uses legacy OpenSSL encryption: convert it with openssl pkcs8 -topk8", b.Type)
		}
		out = append(out, Block{f, b.Bytes})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM block could be decoded (truncated or corrupt?)")
	}
	if len(bytes.TrimSpace(rest)) != 0 && bytes.Contains(rest, []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("PEM block %d is truncated or corrupt", len(out)+1)
	}
	return out, nil
}

// detectDER tells the DER structures apart by their shape:
//
//	Certificate         SEQUENCE { SEQUENCE tbs, SEQUENCE alg, BIT STRING }
//	PFX                 SEQUENCE { INTEGER 3, SEQUENCE authSafe, ... }
//	PrivateKeyInfo      SEQUENCE { INTEGER 0|1, SEQUENCE alg, OCTET STRING, ... }
//	EncryptedPKInfo     SEQUENCE { SEQUENCE alg, OCTET STRING }
//	RSAPrivateKey       SEQUENCE { INTEGER 0, INTEGER n, ... }
//	ECPrivateKey        SEQUENCE { INTEGER 1, OCTET STRING, ... }
func detectDER(data []byte) (Format, error) {
	in := cryptobyte.String(data)
	var seq cryptobyte.String
	if !in.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return "", fmt.Errorf("malformed DER (truncated or not ASN.1)")
	}
	if !in.Empty() {
		return "", fmt.Errorf("trailing data after the DER object")
	}
	switch {
	case seq.PeekASN1Tag(cbasn1.SEQUENCE):
		var first cryptobyte.String
		seq.ReadASN1(&first, cbasn1.SEQUENCE)
		switch {
		case seq.PeekASN1Tag(cbasn1.SEQUENCE):
			return FormatCertificate, nil
		case seq.PeekASN1Tag(cbasn1.OCTET_STRING) && pkcs8.IsEncryptedPrivateKeyInfo(data):
			return FormatPKCS8Enc, nil
		}
	case seq.PeekASN1Tag(cbasn1.INTEGER):
		var version int64
		if !seq.ReadASN1Integer(&version) {
			return "", fmt.Errorf("malformed DER integer")
		}
		switch {
		case version == 3 && seq.PeekASN1Tag(cbasn1.SEQUENCE):
			return FormatPKCS12, nil
		case (version == 0 || version == 1) && seq.PeekASN1Tag(cbasn1.SEQUENCE):
			return FormatPKCS8, nil
		case version == 0 && seq.PeekASN1Tag(cbasn1.INTEGER):
			return FormatPKCS1, nil
		case version == 1 && seq.PeekASN1Tag(cbasn1.OCTET_STRING):
			return FormatSEC1, nil
		}
	}
	return "", fmt.Errorf("DER object is not a certificate, PKCS#8, PKCS#12, PKCS#1 or SEC1 key")
}
