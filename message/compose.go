package message

import (
	"bytes"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net/mail"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Attachment is a file to send.
type Attachment struct {
	Filename    string // UTF-8; RFC 2231 encoded when not plain ASCII
	ContentType string // "" means detected from the extension (mime.TypeByExtension), else application/octet-stream
	Data        []byte
	Inline      bool // Content-Disposition: inline instead of attachment
}

// Draft is a message to compose.
type Draft struct {
	From                 *mail.Address
	To, Cc, Bcc, ReplyTo []*mail.Address // Bcc is never written into the message
	Subject              string          // UTF-8
	Date                 time.Time       // zero: ComposeOptions.Now()
	MessageID            string          // "" : generated "<random@domain of From>"; given without or with <>
	InReplyTo            string
	References           []string
	Extra                []HeaderField // further fields, written as given (after validation)
	Text                 string        // the text/plain body (UTF-8)
	HTML                 string        // optional text/html alternative
	Attachments          []Attachment
}

// HeaderField is one header field of Draft.Extra. Value must be printable
// ASCII (encode text with [EncodeHeaderValue] first); it is folded at its
// whitespace when long, and whitespace around it is dropped (readers drop
// it too, and a line must not end in it).
type HeaderField struct{ Name, Value string }

// ComposeOptions supply the clock and the randomness of composition. A nil
// *ComposeOptions means the defaults.
type ComposeOptions struct {
	Now  func() time.Time // nil: time.Now
	Rand io.Reader        // nil: crypto/rand (boundaries, Message-ID)
}

func (o *ComposeOptions) now() time.Time {
	if o == nil || o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *ComposeOptions) rand() io.Reader {
	if o == nil || o.Rand == nil {
		return rand.Reader
	}
	return o.Rand
}

// ErrHeaderInjection is what a [HeaderError] wraps when a draft carries CR,
// LF or NUL in a header name or value: a character that would end the
// field and start another (a Bcc, a second From, a forged body).
var ErrHeaderInjection = errors.New("message: header injection")

// HeaderError says a draft cannot be written as header fields: a value
// with CR, LF or NUL (then Err is [ErrHeaderInjection]), an address or
// message identifier that is not one, a field name that is not one, or an
// Extra field that composition writes itself.
type HeaderError struct {
	Field  string // where: "Subject", "To", "Extra[2]", "Attachments[0].Filename"
	Reason string
	Err    error // ErrHeaderInjection, an underlying parse error, or nil
}

func (e *HeaderError) Error() string {
	return "message: " + e.Field + ": " + e.Reason
}

func (e *HeaderError) Unwrap() error { return e.Err }

// Line lengths of RFC 5322 §2.1.1: lines SHOULD be at most 78 characters
// and MUST be at most 998, CRLF excluded.
const (
	softLineLimit = 78
	hardLineLimit = 998
)

// Compose returns the whole RFC 5322 message, CRLF line ends: the fields
// of [ComposeHeader] followed by the entity of [ComposeBody], whose MIME
// fields are those of the top-level entity.
func Compose(d *Draft, opts *ComposeOptions) ([]byte, error) {
	h, err := ComposeHeader(d, opts)
	if err != nil {
		return nil, err
	}
	b, err := ComposeBody(d, opts)
	if err != nil {
		return nil, err
	}
	return append(h, b...), nil
}

// ComposeHeader returns only the RFC 5322 header fields (From, To, Cc,
// Reply-To, Subject, Date, Message-ID, In-Reply-To, References,
// MIME-Version, Extra) — without Content-* fields and without the blank
// line — so a caller can wrap a protected body under them. Every field
// ends in CRLF, is 7-bit and folded. Bcc is never written. Empty To, Cc,
// Reply-To, Subject, In-Reply-To and References are left out; From is
// required.
func ComposeHeader(d *Draft, opts *ComposeOptions) ([]byte, error) {
	if d == nil {
		return nil, errors.New("message: nil draft")
	}
	var h headerWriter
	if d.From == nil {
		return nil, &HeaderError{Field: "From", Reason: "missing (RFC 5322 §3.6 requires it)"}
	}
	from, err := addressList("From", []*mail.Address{d.From})
	if err != nil {
		return nil, err
	}
	if err := h.structured("From", from); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name  string
		addrs []*mail.Address
	}{{"To", d.To}, {"Cc", d.Cc}, {"Reply-To", d.ReplyTo}} {
		if len(f.addrs) == 0 {
			continue
		}
		v, err := addressList(f.name, f.addrs)
		if err != nil {
			return nil, err
		}
		if err := h.structured(f.name, v); err != nil {
			return nil, err
		}
	}
	// Bcc is checked like the others though never written: a caller that
	// hands the same draft to the transport must not get an injection
	// through it either.
	if _, err := addressList("Bcc", d.Bcc); err != nil {
		return nil, err
	}

	if d.Subject != "" {
		if err := checkText("Subject", d.Subject); err != nil {
			return nil, err
		}
		h.raw("Subject", EncodeHeaderValue("Subject", d.Subject))
	}

	date := d.Date
	if date.IsZero() {
		date = opts.now()
	}
	if y := date.Year(); y < 1900 || y > 9999 {
		return nil, &HeaderError{Field: "Date", Reason: fmt.Sprintf("year %d out of range", y)}
	}
	// RFC 5322 §3.3 date-time: "Mon, 02 Jan 2006 15:04:05 -0700".
	h.raw("Date", date.Format(time.RFC1123Z))

	id := d.MessageID
	if id == "" {
		id, err = NewMessageID(opts.rand(), domainOf(d.From.Address))
		if err != nil {
			return nil, err
		}
	} else if id, err = msgID("Message-ID", id); err != nil {
		return nil, err
	}
	h.raw("Message-ID", id)

	if d.InReplyTo != "" {
		v, err := msgID("In-Reply-To", d.InReplyTo)
		if err != nil {
			return nil, err
		}
		h.raw("In-Reply-To", v)
	}
	if len(d.References) > 0 {
		ids := make([]string, len(d.References))
		for i, r := range d.References {
			if ids[i], err = msgID(fmt.Sprintf("References[%d]", i), r); err != nil {
				return nil, err
			}
		}
		if err := h.structured("References", strings.Join(ids, " ")); err != nil {
			return nil, err
		}
	}
	h.raw("MIME-Version", "1.0")

	for i, f := range d.Extra {
		where := fmt.Sprintf("Extra[%d]", i)
		if err := checkExtra(where, f); err != nil {
			return nil, err
		}
		if err := h.structured(f.Name, strings.Trim(f.Value, " \t")); err != nil {
			err.(*HeaderError).Field = where
			return nil, err
		}
	}
	return h.buf.Bytes(), nil
}

