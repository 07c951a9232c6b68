package securemail

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"github.com/securemail/securemail/message"
)

// ReplyOptions say how to answer a message.
type ReplyOptions struct {
	// From is the user's address (left out of the recipients).
	From *mail.Address
	// All answers every recipient, not only the sender.
	All bool
}

// Reply builds the draft of an answer to a received message (its raw
// bytes, and the Report and View Open gave for it) and the policy it must
// be sent with. A reply to an encrypted message must be encrypted too:
// the policy requires it, so Protect refuses to send the quoted text in
// the clear (S26). The quoted text is the safe view, never raw parts.
func Reply(raw []byte, rep *Report, view *View, opts *ReplyOptions) (*message.Draft, Policy, error) {
	if opts == nil {
		opts = &ReplyOptions{}
	}
	m, err := message.Parse(raw, nil)
	if err != nil {
		return nil, Policy{}, err
	}
	h := m.Root.Header
	d := &message.Draft{From: opts.From}
	to := h.Get("Reply-To")
	if to == "" {
		to = h.Get("From")
	}
	d.To = addressList(to)
	if opts.All {
		d.Cc = append(addressList(h.Get("To")), addressList(h.Get("Cc"))...)
	}
	d.To, d.Cc = without(d.To, opts.From), without(without(d.Cc, opts.From), d.To...)
	d.Subject = prefixed("Re: ", subjectOf(view, h))
	if id := strings.TrimSpace(h.Get("Message-ID")); id != "" {
		d.InReplyTo = id
		d.References = append(strings.Fields(h.Get("References")), id)
	}
	d.Text = fmt.Sprintf("On %s, %s wrote:\n%s", headerOf(view, "Date"), headerOf(view, "From"), quote(view.Body))
	return d, followUpPolicy(rep), nil
}

// Forward builds the draft of a forward of a received message, with the
// same rule as Reply: forwarding encrypted mail requires encryption (S26).
func Forward(rep *Report, view *View, from *mail.Address) (*message.Draft, Policy) {
	d := &message.Draft{From: from, Subject: prefixed("Fwd: ", headerOf(view, "Subject"))}
	var b strings.Builder
	b.WriteString("---------- Forwarded message ----------\n")
	for _, hl := range view.Headers {
		fmt.Fprintf(&b, "%s: %s\n", hl.Name, hl.Value)
	}
	b.WriteString("\n")
	b.WriteString(view.Body)
	d.Text = b.String()
	return d, followUpPolicy(rep)
}

// followUpPolicy: what was encrypted stays encrypted, in the scheme it
// came in; what was signed is answered signed.
func followUpPolicy(rep *Report) Policy {
	p := Policy{Sign: len(rep.Signatures) > 0}
	if rep.Encryption.Kind != "none" {
		p.Encrypt, p.RequireEncryption, p.Sign = true, true, true
		if rep.Encryption.Kind == "pgp" || rep.Encryption.Kind == "smime" {
			p.Scheme = rep.Encryption.Kind
		}
	}
	return p
}

func subjectOf(view *View, h message.Header) string {
	if s := headerOf(view, "Subject"); s != "" {
		return s
	}
	return message.SafeLine(message.DecodeText(h.Get("Subject")))
}

func headerOf(view *View, name string) string {
	for _, hl := range view.Headers {
		if hl.Name == name {
			return hl.Value
		}
	}
	return ""
}

func prefixed(prefix, subject string) string {
	if strings.HasPrefix(strings.ToLower(subject), strings.ToLower(prefix)) {
		return subject
	}
	return prefix + subject
}

func quote(body string) string {
	body = strings.TrimRight(body, "\n")
	var b strings.Builder
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, ">") {
			b.WriteString(">" + line + "\n")
		} else {
			b.WriteString("> " + line + "\n")
		}
	}
	return b.String()
}

func addressList(v string) []*mail.Address {
	if v == "" {
		return nil
	}
	as, err := mail.ParseAddressList(v)
	if err != nil {
		return nil
	}
	return as
}

// without drops the addresses equal to any of drop (case-insensitive).
func without(list []*mail.Address, drop ...*mail.Address) []*mail.Address {
	var out []*mail.Address
outer:
	for _, a := range list {
		for _, d := range drop {
			if d != nil && strings.EqualFold(a.Address, d.Address) {
				continue outer
			}
		}
		for _, o := range out {
			if strings.EqualFold(o.Address, a.Address) {
				continue outer
			}
		}
		out = append(out, a)
	}
	return out
}

// Mailto reads a mailto: URI (RFC 6068) into a draft. Only addresses,
// subject and body text are taken: "attach", "attachment" and any other
// field that could make the client read a local file are ignored and
// reported, and the body is plain text even if it holds an OpenPGP block:
// nothing is attached or decrypted because of a link (S27).
func Mailto(uri string) (*message.Draft, []string, error) {
	u, err := url.Parse(uri)
	if err != nil || !strings.EqualFold(u.Scheme, "mailto") {
		return nil, nil, fmt.Errorf("securemail: not a mailto: URI")
	}
	d := &message.Draft{}
	var ignored []string
	if u.Opaque != "" {
		to, err := url.PathUnescape(u.Opaque)
		if err != nil {
			return nil, nil, fmt.Errorf("securemail: mailto: %v", err)
		}
		d.To = append(d.To, addressList(to)...)
	}
	for key, vals := range u.Query() {
		for _, v := range vals {
			switch strings.ToLower(key) {
			case "to":
				d.To = append(d.To, addressList(v)...)
			case "cc":
				d.Cc = append(d.Cc, addressList(v)...)
			case "bcc":
				d.Bcc = append(d.Bcc, addressList(v)...)
			case "subject":
				d.Subject = message.SafeLine(v)
			case "body":
				d.Text = message.SafeText(v)
			case "in-reply-to":
				d.InReplyTo = message.SafeLine(v)
			default:
				ignored = append(ignored, key)
			}
		}
	}
	return d, ignored, nil
}
