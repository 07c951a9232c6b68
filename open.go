package securemail

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/message"
)

// Handler removes one scheme's protection from the root of a message.
// OpenPGP and S/MIME register one each.
type Handler interface {
	// Handles reports whether the root of m is protected by this
	// handler's scheme.
	Handles(m *message.Message) bool
	// Unwrap verifies and/or decrypts the root of m. It returns the inner
	// entity (an RFC 5322 message or MIME entity) once it is authenticated,
	// never before (S04), with the verdicts.
	Unwrap(m *message.Message, opts *OpenOptions) (*Unwrapped, error)
}

// Unwrapped is what a Handler found under one layer of protection.
type Unwrapped struct {
	Inner      []byte
	Encryption *EncryptionReport // nil: this layer is a signature only
	Signatures []SignatureReport
	// Unprotected is text of the root that the protection does not
	// cover (around an inline OpenPGP block: S22). It is shown apart,
	// never joined with the protected text.
	Unprotected string
	// Warnings are what the handler wants a person to know.
	Warnings []string
	// NoHTML: the inner content has no integrity protection (S/MIME
	// CBC EnvelopedData, S05), so its HTML parts are not rendered.
	NoHTML bool
}

// OpenOptions configure Open. A nil *OpenOptions means no scheme handlers
// and the default parser limits.
type OpenOptions struct {
	Handlers []Handler
	Parse    *message.ParseOptions
	HTML     *message.HTMLOptions
	// Auth, when set, judges who sent the message as received — DKIM,
	// SPF, DMARC, ARC, trusted Authentication-Results — into
	// Report.Auth; nil leaves Report.Auth nil (not judged). The verdict
	// stands beside the signatures': a DMARC pass does not make a message
	// signed, and a signature does not make DMARC pass.
	Auth *mailauth.Evaluator
	// Context bounds the DNS work of Auth; nil means context.Background.
	Context context.Context
}

// View is what a person is shown of a message: everything in it has been
// neutralised for a terminal (S25).
type View struct {
	Headers []HeaderLine `json:"headers"`
	Body    string       `json:"body"`
	// Unprotected is text that came with the message outside its
	// protection (S22): shown apart, marked as not protected.
	Unprotected string       `json:"unprotected,omitempty"`
	Attachments []Attachment `json:"attachments"`
}

// HeaderLine is one header a person sees.
type HeaderLine struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Attachment is a part offered to be saved, never opened by itself.
type Attachment struct {
	Name      string `json:"name"`
	MediaType string `json:"media_type"`
	Size      int    `json:"size"`
	// Note says why a part is an attachment when that matters: an
	// encrypted or signed part inside an unprotected message (S02, S21).
	Note string `json:"note,omitempty"`
}

// maxLayers bounds nested protection (signed inside encrypted inside ...).
const maxLayers = 4

// Open reads a received message: it removes the protection of its root
// with the registered handlers, builds the Report and the safe View.
// Malformed input is an error; a failed verdict is not (it is in the
// Report).
func Open(raw []byte, opts *OpenOptions) (*Report, *View, error) {
	o, err := open(raw, opts)
	if err != nil {
		return nil, nil, err
	}
	view := &View{Headers: viewHeaders(o.outer, o.inner), Attachments: []Attachment{}}
	view.Unprotected = strings.Join(o.unprotected, "\n\n")
	renderBody(o.rep, view, o.inner, o.opts, o.noHTML)
	return o.rep, view, nil
}

// Decrypt removes the encryption of a received message and returns the
// report and the decrypted message: the outer header fields, with those
// the encrypted part protects (RFC 9788) taken from inside, over the
// decrypted entity. Signature layers inside stay as they are (so the
// result can be verified again), their verdicts are in the report. A
// message that is not encrypted comes back unchanged.
func Decrypt(raw []byte, opts *OpenOptions) (*Report, []byte, error) {
	o, err := open(raw, opts)
	if err != nil {
		return nil, nil, err
	}
	if o.decrypted == nil {
		return o.rep, o.outer.Raw, nil
	}
	return o.rep, joinHeader(o.outer, o.decrypted), nil
}

// opened is a message with its layers of protection removed.
type opened struct {
	opts        *OpenOptions
	rep         *Report
	outer       *message.Message
	inner       *message.Message // under every layer
	decrypted   *message.Message // under the last encryption layer, if any
	unprotected []string
	noHTML      bool // some layer lacks integrity (S05)
}

