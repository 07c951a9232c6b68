package mailauth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DKIMKeyAlgorithm names a kind of DKIM key to generate.
type DKIMKeyAlgorithm string

const (
	// DKIMRSA2048 is RSA with a 2048-bit modulus (rsa-sha256), what every
	// verifier accepts and RFC 8301 recommends.
	DKIMRSA2048 DKIMKeyAlgorithm = "rsa2048"
	// DKIMEd25519 is Ed25519 (ed25519-sha256, RFC 8463): small and fast,
	// but not all verifiers know it yet: sign with RSA too.
	DKIMEd25519 DKIMKeyAlgorithm = "ed25519"
)

// GenerateDKIMKey makes a new DKIM signing key; rnd nil means
// crypto/rand.
func GenerateDKIMKey(algo DKIMKeyAlgorithm, rnd io.Reader) (crypto.Signer, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	switch algo {
	case DKIMRSA2048, "":
		return rsa.GenerateKey(rnd, 2048)
	case DKIMEd25519:
		_, priv, err := ed25519.GenerateKey(rnd)
		return priv, err
	}
	return nil, fmt.Errorf("mailauth: unknown DKIM key algorithm %q (rsa2048 or ed25519)", algo)
}

// DKIMKeyRecord returns the key record to publish for a public key (RFC
// 6376 §3.6.1): "v=DKIM1; k=rsa; p=<SubjectPublicKeyInfo>" or
// "v=DKIM1; k=ed25519; p=<the 32-octet key>" (RFC 8463 §4.2).
func DKIMKeyRecord(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", err
		}
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der), nil
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k), nil
	}
	return "", fmt.Errorf("mailauth: unsupported key type %T", pub)
}

// maxTXTString is the longest character-string a TXT record holds (RFC
// 1035 §3.3).
const maxTXTString = 255

// DKIMRecordStrings splits a record into character-strings of at most
// 255 octets, which verifiers join back (RFC 6376 §3.6.2.2).
func DKIMRecordStrings(record string) []string {
	var out []string
	for len(record) > maxTXTString {
		out = append(out, record[:maxTXTString])
		record = record[maxTXTString:]
	}
	return append(out, record)
}

// DKIMZoneLine returns the zone-file line that publishes pub for
// selector and domain, ready to paste:
//
//	sel._domainkey.example.org. IN TXT "v=DKIM1; k=rsa; p=MIIB…" "…"
func DKIMZoneLine(selector, domain string, pub crypto.PublicKey) (string, error) {
	d := asciiDomain(domain)
	if d == "" || !validDomain(d, 2) {
		return "", fmt.Errorf("mailauth: %q is not a domain name", domain)
	}
	if !validDomain(selector, 1) {
		return "", fmt.Errorf("mailauth: %q is not a selector (letters, digits, '-', '_', dots)", selector)
	}
	rec, err := DKIMKeyRecord(pub)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s._domainkey.%s. IN TXT", selector, d)
	for _, s := range DKIMRecordStrings(rec) {
		b.WriteString(` "` + s + `"`) // base64 and the tags need no escaping
	}
	return b.String(), nil
}

// MarshalDKIMPrivateKey encodes a signing key as PKCS #8 PEM ("PRIVATE
// KEY"), the form OpenDKIM, rspamd and OpenSSL 3 read. It is not
// encrypted: mail servers read it unattended.
func MarshalDKIMPrivateKey(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("mailauth: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseDKIMPrivateKey reads a signing key in PEM: PKCS #8 ("PRIVATE
// KEY": RSA or Ed25519) or PKCS #1 ("RSA PRIVATE KEY", from openssl genrsa
// or opendkim-genkey).
func ParseDKIMPrivateKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("mailauth: no PEM private key found")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mailauth: %v", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("mailauth: unsupported key type %T", k)
		}
		if _, err := algorithmFor(s); err != nil {
			return nil, err
		}
		return s, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("mailauth: %v", err)
		}
		return k, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, errors.New("mailauth: the private key is encrypted; DKIM keys are used unattended, decrypt it first (openssl pkey)")
	}
	return nil, fmt.Errorf("mailauth: PEM block %q is not a private key", block.Type)
}
