package mailauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxIgnoredHeader cuts the value of an ignored Authentication-Results
// field in the report.
const maxIgnoredHeader = 512

// errAmbiguousAuthRes: syntax that readers of Authentication-Results
// disagree on, the vehicle of result injection (S31). go-msgauth's
// parser, for one, splits on white space inside quoted strings and lets
// the last of two equal properties win, so that
//
//	spf=pass smtp.mailfrom="a smtp.mailfrom=x@example.org "@evil.example
//
// (a MAIL FROM with a quoted local part, as a server records it) would
// read as smtp.mailfrom=x@example.org.
var errAmbiguousAuthRes = errors.New("ambiguous syntax")

func ambiguousAuthRes(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errAmbiguousAuthRes, fmt.Sprintf(format, args...))
}

// maxAuthResResults bounds the results read from one field.
const maxAuthResResults = 64

// authResInfo is one result of an Authentication-Results field (RFC 8601
// §2.2, resinfo).
type authResInfo struct {
	method string // lower case, without a method version
	result string // lower case
	// props are its reason and properties ("header.d"), names in lower
	// case, values as written (a quoted string keeps its quotes).
	props map[string]string
}

// splitAuthRes reads an unfolded Authentication-Results value into
// statements (separated by ";") of words (separated by white space or
// comments), honouring RFC 5322 quoted strings (kept whole, quotes and
// all, white space included) and comments (nested, with quoted pairs;
// dropped). It refuses what could be read two ways: a comment directly
// after a word (a lax server writing d=legit.example(.attack.example
// unquoted would otherwise yield header.d=legit.example), and a quoted
// string that holds ";" or parentheses.
func splitAuthRes(v string) ([][]string, error) {
	var stmts [][]string
	var cur []string
	var word strings.Builder
	inWord := false
	flush := func() {
		if inWord {
			cur = append(cur, word.String())
			word.Reset()
			inWord = false
		}
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ' ' || c == '\t':
			flush()
		case c == ';':
			flush()
			stmts = append(stmts, cur)
			cur = nil
		case c == '(':
			if inWord {
				return nil, ambiguousAuthRes("a comment glued to a value")
			}
			depth := 0
			for ; i < len(v); i++ {
				switch v[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
				if depth == 0 {
					break
				}
			}
			if i >= len(v) {
				return nil, errors.New("unbalanced parenthesis")
			}
		case c == ')':
			return nil, errors.New("unbalanced parenthesis")
		case c == '"':
			start := i
			for i++; i < len(v) && v[i] != '"'; i++ {
				switch v[i] {
				case '\\':
					i++
					if i < len(v) && (v[i] == ';' || v[i] == '(' || v[i] == ')') {
						return nil, ambiguousAuthRes("a quoted string holding %q", v[i])
					}
				case ';', '(', ')':
					return nil, ambiguousAuthRes("a quoted string holding %q", v[i])
				}
				if i < len(v) && (v[i] < 0x20 && v[i] != '\t' || v[i] == 0x7f) {
					return nil, fmt.Errorf("control character 0x%02x", v[i])
				}
			}
			if i >= len(v) {
				return nil, errors.New("unbalanced quote")
			}
			word.WriteString(v[start : i+1])
			inWord = true
		case c < 0x20 && c != '\t' || c == 0x7f:
			return nil, fmt.Errorf("control character 0x%02x", c)
		default:
			word.WriteByte(c)
			inWord = true
		}
	}
	flush()
	return append(stmts, cur), nil
}

// cutProp splits a word "name=value" at its first "=", which must come
// before any quote.
func cutProp(w string) (name, value string, ok bool) {
	eq := strings.IndexByte(w, '=')
	if eq <= 0 || strings.IndexByte(w[:eq], '"') >= 0 {
		return "", "", false
	}
	return w[:eq], w[eq+1:], true
}

// isKeyword reports whether s is a method, result or property name:
// letters, digits, "-", "_", and "." between a ptype and a property.
func isKeyword(s string, dots bool) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || dots && c == '.') {
			return false
		}
	}
	return true
}

