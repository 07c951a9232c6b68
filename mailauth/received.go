package mailauth

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// maxReceivedHops bounds the walk down the Received fields of the
// user's own servers.
const maxReceivedHops = 30

// receivedStamp is what a Received field (RFC 5321 §4.4) says about one
// hop.
type receivedStamp struct {
	from string     // the word after "from": the client's HELO, or its name
	rdns string     // the name in the TCP-info comment ("unknown" if none)
	helo string     // the HELO the server recorded (Exim's helo=, else from)
	ip   netip.Addr // the client address from the TCP-info
	by   string     // the server that added the field
	// envelopeFrom is the MAIL FROM some servers (Exim) record as
	// "(envelope-from <addr>)"; hasEnvelopeFrom says whether it is there.
	envelopeFrom    string
	hasEnvelopeFrom bool
}

type receivedToken struct {
	text    string
	comment bool
}

// tokenizeReceived splits a Received value into words and comments, up to
// the ";" before the date.
func tokenizeReceived(v string) ([]receivedToken, error) {
	var toks []receivedToken
	i := 0
	for i < len(v) {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == ';':
			return toks, nil
		case c == '(':
			depth := 0
			start := i
			for ; i < len(v); i++ {
				if v[i] == '\\' {
					i++
					continue
				}
				if v[i] == '(' {
					depth++
				} else if v[i] == ')' {
					depth--
					if depth == 0 {
						break
					}
				}
			}
			if i >= len(v) {
				return nil, errors.New("unbalanced parenthesis")
			}
			toks = append(toks, receivedToken{text: v[start+1 : i], comment: true})
			i++
		default:
			start := i
			for i < len(v) && !strings.ContainsRune(" \t\r\n;(", rune(v[i])) {
				i++
			}
			toks = append(toks, receivedToken{text: v[start:i]})
		}
		if len(toks) > 200 {
			return nil, errors.New("too many tokens")
		}
	}
	return toks, nil
}

// parseReceived reads the from and by clauses of a Received field value:
// Postfix and Sendmail ("from helo (rdns [ip]) by host"), Exim ("from
// rdns ([ip]:port helo=name) by host ... (envelope-from <addr>)"),
// Microsoft and Google ("(rdns. [ip])") all put the client address in
// brackets in the comment after the from word.
func parseReceived(v string) (*receivedStamp, error) {
	toks, err := tokenizeReceived(v)
	if err != nil {
		return nil, err
	}
	st := &receivedStamp{}
	clause := ""
	fromComments := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.comment {
			if clause == "from" && fromComments == 0 {
				st.readTCPInfo(t.text)
				fromComments++
			}
			if ef, ok := strings.CutPrefix(strings.TrimSpace(t.text), "envelope-from "); ok {
				st.envelopeFrom = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(ef), "<"), ">")
				st.hasEnvelopeFrom = true
				if strings.TrimSpace(ef) == "<>" {
					st.envelopeFrom = "<>"
				}
			}
			continue
		}
		kw := lowerASCII(t.text)
		switch kw {
		case "from", "by", "with", "id", "via", "for":
			clause = kw
			if i+1 < len(toks) && !toks[i+1].comment {
				i++
				switch kw {
				case "from":
					if st.from == "" {
						st.from = toks[i].text
					}
				case "by":
					if st.by == "" {
						st.by = toks[i].text
					}
				}
			}
		}
	}
	if st.by == "" {
		return nil, errors.New("no by clause")
	}
	if st.from == "" {
		return nil, errors.New("no from clause")
	}
	if st.helo == "" {
		st.helo = st.from
	}
	if !st.ip.IsValid() {
		if a, ok := addressLiteral(st.from); ok {
			st.ip = a
		}
	}
	return st, nil
}

// readTCPInfo reads "rdns [ip]", "[ip]:port helo=name", "rdns. [IPv6:…]".
func (st *receivedStamp) readTCPInfo(c string) {
	for _, w := range strings.Fields(c) {
		if a, ok := addressLiteral(w); ok {
			if !st.ip.IsValid() {
				st.ip = a
			}
			continue
		}
		if h, ok := strings.CutPrefix(w, "helo="); ok {
			st.helo = strings.TrimSuffix(h, ")")
			continue
		}
		if st.rdns == "" && !strings.Contains(w, "=") {
			st.rdns = strings.TrimSuffix(w, ".")
		}
	}
}

