package mailauth

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// The DKIM-style signatures verified here: DKIM-Signature (RFC 6376),
// ARC-Message-Signature and ARC-Seal (RFC 8617). They share tag syntax,
// key records, canonicalization and the signing algorithms; this file is
// that shared engine.

type sigKind uint8

const (
	kindDKIM sigKind = iota
	kindAMS
	kindAS
)

func (k sigKind) String() string {
	switch k {
	case kindAMS:
		return "ARC-Message-Signature"
	case kindAS:
		return "ARC-Seal"
	}
	return "DKIM-Signature"
}

// signature is a parsed DKIM-Signature, ARC-Message-Signature or ARC-Seal.
type signature struct {
	kind     sigKind
	fieldIdx int
	tags     tagList
	alg      sigAlgorithm
	// domain is d= lower-cased, set only once it passed validDomain;
	// rawDomain and selector are as written, for reports.
	domain, rawDomain string
	selector          string
	hc, bc            canon
	headers           []string // h=, lower-cased (DKIM, AMS)
	bh, b             []byte
	length            int64  // l=, -1 when absent
	auid              string // DKIM i=
	instance          int    // ARC i=
	cv                string // ARC-Seal cv=
	timestamp, expiry int64  // t=, x=; -1 when absent
}

// sigError is a reason a signature does not pass, with the result it
// gives.
type sigError struct {
	result Result
	msg    string
}

func (e *sigError) Error() string { return e.msg }

func permErr(format string, args ...any) *sigError {
	return &sigError{PermError, fmt.Sprintf(format, args...)}
}

func failErr(format string, args ...any) *sigError {
	return &sigError{Fail, fmt.Sprintf(format, args...)}
}