func open(raw []byte, opts *OpenOptions) (*opened, error) {
	if opts == nil {
		opts = &OpenOptions{}
	}
	m, err := message.Parse(raw, opts.Parse)
	if err != nil {
		return nil, err
	}
	o := &opened{opts: opts, outer: m}
	rep := &Report{Encryption: EncryptionReport{Kind: "none"}, Signatures: []SignatureReport{}, Warnings: []string{}}
	o.rep = rep
	if opts.Auth != nil {
		ctx := opts.Context
		if ctx == nil {
			ctx = context.Background()
		}
		// On the bytes as received: the outer message is what was sent.
		if v, err := opts.Auth.Evaluate(ctx, raw); err == nil {
			rep.Auth = v
		} else {
			rep.Warnings = append(rep.Warnings, "who sent it could not be judged: "+err.Error())
		}
	}
	for layer := 0; ; layer++ {
		h := handlerFor(opts.Handlers, m)
		if h == nil {
			if kind, what := protection(m.Root); what != "" {
				unsupported(rep, kind, what)
			}
			break
		}
		if layer == maxLayers {
			return nil, fmt.Errorf("securemail: more than %d layers of protection", maxLayers)
		}
		u, err := h.Unwrap(m, opts)
		if err != nil {
			return nil, err
		}
		if u.Encryption != nil {
			rep.Encryption = *u.Encryption
		}
		rep.Signatures = append(rep.Signatures, u.Signatures...)
		o.noHTML = o.noHTML || u.NoHTML
		for _, w := range u.Warnings {
			rep.warn(w)
		}
		if u.Unprotected != "" {
			o.unprotected = append(o.unprotected, message.SafeText(u.Unprotected))
			if u.Encryption != nil {
				rep.Encryption.Partial = true
			}
		}
		if u.Inner == nil {
			break // nothing authenticated to show
		}
		inner, err := message.Parse(u.Inner, opts.Parse)
		if err != nil {
			return nil, fmt.Errorf("securemail: the protected content: %w", err)
		}
		m = inner
		if u.Encryption != nil {
			o.decrypted = inner
		}
	}
	o.inner = m
	judgeFrom(rep, o.outer.Root.Header)
	bindSigners(rep)
	if m != o.outer {
		checkProtectedFrom(rep, m)
	}
	return o, nil
}

// joinHeader puts the outer message's header fields over the entity of
// inner: fields inner also has (the protected ones, RFC 9788) are taken
// from inside, the MIME fields from the entity, the rest from outside.
func joinHeader(outer, inner *message.Message) []byte {
	innerNames := map[string]bool{}
	for _, f := range inner.Root.Header.Fields {
		innerNames[strings.ToLower(f.Name)] = true
	}
	isMIME := func(n string) bool { return strings.HasPrefix(n, "content-") || n == "mime-version" }
	var b bytes.Buffer
	for _, f := range outer.Root.Header.Fields {
		if n := strings.ToLower(f.Name); !innerNames[n] && !isMIME(n) {
			b.Write(outer.Raw[f.Start:f.End])
		}
	}
	for _, f := range inner.Root.Header.Fields {
		if n := strings.ToLower(f.Name); !isMIME(n) {
			b.Write(inner.Raw[f.Start:f.End])
		}
	}
	b.WriteString("MIME-Version: 1.0\r\n")
	for _, f := range inner.Root.Header.Fields {
		if n := strings.ToLower(f.Name); strings.HasPrefix(n, "content-") {
			b.Write(inner.Raw[f.Start:f.End])
		}
	}
	b.Write(inner.Raw[inner.Root.HeaderEnd:])
	return b.Bytes()
}

// bindSigners binds each signature to the sender (S23): a signature is
// valid only when its signer's key or certificate carries the From
// address.
func bindSigners(rep *Report) {
	for i := range rep.Signatures {
		s := &rep.Signatures[i]
		s.MatchesFrom = rep.From != "" && slices.Contains(s.Emails, rep.From)
		if !s.Valid || s.MatchesFrom {
			continue
		}
		s.Valid = false
		var msg string
		switch {
		case rep.From == "":
			msg = "the sender is unknown, so the signer cannot be bound to it"
		case len(s.Emails) == 0:
			msg = fmt.Sprintf("the signer's key carries no address; the message is from %s", message.SafeLine(rep.From))
		default:
			msg = fmt.Sprintf("signed by %s, but the message is from %s", message.SafeLine(strings.Join(s.Emails, ", ")), message.SafeLine(rep.From))
		}
		s.Error = &msg
		rep.warn(msg)
	}
}

// checkProtectedFrom warns when the protected header fields (RFC 9788)
// name another sender than the outside.
func checkProtectedFrom(rep *Report, inner *message.Message) {
	in := inner.Root.Header.Get("From")
	if in == "" {
		return
	}
	a, err := mail.ParseAddress(in)
	if err != nil || !strings.EqualFold(a.Address, rep.From) {
		rep.warn(fmt.Sprintf("the protected From field (%s) differs from the outside one", message.SafeLine(message.DecodeText(in))))
	}
}