// ComposeBody returns the MIME entity of the content:
// Content-Type/Content-Transfer-Encoding(/Content-Disposition) fields,
// blank line, body — canonical CRLF, 7-bit clean (so it survives any
// transport unchanged, as signing requires: RFC 3156 §3, RFC 8551
// §3.1.2), ready to be signed or encrypted.
//
// The structure is text/plain (or text/html when only HTML is given);
// multipart/alternative of both when both are; multipart/mixed of that
// body and the attachments when there are attachments. Text and HTML are
// written with CRLF line ends (RFC 2046 §4.1.1: bare LF becomes CRLF, a
// bare CR is kept and quoted-printable encoded); nothing is added at
// their end, so [Message.Text] gives them back. Attachment bytes are kept
// exactly.
func ComposeBody(d *Draft, opts *ComposeOptions) ([]byte, error) {
	if d == nil {
		return nil, errors.New("message: nil draft")
	}
	c := composer{rand: opts.rand()}
	var body []byte
	var err error
	switch {
	case d.HTML == "":
		body, err = textPart("plain", "Text", d.Text)
	case d.Text == "":
		body, err = textPart("html", "HTML", d.HTML)
	default:
		var plain, html []byte
		if plain, err = textPart("plain", "Text", d.Text); err != nil {
			return nil, err
		}
		if html, err = textPart("html", "HTML", d.HTML); err != nil {
			return nil, err
		}
		body, err = c.multipart("alternative", [][]byte{plain, html})
	}
	if err != nil || len(d.Attachments) == 0 {
		return body, err
	}
	parts := [][]byte{body}
	for i, a := range d.Attachments {
		p, err := attachmentPart(i, a)
		if err != nil {
			return nil, err
		}
		parts = append(parts, p)
	}
	return c.multipart("mixed", parts)
}

// NewMessageID makes "<random@domain>": 128 random bits from rnd (nil:
// crypto/rand) in lower-case base32, at domain, which must be a
// dot-atom or a domain literal.
func NewMessageID(rnd io.Reader, domain string) (string, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	if !validIDRight(domain) {
		return "", &HeaderError{Field: "Message-ID", Reason: fmt.Sprintf("domain %q is not usable", domain)}
	}
	var b [16]byte
	if _, err := io.ReadFull(rnd, b[:]); err != nil {
		return "", fmt.Errorf("message: Message-ID: %w", err)
	}
	return "<" + lowerBase32.EncodeToString(b[:]) + "@" + domain + ">", nil
}

var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}

