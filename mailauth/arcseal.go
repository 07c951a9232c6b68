package mailauth

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// ARCSealOptions configure SealARC.
type ARCSealOptions struct {
	// Domain and Selector name the sealer's key (Selector._domainkey.Domain).
	Domain, Selector string
	// Signer is the private key, an *rsa.PrivateKey: ARC seals are
	// rsa-sha256, the one algorithm ARC implementations share (RFC 8617
	// predates RFC 8463; dkimpy, for one, refuses Ed25519 seals).
	Signer crypto.Signer
	// AuthServID and AuthResults make the ARC-Authentication-Results
	// field: what this hop found ("dkim=pass header.d=example.org;
	// spf=pass smtp.mailfrom=example.org"), "none" when empty.
	AuthServID, AuthResults string
	// ChainValidation is the result of validating the chain as received
	// (Verdict.ARC.Result): None when there was none, Pass or Fail.
	ChainValidation Result
	// Headers are the fields the ARC-Message-Signature covers; nil means
	// those of DefaultSignedHeaders present in the message.
	Headers []string
	// Now and Rand default to time.Now and crypto/rand.
	Now  func() time.Time
	Rand io.Reader
}

// SealARC adds an ARC set (RFC 8617 §5.1) to a message, as an
// intermediary that changes it (a mailing list) does: an
// ARC-Authentication-Results field with what it found, an
// ARC-Message-Signature over the message as it forwards it, and an
// ARC-Seal over the chain. It returns the message with the three fields
// prepended.
func SealARC(raw []byte, opts *ARCSealOptions) ([]byte, error) {
	if opts == nil || opts.Signer == nil {
		return nil, errors.New("mailauth: SealARC needs a Signer")
	}
	if !validDomain(opts.Domain, 2) || !validDomain(opts.Selector, 1) {
		return nil, fmt.Errorf("mailauth: invalid ARC domain %q or selector %q", opts.Domain, opts.Selector)
	}
	if _, ok := opts.Signer.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("mailauth: ARC seals need an RSA key (rsa-sha256), not %T", opts.Signer.Public())
	}
	const alg = "rsa-sha256"
	m, err := parseMessage(raw)
	if err != nil {
		return nil, err
	}
	inst := len(m.named("arc-seal")) + 1
	if inst > maxARCSets {
		return nil, fmt.Errorf("mailauth: the message already has %d ARC sets", inst-1)
	}
	var cv string
	switch {
	case inst == 1:
		cv = "none"
	case opts.ChainValidation == Pass:
		cv = "pass"
	default:
		cv = "fail"
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	t := strconv.FormatInt(now().Unix(), 10)
	headers := opts.Headers
	if headers == nil {
		headers = presentHeaders(m, DefaultSignedHeaders, false)
	}
	nl := lineEnd(raw)

	res := strings.TrimSpace(opts.AuthResults)
	if res == "" {
		res = "none"
	}
	aar := fmt.Sprintf("ARC-Authentication-Results: i=%d; %s;%s %s%s", inst, opts.AuthServID, nl, res, nl)
	withAAR := append([]byte(aar), raw...)

	amsTags := fmt.Sprintf("i=%d; a=%s; c=relaxed/relaxed; d=%s; s=%s; t=%s; h=%s", inst, alg, opts.Domain, opts.Selector, t, strings.Join(headers, ":"))
	ams, err := engineSign(withAAR, kindAMS, amsTags, opts.Signer, opts.Rand)
	if err != nil {
		return nil, err
	}
	withAMS := append(ams, withAAR...)
	asTags := fmt.Sprintf("i=%d; a=%s; cv=%s; d=%s; s=%s; t=%s", inst, alg, cv, opts.Domain, opts.Selector, t)
	as, err := engineSign(withAMS, kindAS, asTags, opts.Signer, opts.Rand)
	if err != nil {
		return nil, err
	}
	return append(as, withAMS...), nil
}

// lineEnd returns the line break raw uses.
func lineEnd(raw []byte) string {
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] != '\r' {
		return "\n"
	}
	return "\r\n"
}

func algorithmFor(k crypto.Signer) (string, error) {
	switch k.Public().(type) {
	case *rsa.PublicKey:
		return "rsa-sha256", nil
	case ed25519.PublicKey:
		return "ed25519-sha256", nil
	}
	return "", fmt.Errorf("mailauth: unsupported key type %T", k.Public())
}