// parseSignature parses and checks the tags of a signature field. It
// returns the signature (with as much filled in as could be read, for the
// report) and, when the signature cannot pass, why.
func parseSignature(m *message, idx int, kind sigKind) (*signature, *sigError) {
	f := &m.fields[idx]
	s := &signature{kind: kind, fieldIdx: idx, length: -1, timestamp: -1, expiry: -1}
	tags, err := parseTagList(f.value)
	if err != nil {
		return s, permErr("malformed %s: %v", kind, err)
	}
	s.tags = tags
	s.rawDomain, _ = tags.get("d")
	s.selector, _ = tags.get("s")

	required := []string{"a", "b", "d", "s"}
	switch kind {
	case kindDKIM:
		required = append(required, "v", "bh", "h")
	case kindAMS:
		required = append(required, "i", "bh", "h")
	case kindAS:
		required = append(required, "i", "cv")
	}
	for _, r := range required {
		if _, ok := tags.get(r); !ok {
			return s, permErr("%s has no %s= tag", kind, r)
		}
	}
	if kind == kindDKIM {
		if v, _ := tags.get("v"); v != "1" {
			return s, permErr("unsupported DKIM-Signature version v=%s", v)
		}
	}
	if kind != kindDKIM {
		iv, _ := tags.get("i")
		n, err := strconv.Atoi(iv)
		if err != nil || n < 1 || n > maxARCSets || iv[0] == '+' {
			return s, permErr("%s instance i=%s is not a number from 1 to %d", kind, iv, maxARCSets)
		}
		s.instance = n
	}

	if !validDomain(s.rawDomain, 2) {
		return s, permErr("d=%s is not a valid domain name", s.rawDomain)
	}
	s.domain = lowerASCII(s.rawDomain)
	if !validDomain(s.selector, 1) {
		return s, permErr("s=%s is not a valid selector", s.selector)
	}

	a, _ := tags.get("a")
	if s.alg, err = lookupAlgorithm(a); err != nil {
		return s, permErr("%v", err)
	}

	if s.b, err = base64.StdEncoding.DecodeString(stripFWS(mustGet(tags, "b"))); err != nil || len(s.b) == 0 {
		return s, permErr("b= is not a base64 signature")
	}
	if kind != kindAS {
		if s.bh, err = base64.StdEncoding.DecodeString(stripFWS(mustGet(tags, "bh"))); err != nil || len(s.bh) != sha256.Size {
			return s, permErr("bh= is not a base64 SHA-256 body hash")
		}
	}

	s.hc, s.bc = canonSimple, canonSimple
	if c, ok := tags.get("c"); ok && kind != kindAS {
		hs, bs, two := strings.Cut(c, "/")
		var okh, okb bool
		if s.hc, okh = parseCanon(hs); !okh {
			return s, permErr("unsupported header canonicalization c=%s", c)
		}
		if two {
			if s.bc, okb = parseCanon(bs); !okb {
				return s, permErr("unsupported body canonicalization c=%s", c)
			}
		}
	}
	if kind == kindAS {
		// RFC 8617 §4.1.3: ARC-Seal uses relaxed header canonicalization
		// and signs no header list.
		s.hc = canonRelaxed
		if _, ok := tags.get("h"); ok {
			return s, permErr("ARC-Seal carries an h= tag (RFC 8617 §4.1.3)")
		}
		cv, _ := tags.get("cv")
		s.cv = lowerASCII(cv)
		if s.cv != "none" && s.cv != "pass" && s.cv != "fail" {
			return s, permErr("ARC-Seal cv=%s is not none, pass or fail", cv)
		}
	}

	if kind != kindAS {
		h, _ := tags.get("h")
		list := splitColonList(h)
		if len(list) > maxSignedHeaders {
			return s, permErr("h= lists %d header fields, more than the %d accepted", len(list), maxSignedHeaders)
		}
		from := false
		for _, n := range list {
			if n == "" || strings.ContainsFunc(n, func(r rune) bool { return r < 33 || r > 126 || r == ':' }) {
				return s, permErr("h= holds %q, not a header field name", n)
			}
			ln := lowerASCII(n)
			from = from || ln == "from"
			s.headers = append(s.headers, ln)
		}
		if kind == kindDKIM && !from {
			// RFC 6376 §6.1.1: the From field MUST be signed (S34).
			return s, failErr("the signature does not cover the From field (h= has no From)")
		}
	}

	if q, ok := tags.get("q"); ok && kind == kindDKIM {
		dnsTXT := false
		for _, m := range splitColonList(q) {
			meth, _, _ := strings.Cut(m, "/")
			opt := strings.TrimPrefix(m, meth)
			if equalFoldASCII(meth, "dns") && (opt == "" || equalFoldASCII(opt, "/txt")) {
				dnsTXT = true
			}
		}
		if !dnsTXT {
			return s, permErr("unsupported key query method q=%s", q)
		}
	}

	if kind == kindDKIM {
		if i, ok := tags.get("i"); ok {
			at := strings.LastIndexByte(i, '@')
			if at < 0 {
				return s, permErr("i=%s has no @", i)
			}
			dom := i[at+1:]
			if !validDomain(dom, 1) || !isSubdomainOrSelf(dom, s.domain) {
				return s, permErr("i=%s is not within d=%s", i, s.rawDomain)
			}
			s.auid = i
		}
		if l, ok := tags.get("l"); ok {
			n, err := strconv.ParseInt(l, 10, 64)
			if err != nil || n < 0 || l[0] == '+' || len(l) > 76 {
				return s, permErr("l=%s is not a body length", l)
			}
			s.length = n
		}
	}

	if v, ok := tags.get("t"); ok {
		if s.timestamp, err = parseUnixTime(v); err != nil {
			return s, permErr("t=%s is not a time", v)
		}
	}
	if v, ok := tags.get("x"); ok && kind == kindDKIM {
		if s.expiry, err = parseUnixTime(v); err != nil {
			return s, permErr("x=%s is not a time", v)
		}
		if s.timestamp >= 0 && s.expiry < s.timestamp {
			return s, permErr("x= is before t= (RFC 6376 §3.5)")
		}
	}
	return s, nil
}

func mustGet(l tagList, name string) string { v, _ := l.get(name); return v }

func parseCanon(s string) (canon, bool) {
	switch lowerASCII(strings.TrimSpace(s)) {
	case "simple":
		return canonSimple, true
	case "relaxed":
		return canonRelaxed, true
	}
	return 0, false
}

// parseUnixTime reads a t= or x= value: at most 12 digits (§3.5), which
// keeps it inside int64 and inside any date a computer will see.
func parseUnixTime(v string) (int64, error) {
	if len(v) == 0 || len(v) > 12 {
		return 0, fmt.Errorf("bad time")
	}
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return 0, fmt.Errorf("bad time")
		}
	}
	return strconv.ParseInt(v, 10, 64)
}

// keyName is where the signature's key record is published.
func (s *signature) keyName() string {
	return s.selector + "._domainkey." + s.domain
}

// blankedField returns the signature's own field with the b= value
// removed (§3.7: "with the value of the b= tag (including all surrounding
// whitespace) deleted").
func (s *signature) blankedField(m *message) []byte {
	f := &m.fields[s.fieldIdx]
	t := s.tags.find("b")
	out := make([]byte, 0, len(f.raw))
	out = append(out, f.raw[:f.valStart+t.start]...)
	return append(out, f.raw[f.valStart+t.end:]...)
}