// checkValue accepts a property value as RFC 8601 writes it: a token, a
// quoted string, or an address whose local part is a quoted string
// ("\"a b\"@example.org"); a quote anywhere else is refused.
func checkValue(v string) error {
	q := strings.IndexByte(v, '"')
	if q < 0 {
		return nil
	}
	if q > 0 {
		return ambiguousAuthRes("a quote inside the value %q", v)
	}
	i := 1
	for ; i < len(v) && v[i] != '"'; i++ {
		if v[i] == '\\' {
			i++
		}
	}
	rest := v[min(i+1, len(v)):]
	if rest != "" && (rest[0] != '@' || strings.IndexByte(rest, '"') >= 0) {
		return ambiguousAuthRes("text after the quoted string in %q", v)
	}
	return nil
}

// parseAuthRes reads an unfolded Authentication-Results value (RFC 8601
// §2.2): the authserv-id (unquoted) and the results. Every word of a
// result must be "name=value": a stray word, a property given twice in
// one result, or white space around "=" makes the field ambiguous.
func parseAuthRes(v string) (id string, results []authResInfo, err error) {
	stmts, err := splitAuthRes(v)
	if err != nil {
		return "", nil, err
	}
	head := stmts[0]
	switch {
	case len(head) == 0:
		return "", nil, errors.New("no authserv-id")
	case len(head) > 2:
		return "", nil, ambiguousAuthRes("%d words before the first \";\"", len(head))
	case len(head) == 2 && head[1] != "1":
		return "", nil, fmt.Errorf("unsupported version %q", head[1])
	}
	id = head[0]
	if strings.HasPrefix(id, "\"") {
		if err := checkValue(id); err != nil || !strings.HasSuffix(id, "\"") || len(id) < 2 {
			return "", nil, ambiguousAuthRes("a quote inside the authserv-id")
		}
		id = unquote(id)
	} else if strings.IndexByte(id, '"') >= 0 {
		return "", nil, ambiguousAuthRes("a quote inside the authserv-id")
	}
	for _, words := range stmts[1:] {
		if len(words) == 0 || len(words) == 1 && equalFoldASCII(words[0], "none") {
			continue
		}
		r, err := parseResInfo(words)
		if err != nil {
			return id, nil, err
		}
		results = append(results, r)
		if len(results) > maxAuthResResults {
			return id, nil, fmt.Errorf("more than %d results", maxAuthResResults)
		}
	}
	return id, results, nil
}