func handlerFor(hs []Handler, m *message.Message) Handler {
	for _, h := range hs {
		if h.Handles(m) {
			return h
		}
	}
	return nil
}

// protection names the scheme protecting a part, if any: kind is "pgp" or
// "smime", what is "encrypted" or "signed".
func protection(p *message.Part) (kind, what string) {
	proto := strings.ToLower(p.Params["protocol"])
	switch p.MediaType {
	case "multipart/encrypted":
		if proto == "application/pgp-encrypted" {
			return "pgp", "encrypted"
		}
		return "", "encrypted"
	case "multipart/signed":
		switch proto {
		case "application/pgp-signature":
			return "pgp", "signed"
		case "application/pkcs7-signature", "application/x-pkcs7-signature":
			return "smime", "signed"
		}
		return "", "signed"
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		if strings.EqualFold(p.Params["smime-type"], "signed-data") {
			return "smime", "signed"
		}
		return "smime", "encrypted"
	case "application/pgp-encrypted":
		return "pgp", "encrypted"
	case "application/pgp-signature", "application/pkcs7-signature", "application/x-pkcs7-signature":
		return "", "signature"
	}
	return "", ""
}

// unsupported records a root protection no handler understands: the
// message cannot be shown as encrypted or signed.
func unsupported(rep *Report, kind, what string) {
	name := map[string]string{"pgp": "OpenPGP", "smime": "S/MIME", "": "an unknown scheme"}[kind]
	msg := fmt.Sprintf("the message is %s with %s, which cannot be read here", what, name)
	switch what {
	case "encrypted":
		rep.Encryption = EncryptionReport{Kind: kind, Error: &msg}
		if kind == "" {
			rep.Encryption.Kind = "unknown"
		}
	case "signed":
		rep.Signatures = append(rep.Signatures, SignatureReport{Kind: kind, Error: &msg})
	}
	rep.warn(msg)
}

// judgeFrom finds the sender and warns about the tricks of S23/S32:
// several From fields or addresses, none, a display name that shows
// another address, a Sender that differs.
func judgeFrom(rep *Report, h message.Header) {
	froms := h.Values("From")
	if len(froms) > 0 {
		rep.FromHeader = message.SafeLine(message.DecodeText(froms[0]))
	}
	switch len(froms) {
	case 0:
		rep.warn("the message has no From field: the sender is unknown")
		return
	case 1:
	default:
		rep.warn(fmt.Sprintf("the message has %d From fields: the sender is ambiguous", len(froms)))
		return
	}
	addrs, err := mail.ParseAddressList(froms[0])
	if err != nil {
		// "alice@good.example <eve@evil.example>" is not valid RFC 5322
		// (an @ in an unquoted name), but clients show it: read it the way
		// they do, so the trick is caught below.
		if a := lenientAddress(froms[0]); a != nil {
			addrs, err = []*mail.Address{a}, nil
		}
	}
	if err != nil || len(addrs) == 0 {
		rep.warn("the From field cannot be read as an address: the sender is unknown")
		return
	}
	if len(addrs) > 1 {
		rep.warn(fmt.Sprintf("the From field names %d addresses: the sender is ambiguous", len(addrs)))
		return
	}
	a := addrs[0]
	rep.From = strings.ToLower(a.Address)
	if shown := addressIn(a.Name); shown != "" && !strings.EqualFold(shown, a.Address) {
		rep.warn(fmt.Sprintf("the sender's name shows the address %s, but the message is from %s", message.SafeLine(shown), message.SafeLine(a.Address)))
	}
	if s := h.Get("Sender"); s != "" {
		if sa, err := mail.ParseAddress(s); err == nil && !strings.EqualFold(sa.Address, a.Address) {
			rep.warn(fmt.Sprintf("sent by %s on behalf of %s", message.SafeLine(sa.Address), message.SafeLine(a.Address)))
		}
	}
}

// lenientAddress reads "anything <addr>" when the strict parser refuses it.
func lenientAddress(v string) *mail.Address {
	v = strings.TrimSpace(v)
	lt := strings.LastIndexByte(v, '<')
	if lt < 0 || !strings.HasSuffix(v, ">") || strings.Count(v, "<") != 1 {
		return nil
	}
	a, err := mail.ParseAddress(v[lt:])
	if err != nil {
		return nil
	}
	a.Name = message.DecodeText(strings.Trim(strings.TrimSpace(v[:lt]), `"`))
	return a
}

// addressIn returns an address-looking word in a display name.
func addressIn(name string) string {
	for _, w := range strings.FieldsFunc(name, func(r rune) bool {
		return r == ' ' || r == '<' || r == '>' || r == '"' || r == '(' || r == ')' || r == ','
	}) {
		if i := strings.IndexByte(w, '@'); i > 0 && i < len(w)-1 {
			return w
		}
	}
	return ""
}