// EncodeHeaderValue encodes an unstructured header value (Subject) per RFC
// 2047 when it is not plain printable ASCII, folding long lines at 78
// chars (RFC 5322 §2.1.1). The result is the value only, laid out to
// follow "name: " on the first line; every line break in it is a fold
// (CRLF followed by a space or tab).
//
// Words of printable ASCII stay readable ("Re: [list]"); the stretch from
// the first word that is not to the last becomes encoded words of UTF-8,
// Q (readable) unless B is clearly shorter, each holding whole characters
// (RFC 2047 §5) in at most 75 octets (§2). A word needs encoding when it has an
// octet that is not printable ASCII (CR, LF and every other control
// character included, so the result cannot start a new field), when it
// contains "=?" (a reader would decode it), or when it is too long for
// any line; whitespace at either end of the value is encoded too, since
// readers strip it.
func EncodeHeaderValue(name, value string) string {
	w := foldWriter{lineLen: len(name) + len(": ")}
	toks := headerTokens(value)
	lo, hi := encodedStretch(w.lineLen, toks)
	if lo > hi {
		w.plain("", value)
		return w.b.String()
	}
	// toks[lo:hi+1] are encoded; the whitespace tokens around them stay
	// as they are: whitespace between an encoded word and text is text
	// (RFC 2047 §6.2).
	prefix, suffix := strings.Join(toks[:max(lo-1, 0)], ""), strings.Join(toks[hi+1:], "")
	sep := ""
	if lo > 0 {
		sep = toks[lo-1]
	}
	w.plain("", prefix)
	w.encoded(sep, strings.Join(toks[lo:hi+1], ""))
	if suffix != "" {
		// suffix starts with its whitespace token.
		w.plain(suffix[:len(suffix)-len(strings.TrimLeft(suffix, " \t"))], strings.TrimLeft(suffix, " \t"))
	}
	return w.b.String()
}

// headerTokens splits s into runs of whitespace (space, tab) and words.
func headerTokens(s string) []string {
	var toks []string
	for s != "" {
		i := 1
		for i < len(s) && isHeaderSpace(s[i]) == isHeaderSpace(s[0]) {
			i++
		}
		toks = append(toks, s[:i])
		s = s[i:]
	}
	return toks
}

// encodedStretch returns the first and last token to encode (lo > hi:
// none). The stretch starts and ends with a word, or at an end of the
// value when whitespace there must be encoded.
func encodedStretch(first int, toks []string) (lo, hi int) {
	lo, hi = len(toks), -1
	for i, t := range toks {
		need := false
		if isHeaderSpace(t[0]) {
			need = i == 0 || i == len(toks)-1
		} else {
			prev := first
			if i > 0 {
				prev = len(toks[i-1])
			}
			need = prev+len(t) > hardLineLimit || strings.Contains(t, "=?")
			for j := 0; j < len(t) && !need; j++ {
				need = t[j] < '!' || t[j] > '~'
			}
		}
		if need {
			lo, hi = min(lo, i), max(hi, i)
		}
	}
	if lo <= hi {
		if isHeaderSpace(toks[lo][0]) && lo+1 < len(toks) {
			hi = max(hi, lo+1) // leading whitespace: encode it with the first word
		}
		if isHeaderSpace(toks[hi][0]) && hi > 0 {
			lo = min(lo, hi-1) // trailing whitespace: with the last word
		}
	}
	return lo, hi
}

// foldWriter lays out a field value in lines of at most 78 octets where
// it can, breaking only before whitespace.
type foldWriter struct {
	b           strings.Builder
	lineLen     int
	quotedPairs bool // a structured field: no fold after a backslash
}

// atom writes sep+text, folding before sep when the line would be too
// long. sep is whitespace, or "" at the start of the value.
func (w *foldWriter) atom(sep, text string) {
	if sep != "" && w.lineLen+len(sep)+len(text) > softLineLimit {
		w.b.WriteString("\r\n")
		w.lineLen = 0
	}
	w.b.WriteString(sep)
	w.b.WriteString(text)
	w.lineLen += len(sep) + len(text)
}

// plain writes sep and then text, which has no whitespace at either end,
// folding before its whitespace runs.
func (w *foldWriter) plain(sep, text string) {
	if text == "" {
		return
	}
	for i, seg := range foldSegments(text, w.quotedPairs) {
		if i == 0 {
			w.atom(sep, seg)
			continue
		}
		word := strings.TrimLeft(seg, " \t")
		w.atom(seg[:len(seg)-len(word)], word)
	}
}