// appendSignedFields appends the canonical header fields h= selects, in
// h= order, each name taking its instances from the bottom up and names
// with no instance left contributing nothing (§5.4.2). The signature's
// own field is never selected: it did not exist when the message was
// signed.
func (s *signature) appendSignedFields(dst []byte, m *message) []byte {
	var used map[string]int
	for _, name := range s.headers {
		idxs := m.named(name)
		if len(idxs) == 0 {
			continue
		}
		if used == nil {
			used = make(map[string]int, len(s.headers))
		}
		k := used[name]
		used[name] = k + 1
		pos, seen := -1, 0
		for j := len(idxs) - 1; j >= 0; j-- {
			if idxs[j] == s.fieldIdx {
				continue
			}
			if seen == k {
				pos = j
				break
			}
			seen++
		}
		if pos < 0 {
			continue
		}
		f := &m.fields[idxs[pos]]
		dst = appendHeader(dst, s.hc, f.raw, f.lname)
	}
	return dst
}

// appendOwnField appends the signature's own field, canonical, b= blank,
// without the final CRLF.
func (s *signature) appendOwnField(dst []byte, m *message) []byte {
	f := &m.fields[s.fieldIdx]
	dst = appendHeader(dst, s.hc, s.blankedField(m), f.lname)
	return dst[:len(dst)-2]
}

// verifyDigest checks the signature value b= over digest with key.
func (s *signature) verifyDigest(key *dkimKey, digest []byte) *sigError {
	switch key.keyType {
	case "rsa":
		if err := rsa.VerifyPKCS1v15(key.rsa, crypto.SHA256, digest, s.b); err != nil {
			return failErr("the signature does not verify")
		}
	case "ed25519":
		// RFC 8463 §3: Ed25519 (pure) over the SHA-256 hash.
		if len(s.b) != ed25519.SignatureSize || !ed25519.Verify(key.ed, digest, s.b) {
			return failErr("the signature does not verify")
		}
	default:
		return permErr("unsupported key type %s", key.keyType)
	}
	return nil
}

// checkKey applies the key record's constraints to the signature
// (§3.6.1, §6.1.2).
func (s *signature) checkKey(key *dkimKey) *sigError {
	if key.keyType != s.alg.keyType {
		return permErr("a=%s does not fit the key (k=%s)", s.alg.name, key.keyType)
	}
	if !key.acceptsHash("sha256") {
		return permErr("the key record's h= does not allow sha256")
	}
	if key.strict && s.auid != "" {
		dom := s.auid[strings.LastIndexByte(s.auid, '@')+1:]
		if !equalFoldASCII(dom, s.domain) {
			return permErr("the key forbids subdomains in i= (t=s) but i=%s", s.auid)
		}
	}
	return nil
}

// bodyHashKey names one canonical body hash of a message.
type bodyHashKey struct {
	c     canon
	limit int64
}

type bodyHashValue struct {
	sum    [sha256.Size]byte
	length int64 // canonical body length, without the limit
}

// bodyHash computes (once per canonicalization and limit) the SHA-256 of
// the canonical body.
func (e *evaluation) bodyHash(c canon, limit int64) bodyHashValue {
	k := bodyHashKey{c, limit}
	if v, ok := e.bodyHashes[k]; ok {
		return v
	}
	h := sha256.New()
	w := bodyWriter{h: h, limit: limit}
	e.bodyBuf = canonicalizeBody(&w, e.msg.body, c, e.bodyBuf)
	var v bodyHashValue
	h.Sum(v.sum[:0])
	v.length = w.n
	if e.bodyHashes == nil {
		e.bodyHashes = make(map[bodyHashKey]bodyHashValue, 2)
	}
	e.bodyHashes[k] = v
	return v
}

// checkBody verifies bh= (and l=) against the message body.
func (e *evaluation) checkBody(s *signature) *sigError {
	v := e.bodyHash(s.bc, s.length)
	if s.length >= 0 {
		// RFC 6376 §8.2: content after l= octets is not signed. A
		// signature that leaves part of the body out does not vouch for
		// what a reader sees (S33).
		if s.length < v.length {
			return failErr("the signature covers only the first %d of %d body octets (l=): the rest was not signed", s.length, v.length)
		}
		if s.length > v.length {
			return failErr("l=%d is longer than the body (%d octets)", s.length, v.length)
		}
	}
	if subtle.ConstantTimeCompare(v.sum[:], s.bh) != 1 {
		return failErr("the body hash does not match (the body was changed)")
	}
	return nil
}

// headerDigest computes the SHA-256 of the signed header fields and the
// signature's own field (DKIM, AMS).
func (e *evaluation) headerDigest(s *signature) []byte {
	buf := e.scratch[:0]
	buf = s.appendSignedFields(buf, e.msg)
	buf = s.appendOwnField(buf, e.msg)
	e.scratch = buf
	sum := sha256.Sum256(buf)
	return sum[:]
}