// engineSign makes a signature field of the given kind (DKIM-Signature,
// ARC-Message-Signature, ARC-Seal) with the given tags, computing bh=
// (unless an ARC-Seal) and b= over raw, with the same code that verifies
// them. It does not judge the tags: tests use it to build hostile
// signatures. The field is returned with a line break, ready to prepend.
func engineSign(raw []byte, kind sigKind, tagText string, signer crypto.Signer, rnd io.Reader) ([]byte, error) {
	nl := lineEnd(raw)
	tl, err := parseTagList([]byte(tagText))
	if err != nil {
		return nil, fmt.Errorf("mailauth: signature tags: %v", err)
	}
	s := &signature{kind: kind, length: -1, hc: canonRelaxed}
	if kind != kindAS {
		s.hc, s.bc = canonSimple, canonSimple
		if c, ok := tl.get("c"); ok {
			hs, bs, two := strings.Cut(c, "/")
			s.hc, _ = parseCanon(hs)
			if two {
				s.bc, _ = parseCanon(bs)
			}
		}
		h, _ := tl.get("h")
		for _, n := range splitColonList(h) {
			s.headers = append(s.headers, lowerASCII(n))
		}
		if l, ok := tl.get("l"); ok {
			s.length, _ = strconv.ParseInt(l, 10, 64)
		}
	}
	name := kind.String()
	field := name + ": " + tagText
	if kind != kindAS {
		m, err := parseMessage(raw)
		if err != nil {
			return nil, err
		}
		e := &evaluation{msg: m}
		bh := e.bodyHash(s.bc, s.length)
		field += ";" + nl + " bh=" + base64.StdEncoding.EncodeToString(bh.sum[:])
	}
	field += ";" + nl + " b="
	withField := append([]byte(field+nl), raw...)
	m, err := parseMessage(withField)
	if err != nil {
		return nil, err
	}
	s.fieldIdx = 0
	if s.tags, err = parseTagList(m.fields[0].value); err != nil {
		return nil, err
	}
	e := &evaluation{msg: m}
	var digest []byte
	if kind == kindAS {
		sets, n, problem := e.arcCollectLoose()
		if problem != "" {
			return nil, errors.New("mailauth: " + problem)
		}
		sets[n].asSig = s
		d := e.sealDigest(sets, n)
		digest = d[:]
	} else {
		digest = e.headerDigest(s)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	var sig []byte
	switch k := signer.Public().(type) {
	case *rsa.PublicKey:
		sig, err = signer.Sign(rnd, digest, crypto.SHA256)
	case ed25519.PublicKey:
		sig, err = signer.Sign(rnd, digest, crypto.Hash(0))
	default:
		err = fmt.Errorf("unsupported key type %T", k)
	}
	if err != nil {
		return nil, fmt.Errorf("mailauth: signing: %v", err)
	}
	b64 := base64.StdEncoding.EncodeToString(sig)
	var out strings.Builder
	out.WriteString(field)
	for i := 0; i < len(b64); i += 72 {
		if i > 0 {
			out.WriteString(nl + "  ")
		}
		out.WriteString(b64[i:min(i+72, len(b64))])
	}
	out.WriteString(nl)
	return []byte(out.String()), nil
}

// arcCollectLoose gathers ARC sets for sealing: like arcCollect, but the
// new seal (whose b= is still empty) need not parse.
func (e *evaluation) arcCollectLoose() ([]arcSet, int, string) {
	m := e.msg
	byInst := map[int]*arcSet{}
	get := func(i int) *arcSet {
		if byInst[i] == nil {
			byInst[i] = &arcSet{aar: -1, ams: -1, as: -1}
		}
		return byInst[i]
	}
	for _, idx := range m.named("arc-authentication-results") {
		i, ok := aarInstance(m.fields[idx].value)
		if !ok {
			return nil, 0, "ARC-Authentication-Results without an instance"
		}
		get(i).aar = idx
	}
	for _, pair := range []struct {
		name string
		set  func(*arcSet, int)
	}{
		{"arc-message-signature", func(s *arcSet, idx int) { s.ams = idx }},
		{"arc-seal", func(s *arcSet, idx int) { s.as = idx }},
	} {
		for _, idx := range m.named(pair.name) {
			tl, err := parseTagList(m.fields[idx].value)
			if err != nil {
				return nil, 0, pair.name + ": " + err.Error()
			}
			iv, _ := tl.get("i")
			i, err := strconv.Atoi(iv)
			if err != nil || i < 1 || i > maxARCSets {
				return nil, 0, pair.name + " without an instance"
			}
			pair.set(get(i), idx)
		}
	}
	n := len(byInst)
	sets := make([]arcSet, n+1)
	for i := 1; i <= n; i++ {
		s := byInst[i]
		if s == nil || s.aar < 0 || s.ams < 0 || s.as < 0 {
			return nil, 0, fmt.Sprintf("ARC set %d is incomplete", i)
		}
		sets[i] = *s
	}
	return sets, n, ""
}

// sealDigest is the SHA-256 of what ARC-Seal i signs: the ARC sets 1..i,
// each as ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal,
// relaxed, the seal i itself with b= blank and no final CRLF (RFC 8617
// §5.1.1).
func (e *evaluation) sealDigest(sets []arcSet, i int) [sha256.Size]byte {
	m := e.msg
	buf := e.scratch[:0]
	for j := 1; j <= i; j++ {
		for _, idx := range []int{sets[j].aar, sets[j].ams} {
			f := &m.fields[idx]
			buf = appendHeader(buf, canonRelaxed, f.raw, f.lname)
		}
		if j < i {
			f := &m.fields[sets[j].as]
			buf = appendHeader(buf, canonRelaxed, f.raw, f.lname)
		}
	}
	sig := sets[i].asSig
	sig.fieldIdx = sets[i].as
	buf = sig.appendOwnField(buf, m)
	e.scratch = buf
	return sha256.Sum256(buf)
}