// encoded writes sep and then text as encoded words. The whitespace
// between two encoded words is not part of the text (RFC 2047 §6.2), so
// spaces travel inside the words, and the words are separated by single
// spaces, where lines fold.
func (w *foldWriter) encoded(sep, text string) {
	qLen := 0
	for i := 0; i < len(text); i++ {
		if qLiteral(text[i]) || text[i] == ' ' {
			qLen++
		} else {
			qLen += 3
		}
	}
	// Q stays readable; B only when it is clearly shorter (by the margin
	// Python's email package also uses).
	useB := qLen-(len(text)+2)/3*4 >= 5
	prefix := "=?utf-8?q?"
	if useB {
		prefix = "=?utf-8?b?"
	}
	const overhead = len("=?utf-8?q?") + len("?=")
	encLen := func(chunk string) int {
		if useB {
			return (len(chunk) + 2) / 3 * 4
		}
		n := 0
		for i := 0; i < len(chunk); i++ {
			if qLiteral(chunk[i]) || chunk[i] == ' ' {
				n++
			} else {
				n += 3
			}
		}
		return n
	}
	for text != "" {
		// Room for this word on the current line, or else on a new one.
		room := softLineLimit - w.lineLen - len(sep)
		_, size := utf8.DecodeRuneInString(text)
		if sep != "" && min(75, room)-overhead < encLen(text[:size]) {
			room = softLineLimit - len(sep)
		}
		limit := min(75, room) - overhead
		n := size
		for n < len(text) {
			_, size := utf8.DecodeRuneInString(text[n:])
			if encLen(text[:n+size]) > limit {
				break
			}
			n += size
		}
		var word strings.Builder
		word.WriteString(prefix)
		if useB {
			word.WriteString(base64.StdEncoding.EncodeToString([]byte(text[:n])))
		} else {
			for i := 0; i < n; i++ {
				switch c := text[i]; {
				case c == ' ':
					word.WriteByte('_')
				case qLiteral(c):
					word.WriteByte(c)
				default:
					fmt.Fprintf(&word, "=%02X", c)
				}
			}
		}
		word.WriteString("?=")
		w.atom(sep, word.String())
		text, sep = text[n:], " "
	}
}

// qLiteral reports whether c stands for itself in a Q encoded word. The
// set is RFC 2047 §5(3)'s, the narrowest, so that the words are valid in
// any header context.
func qLiteral(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '!' || c == '*' || c == '+' || c == '-' || c == '/'
}

func isHeaderSpace(c byte) bool { return c == ' ' || c == '\t' }

// foldSegments splits value before each run of whitespace where a fold may
// go: a run that follows a character other than whitespace (a line may
// not be blank, RFC 5322 §3.2.2) and precedes one. In a structured field
// (quotedPairs), not after a backslash either: a quoted-pair stays on one
// line. Folds may go inside quoted strings and comments: their FWS
// unfolds to the same text (RFC 5322 §3.2.2, §3.2.4).
func foldSegments(value string, quotedPairs bool) []string {
	var segs []string
	start := 0
	for i := 1; i < len(value); i++ {
		if c := value[i-1]; !isHeaderSpace(value[i]) || isHeaderSpace(c) || quotedPairs && c == '\\' {
			continue
		}
		j := i
		for j < len(value) && isHeaderSpace(value[j]) {
			j++
		}
		if j < len(value) {
			segs = append(segs, value[start:i])
			start = i
		}
	}
	return append(segs, value[start:])
}

// headerWriter collects header fields.
type headerWriter struct{ buf bytes.Buffer }

// raw writes a field whose value is already laid out.
func (h *headerWriter) raw(name, value string) {
	h.buf.WriteString(name)
	h.buf.WriteByte(':')
	if value != "" {
		h.buf.WriteByte(' ')
		h.buf.WriteString(value)
	}
	h.buf.WriteString("\r\n")
}

// structured folds value and writes the field.
func (h *headerWriter) structured(name, value string) error {
	w := foldWriter{lineLen: len(name) + len(": "), quotedPairs: true}
	w.plain("", value)
	v := w.b.String()
	for i, line := range strings.Split(v, "\r\n") {
		if i == 0 && len(name)+len(": ")+len(line) > hardLineLimit || len(line) > hardLineLimit {
			return &HeaderError{Field: name, Reason: "a line longer than 998 octets cannot be folded (RFC 5322 §2.1.1)"}
		}
	}
	h.raw(name, v)
	return nil
}

// hasInjection reports CR, LF or NUL in s.
func hasInjection(s string) bool { return strings.ContainsAny(s, "\r\n\x00") }

func injectionError(field, what string) error {
	return &HeaderError{Field: field, Reason: what + " contains CR, LF or NUL", Err: ErrHeaderInjection}
}

