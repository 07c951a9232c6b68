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

// maxReceivedComments bounds the nesting of comments in a Received field.
const maxReceivedComments = 8

// errAmbiguousReceived marks a Received field that could be read more
// than one way: the client chose part of what the server wrote (its
// HELO, Postfix and Sendmail record it as given, spaces, parentheses and
// all; the recipient of the "for" clause), so a field whose structure is
// not the one its server writes gives no facts at all.
var errAmbiguousReceived = errors.New("ambiguous")

func ambiguousReceived(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errAmbiguousReceived, fmt.Sprintf(format, args...))
}

// receivedStamp is what a Received field (RFC 5321 §4.4) says about one
// hop.
type receivedStamp struct {
	from string     // the word after "from": the client's HELO (Postfix, Sendmail) or its verified name (Exim)
	helo string     // the HELO the server recorded
	ip   netip.Addr // the client address, from the TCP information the server wrote
	by   string     // the server that added the field
	with string     // the protocol ("ESMTPS", "LMTP")
	// envelopeFrom is the MAIL FROM some servers (Exim, Dovecot) record
	// as "(envelope-from <addr>)"; hasEnvelopeFrom says whether it is
	// there.
	envelopeFrom    string
	hasEnvelopeFrom bool
	// localSocket: no client address at all and the LMTP protocol, that
	// is a delivery over a local socket (Dovecot, Cyrus).
	localSocket bool
	// heloLiteral: the client's HELO held an address literal in a
	// comment of its own, which Postfix recorded as given before its
	// own TCP information; that address was not used.
	heloLiteral bool
}

type receivedToken struct {
	text    string // a word, or a comment's content without its parentheses
	comment bool
	start   int // the offset of the token in the value
}

// tokenizeReceived splits a Received value into words and top-level
// comments, up to the ";" before the date, and counts the ";"s outside
// comments in the whole value.
func tokenizeReceived(v string) (toks []receivedToken, semicolons int, err error) {
	i := 0
	for i < len(v) {
		c := v[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			i++
		case c == ';':
			semicolons++
			i++
		case c == '(':
			end, err := commentEnd(v, i)
			if err != nil {
				return nil, 0, err
			}
			if semicolons == 0 {
				toks = append(toks, receivedToken{text: v[i+1 : end], comment: true, start: i})
			}
			i = end + 1
		case c == ')':
			return nil, 0, errors.New("unbalanced parenthesis")
		default:
			start := i
			for i < len(v) && !strings.ContainsRune(" \t\r\n;()", rune(v[i])) {
				i++
			}
			if semicolons == 0 {
				toks = append(toks, receivedToken{text: v[start:i], start: start})
			}
		}
		if len(toks) > 200 {
			return nil, 0, errors.New("too many tokens")
		}
	}
	return toks, semicolons, nil
}

