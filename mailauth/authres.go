package mailauth

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/authres"
)

// maxIgnoredHeader cuts the value of an ignored Authentication-Results
// field in the report.
const maxIgnoredHeader = 512

// errAmbiguousAuthRes: syntax that readers of Authentication-Results
// disagree on, the vehicle of result injection (S31): a comment glued to
// a value ("header.d=legit.example(.attack.example"), a quoted string
// holding ";" or parentheses.
var errAmbiguousAuthRes = errors.New("ambiguous syntax (a comment glued to a value, or a quoted string holding ';' or '(')")

// cleanAuthRes removes the comments from an unfolded
// Authentication-Results value, so that go-msgauth's parser (which does
// not know comments) sees only methods and properties. It refuses what
// could be read two ways: a comment directly after a value (a lax server
// writing d=legit.example(.attack.example unquoted would otherwise yield
// header.d=legit.example), and quoted strings that hide ";" or "(".
func cleanAuthRes(v string) (string, error) {
	var b strings.Builder
	b.Grow(len(v))
	depth := 0
	quoted := false
	var last byte = ' '
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quoted:
			switch c {
			case '\\':
				if i+1 < len(v) {
					i++
					if v[i] == ';' || v[i] == '(' || v[i] == ')' {
						return "", errAmbiguousAuthRes
					}
					b.WriteByte('\\')
					b.WriteByte(v[i])
				}
				continue
			case '"':
				quoted = false
			case ';', '(', ')':
				return "", errAmbiguousAuthRes
			}
			b.WriteByte(c)
			last = c
		case depth > 0:
			switch c {
			case '\\':
				i++
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					b.WriteByte(' ')
					last = ' '
				}
			}
		case c == '(':
			if last != ' ' && last != '\t' && last != ';' && last != '=' {
				return "", errAmbiguousAuthRes
			}
			depth = 1
		case c == ')':
			return "", errors.New("unbalanced parenthesis")
		case c == '"':
			quoted = true
			b.WriteByte(c)
			last = c
		default:
			b.WriteByte(c)
			last = c
		}
	}
	if depth != 0 || quoted {
		return "", errors.New("unbalanced parenthesis or quote")
	}
	return b.String(), nil
}

// unquote removes the quotes of a quoted-string property value.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var b strings.Builder
		for i := 1; i < len(s)-1; i++ {
			if s[i] == '\\' && i+1 < len(s)-1 {
				i++
			}
			b.WriteByte(s[i])
		}
		return b.String()
	}
	return s
}