// checkText accepts UTF-8 text for an encoded header value or parameter.
func checkText(field, s string) error {
	if hasInjection(s) {
		return injectionError(field, "value")
	}
	if !utf8.ValidString(s) {
		return &HeaderError{Field: field, Reason: "not valid UTF-8"}
	}
	return nil
}

// addressList validates addrs and joins their RFC 5322 forms. Each address
// must survive being written and read back by net/mail unchanged, and be
// ASCII (internationalised addresses, RFC 6532, would make the header
// 8-bit).
func addressList(field string, addrs []*mail.Address) (string, error) {
	out := make([]string, len(addrs))
	for i, a := range addrs {
		if a == nil {
			return "", &HeaderError{Field: field, Reason: "nil address"}
		}
		if hasInjection(a.Name) {
			return "", injectionError(field, "display name")
		}
		if hasInjection(a.Address) {
			return "", injectionError(field, "address")
		}
		if !utf8.ValidString(a.Name) {
			return "", &HeaderError{Field: field, Reason: "display name is not valid UTF-8"}
		}
		for j := 0; j < len(a.Address); j++ {
			if c := a.Address[j]; c < ' ' || c >= 0x7f {
				return "", &HeaderError{Field: field, Reason: fmt.Sprintf("address %q is not printable ASCII", a.Address)}
			}
		}
		s := a.String()
		back, err := mail.ParseAddress(s)
		if err != nil {
			return "", &HeaderError{Field: field, Reason: fmt.Sprintf("%q is not a valid address", a.Address), Err: err}
		}
		if back.Name != a.Name || back.Address != a.Address {
			return "", &HeaderError{Field: field, Reason: fmt.Sprintf("address %q does not read back as written", a.Address)}
		}
		out[i] = s
	}
	return strings.Join(out, ", "), nil
}

// msgID validates a message identifier given with or without its angle
// brackets and returns it with them (RFC 5322 §3.6.4: "<" id-left "@"
// id-right ">", printable ASCII without spaces).
func msgID(field, s string) (string, error) {
	if hasInjection(s) {
		return "", injectionError(field, "value")
	}
	id := strings.TrimSpace(s)
	if strings.HasPrefix(id, "<") && strings.HasSuffix(id, ">") && len(id) >= 2 {
		id = id[1 : len(id)-1]
	}
	at := strings.LastIndexByte(id, '@')
	bad := at <= 0 || at == len(id)-1 || len(id) > 900
	for i := 0; i < len(id) && !bad; i++ {
		c := id[i]
		bad = c <= ' ' || c >= 0x7f || c == '<' || c == '>'
	}
	if bad {
		return "", &HeaderError{Field: field, Reason: fmt.Sprintf("%q is not a message identifier <left@right>", s)}
	}
	return "<" + id + ">", nil
}

// validIDRight accepts a dot-atom-text or a no-fold-literal ("[...]"), the
// right side of a msg-id (RFC 5322 §3.6.4).
func validIDRight(d string) bool {
	if d == "" || len(d) > 255 {
		return false
	}
	if d[0] == '[' {
		if len(d) < 2 || d[len(d)-1] != ']' {
			return false
		}
		for i := 1; i < len(d)-1; i++ {
			if c := d[i]; c <= ' ' || c >= 0x7f || c == '[' || c == ']' || c == '\\' {
				return false
			}
		}
		return true
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>[]:;@\,."`, c) >= 0 {
				return false
			}
		}
	}
	return true
}

// composedFields are written by ComposeHeader or ComposeBody; an Extra
// field of the same name would be a duplicate a reader may pick instead
// (two From fields, S23) or a second Content-Type.
var composedFields = []string{
	"from", "to", "cc", "bcc", "reply-to", "subject", "date", "message-id",
	"in-reply-to", "references", "mime-version",
}

func checkExtra(where string, f HeaderField) error {
	if hasInjection(f.Name) {
		return injectionError(where, "field name")
	}
	if hasInjection(f.Value) {
		return injectionError(where, "value of "+f.Name)
	}
	if !validFieldName([]byte(f.Name)) {
		return &HeaderError{Field: where, Reason: fmt.Sprintf("%q is not a field name (RFC 5322 §2.2)", f.Name)}
	}
	lower := strings.ToLower(f.Name)
	if slices.Contains(composedFields, lower) || strings.HasPrefix(lower, "content-") {
		return &HeaderError{Field: where, Reason: f.Name + " is written by composition, not through Extra"}
	}
	for i := 0; i < len(f.Value); i++ {
		if c := f.Value[i]; (c < ' ' || c > '~') && c != '\t' {
			return &HeaderError{Field: where, Reason: fmt.Sprintf("value of %s is not printable ASCII (encode it with EncodeHeaderValue)", f.Name)}
		}
	}
	return nil
}