// commentEnd returns the index of the ")" that closes the comment opened
// at v[i], honouring quoted pairs and nested comments.
func commentEnd(v string, i int) (int, error) {
	depth := 0
	for ; i < len(v); i++ {
		switch v[i] {
		case '\\':
			i++
		case '(':
			depth++
			if depth > maxReceivedComments {
				return 0, errors.New("comments nested too deep")
			}
		case ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, errors.New("unbalanced parenthesis")
}

// receivedComment is what a top-level comment of a Received field holds.
type receivedComment struct {
	tok    int    // its index among the tokens
	clause string // the clause it is in ("from", "by", ...)
	// words are the words of its own text, nested comments left out.
	words  []string
	nested bool // it holds comments
	// literals counts the words that hold an address literal, at any
	// depth; nestedLiteral says one is inside a nested comment.
	literals      int
	nestedLiteral bool
	// envelopeFrom counts the comments, at any depth, that start with
	// "envelope-from"; topEnvelopeFrom says this one does.
	envelopeFrom    int
	topEnvelopeFrom bool
}

// readComment analyses the comment c (its content, without its
// parentheses); the tokenizer checked that it is balanced.
func readComment(c string) receivedComment {
	var rc receivedComment
	var walk func(s string, depth int)
	walk = func(s string, depth int) {
		var own strings.Builder
		for i := 0; i < len(s); i++ {
			switch s[i] {
			case '\\':
				if i+1 < len(s) {
					i++
					own.WriteByte(s[i])
				}
			case '(':
				end, err := commentEnd(s, i)
				if err != nil { // not reached: the tokenizer checked
					end = len(s)
				}
				walk(s[i+1:end], depth+1)
				own.WriteByte(' ')
				i = end
				if depth == 0 {
					rc.nested = true
				}
			default:
				own.WriteByte(s[i])
			}
		}
		words := strings.Fields(own.String())
		if len(words) > 0 && len(words[0]) >= 13 && equalFoldASCII(words[0][:13], "envelope-from") {
			rc.envelopeFrom++
			if depth == 0 {
				rc.topEnvelopeFrom = true
			}
		}
		for _, w := range words {
			if holdsLiteral(w) {
				rc.literals++
				if depth > 0 {
					rc.nestedLiteral = true
				}
			}
		}
		if depth == 0 {
			rc.words = words
		}
	}
	walk(c, 0)
	return rc
}

// holdsLiteral reports whether a word of a comment holds an address
// literal anywhere ("[192.0.2.1]", "x[192.0.2.1]", "\"[192.0.2.1]\","),
// other than as the value of a labelled item such as Exim's
// "helo=[192.0.2.1]".
func holdsLiteral(w string) bool {
	if k, _, ok := strings.Cut(w, "="); ok && isLabel(k) {
		return false
	}
	for i := 0; i < len(w); i++ {
		if w[i] == '[' {
			if _, ok := addressLiteral(w[i:]); ok {
				return true
			}
		}
	}
	return false
}

// isLabel reports whether k is the label of a "label=value" item of TCP
// information (Exim's helo=, port=, ident=).
func isLabel(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && ('0' <= c && c <= '9' || c == '-' || c == '_')) {
			return false
		}
	}
	return true
}

// exactLiteral reads a word that is an address literal and nothing else:
// "[192.0.2.1]", "[IPv6:2001:db8::1]", optionally with ":port".
func exactLiteral(w string) (netip.Addr, bool) {
	a, ok := addressLiteral(w)
	if !ok {
		return netip.Addr{}, false
	}
	rest := w[strings.IndexByte(w, ']')+1:]
	if rest != "" {
		port, ok := strings.CutPrefix(rest, ":")
		if !ok || port == "" || strings.Trim(port, "0123456789") != "" {
			return netip.Addr{}, false
		}
	}
	return a, true
}

// isHostWord reports whether w can be the client's name in TCP
// information: "unknown", a host name (Google adds a final dot), or
// Sendmail's ident@host.
func isHostWord(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-' || c == '_' || c == '@') {
			return false
		}
	}
	return true
}

// readTCPInfo reads the TCP information a receiving server writes in the
// from clause: "rdns [ip]" (Postfix, Sendmail, Google), "[ip]:port
// helo=name" (Exim), each optionally followed by labelled items and, for
// Sendmail, a nested comment ("(may be forged)"). It returns the client
// address and the HELO when the comment names it (helo=).
func readTCPInfo(c receivedComment) (ip netip.Addr, helo string, ok bool) {
	w := c.words
	at := -1
	for i, word := range w {
		if a, isLit := exactLiteral(word); isLit {
			ip, at = a, i
			break
		}
	}
	if at < 0 || at > 1 || at == 1 && !isHostWord(w[0]) {
		return netip.Addr{}, "", false
	}
	for _, word := range w[at+1:] {
		k, v, isItem := strings.Cut(word, "=")
		if !isItem || !isLabel(k) {
			return netip.Addr{}, "", false
		}
		if equalFoldASCII(k, "helo") {
			if helo != "" {
				return netip.Addr{}, "", false
			}
			helo = v
		}
	}
	return ip, helo, true
}

