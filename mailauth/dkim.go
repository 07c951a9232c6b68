package mailauth

import (
	"fmt"
	"strings"
	"time"
)

// readerHeaders are the fields whose content a reader sees and trusts:
// when no valid signature covers them, the verdict warns (S34).
var readerHeaders = []string{"subject", "to", "cc", "reply-to", "content-type", "content-transfer-encoding"}

func strPtr(s string) *string { return &s }

// dkimSignatures parses the DKIM-Signature fields, top to bottom, up to
// the work limit.
func (e *evaluation) dkimSignatures() (sigs []*signature, errs []*sigError) {
	max := e.ev.opts.MaxSignatures
	if max <= 0 {
		max = defaultMaxSignatures
	}
	for n, idx := range e.msg.named("dkim-signature") {
		if n >= max {
			s := &signature{kind: kindDKIM, fieldIdx: idx}
			if tags, err := parseTagList(e.msg.fields[idx].value); err == nil {
				s.rawDomain, _ = tags.get("d")
				s.selector, _ = tags.get("s")
			}
			sigs = append(sigs, s)
			errs = append(errs, &sigError{Policy, fmt.Sprintf("not checked: the message has more than %d DKIM signatures (work limit)", max)})
			continue
		}
		s, err := parseSignature(e.msg, idx, kindDKIM)
		sigs = append(sigs, s)
		errs = append(errs, err)
	}
	return sigs, errs
}

// keyFor fetches and parses the key record a signature names, from the
// prefetched answers.
func (e *evaluation) keyFor(s *signature) (*dkimKey, string, *sigError) {
	name := s.keyName()
	a, ok := e.answers[name]
	if !ok {
		a = lookupTXT(e.ctx, e.ev.opts.DNS, name)
		e.answers[name] = a
	}
	status := ""
	if a.hasStatus {
		status = a.status.String()
	}
	switch a.kind {
	case lookupTemporary:
		return nil, status, &sigError{TempError, fmt.Sprintf("the key at %s could not be fetched: %v", name, a.err)}
	case lookupNotFound:
		return nil, status, permErr("no key record at %s", name)
	}
	recs := a.txts
	switch len(recs) {
	case 0:
		return nil, status, permErr("no key record at %s", name)
	case 1:
	default:
		// RFC 6376 §3.6.2.2 leaves several records undefined: refuse
		// rather than pick one (S35).
		return nil, status, permErr("%d TXT records at %s: ambiguous key", len(recs), name)
	}
	k, err := e.ev.keys.parse(recs[0])
	if err != nil {
		return nil, status, permErr("key record at %s: %v", name, err)
	}
	return k, status, nil
}

// verifyDKIM checks every DKIM signature: each gets its own result.
func (e *evaluation) verifyDKIM(sigs []*signature, errs []*sigError, from fromInfo) []DKIMResult {
	out := make([]DKIMResult, 0, len(sigs))
	for i, s := range sigs {
		r := DKIMResult{Domain: s.rawDomain, Selector: s.selector, Result: Pass}
		if s.domain != "" {
			r.Domain = s.domain
		}
		if s.alg.name != "" {
			r.Algorithm = s.alg.name
		}
		r.Identifier = s.auid
		r.SignedHeaders = s.headers
		serr := errs[i]
		var key *dkimKey
		if serr == nil {
			key, r.DNSSEC, serr = e.keyFor(s)
		}
		if serr == nil {
			r.KeyBits = key.bits
			serr = e.checkDKIM(s, key)
			if serr == nil && key.testing {
				r.Testing = true
				serr = &sigError{None, "the key is in testing mode (t=y): the signature counts as absent (RFC 6376 §3.6.1)"}
			}
		}
		if serr == nil && from.ambiguous {
			serr = &sigError{Policy, from.problem}
		}
		if serr != nil {
			r.Result = serr.result
			r.Error = strPtr(serr.msg)
		} else if key.keyType == "rsa" && key.bits < weakRSABits {
			e.warnf("the DKIM key of %s (s=%s) has only %d bits: weak, though RFC 8301 still accepts it", s.domain, s.selector, key.bits)
		}
		if serr == nil && s.length >= 0 {
			e.warnf("the DKIM signature of %s (s=%s) has a body length limit (l=); it covers the whole body as received", s.domain, s.selector)
		}
		out = append(out, r)
	}
	e.warnUnsigned(sigs, out)
	return out
}

// checkDKIM verifies one parsed DKIM signature with its key.
func (e *evaluation) checkDKIM(s *signature, key *dkimKey) *sigError {
	if err := s.checkKey(key); err != nil {
		return err
	}
	if key.testing {
		return nil // not verified: it would count for nothing
	}
	if s.expiry >= 0 && e.now.Unix() > s.expiry {
		return failErr("the signature expired at %s (x=)", time.Unix(s.expiry, 0).UTC().Format(time.RFC3339))
	}
	if err := e.checkBody(s); err != nil {
		return err
	}
	return s.verifyDigest(key, e.headerDigest(s))
}

// warnUnsigned warns about reader-visible fields that no passing
// signature covers entirely (S34): such a field may have been changed,
// or added, after signing.
func (e *evaluation) warnUnsigned(sigs []*signature, res []DKIMResult) {
	passing := false
	for i := range res {
		passing = passing || res[i].Result == Pass
	}
	if !passing {
		return
	}
	var missing []string
	for _, name := range readerHeaders {
		have := len(e.msg.named(name))
		if have == 0 {
			continue
		}
		covered := false
		for i, s := range sigs {
			if res[i].Result != Pass {
				continue
			}
			n := 0
			for _, h := range s.headers {
				if h == name {
					n++
				}
			}
			if n >= have {
				covered = true
				break
			}
		}
		if !covered {
			missing = append(missing, canonicalFieldName(name))
		}
	}
	if len(missing) > 0 {
		e.warnf("no valid DKIM signature covers %s: changed or added after signing, it would go unnoticed", strings.Join(missing, ", "))
	}
}

// canonicalFieldName writes a lower-case field name the usual way:
// "content-type" → "Content-Type".
func canonicalFieldName(s string) string {
	b := []byte(s)
	up := true
	for i, c := range b {
		if up && 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
		up = c == '-'
	}
	return string(b)
}