// composer writes multipart entities with boundaries from rand.
type composer struct{ rand io.Reader }

// multipart joins parts under a fresh boundary that none of them contains
// (RFC 2046 §5.1.1). The boundary starts with "=_", which neither base64
// nor quoted-printable output can contain, and the parts are searched
// anyway, for their 7bit bodies and nested boundaries.
func (c *composer) multipart(subtype string, parts [][]byte) ([]byte, error) {
	return c.multipartWith("multipart/"+subtype, nil, parts)
}

// ComposeMultipart joins ready entities (each its Content-* fields, a
// blank line and its body, CRLF line ends) into a multipart entity of
// mediaType with params and a fresh boundary from rnd (nil:
// crypto/rand). The parts' bytes are kept exactly: what a
// multipart/signed signature covers is the first part as given.
func ComposeMultipart(rnd io.Reader, mediaType string, params [][2]string, parts [][]byte) ([]byte, error) {
	if !strings.HasPrefix(mediaType, "multipart/") {
		return nil, fmt.Errorf("message: %q is not a multipart type", mediaType)
	}
	if rnd == nil {
		rnd = rand.Reader
	}
	c := composer{rand: rnd}
	return c.multipartWith(mediaType, params, parts)
}

func (c *composer) multipartWith(mediaType string, params [][2]string, parts [][]byte) ([]byte, error) {
	var boundary string
	for try := 0; ; try++ {
		if try == 10 {
			return nil, errors.New("message: no boundary found that the content does not contain (is Rand random?)")
		}
		var r [15]byte
		if _, err := io.ReadFull(c.rand, r[:]); err != nil {
			return nil, fmt.Errorf("message: boundary: %w", err)
		}
		boundary = "=_" + base32.StdEncoding.EncodeToString(r[:])
		delim := []byte("--" + boundary)
		if !slices.ContainsFunc(parts, func(p []byte) bool { return bytes.Contains(p, delim) }) {
			break
		}
	}
	var b bytes.Buffer
	var h headerWriter
	all := append(append([][2]string{}, params...), [2]string{"boundary", boundary})
	if err := h.structured("Content-Type", formatContentType(mediaType, all)); err != nil {
		return nil, err
	}
	b.Write(h.buf.Bytes())
	b.WriteString("\r\n")
	for _, p := range parts {
		b.WriteString("--" + boundary + "\r\n")
		b.Write(p)
		b.WriteString("\r\n")
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// textPart writes a text/subtype entity of s.
func textPart(subtype, field, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return nil, fmt.Errorf("message: %s is not valid UTF-8", field)
	}
	data := canonicalLines(s)
	charset := "us-ascii"
	for _, c := range data {
		if c >= 0x80 {
			charset = "utf-8"
			break
		}
	}
	cte, body := encodeContent(data)
	return writeEntity("text/"+subtype, [][2]string{{"charset", charset}}, cte, "", body)
}

// canonicalLines turns every bare LF of s into CRLF (RFC 2046 §4.1.1 canonical
// text). A bare CR stays, for quoted-printable to carry as =0D.
func canonicalLines(s string) []byte {
	out := make([]byte, 0, len(s)+strings.Count(s, "\n"))
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, s[i])
	}
	return out
}