// isPostfixTCPInfo reports whether c is Postfix's TCP information,
// exactly "name [ip]".
func isPostfixTCPInfo(c receivedComment) bool {
	if len(c.words) != 2 || c.nested || !isHostWord(c.words[0]) {
		return false
	}
	_, ok := exactLiteral(c.words[1])
	return ok
}

// parseReceived reads the from and by clauses of a Received field value:
// Postfix and Sendmail ("from helo (rdns [ip]) by host"), Exim ("from
// rdns ([ip]:port helo=name) by host ... (envelope-from <addr>)", or
// "from [ip] (port=n helo=name)"), Microsoft and Google ("(rdns. [ip])")
// all put the client address in brackets in the TCP information after
// the from word, Dovecot's LMTP ("from lhlo ([ip]) by host with LMTP
// ... (envelope-from <addr>)") too when it has one.
//
// The client chose some of the text: its HELO, which Postfix and
// Sendmail record as given, spaces, comments and all, and the recipient
// address of the "for" clause. A field that reads more than one way is
// refused (errAmbiguousReceived): a second ";", a clause keyword twice,
// an address literal in a comment outside the from clause or nested in
// another comment, several comments with an address literal (except that
// Postfix's own "name [ip]" comment is the last of them: the others are
// the HELO's), a comment with an address literal that is not TCP
// information, or an envelope-from comment twice, nested, or outside the
// clauses that follow "by".
func parseReceived(v string) (*receivedStamp, error) {
	toks, semicolons, err := tokenizeReceived(v)
	if err != nil {
		return nil, err
	}
	if semicolons > 1 {
		return nil, ambiguousReceived("%d semicolons outside comments (only the date follows one)", semicolons)
	}
	if len(toks) == 0 || toks[0].comment || !equalFoldASCII(toks[0].text, "from") {
		return nil, errors.New("no from clause")
	}
	st := &receivedStamp{}
	seen := map[string]bool{}
	clause := ""
	fromWord, byWord := -1, -1
	var comments []receivedComment
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.comment {
			c := readComment(t.text)
			c.tok, c.clause = i, clause
			comments = append(comments, c)
			continue
		}
		kw := lowerASCII(t.text)
		switch kw {
		case "from", "by", "with", "id", "via", "for":
		default:
			continue
		}
		if seen[kw] {
			return nil, ambiguousReceived("two %q clauses", kw)
		}
		seen[kw] = true
		clause = kw
		if i+1 < len(toks) && !toks[i+1].comment {
			i++
			switch kw {
			case "from":
				st.from, fromWord = toks[i].text, i
			case "by":
				st.by, byWord = toks[i].text, i
			case "with":
				st.with = toks[i].text
			}
		}
	}
	if st.from == "" {
		return nil, errors.New("no from clause")
	}
	if st.by == "" {
		return nil, errors.New("no by clause")
	}
	postfix := byWord+1 < len(toks) && toks[byWord+1].comment && strings.HasPrefix(toks[byWord+1].text, "Postfix")

	// The client address: from the one comment with an address literal,
	// which must be TCP information in the from clause.
	var lit []receivedComment
	envelopeFroms := 0
	for _, c := range comments {
		envelopeFroms += c.envelopeFrom
		if c.literals == 0 {
			continue
		}
		if c.nestedLiteral {
			return nil, ambiguousReceived("an address literal in a nested comment")
		}
		if c.clause != "from" {
			return nil, ambiguousReceived("an address literal in a comment of the %q clause", c.clause)
		}
		lit = append(lit, c)
	}
	var tcp *receivedComment
	switch {
	case len(lit) == 1:
		tcp = &lit[0]
	case len(lit) > 1 && postfix:
		// Postfix writes "from HELO (name [ip])": a comment of the
		// HELO comes before its own, which must be exactly that.
		tcp = &lit[len(lit)-1]
		if !isPostfixTCPInfo(*tcp) {
			return nil, ambiguousReceived("%d comments in the from clause give a client address, the last not as Postfix writes it", len(lit))
		}
		st.heloLiteral = true
	case len(lit) > 1:
		return nil, ambiguousReceived("%d comments in the from clause give a client address", len(lit))
	}
	if tcp != nil {
		if tcp.literals != 1 {
			return nil, ambiguousReceived("%d address literals in one comment", tcp.literals)
		}
		ip, helo, ok := readTCPInfo(*tcp)
		if !ok {
			return nil, ambiguousReceived("the comment with the client address, %q, is not TCP information as servers write it", toks[tcp.tok].text)
		}
		st.ip, st.helo = ip, helo
		if st.helo == "" {
			// Postfix and Sendmail: the HELO is all that comes between
			// "from" and their TCP information.
			st.helo = strings.TrimSpace(v[toks[fromWord].start:toks[tcp.tok].start])
		}
	} else {
		// Exim without a verified name: "from [ip] (port=n helo=name)".
		if a, ok := exactLiteral(st.from); ok {
			st.ip = a
		}
		for _, c := range comments {
			if c.clause != "from" {
				continue
			}
			for _, w := range c.words {
				if h, ok := strings.CutPrefix(w, "helo="); ok {
					if st.helo != "" {
						return nil, ambiguousReceived("two helo= items")
					}
					st.helo = h
				}
			}
		}
		st.localSocket = !st.ip.IsValid() && len(st.with) >= 4 && equalFoldASCII(st.with[:4], "LMTP")
	}
	if st.helo == "" {
		st.helo = st.from
	}

	// MAIL FROM, as Exim and Dovecot write it after "by".
	if envelopeFroms > 1 {
		return nil, ambiguousReceived("%d envelope-from comments", envelopeFroms)
	}
	for _, c := range comments {
		if c.envelopeFrom == 0 {
			continue
		}
		switch c.clause {
		case "by", "with", "id", "via":
		default:
			return nil, ambiguousReceived("an envelope-from comment in the %q clause", c.clause)
		}
		if !c.topEnvelopeFrom || c.nested || len(c.words) != 2 || !equalFoldASCII(c.words[0], "envelope-from") ||
			!strings.HasPrefix(c.words[1], "<") || !strings.HasSuffix(c.words[1], ">") {
			return nil, ambiguousReceived("an envelope-from comment not as servers write it: %q", toks[c.tok].text)
		}
		st.envelopeFrom = strings.TrimSuffix(strings.TrimPrefix(c.words[1], "<"), ">")
		if st.envelopeFrom == "" {
			st.envelopeFrom = "<>"
		}
		st.hasEnvelopeFrom = true
	}
	return st, nil
}