// viewHeaders shows the usual headers; Subject comes from the protected
// content when the scheme protected it (RFC 9788), else from the outside.
func viewHeaders(outer, inner *message.Message) []HeaderLine {
	var out []HeaderLine
	for _, name := range []string{"From", "To", "Cc", "Date", "Subject"} {
		src := outer.Root.Header
		if inner != outer && inner.Root.Header.Get(name) != "" {
			src = inner.Root.Header
		}
		for _, v := range src.Values(name) {
			out = append(out, HeaderLine{Name: name, Value: message.SafeLine(message.DecodeText(v))})
		}
	}
	return out
}

// renderBody shows the text parts of m one by one (never joined into one
// document: S01) and lists the rest as attachments.
func renderBody(rep *Report, view *View, m *message.Message, opts *OpenOptions, noHTML bool) {
	var texts []string
	var walk func(p *message.Part, inAlternative bool)
	walk = func(p *message.Part, inAlternative bool) {
		if p != m.Root {
			if kind, what := protection(p); what != "" {
				note := fmt.Sprintf("a %s part inside the message: the message itself is not %s", what, what)
				if kind != "" {
					note = fmt.Sprintf("%s (%s)", note, kind)
				}
				rep.warn("part of the message is " + what + ", but not the message as a whole: it is offered as an attachment and not trusted")
				view.Attachments = append(view.Attachments, attachment(m, p, note))
				return
			}
		}
		switch {
		case strings.HasPrefix(p.MediaType, "message/"):
			note := ""
			if what := protectedInside(p); what != "" {
				note = "a forwarded message that is " + what + " itself: that says nothing about this message"
				rep.warn("part of the message is " + what + ", but not the message as a whole: it is offered as an attachment and not trusted")
			}
			view.Attachments = append(view.Attachments, attachment(m, p, note))
			return
		case p.MediaType == "multipart/alternative":
			if best := pickAlternative(p); best != nil {
				walk(best, true)
			}
			return
		case p.IsMultipart():
			for _, c := range p.Children {
				walk(c, false)
			}
			if len(p.Children) == 0 {
				view.Attachments = append(view.Attachments, attachment(m, p, "unreadable multipart"))
			}
			return
		case (p.MediaType == "text/plain" || p.MediaType == "text/html") && p.Disposition() != "attachment":
			text, err := renderText(m, p, opts, noHTML)
			if err != nil {
				rep.warn("a text part could not be shown: " + message.SafeLine(err.Error()))
				view.Attachments = append(view.Attachments, attachment(m, p, ""))
				return
			}
			if hasInlinePGP(text) && !inAlternative {
				rep.warn("the text contains an OpenPGP block that was not verified or decrypted")
			}
			texts = append(texts, text)
			return
		}
		view.Attachments = append(view.Attachments, attachment(m, p, ""))
	}
	walk(m.Root, false)
	for _, p := range collectProblems(m) {
		rep.warn(p)
	}
	view.Body = strings.Join(texts, "\n\n──────── next part ────────\n\n")
}

// protectedInside says whether a part below p is encrypted or signed.
func protectedInside(p *message.Part) string {
	what := ""
	p.Walk(func(q *message.Part) bool {
		if q == p {
			return true
		}
		if _, w := protection(q); w != "" {
			what = w
			return false
		}
		return true
	})
	return what
}

func pickAlternative(p *message.Part) *message.Part {
	var html, other *message.Part
	for _, c := range p.Children {
		switch c.MediaType {
		case "text/plain":
			return c
		case "text/html":
			html = c
		default:
			if other == nil {
				other = c
			}
		}
	}
	if html != nil {
		return html
	}
	return other
}

func renderText(m *message.Message, p *message.Part, opts *OpenOptions, noHTML bool) (string, error) {
	text, err := m.TextBytes(p)
	if err != nil {
		return "", err
	}
	r, err := message.RenderText(p.MediaType, p.Params, text, &message.RenderOptions{HTML: opts.HTML, NoHTML: noHTML})
	return r.Text, err
}

func hasInlinePGP(s string) bool {
	return strings.Contains(s, "-----BEGIN PGP MESSAGE-----") || strings.Contains(s, "-----BEGIN PGP SIGNED MESSAGE-----")
}

func attachment(m *message.Message, p *message.Part, note string) Attachment {
	a := Attachment{Name: message.SafeFilename(p.Filename()), MediaType: p.MediaType, Size: p.End - p.BodyStart, Note: note}
	if data, err := m.TransferDecode(p); err == nil {
		a.Size = len(data)
	}
	return a
}

func collectProblems(m *message.Message) []string {
	var out []string
	m.Root.Walk(func(p *message.Part) bool {
		for _, pr := range p.Problems {
			out = append(out, "malformed MIME: "+message.SafeLine(pr))
		}
		return true
	})
	return out
}