// trustedAuthRes is the Authentication-Results field the verdict is read
// from.
type trustedAuthRes struct {
	id      string
	results []authres.Result
	header  string // the field's value, unfolded
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// authResults sorts the Authentication-Results fields into the one to
// trust, if any, and the ignored ones (S30). Only a field whose
// authserv-id equals a configured one exactly is trusted, and only the
// topmost such field (added last, by the user's own server; RFC 8601 §5
// has servers remove earlier ones claiming their id). When trusted hops
// are configured, a field below their border Received field is ignored:
// it was there before the user's server received the message.
func (e *evaluation) authResults(border int) *trustedAuthRes {
	var trusted *trustedAuthRes
	for _, idx := range e.msg.named("authentication-results") {
		val := strings.TrimSpace(unfold(e.msg.fields[idx].value))
		ignore := func(id, reason string) {
			e.v.IgnoredAuthResults = append(e.v.IgnoredAuthResults, IgnoredAuthResults{
				AuthServID: id, Reason: reason, Header: cut(val, maxIgnoredHeader)})
		}
		rawID, _, _ := strings.Cut(val, ";")
		rawID = strings.TrimSpace(rawID)
		if f := strings.Fields(rawID); len(f) > 0 {
			rawID = f[0]
		}
		clean, err := cleanAuthRes(val)
		if err != nil {
			ignore(rawID, "malformed: "+err.Error())
			continue
		}
		id, results, err := authres.Parse(clean)
		if err != nil {
			ignore(rawID, "malformed: "+err.Error())
			continue
		}
		id = unquote(id)
		switch {
		case len(e.ev.opts.TrustedAuthServIDs) == 0:
			ignore(id, "no authserv-id is trusted (configure those of your own servers)")
		case !e.trustsAuthServID(id):
			ignore(id, "authserv-id not trusted")
		case border >= 0 && idx > border:
			ignore(id, "below the Received field of your border server: it was in the message before your server received it")
		case trusted != nil:
			ignore(id, "a trusted field added later (above) is used instead")
		default:
			trusted = &trustedAuthRes{id: id, results: results, header: cut(val, maxIgnoredHeader)}
		}
	}
	return trusted
}

// trustsAuthServID compares exactly, ASCII case aside: never a suffix, a
// substring or a pattern ("mx.example.com.evil.net" is not
// "mx.example.com").
func (e *evaluation) trustsAuthServID(id string) bool {
	for _, t := range e.ev.opts.TrustedAuthServIDs {
		if t != "" && equalFoldASCII(id, t) {
			return true
		}
	}
	return false
}

func authresResult(v authres.ResultValue) (Result, error) {
	return ParseResult(string(v))
}

// fromAuthResults fills the verdict from a trusted field. DKIM, SPF and
// ARC results are taken as they are; DMARC too when the field judged
// the same From domain, and is otherwise computed here from the field's
// DKIM and SPF results. Names in it are checked like ours: a header.d
// that is not a domain name does not count (S31).
func (e *evaluation) fromAuthResults(tr *trustedAuthRes, from fromInfo) {
	v := e.v
	v.Source, v.AuthServID = SourceAuthResults, tr.id
	v.SPF = SPFResult{Result: None, Facts: "authentication-results:" + tr.id}
	var dmarcRes *authres.DMARCResult
	spfSeen := false
	for _, res := range tr.results {
		switch r := res.(type) {
		case *authres.DKIMResult:
			d := DKIMResult{Domain: unquote(r.Domain), Identifier: unquote(r.Identifier)}
			val, err := authresResult(r.Value)
			d.Result = val
			if err != nil {
				d.Result, d.Error = PermError, strPtr(err.Error())
			} else if r.Reason != "" {
				d.Error = strPtr(unquote(r.Reason))
			}
			if validDomain(d.Domain, 2) {
				d.Domain = lowerASCII(d.Domain)
			} else if d.Result == Pass {
				d.Result, d.Error = PermError, strPtr(fmt.Sprintf("header.d=%s is not a valid domain name", d.Domain))
			}
			if d.Result == Pass && from.ambiguous {
				d.Result, d.Error = Policy, strPtr(from.problem)
			}
			if d.Result != Pass && d.Error == nil {
				d.Error = strPtr("dkim=" + d.Result.String() + ", as " + tr.id + " found")
			}
			v.DKIM = append(v.DKIM, d)
		case *authres.SPFResult:
			if spfSeen {
				continue
			}
			spfSeen = true
			s := &v.SPF
			val, err := authresResult(r.Value)
			s.Result = val
			if err != nil {
				s.Result, s.Error = PermError, strPtr(err.Error())
			}
			s.MailFrom, s.HELO = unquote(r.From), unquote(r.Helo)
			if s.MailFrom != "" {
				s.Identity = "mailfrom"
				dom := s.MailFrom[strings.LastIndexByte(s.MailFrom, '@')+1:]
				s.Domain = asciiDomain(dom)
			} else if s.HELO != "" {
				s.Identity = "helo"
				s.Domain = asciiDomain(s.HELO)
			}
			if s.Domain == "" && s.Result == Pass {
				s.Result, s.Error = PermError, strPtr("the SPF identity is not a valid domain name")
			}
		case *authres.ARCResult:
			val, err := authresResult(r.Value)
			if err == nil {
				v.ARC.Result = val
				v.ARC.OldestPass = r.OldestPass
			}
		case *authres.DMARCResult:
			if dmarcRes == nil {
				dmarcRes = r
			}
		}
	}
	if v.SPF.Identity == "" && !spfSeen {
		v.SPF.Error = strPtr("the trusted Authentication-Results field has no SPF result")
	}
	computed := e.evaluateDMARC(from, v.DKIM, v.SPF)
	if dmarcRes != nil && from.problem == "" {
		hf := asciiDomain(unquote(dmarcRes.From))
		if hf == from.domain {
			val, err := authresResult(dmarcRes.Value)
			if err == nil {
				computed.Result = val
				computed.Error = nil
				if dmarcRes.Reason != "" {
					computed.Error = strPtr(unquote(dmarcRes.Reason))
				}
			}
		} else {
			e.warnf("the trusted Authentication-Results field judged DMARC for header.from=%s, not for the From domain %s: DMARC computed here", dmarcRes.From, from.domain)
		}
	}
	v.DMARC = computed
}
