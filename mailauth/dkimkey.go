package mailauth

import (
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
)

// dkimKey is a parsed DKIM key record (RFC 6376 §3.6.1, RFC 8463 §4.2).
type dkimKey struct {
	keyType string // "rsa" or "ed25519"
	rsa     *rsa.PublicKey
	ed      ed25519.PublicKey
	bits    int
	hashes  []string // h=: acceptable hashes; nil means any
	testing bool     // t=y
	strict  bool     // t=s: i= must not be a subdomain of d=
}

// errKeyRevoked: the record's p= is empty (§3.6.1).
var errKeyRevoked = errors.New("the key is revoked (empty p=)")

// errNotKeyRecord: a record that starts with a v= other than DKIM1, which
// §3.6.1 says to discard.
var errNotKeyRecord = errors.New("not a DKIM key record (v= is not DKIM1)")

// parseKeyRecord parses a key record. Every error is permanent.
func parseKeyRecord(txt string) (*dkimKey, error) {
	tags, err := parseTagList([]byte(txt))
	if err != nil {
		return nil, fmt.Errorf("key record syntax: %v", err)
	}
	if v, ok := tags.get("v"); ok && (tags[0].name != "v" || v != "DKIM1") {
		return nil, errNotKeyRecord
	}
	k := &dkimKey{keyType: "rsa"}
	if kt, ok := tags.get("k"); ok {
		k.keyType = lowerASCII(kt)
	}
	if h, ok := tags.get("h"); ok {
		for _, a := range splitColonList(h) {
			k.hashes = append(k.hashes, lowerASCII(a))
		}
	}
	if s, ok := tags.get("s"); ok {
		usable := false
		for _, svc := range splitColonList(s) {
			if svc == "*" || equalFoldASCII(svc, "email") {
				usable = true
			}
		}
		if !usable {
			return nil, fmt.Errorf("the key is not for email (s=%s)", s)
		}
	}
	if t, ok := tags.get("t"); ok {
		for _, f := range splitColonList(t) {
			switch lowerASCII(f) {
			case "y":
				k.testing = true
			case "s":
				k.strict = true
			}
		}
	}
	p, ok := tags.get("p")
	if !ok {
		return nil, errors.New("key record has no p=")
	}
	p = stripFWS(p)
	if p == "" {
		return nil, errKeyRevoked
	}
	der, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("key record p= is not base64: %v", err)
	}
	switch k.keyType {
	case "rsa":
		var pub *rsa.PublicKey
		if pk, err := x509.ParsePKIXPublicKey(der); err == nil {
			rp, ok := pk.(*rsa.PublicKey)
			if !ok {
				return nil, errors.New("k=rsa but p= holds another kind of key")
			}
			pub = rp
		} else if rp, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
			// RFC 6376 says SubjectPublicKeyInfo in one place and
			// RSAPublicKey in another (erratum 3017): accept both.
			pub = rp
		} else {
			return nil, fmt.Errorf("k=rsa: p= is not an RSA public key: %v", err)
		}
		k.rsa = pub
		k.bits = pub.N.BitLen()
		switch {
		case k.bits < minRSABits:
			return nil, fmt.Errorf("RSA key of %d bits is too short (RFC 8301: at least %d)", k.bits, minRSABits)
		case k.bits > maxRSABits:
			return nil, fmt.Errorf("RSA key of %d bits is longer than the %d accepted", k.bits, maxRSABits)
		}
	case "ed25519":
		if len(der) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("k=ed25519: p= is %d octets, not %d (RFC 8463 §4.2: the bare key)", len(der), ed25519.PublicKeySize)
		}
		k.ed = ed25519.PublicKey(der)
		k.bits = 256
	default:
		return nil, fmt.Errorf("unsupported key type k=%s", k.keyType)
	}
	return k, nil
}

// acceptsHash reports whether the record's h= allows the hash.
func (k *dkimKey) acceptsHash(h string) bool {
	if k.hashes == nil {
		return true
	}
	for _, a := range k.hashes {
		if a == h {
			return true
		}
	}
	return false
}

// keyCache keeps parsed key records by their text, so that a busy
// Evaluator parses a sender's key once, while DNS (and so key rotation
// and revocation) is still asked every time.
type keyCache struct {
	mu sync.Mutex
	m  map[string]keyCacheEntry
}

type keyCacheEntry struct {
	key *dkimKey
	err error
}

const maxCachedKeys = 512

func (c *keyCache) parse(txt string) (*dkimKey, error) {
	if c == nil {
		return parseKeyRecord(txt)
	}
	c.mu.Lock()
	e, ok := c.m[txt]
	c.mu.Unlock()
	if ok {
		return e.key, e.err
	}
	k, err := parseKeyRecord(txt)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[string]keyCacheEntry)
	}
	c.m[txt] = keyCacheEntry{k, err}
	c.mu.Unlock()
	return k, err
}
