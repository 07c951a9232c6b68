package mailauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/emersion/go-msgauth/dmarc"
)

// dmarcRecord is the part of a DMARC record the verdict uses.
type dmarcRecord struct {
	policy, subPolicy string // p=, sp= ("" when absent)
	adkim, aspf       string // "r" or "s"
	pct               *int
	testing           bool // t=y (RFC 9989)
}

var errNotDMARC = errors.New("not a DMARC record (it must start with v=DMARC1)")

// isDMARCRecord reports whether a TXT string is a DMARC record: it starts
// with the tag v=DMARC1 (RFC 7489 §6.6.3 step 3: others are discarded).
func isDMARCRecord(txt string) bool {
	t := strings.TrimLeft(txt, " \t")
	rest, ok := strings.CutPrefix(t, "v")
	if !ok {
		return false
	}
	rest = strings.TrimLeft(rest, " \t")
	rest, ok = strings.CutPrefix(rest, "=")
	if !ok {
		return false
	}
	rest = strings.TrimLeft(rest, " \t")
	rest, ok = strings.CutPrefix(rest, "DMARC1")
	return ok && (rest == "" || rest[0] == ';' || rest[0] == ' ' || rest[0] == '\t')
}

// parseDMARCRecord reads a DMARC record the way RFC 9989 asks: unknown
// tags are ignored, a missing or invalid p= is read as p=none, an invalid
// value of another tag falls back to its default; each such repair is
// returned as a warning. Policy words are case-insensitive (they are ABNF
// literals). The repaired record is then read by go-msgauth's dmarc
// parser, which supplies the defaults.
func parseDMARCRecord(txt string) (*dmarcRecord, []string, error) {
	if !isDMARCRecord(txt) {
		return nil, nil, errNotDMARC
	}
	tags, err := parseTagList([]byte(txt))
	if err != nil {
		return nil, nil, fmt.Errorf("malformed DMARC record: %v", err)
	}
	if tags[0].name != "v" {
		return nil, nil, errNotDMARC
	}
	var warns []string
	norm := []string{"v=DMARC1"}
	policy := func(tag string) string {
		v, ok := tags.get(tag)
		if !ok {
			return ""
		}
		switch p := lowerASCII(v); p {
		case "none", "quarantine", "reject":
			return p
		}
		warns = append(warns, fmt.Sprintf("the DMARC record has an invalid %s=%s", tag, v))
		return ""
	}
	p := policy("p")
	if p == "" {
		if _, ok := tags.get("p"); !ok {
			warns = append(warns, "the DMARC record has no p=: read as p=none (RFC 9989)")
		}
		p = "none"
	}
	norm = append(norm, "p="+p)
	if sp := policy("sp"); sp != "" {
		norm = append(norm, "sp="+sp)
	}
	for _, t := range []string{"adkim", "aspf"} {
		if v, ok := tags.get(t); ok {
			switch m := lowerASCII(v); m {
			case "r", "s":
				norm = append(norm, t+"="+m)
			default:
				warns = append(warns, fmt.Sprintf("the DMARC record has an invalid %s=%s: read as relaxed", t, v))
			}
		}
	}
	if v, ok := tags.get("pct"); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 100 && v[0] != '+' && v[0] != '-' {
			norm = append(norm, "pct="+strconv.Itoa(n))
		} else {
			warns = append(warns, fmt.Sprintf("the DMARC record has an invalid pct=%s: ignored", v))
		}
	}
	rec, err := dmarc.Parse(strings.Join(norm, "; "))
	if err != nil { // cannot happen: norm holds valid values only
		return nil, warns, fmt.Errorf("DMARC record: %v", err)
	}
	out := &dmarcRecord{
		policy:    string(rec.Policy),
		subPolicy: string(rec.SubdomainPolicy),
		adkim:     string(rec.DKIMAlignment),
		aspf:      string(rec.SPFAlignment),
		pct:       rec.Percent,
	}
	if t, ok := tags.get("t"); ok && equalFoldASCII(t, "y") {
		out.testing = true
	}
	return out, warns, nil
}

// dmarcLookup is the outcome of looking for a record at one domain.
type dmarcLookup struct {
	rec     *dmarcRecord
	kind    lookupKind
	problem string // why there is no usable record
	warns   []string
}

// findDMARC looks for the record at _dmarc.domain.
func (e *evaluation) findDMARC(domain string) dmarcLookup {
	name := "_dmarc." + domain
	a, ok := e.answers[name]
	if !ok {
		a = lookupTXT(e.ctx, e.ev.opts.DNS, name)
		e.answers[name] = a
	}
	switch a.kind {
	case lookupTemporary:
		return dmarcLookup{kind: lookupTemporary, problem: fmt.Sprintf("the DMARC record at %s could not be fetched: %v", name, a.err)}
	case lookupNotFound:
		return dmarcLookup{kind: lookupNotFound, problem: "no DMARC record at " + name}
	}
	var recs []string
	for _, t := range a.txts {
		if isDMARCRecord(t) {
			recs = append(recs, t)
		}
	}
	switch len(recs) {
	case 0:
		return dmarcLookup{kind: lookupNotFound, problem: "no DMARC record at " + name}
	case 1:
	default:
		// RFC 7489 §6.6.3 step 5: several records end policy discovery.
		return dmarcLookup{kind: lookupNotFound, problem: fmt.Sprintf("%d DMARC records at %s: DMARC does not apply", len(recs), name)}
	}
	rec, warns, err := parseDMARCRecord(recs[0])
	if err != nil {
		return dmarcLookup{kind: lookupNotFound, problem: fmt.Sprintf("%s: %v", name, err)}
	}
	return dmarcLookup{rec: rec, kind: lookupOK, warns: warns}
}