// addressLiteral reads "[192.0.2.1]", "[IPv6:2001:db8::1]", optionally
// followed by anything (":port").
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
	if err != nil || a.Zone() != "" {
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

// inNets reports whether ip is in one of nets (IPv4-mapped prefixes
// count as IPv4 ones).
func inNets(ip netip.Addr, nets []netip.Prefix) bool {
	ip = ip.Unmap()
	for _, p := range nets {
		if p.Addr().Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if p.IsValid() && p.Contains(ip) {
			return true
		}
	}
	return false
}

// internal reports whether the client of a hop was one of the user's own
// servers, on facts the client cannot choose: the address the receiving
// server saw is in one of nets, or there was no address at all and the
// message came by LMTP (a delivery over a local socket). Never the HELO,
// nor a name: the client says what it likes in HELO, and whoever runs
// the reverse zone of its address names it.
func (s *receivedStamp) internal(nets []netip.Prefix) bool {
	if !s.ip.IsValid() {
		return s.localSocket
	}
	return inNets(s.ip, nets)
}

func (s *receivedStamp) client() string {
	if s.ip.IsValid() {
		return s.ip.String()
	}
	return "a local socket"
}

// hopBorder is where the walk down the Received fields stopped: the
// index of the border field (the message's field index), and whether
// the user's own servers vouch for everything above it.
type hopBorder struct {
	idx     int
	vouched bool
}

// borderHop finds the Received field that the user's outermost server
// added when the message arrived from outside. The top field must have
// been added by a trusted hop; the walk goes on down only while the
// client of the field was itself one of the user's servers (internal),
// and the next field must then have been added by a trusted hop too.
//
// On an error the returned index is that of the field where the walk
// stopped (the field it could not read or vouch for; -1 when there is no
// Received field), so that what lies below it is not believed either.
func borderHop(m *message, hops []string, nets []netip.Prefix) (idx int, st *receivedStamp, err error) {
	recs := m.named("received")
	if len(recs) == 0 {
		return -1, nil, errors.New("the message has no Received field")
	}
	var prev *receivedStamp
	for n, i := range recs {
		if n >= maxReceivedHops {
			return i, nil, fmt.Errorf("more than %d Received fields from trusted hops", maxReceivedHops)
		}
		s, err := parseReceived(unfold(m.fields[i].value))
		if err != nil {
			if n == 0 {
				return i, nil, fmt.Errorf("cannot read the top Received field: %v", err)
			}
			return i, nil, fmt.Errorf("%s received the message from %s, one of your own servers, but its Received field cannot be read: %v", prev.by, prev.client(), err)
		}
		if !hostIn(s.by, hops) {
			if n == 0 {
				return i, nil, fmt.Errorf("the top Received field was added by %q, not by a trusted hop", s.by)
			}
			return i, nil, fmt.Errorf("%s received the message from %s, one of your own servers, but the Received field below was added by %q, not by a trusted hop", prev.by, prev.client(), s.by)
		}
		if !s.internal(nets) || n+1 == len(recs) {
			if !s.ip.IsValid() {
				return i, nil, fmt.Errorf("the Received field added by %s gives no client address", s.by)
			}
			return i, s, nil
		}
		prev = s
	}
	return -1, nil, errors.New("no Received field") // not reached: the last field returns
}

// connectionFromReceived builds the SPF facts from the border hop's
// Received field: the client address and HELO it recorded, and MAIL FROM
// from its envelope-from comment or, failing that, from a single
// Return-Path field above it (added at delivery, RFC 5321 §4.4). It
// returns the border too, for the Authentication-Results fields, also
// when there are no facts.
func (e *evaluation) connectionFromReceived() (*Connection, string, hopBorder) {
	m := e.msg
	idx, st, err := borderHop(m, e.ev.opts.TrustedHops, e.ev.opts.TrustedHopNets)
	if err != nil {
		e.warnf("SPF facts: %v", err)
		return nil, "", hopBorder{idx: idx}
	}
	if st.heloLiteral {
		e.warnf("SPF facts: the client's HELO in the Received field added by %s holds an address literal of its own; the address %s recorded, %s, is used", st.by, st.by, st.ip)
	}
	if !inNets(st.ip, e.ev.opts.TrustedHopNets) && (st.ip.IsLoopback() || st.ip.IsPrivate() || st.ip.IsLinkLocalUnicast()) {
		e.warnf("SPF facts: %s received the message from %s, a local address: if that is one of your own servers, name its network as trusted (TrustedHopNets, --trusted-hop-net)", st.by, st.ip)
	}
	c := &Connection{IP: st.ip, HELO: st.helo}
	if st.hasEnvelopeFrom {
		c.MailFrom = st.envelopeFrom
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
	return c, "received:" + strings.TrimSuffix(st.by, "."), hopBorder{idx: idx, vouched: true}
}