// parseResInfo reads one result: "method=result" and its reason and
// properties.
func parseResInfo(words []string) (authResInfo, error) {
	m, res, ok := cutProp(words[0])
	if !ok {
		if words[0] == "=" || strings.HasSuffix(words[0], "=") || len(words) > 1 && strings.HasPrefix(words[1], "=") {
			return authResInfo{}, ambiguousAuthRes("white space around \"=\"")
		}
		return authResInfo{}, fmt.Errorf("%q is not method=result", words[0])
	}
	method, version, hasVersion := strings.Cut(m, "/")
	if !isKeyword(method, false) || hasVersion && (version == "" || strings.Trim(version, "0123456789") != "") {
		return authResInfo{}, fmt.Errorf("%q is not a method", m)
	}
	if res == "" && len(words) > 1 {
		return authResInfo{}, ambiguousAuthRes("white space around \"=\"")
	}
	if !isKeyword(res, false) {
		return authResInfo{}, fmt.Errorf("%q is not a result", res)
	}
	r := authResInfo{method: lowerASCII(method), result: lowerASCII(res), props: map[string]string{}}
	for i, w := range words[1:] {
		name, val, ok := cutProp(w)
		if ok && val == "" && i+2 < len(words) {
			return authResInfo{}, ambiguousAuthRes("white space around \"=\"")
		}
		if !ok {
			if strings.HasPrefix(w, "=") || i+2 < len(words) && strings.HasPrefix(words[i+2], "=") {
				return authResInfo{}, ambiguousAuthRes("white space around \"=\"")
			}
			return authResInfo{}, ambiguousAuthRes("%q in the %s result is not a property", w, r.method)
		}
		if !isKeyword(name, true) {
			return authResInfo{}, fmt.Errorf("%q is not a property name", name)
		}
		name = lowerASCII(name)
		if _, dup := r.props[name]; dup {
			return authResInfo{}, ambiguousAuthRes("%s given twice in the %s result", name, r.method)
		}
		if err := checkValue(val); err != nil {
			return authResInfo{}, err
		}
		r.props[name] = val
	}
	if op, ok := r.props["header.oldest-pass"]; ok && r.method == "arc" {
		if n, err := strconv.Atoi(op); err != nil || n < 1 {
			return authResInfo{}, fmt.Errorf("invalid header.oldest-pass %q", op)
		}
	}
	return r, nil
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
	results []authResInfo
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
// are configured, a field below the Received field where the walk down
// the hops stopped is ignored: below the border field, it was there
// before the user's server received the message; below a field the walk
// could not read or vouch for, it may have been. A field that reads two
// ways (S31) is ignored too.
func (e *evaluation) authResults(border hopBorder) *trustedAuthRes {
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
		id, results, err := parseAuthRes(val)
		switch {
		case errors.Is(err, errAmbiguousAuthRes):
			ignore(rawID, err.Error()+": readers of the field could take it differently")
			continue
		case err != nil:
			ignore(rawID, "malformed: "+err.Error())
			continue
		}
		switch {
		case len(e.ev.opts.TrustedAuthServIDs) == 0:
			ignore(id, "no authserv-id is trusted (configure those of your own servers)")
		case !e.trustsAuthServID(id):
			ignore(id, "authserv-id not trusted")
		case border.idx >= 0 && idx > border.idx && border.vouched:
			ignore(id, "below the Received field of your border server: it was in the message before your server received it")
		case border.idx >= 0 && idx > border.idx:
			ignore(id, "below a Received field that your trusted hops do not vouch for (see the warning on SPF facts): it may have been in the message before your server received it")
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

// fromAuthResults fills the verdict from a trusted field. DKIM, SPF and
// ARC results are taken as they are; DMARC too when the field judged
// the same From domain, and is otherwise computed here from the field's
// DKIM and SPF results. Names in it are checked like ours: a header.d
// that is not a domain name does not count (S31).
func (e *evaluation) fromAuthResults(tr *trustedAuthRes, from fromInfo) {
	v := e.v
	v.Source, v.AuthServID = SourceAuthResults, tr.id
	v.SPF = SPFResult{Result: None, Facts: "authentication-results:" + tr.id}
	var dmarcRes *authResInfo
	spfSeen := false
	for i := range tr.results {
		r := &tr.results[i]
		switch r.method {
		case "dkim":
			d := DKIMResult{Domain: unquote(r.props["header.d"]), Identifier: unquote(r.props["header.i"])}
			val, err := ParseResult(r.result)
			d.Result = val
			if err != nil {
				d.Result, d.Error = PermError, strPtr(err.Error())
			} else if reason := r.props["reason"]; reason != "" {
				d.Error = strPtr(unquote(reason))
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
		case "spf":
			if spfSeen {
				continue
			}
			spfSeen = true
			s := &v.SPF
			val, err := ParseResult(r.result)
			s.Result = val
			if err != nil {
				s.Result, s.Error = PermError, strPtr(err.Error())
			}
			s.MailFrom, s.HELO = unquote(r.props["smtp.mailfrom"]), unquote(r.props["smtp.helo"])
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
		case "arc":
			val, err := ParseResult(r.result)
			if err == nil {
				v.ARC.Result = val
				v.ARC.OldestPass, _ = strconv.Atoi(r.props["header.oldest-pass"])
			}
		case "dmarc":
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
		hf := asciiDomain(unquote(dmarcRes.props["header.from"]))
		if hf == from.domain {
			val, err := ParseResult(dmarcRes.result)
			if err == nil {
				computed.Result = val
				computed.Error = nil
				if reason := dmarcRes.props["reason"]; reason != "" {
					computed.Error = strPtr(unquote(reason))
				}
			}
		} else {
			e.warnf("the trusted Authentication-Results field judged DMARC for header.from=%s, not for the From domain %s: DMARC computed here", dmarcRes.props["header.from"], from.domain)
		}
	}
	v.DMARC = computed
}