// addressLiteral reads "[192.0.2.1]", "[IPv6:2001:db8::1]", optionally
// followed by ":port".
func addressLiteral(w string) (netip.Addr, bool) {
	if !strings.HasPrefix(w, "[") {
		return netip.Addr{}, false
	}
	end := strings.IndexByte(w, ']')
	if end < 0 {
		return netip.Addr{}, false
	}
	lit := w[1:end]
	if len(lit) > 5 && equalFoldASCII(lit[:5], "IPv6:") {
		lit = lit[5:]
	}
	a, err := netip.ParseAddr(lit)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// hostIn reports whether a host name is one of hosts (ASCII case and a
// final dot aside).
func hostIn(name string, hosts []string) bool {
	name = strings.TrimSuffix(name, ".")
	for _, h := range hosts {
		if name != "" && equalFoldASCII(name, strings.TrimSuffix(h, ".")) {
			return true
		}
	}
	return false
}

// borderHop finds the Received field that the user's outermost server
// added when the message arrived from outside, walking down from the top
// field while each was added by a trusted hop and came from another
// trusted hop. It never reads a field that an untrusted server could
// have written: the top field must be added by a trusted hop.
func borderHop(m *message, trusted []string) (idx int, st *receivedStamp, err error) {
	recs := m.named("received")
	if len(recs) == 0 {
		return -1, nil, errors.New("the message has no Received field")
	}
	for n, i := range recs {
		if n >= maxReceivedHops {
			return -1, nil, fmt.Errorf("more than %d Received fields from trusted hops", maxReceivedHops)
		}
		s, err := parseReceived(unfold(m.fields[i].value))
		if err != nil {
			return -1, nil, fmt.Errorf("cannot read the Received field of a trusted hop: %v", err)
		}
		if !hostIn(s.by, trusted) {
			if n == 0 {
				return -1, nil, fmt.Errorf("the top Received field was added by %q, not by a trusted hop", s.by)
			}
			return -1, nil, fmt.Errorf("a trusted hop says it received the message from %q, but the Received field below was added by %q", recsFrom(st), s.by)
		}
		st = s
		idx = i
		internal := hostIn(s.from, trusted) || hostIn(s.rdns, trusted) || hostIn(s.helo, trusted)
		if !internal || n+1 == len(recs) {
			break
		}
	}
	if !st.ip.IsValid() {
		return -1, nil, fmt.Errorf("the Received field added by %s gives no client address", st.by)
	}
	return idx, st, nil
}

func recsFrom(st *receivedStamp) string {
	if st == nil {
		return ""
	}
	return st.from
}

// connectionFromReceived builds the SPF facts from the border hop's
// Received field: the client address and HELO it recorded, and MAIL FROM
// from its envelope-from comment or, failing that, from a single
// Return-Path field above it (added at delivery, RFC 5321 §4.4).
func connectionFromReceived(m *message, trusted []string) (*Connection, string, int, error) {
	idx, st, err := borderHop(m, trusted)
	if err != nil {
		return nil, "", -1, err
	}
	c := &Connection{IP: st.ip, HELO: st.helo}
	if st.hasEnvelopeFrom {
		c.MailFrom = st.envelopeFrom
		if c.MailFrom == "" {
			c.MailFrom = "<>"
		}
	} else {
		var rp []string
		for _, i := range m.named("return-path") {
			if i < idx {
				rp = append(rp, strings.TrimSpace(unfold(m.fields[i].value)))
			}
		}
		if len(rp) == 1 {
			v := rp[0]
			if v == "<>" {
				c.MailFrom = "<>"
			} else {
				c.MailFrom = strings.TrimSuffix(strings.TrimPrefix(v, "<"), ">")
			}
		}
	}
	return c, "received:" + strings.TrimSuffix(st.by, "."), idx, nil
}