// attachmentPart writes attachment i.
func attachmentPart(i int, a Attachment) ([]byte, error) {
	where := fmt.Sprintf("Attachments[%d]", i)
	if err := checkText(where+".Filename", a.Filename); err != nil {
		return nil, err
	}
	if hasInjection(a.ContentType) {
		return nil, injectionError(where+".ContentType", "value")
	}
	ct := a.ContentType
	detected := ct == ""
	if detected {
		ct = mime.TypeByExtension(path.Ext(strings.ReplaceAll(a.Filename, `\`, "/")))
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		if !detected {
			return nil, &HeaderError{Field: where + ".ContentType", Reason: fmt.Sprintf("%q: %v", ct, err), Err: err}
		}
		mt, params = "application/octet-stream", map[string]string{}
	}
	mt = strings.ToLower(mt)
	if strings.HasPrefix(mt, "multipart/") {
		return nil, &HeaderError{Field: where + ".ContentType", Reason: mt + " needs a boundary structure: it cannot be an attachment's type"}
	}
	text := strings.HasPrefix(mt, "text/")
	if text && detected {
		// The extension says text, only the bytes can say which charset.
		switch {
		case !utf8.Valid(a.Data):
			delete(params, "charset")
		case asciiBytes(a.Data):
			params["charset"] = "us-ascii"
		default:
			params["charset"] = "utf-8"
		}
	}
	delete(params, "name")
	var plist [][2]string
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if hasInjection(k) || hasInjection(params[k]) {
			return nil, injectionError(where+".ContentType", "parameter")
		}
		plist = append(plist, [2]string{k, params[k]})
	}
	var disp string
	if a.Filename != "" {
		// Both parameters: filename is the standard one (RFC 2183), name
		// the one older readers look at.
		plist = append(plist, [2]string{"name", a.Filename})
		disp = "attachment"
		if a.Inline {
			disp = "inline"
		}
		disp = formatContentType(disp, [][2]string{{"filename", a.Filename}})
	} else if a.Inline {
		disp = "inline"
	} else {
		disp = "attachment"
	}

	var cte string
	var body []byte
	switch {
	case text && !hasBareLineEnd(a.Data):
		cte, body = encodeContent(a.Data)
	case strings.HasPrefix(mt, "message/") && sevenBitSafe(a.Data):
		// RFC 2046 §5.2.1 wants message/rfc822 in 7bit; a message that is
		// not 7-bit clean is sent in base64, which readers accept (and RFC
		// 6532 §3.5 allows for message/global), rather than 8bit.
		cte, body = "7bit", a.Data
	default:
		cte, body = "base64", base64Lines(a.Data)
	}
	return writeEntity(mt, plist, cte, disp, body)
}

func asciiBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// hasBareLineEnd reports a CR or LF that is not part of a CRLF: text that
// is not canonical, whose exact bytes only base64 keeps.
func hasBareLineEnd(b []byte) bool {
	for i, c := range b {
		switch {
		case c == '\r' && (i+1 == len(b) || b[i+1] != '\n'):
			return true
		case c == '\n' && (i == 0 || b[i-1] != '\r'):
			return true
		}
	}
	return false
}

// writeEntity writes the fields, the blank line and the body.
func writeEntity(mt string, params [][2]string, cte, disposition string, body []byte) ([]byte, error) {
	var h headerWriter
	if err := h.structured("Content-Type", formatContentType(mt, params)); err != nil {
		return nil, err
	}
	h.raw("Content-Transfer-Encoding", cte)
	if disposition != "" {
		if err := h.structured("Content-Disposition", disposition); err != nil {
			return nil, err
		}
	}
	h.buf.WriteString("\r\n")
	h.buf.Write(body)
	return h.buf.Bytes(), nil
}

// formatContentType formats "type/subtype; k=v; ..." with each parameter a token,
// a quoted string (short printable ASCII), or RFC 2231 encoded UTF-8 in
// continuations short enough for a line each (RFC 2231 §3, §4).
func formatContentType(mt string, params [][2]string) string {
	var b strings.Builder
	b.WriteString(mt)
	for _, p := range params {
		for _, piece := range formatParam(p[0], p[1]) {
			b.WriteString("; ")
			b.WriteString(piece)
		}
	}
	return b.String()
}

// maxParamQuoted bounds the value of a quoted parameter: longer values are
// split into RFC 2231 continuations.
const maxParamQuoted = 60

func formatParam(key, value string) []string {
	// File names are quoted even when they are tokens, as readers expect.
	quote := key == "filename" || key == "name"
	if !quote && value != "" && len(value) <= maxParamQuoted && strings.IndexFunc(value, func(r rune) bool { return !isTokenChar(r) }) < 0 {
		return []string{key + "=" + value}
	}
	printable := len(value) <= maxParamQuoted
	for i := 0; i < len(value) && printable; i++ {
		printable = value[i] >= ' ' && value[i] <= '~'
	}
	if printable {
		var b strings.Builder
		b.WriteString(key + `="`)
		for i := 0; i < len(value); i++ {
			if value[i] == '"' || value[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(value[i])
		}
		b.WriteByte('"')
		return []string{b.String()}
	}
	// RFC 2231: key*=utf-8''%XX..., split into key*0*, key*1*, ... at
	// character boundaries so that each has a line of its own:
	// " key*12*=value;" in 78 octets.
	limit := max(softLineLimit-len(" ;")-len(key+"*00*="), 12)
	var pieces []string
	cur := "utf-8''"
	for _, r := range value {
		var enc strings.Builder
		var rb [utf8.UTFMax]byte
		for _, c := range rb[:utf8.EncodeRune(rb[:], r)] {
			if c < 0x80 && isAttributeChar(c) {
				enc.WriteByte(c)
			} else {
				fmt.Fprintf(&enc, "%%%02X", c)
			}
		}
		if cur != "" && cur != "utf-8''" && len(cur)+enc.Len() > limit {
			pieces = append(pieces, cur)
			cur = ""
		}
		cur += enc.String()
	}
	pieces = append(pieces, cur)
	if len(pieces) == 1 {
		return []string{key + "*=" + pieces[0]}
	}
	for i := range pieces {
		pieces[i] = fmt.Sprintf("%s*%d*=%s", key, i, pieces[i])
	}
	return pieces
}

// isTokenChar: RFC 2045 §5.1 token characters.
func isTokenChar(r rune) bool {
	return r > ' ' && r < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?=`, r)
}

// isAttributeChar: RFC 2231 §7 attribute-char, which may stand unencoded
// in an extended value.
func isAttributeChar(c byte) bool {
	return isTokenChar(rune(c)) && c != '*' && c != '\'' && c != '%'
}

// encodeContent chooses the transfer encoding of data and applies it.
// 7bit needs lines of printable ASCII no longer than 998 octets (RFC 5322
// §2.1.1); for content that may be signed (RFC 3156 §3), lines must also
// not start with "From " (mbox quoting adds ">") nor end in whitespace
// (transports strip it): those get quoted-printable, which protects both.
// Mostly-ASCII content gets quoted-printable, the rest base64, whichever
// is shorter.
func encodeContent(data []byte) (cte string, body []byte) {
	if sevenBitSafe(data) {
		return "7bit", data
	}
	escaped := 0
	for _, c := range data {
		if !(c >= '!' && c <= '~' && c != '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			escaped++
		}
	}
	if len(data)+2*escaped <= (len(data)+2)/3*4 {
		return "quoted-printable", quotedPrintable(data)
	}
	return "base64", base64Lines(data)
}

// cutLine splits data at its first CRLF: the line, what follows it, and
// whether there was a CRLF.
func cutLine(data []byte) (line, rest []byte, crlf bool) {
	return bytes.Cut(data, []byte("\r\n"))
}

// sevenBitSafe reports whether data can travel as 7bit and come through
// any transport, and a signature over it with it.
func sevenBitSafe(data []byte) bool {
	for len(data) > 0 {
		line, rest, _ := cutLine(data)
		data = rest
		if len(line) > hardLineLimit || bytes.HasPrefix(line, []byte("From ")) ||
			len(line) > 0 && isHeaderSpace(line[len(line)-1]) {
			return false
		}
		for _, c := range line {
			if (c < ' ' || c > '~') && c != '\t' {
				return false
			}
		}
	}
	return true
}

// quotedPrintable encodes data (RFC 2045 §6.7) with CRLF as the line
// break: every other octet, a bare CR or LF included, is kept exactly.
// Whitespace at the end of a line, and the "F" of a line starting "From ",
// are encoded too, so no line of the output ends in whitespace or starts
// with "From " (RFC 3156 §3).
func quotedPrintable(data []byte) []byte {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, len(data)+len(data)/8)
	lineLen := 0
	for len(data) > 0 {
		line, rest, crlf := cutLine(data)
		data = rest
		for j := 0; j < len(line); j++ {
			c := line[j]
			last := j == len(line)-1
			literal := c >= '!' && c <= '~' && c != '=' || isHeaderSpace(c) && !last
			if lineLen == 0 && c == 'F' && bytes.HasPrefix(line[j:], []byte("From ")) {
				literal = false
			}
			n := 1
			if !literal {
				n = 3
			}
			// A line holds 76 octets, the "=" of a soft break included.
			if lineLen+n > 75 && !(last && lineLen+n <= 76) {
				out = append(out, "=\r\n"...)
				lineLen = 0
				if c == 'F' && bytes.HasPrefix(line[j:], []byte("From ")) {
					literal, n = false, 3
				}
			}
			if literal {
				out = append(out, c)
			} else {
				out = append(out, '=', hex[c>>4], hex[c&15])
			}
			lineLen += n
		}
		if crlf {
			out = append(out, "\r\n"...)
			lineLen = 0
		}
	}
	return out
}

// base64Lines encodes data in lines of 76 characters, each ending in CRLF
// (RFC 2045 §6.8).
func base64Lines(data []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(data)
	out := make([]byte, 0, len(enc)+len(enc)/76*2+2)
	for len(enc) > 76 {
		out = append(out, enc[:76]...)
		out = append(out, "\r\n"...)
		enc = enc[76:]
	}
	if enc != "" {
		out = append(out, enc...)
		out = append(out, "\r\n"...)
	}
	return out
}

// QuotedPrintable encodes data as quoted-printable (RFC 2045 §6.7), CRLF
// line ends kept as line breaks.
func QuotedPrintable(data []byte) []byte { return quotedPrintable(data) }