// aligned reports whether an authenticated domain is aligned with the
// From domain (RFC 7489 §3.1): the same name (strict), or the same
// organisational domain (relaxed). Both are validated, lower-case names.
func aligned(id, from, mode string) bool {
	if id == "" || from == "" {
		return false
	}
	if id == from {
		return true
	}
	return mode != "s" && orgDomain(id) == orgDomain(from)
}

func alignmentName(m string) string {
	if m == "s" {
		return "strict"
	}
	return "relaxed"
}

// evaluateDMARC finds the policy for the From domain (at the domain,
// else at its organisational domain) and decides whether an aligned DKIM
// signature or SPF result authenticates it.
func (e *evaluation) evaluateDMARC(from fromInfo, dkim []DKIMResult, spfRes SPFResult) DMARCResult {
	r := DMARCResult{Result: None}
	if from.problem != "" {
		r.Error = strPtr("unverifiable: " + from.problem)
		return r
	}
	r.OrgDomain = orgDomain(from.domain)
	look := e.findDMARC(from.domain)
	r.Domain = from.domain
	sub := false
	if look.kind == lookupNotFound && r.OrgDomain != from.domain {
		first := look.problem
		look = e.findDMARC(r.OrgDomain)
		r.Domain, sub = r.OrgDomain, true
		if look.kind == lookupNotFound {
			look.problem = first + ", nor at _dmarc." + r.OrgDomain
		}
	}
	for _, w := range look.warns {
		e.warnf("%s (_dmarc.%s)", w, r.Domain)
	}
	adkim, aspf := "r", "r"
	if look.rec != nil {
		adkim, aspf = look.rec.adkim, look.rec.aspf
	}
	for _, d := range dkim {
		if d.Result == Pass && aligned(d.Domain, from.domain, adkim) {
			r.AlignedDKIM = true
		}
	}
	r.AlignedSPF = spfRes.Result == Pass && aligned(spfRes.Domain, from.domain, aspf)
	switch look.kind {
	case lookupTemporary:
		r.Result, r.Domain = TempError, ""
		r.Error = strPtr(look.problem)
		return r
	case lookupNotFound:
		r.Domain = ""
		r.Error = strPtr(look.problem)
		return r
	}
	rec := look.rec
	r.Policy = rec.policy
	if sub && rec.subPolicy != "" {
		r.Policy = rec.subPolicy
	}
	r.DKIMAlignment, r.SPFAlignment = alignmentName(adkim), alignmentName(aspf)
	r.Percent = rec.pct
	r.Testing = rec.testing
	if r.AlignedDKIM || r.AlignedSPF {
		r.Result = Pass
		return r
	}
	// A signature or SPF result that could have aligned but met a
	// temporary DNS failure leaves the verdict open, not failed.
	for _, d := range dkim {
		if d.Result == TempError && validDomain(d.Domain, 2) && aligned(lowerASCII(d.Domain), from.domain, adkim) {
			r.Result = TempError
			r.Error = strPtr(fmt.Sprintf("undecided: the DKIM signature of %s could not be checked for now", d.Domain))
			return r
		}
	}
	if spfRes.Result == TempError && aligned(spfRes.Domain, from.domain, aspf) {
		r.Result = TempError
		r.Error = strPtr("undecided: SPF for " + spfRes.Domain + " could not be evaluated for now")
		return r
	}
	r.Result = Fail
	r.Error = strPtr(e.dmarcFailReason(from, dkim, spfRes))
	return r
}

// dmarcFailReason says, in one sentence, why nothing aligned.
func (e *evaluation) dmarcFailReason(from fromInfo, dkim []DKIMResult, spfRes SPFResult) string {
	var pass []string
	for _, d := range dkim {
		if d.Result == Pass {
			pass = append(pass, d.Domain)
		}
	}
	var parts []string
	if len(pass) == 0 {
		parts = append(parts, "no valid DKIM signature")
	} else {
		parts = append(parts, "DKIM passes only for "+strings.Join(pass, ", "))
	}
	switch {
	case spfRes.Result == Pass:
		parts = append(parts, "SPF passes only for "+spfRes.Domain)
	case spfRes.Identity == "":
		parts = append(parts, "no SPF result")
	default:
		parts = append(parts, "SPF "+spfRes.Result.String())
	}
	return strings.Join(parts, "; ") + ": nothing aligned with " + from.domain
}
