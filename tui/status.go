package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/message"
)

// tone is how a status line is coloured.
type tone uint8

const (
	tonePlain tone = iota
	toneGood
	toneBad
	toneWarn
	toneDim
)

// statusLine is one line of the status panel, before wrapping.
type statusLine struct {
	tone tone
	mark string // the glyph before the text: ✓ ✗ ! ·
	text string
}

// keySource is what the keystore says about a signer's key.
type keySource struct {
	source keystore.Source
	dnssec string
	origin string
}

// statusLines is the verdict on a message in words, built from the
// pipeline's Report and the auth verdict alone: nothing in the message's
// body reaches it (S24). Every string that came from the message (an
// address, a warning quoting one) is neutralised again here (S25).
func statusLines(rep *securemail.Report, auth *mailauth.Verdict, sources map[string]keySource, t *theme) []statusLine {
	ok, bad, warn, dot := "✓", "✗", "!", "·"
	if t.ascii {
		ok, bad, warn, dot = "+", "x", "!", "-"
	}
	var out []statusLine
	add := func(tn tone, mark, format string, args ...any) {
		out = append(out, statusLine{tone: tn, mark: mark, text: fmt.Sprintf(format, args...)})
	}
	safe := message.SafeLine

	// The headline: one sentence a person can act on.
	dmarcFailed := auth != nil && auth.DMARC.Result == mailauth.Fail
	forged := "the domain in From did not send this message (DMARC fail): likely forged"
	switch {
	case rep.Failed():
		add(toneBad, bad, "DANGER: this message is not what it claims to be")
		if dmarcFailed {
			add(toneBad, bad, "and %s", forged)
		}
	case dmarcFailed:
		add(toneBad, bad, "DANGER: %s", forged)
	case rep.Verified() && rep.Encryption.Kind != "none":
		add(toneGood, ok, "Verified: encrypted, and signed by the sender %s", safe(rep.From))
	case rep.Verified():
		add(toneGood, ok, "Verified: signed by the sender %s", safe(rep.From))
	case rep.Encryption.Kind != "none" && rep.Encryption.OK:
		add(toneWarn, warn, "Encrypted but not signed: anyone who has your key could have written it")
	default:
		add(toneWarn, warn, "Not signed: the sender is not proven")
	}

	// Encryption.
	e := rep.Encryption
	alg := ""
	if e.Algorithm != "" {
		alg = ", " + safe(e.Algorithm)
	}
	switch {
	case e.Kind == "none":
		add(toneDim, dot, "Encryption: none (the message travelled readable)")
	case !e.OK:
		msg := "it could not be decrypted"
		if e.Error != nil {
			msg = safe(*e.Error)
		}
		add(toneBad, bad, "Encryption (%s): %s", schemeName(e.Kind), msg)
	case !e.Integrity:
		add(toneWarn, warn, "Encrypted (%s%s) WITHOUT integrity protection: only a valid signature inside vouches for the content", schemeName(e.Kind), alg)
	default:
		add(toneGood, ok, "Encrypted (%s%s), integrity protected", schemeName(e.Kind), alg)
	}
	if e.Partial {
		add(toneWarn, warn, "Only part of the text was encrypted: the rest is shown apart as unprotected")
	}

	// Signatures, each on its own (S11, S17).
	if len(rep.Signatures) == 0 {
		add(toneDim, dot, "Signature: none")
	}
	for i, s := range rep.Signatures {
		who := safe(s.Signer)
		if who == "" {
			who = "an unknown signer"
		}
		label := "Signature"
		if len(rep.Signatures) > 1 {
			label = fmt.Sprintf("Signature %d of %d", i+1, len(rep.Signatures))
		}
		switch {
		case s.Valid && s.CoversRoot && s.MatchesFrom:
			add(toneGood, ok, "%s (%s): valid, by %s, who is the sender", label, schemeName(s.Kind), who)
		case !s.MatchesFrom && len(s.Emails) > 0 && rep.From != "":
			add(toneBad, bad, "%s (%s): by %s, who is NOT the sender %s", label, schemeName(s.Kind), who, safe(rep.From))
		case !s.CoversRoot:
			add(toneBad, bad, "%s (%s): covers only part of the message: not counted", label, schemeName(s.Kind))
		default:
			add(toneBad, bad, "%s (%s): INVALID, claimed signer %s", label, schemeName(s.Kind), who)
		}
		if s.Error != nil {
			add(toneDim, " ", "  %s", safe(*s.Error))
		}
		fpr := safe(s.Fingerprint)
		add(toneDim, " ", "  fingerprint %s · %s", fpr, provenance(s, sources))
	}
	if rep.FromHeader != "" || rep.From != "" {
		from := safe(rep.From)
		if from == "" {
			from = "unknown"
		}
		add(tonePlain, dot, "Sender judged: %s (From: %s)", from, safe(rep.FromHeader))
	}

	// Who sent it, by the sender's domain (DKIM, SPF, DMARC).
	out = append(out, authLines(auth, ok, bad, warn, dot)...)

	for _, w := range rep.Warnings {
		add(toneWarn, warn, "%s", safe(w))
	}
	if auth != nil {
		for _, w := range auth.Warnings {
			add(toneWarn, warn, "%s", safe(w))
		}
		for _, ig := range auth.IgnoredAuthResults {
			add(toneWarn, warn, "Ignored an Authentication-Results field from %s: %s", safe(ig.AuthServID), safe(ig.Reason))
		}
	}
	return out
}

func schemeName(kind string) string {
	switch kind {
	case "pgp":
		return "OpenPGP"
	case "smime":
		return "S/MIME"
	}
	return "unknown scheme"
}

