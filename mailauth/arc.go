package mailauth

import (
	"fmt"
	"strconv"
)

// arcSet is one ARC set: the three fields an intermediary adds (RFC 8617
// §4.1), by field index.
type arcSet struct {
	aar, ams, as  int
	amsSig, asSig *signature
	amsErr, asErr *sigError
}

// aarInstance reads the instance of an ARC-Authentication-Results value:
// "i=N;" before the authserv-id (RFC 8617 §4.1.1).
func aarInstance(v []byte) (int, bool) {
	i := 0
	skip := func() {
		for i < len(v) && isFWSByte(v[i]) {
			i++
		}
	}
	skip()
	if i >= len(v) || v[i] != 'i' {
		return 0, false
	}
	i++
	skip()
	if i >= len(v) || v[i] != '=' {
		return 0, false
	}
	i++
	skip()
	s := i
	for i < len(v) && isDigit(v[i]) && i-s < 3 {
		i++
	}
	n, err := strconv.Atoi(string(v[s:i]))
	skip()
	if err != nil || i >= len(v) || v[i] != ';' || n < 1 || n > maxARCSets {
		return 0, false
	}
	return n, true
}

// arcCollect gathers the ARC sets by instance, or says why the chain is
// structurally broken (RFC 8617 §5.2 steps 1–2). n is the highest
// instance; 0 when there are no ARC fields.
func (e *evaluation) arcCollect() (sets []arcSet, n int, problem string) {
	m := e.msg
	total := len(m.named("arc-seal")) + len(m.named("arc-message-signature")) + len(m.named("arc-authentication-results"))
	if total == 0 {
		return nil, 0, ""
	}
	if total > 3*maxARCSets {
		return nil, 1, fmt.Sprintf("%d ARC fields: more than %d sets", total, maxARCSets)
	}
	byInst := map[int]*arcSet{}
	get := func(i int) *arcSet {
		s := byInst[i]
		if s == nil {
			s = &arcSet{aar: -1, ams: -1, as: -1}
			byInst[i] = s
		}
		return s
	}
	for _, idx := range m.named("arc-authentication-results") {
		i, ok := aarInstance(m.fields[idx].value)
		if !ok {
			return nil, 1, "an ARC-Authentication-Results field has no valid instance (i=)"
		}
		s := get(i)
		if s.aar >= 0 {
			return nil, 1, fmt.Sprintf("two ARC-Authentication-Results fields for instance %d", i)
		}
		s.aar = idx
	}
	for _, kind := range []sigKind{kindAMS, kindAS} {
		name := "arc-message-signature"
		if kind == kindAS {
			name = "arc-seal"
		}
		for _, idx := range m.named(name) {
			sig, err := parseSignature(m, idx, kind)
			if sig.instance == 0 {
				return nil, 1, fmt.Sprintf("an %s field has no valid instance: %v", kind, err)
			}
			s := get(sig.instance)
			if kind == kindAMS {
				if s.ams >= 0 {
					return nil, 1, fmt.Sprintf("two ARC-Message-Signature fields for instance %d", sig.instance)
				}
				s.ams, s.amsSig, s.amsErr = idx, sig, err
			} else {
				if s.as >= 0 {
					return nil, 1, fmt.Sprintf("two ARC-Seal fields for instance %d", sig.instance)
				}
				s.as, s.asSig, s.asErr = idx, sig, err
			}
		}
	}
	n = len(byInst)
	sets = make([]arcSet, n+1)
	for i := 1; i <= n; i++ {
		s := byInst[i]
		if s == nil {
			return nil, n, fmt.Sprintf("ARC instance %d is missing (instances must run from 1 to %d)", i, n)
		}
		if s.aar < 0 || s.ams < 0 || s.as < 0 {
			return nil, n, fmt.Sprintf("ARC set %d is incomplete", i)
		}
		sets[i] = *s
	}
	return sets, n, ""
}

// verifyARCSets validates the ARC chain arcCollect gathered (RFC 8617
// §5.2) and says who sealed it.
func (e *evaluation) verifyARCSets(sets []arcSet, n int, problem string) ARCResult {
	r := ARCResult{Result: None, Sealers: []string{}}
	if n == 0 {
		return r
	}
	r.Instances = n
	fail := func(format string, args ...any) ARCResult {
		r.Result = Fail
		r.Error = strPtr(fmt.Sprintf(format, args...))
		return r
	}
	if problem != "" {
		return fail("%s", problem)
	}
	for i := 1; i <= n; i++ {
		r.Sealers = append(r.Sealers, sets[i].asSig.rawDomain)
	}
	// Step 2: the newest seal's cv, then each seal's cv in its place.
	if sets[n].asSig.cv == "fail" {
		return fail("the newest ARC-Seal (instance %d) records that the chain had already failed (cv=fail)", n)
	}
	for i := 1; i <= n; i++ {
		if err := sets[i].asErr; err != nil {
			return fail("ARC-Seal %d: %s", i, err.msg)
		}
		want := "pass"
		if i == 1 {
			want = "none"
		}
		if cv := sets[i].asSig.cv; cv != want {
			return fail("ARC-Seal %d has cv=%s, where cv=%s belongs", i, cv, want)
		}
	}
	// Step 3: the newest ARC-Message-Signature.
	if err := e.checkAMS(&sets[n]); err != nil {
		if err.result == TempError {
			r.Result = TempError
			r.Error = strPtr(fmt.Sprintf("ARC-Message-Signature %d: %s", n, err.msg))
			return r
		}
		return fail("ARC-Message-Signature %d: %s", n, err.msg)
	}
	// Step 5: every seal, newest first.
	for i := n; i >= 1; i-- {
		if err := e.checkSeal(sets, i); err != nil {
			if err.result == TempError {
				r.Result = TempError
				r.Error = strPtr(fmt.Sprintf("ARC-Seal %d: %s", i, err.msg))
				return r
			}
			return fail("ARC-Seal %d: %s", i, err.msg)
		}
	}
	// Step 4: the oldest message signature that still verifies.
	r.OldestPass = n
	for i := n - 1; i >= 1; i-- {
		if e.checkAMS(&sets[i]) != nil {
			break
		}
		r.OldestPass = i
	}
	r.Result = Pass
	return r
}

// checkAMS verifies an ARC-Message-Signature like a DKIM signature.
func (e *evaluation) checkAMS(s *arcSet) *sigError {
	if s.amsErr != nil {
		return s.amsErr
	}
	sig := s.amsSig
	key, _, err := e.keyFor(sig)
	if err != nil {
		return err
	}
	if err := sig.checkKey(key); err != nil {
		return err
	}
	if err := e.checkBody(sig); err != nil {
		return err
	}
	return sig.verifyDigest(key, e.headerDigest(sig))
}

// checkSeal verifies ARC-Seal i: it signs the ARC sets 1..i, each as
// ARC-Authentication-Results, ARC-Message-Signature, ARC-Seal, relaxed,
// with its own b= blank (RFC 8617 §5.1.1).
func (e *evaluation) checkSeal(sets []arcSet, i int) *sigError {
	sig := sets[i].asSig
	key, _, err := e.keyFor(sig)
	if err != nil {
		return err
	}
	if err := sig.checkKey(key); err != nil {
		return err
	}
	sum := e.sealDigest(sets, i)
	return sig.verifyDigest(key, sum[:])
}