// provenance says where the signer's key or certificate came from.
func provenance(s securemail.SignatureReport, sources map[string]keySource) string {
	if src, ok := sources[s.Fingerprint]; ok && s.KeySource == "keystore" {
		switch src.source {
		case keystore.SMIMEA:
			return "certificate found via SMIMEA (DNSSEC " + dnssecWord(src.dnssec) + "), kept in your keystore"
		case keystore.OpenPGPKey:
			return "key found via OPENPGPKEY (DNSSEC " + dnssecWord(src.dnssec) + "), kept in your keystore"
		case keystore.Generated:
			return "your own key"
		}
	}
	switch s.KeySource {
	case "keystore":
		return "key from your keystore"
	case "smimea":
		return "certificate found via SMIMEA (DNSSEC secure)"
	case "message":
		return "certificate or key carried by a message"
	}
	return "key unknown"
}

func dnssecWord(s string) string {
	if s == "" {
		return "secure"
	}
	return s
}

// authLines says who sent the message by its domain: the DMARC verdict,
// each DKIM signature, SPF, and where the results come from.
func authLines(v *mailauth.Verdict, ok, bad, warn, dot string) []statusLine {
	safe := message.SafeLine
	if v == nil {
		return []statusLine{{toneDim, dot, "DKIM/SPF/DMARC: not checked"}}
	}
	var out []statusLine
	d := v.DMARC
	domain := safe(d.Domain)
	if domain == "" {
		domain = safe(v.FromDomain)
	}
	policy := ""
	if d.Policy != "" {
		policy = " (policy " + safe(d.Policy) + ")"
	}
	switch d.Result {
	case mailauth.Pass:
		how := []string{}
		if d.AlignedDKIM {
			how = append(how, "DKIM")
		}
		if d.AlignedSPF {
			how = append(how, "SPF")
		}
		out = append(out, statusLine{toneGood, ok, fmt.Sprintf("DMARC pass: sent by %s, proven by aligned %s%s", domain, strings.Join(how, " and "), policy)})
	case mailauth.Fail:
		out = append(out, statusLine{toneBad, bad, fmt.Sprintf("DMARC FAIL: not sent by %s%s", domain, policy)})
	case mailauth.None:
		out = append(out, statusLine{toneDim, dot, fmt.Sprintf("DMARC: %s publishes no policy: the sender's domain is not proven", orUnknown(domain))})
	case mailauth.TempError:
		out = append(out, statusLine{toneWarn, warn, "DMARC: could not be decided now (DNS): try again later"})
	default:
		out = append(out, statusLine{toneWarn, warn, fmt.Sprintf("DMARC %s for %s", d.Result, orUnknown(domain))})
	}
	var parts []string
	for _, k := range v.DKIM {
		p := fmt.Sprintf("DKIM %s d=%s s=%s", k.Result, safe(k.Domain), safe(k.Selector))
		if k.DNSSEC == "secure" {
			p += " (key DNSSEC secure)"
		}
		parts = append(parts, p)
	}
	if len(v.DKIM) == 0 {
		parts = append(parts, "DKIM none")
	}
	spf := fmt.Sprintf("SPF %s", v.SPF.Result)
	if v.SPF.Domain != "" {
		spf += " for " + safe(v.SPF.Domain)
	}
	parts = append(parts, spf)
	source := "checked here"
	if v.Source == mailauth.SourceAuthResults {
		source = "read from the trusted header of " + safe(v.AuthServID)
	}
	out = append(out, statusLine{toneDim, " ", "  " + strings.Join(parts, " · ") + " · " + source})
	if v.ARC.Result != mailauth.None {
		out = append(out, statusLine{toneDim, " ", fmt.Sprintf("  ARC %s through %s", v.ARC.Result, safe(strings.Join(v.ARC.Sealers, ", ")))})
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "the sender's domain"
	}
	return s
}

// renderPanel draws status lines in a frame width cells wide and at most
// maxLines lines tall (frame included); lines that do not fit are
// counted on the last one.
func (t *theme) renderPanel(title string, lines []statusLine, width, maxLines int) []string {
	inner := max(width-4, 10)
	var body []string
	for _, l := range lines {
		wrapped := strings.Split(ansi.Wordwrap(l.text, inner-2, " "), "\n")
		for i, w := range wrapped {
			lead := l.mark + " "
			if i > 0 {
				lead = "  "
			}
			body = append(body, t.paint(l.tone, t.fit(lead+w, inner)))
		}
	}
	room := max(maxLines-2, 1)
	if len(body) > room {
		more := len(body) - room + 1
		body = append(body[:room-1], t.paint(toneWarn, t.fit(fmt.Sprintf("%s %d more lines: press i for the whole report", t.ellipsis, more), inner)))
	}
	b := t.border
	top := b.TopLeft + b.Top + " " + title + " "
	top += strings.Repeat(b.Top, max(width-ansi.StringWidth(top)-1, 0)) + b.TopRight
	out := []string{top}
	for _, l := range body {
		out = append(out, b.Left+" "+l+" "+b.Right)
	}
	out = append(out, b.BottomLeft+strings.Repeat(b.Bottom, max(width-2, 0))+b.BottomRight)
	return out
}

// paint colours a line by its tone.
func (t *theme) paint(tn tone, s string) string {
	switch tn {
	case toneGood:
		return t.good.Render(s)
	case toneBad:
		return t.bad.Render(s)
	case toneWarn:
		return t.warn.Render(s)
	case toneDim:
		return t.dim.Render(s)
	}
	return s
}
