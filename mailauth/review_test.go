package mailauth

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/securemail/securemail/mailauth/mailauthtest"
)

// The border server records the client's HELO verbatim. An attacker who
// says "EHLO mx.example.com" makes the border field look "internal", so
// the walk goes on into a Received field the attacker wrote, whose IP is
// one the spoofed domain's SPF authorises.
func TestS31_BorderHopHELONamedAsTrustedHop(t *testing.T) {
	z := newZone().
		AddTXT("example.org", "v=spf1 ip4:192.0.2.0/24 -all").
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	msg := plainMessage("alice@example.org")
	hops := []string{"mx.example.com", "imap.example.com"}
	// Written by the real border MX: attacker at 203.0.113.50 said EHLO mx.example.com.
	border := "Received: from mx.example.com (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A; Mon, 3 Jun 2024 10:00:01 +0000\n"
	// Written by the attacker, in the message it sent.
	forged := "Received: from mail.example.org (mail.example.org [192.0.2.1])\n by mx.example.com (Postfix) with ESMTPS id Z; Mon, 3 Jun 2024 09:00:00 +0000\n"
	// Return-Path is added at delivery from the MAIL FROM the attacker gave.
	raw := append(crlf("Return-Path: <bounce@example.org>\n"+border+forged), msg...)
	v := eval(t, raw, &Options{DNS: z, TrustedHops: hops})
	t.Logf("SPF %+v warnings %q", v.SPF, v.Warnings)
	if v.SPF.Result == Pass || v.Pass() {
		t.Errorf("forged Received below the border was used: SPF %+v, DMARC %s", v.SPF, v.DMARC.Result)
	}
}

// Same walk, and the attacker's Authentication-Results (carrying the
// trusted authserv-id) sits above its forged Received field, hence "above
// the border".
func TestS30_AuthResAboveForgedReceivedBelowHELOSpoofedBorder(t *testing.T) {
	z := newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	msg := plainMessage("alice@example.org")
	hops := []string{"mx.example.com"}
	border := "Received: from mx.example.com (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A; Mon, 3 Jun 2024 10:00:01 +0000\n"
	forged := "Authentication-Results: mx.example.com; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\n" +
		"Received: from mail.example.org (mail.example.org [192.0.2.1])\n by mx.example.com (Postfix) with ESMTPS id Z; Mon, 3 Jun 2024 09:00:00 +0000\n"
	raw := append(crlf(border+forged), msg...)
	v := eval(t, raw, &Options{DNS: z, TrustedHops: hops, TrustedAuthServIDs: []string{"mx.example.com"}})
	if v.Source == SourceAuthResults || v.Pass() {
		t.Errorf("attacker's A-R trusted: source %s, DMARC %s", v.Source, v.DMARC.Result)
	}
}

// RFC 5321 allows spaces in a quoted local part of MAIL FROM; a server
// that records smtp.mailfrom=<MAIL FROM> writes a valid RFC 8601 field
// that go-msgauth splits on the spaces inside the quotes.
func TestS31_AuthResQuotedSpaceInjectsProperty(t *testing.T) {
	z := newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	msg := plainMessage("alice@example.org")
	ar := "Authentication-Results: mx.example.com;\n spf=pass smtp.mailfrom=\"a smtp.mailfrom=x@example.org \"@evil.example\n"
	raw := append(crlf(ar), msg...)
	v := eval(t, raw, &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com"}})
	t.Logf("SPF %+v", v.SPF)
	if v.Pass() || v.SPF.Domain == "example.org" {
		t.Errorf("SPF pass for evil.example read as example.org: %+v; DMARC %s", v.SPF, v.DMARC.Result)
	}
}

// Postfix records the HELO argument verbatim ("from HELO (rdns [ip])").
// A HELO that carries its own comment with an address literal comes
// first, and readTCPInfo takes the first comment after "from".
func TestS31_ReceivedHELOAddressLiteralComment(t *testing.T) {
	z := newZone().
		AddTXT("example.org", "v=spf1 ip4:192.0.2.0/24 -all").
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	msg := plainMessage("alice@example.org")
	hops := []string{"mx.example.com"}
	// The attacker at 203.0.113.50 said "EHLO mail.example.org([192.0.2.1])".
	border := "Return-Path: <bounce@example.org>\nReceived: from mail.example.org([192.0.2.1]) (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A; Mon, 3 Jun 2024 10:00:01 +0000\n"
	v := eval(t, append(crlf(border), msg...), &Options{DNS: z, TrustedHops: hops})
	t.Logf("SPF %+v", v.SPF)
	if v.SPF.ClientIP != "203.0.113.50" || v.Pass() {
		t.Errorf("client IP taken from the HELO argument: %+v, DMARC %s", v.SPF, v.DMARC.Result)
	}
}

// spoofZone authorises 192.0.2.0/24 for example.org, whose DMARC policy
// is reject: an attacker elsewhere wants SPF to read one of those.
func spoofZone() *mailauthtest.Zone {
	return newZone().
		AddTXT("example.org", "v=spf1 ip4:192.0.2.0/24 -all").
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
}

const dateTail = "; Mon, 3 Jun 2024 10:00:01 +0000\n"

// Whether a hop is one of the user's own is decided on the client address
// its server recorded, in TrustedHopNets; the client's HELO, even an
// address literal inside those networks, proves nothing.
func TestS31_BorderHopInternalOnlyByTrustedNet(t *testing.T) {
	z := spoofZone()
	msg := plainMessage("alice@example.org")
	hops := []string{"mx.example.com", "imap.example.com"}
	nets := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("127.0.0.1/32")}
	forged := "Received: from mail.example.org (mail.example.org [192.0.2.1])\n by mx.example.com (Postfix) with ESMTPS id Z" + dateTail
	for _, tc := range []struct{ name, border string }{
		{"HELO names the trusted hop", "Received: from mx.example.com (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A" + dateTail},
		{"HELO is a trusted address", "Received: from [10.0.0.2] (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A" + dateTail},
		{"HELO is loopback", "Received: from localhost (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A" + dateTail},
		{"reverse name of the trusted hop", "Received: from mx.example.com (mx.example.com [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A" + dateTail},
		{"Exim helo=", "Received: from mx.example.com ([203.0.113.50]:4321 helo=mx.example.com)\n by mx.example.com with esmtp (Exim 4.96)\n id A" + dateTail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := append(crlf("Return-Path: <bounce@example.org>\n"+tc.border+forged), msg...)
			v := eval(t, raw, &Options{DNS: z, TrustedHops: hops, TrustedHopNets: nets})
			if v.SPF.ClientIP != "203.0.113.50" || v.SPF.Result != Fail || v.Pass() {
				t.Errorf("SPF %+v, DMARC %s", v.SPF, v.DMARC.Result)
			}
		})
	}

	// The user's own hops, by their addresses: a content filter on
	// loopback, a relay in 10/8, Dovecot's LMTP over a local socket (no
	// address at all). The border is the field below them.
	border := "Received: from mail.example.org (mail.example.org [192.0.2.1])\n by mx.example.com (Postfix) with ESMTPS id B" + dateTail
	chain := "Return-Path: <bounce@example.org>\n" +
		"Received: from mx.example.com\n by imap.example.com with LMTP id C\n (envelope-from <other@evil.example>)\n for <bob@example.com>" + dateTail +
		"Received: from localhost (localhost [127.0.0.1])\n by mx.example.com (Postfix) with ESMTP id D" + dateTail +
		"Received: from relay.example.com (relay.example.com [10.1.2.3])\n by mx.example.com (Postfix) with ESMTP id E" + dateTail +
		border + forged
	v := eval(t, append(crlf(chain), msg...), &Options{DNS: z, TrustedHops: hops, TrustedHopNets: nets})
	if v.SPF.Result != Pass || v.SPF.ClientIP != "192.0.2.1" || v.SPF.MailFrom != "bounce@example.org" || len(v.Warnings) != 0 {
		t.Errorf("own hops: SPF %+v, warnings %q", v.SPF, v.Warnings)
	}
	// Without the networks, the walk stops at the content filter's field.
	v = eval(t, append(crlf(chain), msg...), &Options{DNS: z, TrustedHops: hops})
	if v.SPF.ClientIP != "127.0.0.1" || v.SPF.Result == Pass || !hasWarning(v, "127.0.0.1, a local address") {
		t.Errorf("own hops, no networks: SPF %+v, warnings %q", v.SPF, v.Warnings)
	}
	// An LMTP field with a client address is judged by that address.
	lmtp := strings.Replace(chain, "from mx.example.com\n by imap", "from mx.example.com ([203.0.113.50])\n by imap", 1)
	v = eval(t, append(crlf(lmtp), msg...), &Options{DNS: z, TrustedHops: hops, TrustedHopNets: nets})
	if v.SPF.ClientIP != "203.0.113.50" || v.SPF.MailFrom != "other@evil.example" || v.Pass() {
		t.Errorf("LMTP with an address: SPF %+v", v.SPF)
	}
}

// A client address literal that the client wrote, in its HELO (Postfix
// records it as given, spaces and comments included) or in the recipient
// of the "for" clause, never replaces the one the server recorded: Postfix's
// own "name [ip]" comment is the last; any other field with more than one
// reading gives no SPF facts, with a warning.
func TestS31_ReceivedClientChosenText(t *testing.T) {
	z := spoofZone()
	msg := plainMessage("alice@example.org")
	hops := []string{"mx.example.com"}
	for _, tc := range []struct {
		name, received string
		ip             string // "" for no facts
		warn           string
	}{
		{"Postfix, HELO with a literal comment",
			"from mail.example.org([192.0.2.1]) (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A",
			"203.0.113.50", "holds an address literal of its own"},
		{"Postfix, HELO with a TCP-info look-alike",
			"from mail.example.org (mail.example.org [192.0.2.1]) (unknown [203.0.113.50])\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\n\tby mx.example.com (Postfix) with ESMTPS id A",
			"203.0.113.50", "holds an address literal of its own"},
		{"Postfix, a literal after its own comment",
			"from x (unknown [203.0.113.50]) (Client CN \"x [192.0.2.1]\", Issuer \"y\" (not verified)) by mx.example.com (Postfix) with ESMTPS id A",
			"", "ambiguous"},
		{"another server, two literal comments",
			"from mail.example.org (mail.example.org [192.0.2.1]) (unknown [203.0.113.50]) by mx.example.com (8.17.1/8.17.1) with ESMTP id A",
			"", "ambiguous: 2 comments"},
		{"two literals in one comment",
			"from x (x [192.0.2.1] [203.0.113.50]) by mx.example.com with ESMTP id A",
			"", "ambiguous: 2 address literals"},
		{"HELO with a semicolon and a fake field",
			"from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.com; (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A",
			"", "ambiguous: 2 semicolons"},
		{"HELO with a by clause",
			"from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.com with ESMTPS id Z (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A",
			"", "two \"by\" clauses"},
		{"HELO ending in a via clause",
			"from [192.0.2.1] via x (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A",
			"", "comment of the \"via\" clause"},
		{"HELO opening a comment closed in the recipient",
			"from mail.example.org (mail.example.org [192.0.2.1]) by mx.example.com (Postfix) (x (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A for <\")\"@example.com>",
			"", "nested comment"},
		{"HELO with an unbalanced parenthesis",
			"from a(b (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A",
			"", "unbalanced parenthesis"},
		{"a literal in the for clause",
			"from x (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A for <\"(x [192.0.2.1])\"@example.com>",
			"", "comment of the \"for\" clause"},
		{"Exim, helo= with a literal",
			"from [203.0.113.50] (port=4321 helo=[192.0.2.1]) by mx.example.com with esmtp (Exim 4.96) id A",
			"203.0.113.50", ""},
		{"Exim with a name, helo= with a literal",
			"from rdns.example.net ([203.0.113.50]:4321 helo=[192.0.2.1]) by mx.example.com with esmtp (Exim 4.96) id A",
			"203.0.113.50", ""},
		{"Exim, a bare literal after helo=",
			"from [203.0.113.50] (port=4321 helo=x [192.0.2.1]) by mx.example.com with esmtp (Exim 4.96) id A",
			"", "not TCP information"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := append(crlf("Return-Path: <bounce@example.org>\nReceived: "+tc.received+dateTail), msg...)
			v := eval(t, raw, &Options{DNS: z, TrustedHops: hops})
			if v.Pass() || v.SPF.Result == Pass || v.SPF.ClientIP != tc.ip {
				t.Errorf("SPF %+v, DMARC %s, warnings %q", v.SPF, v.DMARC.Result, v.Warnings)
			}
			if tc.warn != "" && !hasWarning(v, tc.warn) {
				t.Errorf("warnings %q, want %q", v.Warnings, tc.warn)
			}
		})
	}
}

// MAIL FROM is read from an envelope-from comment only where Exim and
// Dovecot write one, after "by": one in the client's HELO or recipient
// would otherwise name a domain whose SPF authorises the attacker's
// (shared) sending address.
func TestS31_ReceivedEnvelopeFromInjection(t *testing.T) {
	z := spoofZone()
	msg := plainMessage("alice@example.org")
	hops := []string{"mx.example.com"}
	// The attacker sends from 192.0.2.77, a shared server that
	// example.org's SPF authorises, with its own MAIL FROM.
	for _, received := range []string{
		"from x (envelope-from <ceo@example.org>) (unknown [192.0.2.77]) by mx.example.com (Postfix) with ESMTP id A",
		"from x (unknown [192.0.2.77]) by mx.example.com (Postfix) with ESMTP id A for <\"(envelope-from <ceo@example.org>)\"@example.com>",
		"from x ([192.0.2.77]:25 helo=x) by mx.example.com with esmtp (Exim 4.96) (envelope-from <a@evil.example>) (envelope-from <ceo@example.org>) id A",
		"from x ([192.0.2.77]:25 helo=x) by mx.example.com with esmtp (Exim 4.96) (x (envelope-from <ceo@example.org>)) id A",
	} {
		raw := append(crlf("Return-Path: <a@evil.example>\nReceived: "+received+dateTail), msg...)
		v := eval(t, raw, &Options{DNS: z, TrustedHops: hops})
		if v.Pass() || v.SPF.Domain == "example.org" || !hasWarning(v, "ambiguous") {
			t.Errorf("%s: SPF %+v, DMARC %s, warnings %q", received, v.SPF, v.DMARC.Result, v.Warnings)
		}
	}
	// Where Exim writes it, it is the MAIL FROM.
	raw := append(crlf("Received: from x ([192.0.2.77]:25 helo=x) by mx.example.com with esmtp (Exim 4.96) (envelope-from <a@evil.example>) id A"+dateTail), msg...)
	v := eval(t, raw, &Options{DNS: z, TrustedHops: hops})
	if v.SPF.MailFrom != "a@evil.example" || v.SPF.Domain != "evil.example" {
		t.Errorf("Exim: SPF %+v", v.SPF)
	}
}

// Authentication-Results fields below a Received field that the trusted
// hops do not vouch for (one the walk cannot read, or one added by
// another server) are not believed: a client that makes the top field
// unreadable must not bring back its own field carrying the trusted
// authserv-id.
func TestS30_AuthResBelowUnvouchedReceived(t *testing.T) {
	z := newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	msg := plainMessage("alice@example.org")
	forged := "Authentication-Results: mx.example.com; dkim=pass header.d=example.org; dmarc=pass header.from=example.org\n"
	for _, top := range []string{
		"Received: from a(b (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A" + dateTail,
		"Received: from x (unknown [203.0.113.50]) by mx.example.com (Postfix) with ESMTP id A for <\"a;b\"@example.com>" + dateTail,
		"Received: from x (unknown [203.0.113.50]) by relay.other.example (Postfix) with ESMTP id A" + dateTail,
	} {
		v := eval(t, append(crlf(top+forged), msg...), &Options{DNS: z, TrustedHops: []string{"mx.example.com"}, TrustedAuthServIDs: []string{"mx.example.com"}})
		if v.Source != SourceVerified || v.Pass() || len(v.IgnoredAuthResults) != 1 || !strings.Contains(v.IgnoredAuthResults[0].Reason, "do not vouch for") {
			t.Errorf("%q: source %s, DMARC %s, ignored %+v", top, v.Source, v.DMARC.Result, v.IgnoredAuthResults)
		}
	}
	// Above the top field, the user's server's own field is believed.
	v := eval(t, append(crlf(forged+"Received: from a(b (unknown [203.0.113.50])\n by mx.example.com (Postfix) with ESMTP id A"+dateTail), msg...),
		&Options{DNS: z, TrustedHops: []string{"mx.example.com"}, TrustedAuthServIDs: []string{"mx.example.com"}})
	if v.Source != SourceAuthResults || !v.Pass() {
		t.Errorf("above: source %s, DMARC %s, ignored %+v", v.Source, v.DMARC.Result, v.IgnoredAuthResults)
	}
}

// Authentication-Results are read with RFC 8601's quoting and comments;
// a property given twice, a stray word, or a quote anywhere but around a
// whole value or a local part makes the field ambiguous: ignored, and
// listed with the reason.
func TestS31_AuthResPropertyInjection(t *testing.T) {
	z := newZone().AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	msg := plainMessage("alice@example.org")
	opts := func() *Options { return &Options{DNS: z, TrustedAuthServIDs: []string{"mx.example.com"}} }
	for _, tc := range []struct{ name, ar, reason string }{
		{"duplicate header.d", "dkim=pass header.d=evil.example header.d=example.org", "header.d given twice"},
		{"duplicate header.d, case", "dkim=pass header.d=evil.example Header.D=example.org", "header.d given twice"},
		{"duplicate smtp.mailfrom", "spf=pass smtp.mailfrom=a@evil.example smtp.mailfrom=x@example.org", "smtp.mailfrom given twice"},
		{"duplicate header.from", "dkim=pass header.d=example.org; dmarc=fail header.from=example.org header.from=evil.example", "header.from given twice"},
		{"quotes stripped by a lax server", `spf=pass smtp.mailfrom="a" smtp.mailfrom=x@example.org ""@evil.example`, "given twice"},
		{"stray word", `dkim=pass header.d=example.org evil`, "is not a property"},
		{"quote inside a value", `spf=pass smtp.mailfrom=a"b smtp.mailfrom=x@example.org "@evil.example`, "a quote inside"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := append(crlf("Authentication-Results: mx.example.com; "+tc.ar+"\n"), msg...)
			v := eval(t, raw, opts())
			if v.Source != SourceVerified || v.Pass() || len(v.IgnoredAuthResults) != 1 {
				t.Fatalf("source %s, DMARC %s, ignored %+v", v.Source, v.DMARC.Result, v.IgnoredAuthResults)
			}
			mustContain(t, "reason", v.IgnoredAuthResults[0].Reason, "ambiguous syntax")
			mustContain(t, "reason", v.IgnoredAuthResults[0].Reason, tc.reason)
		})
	}

	// Quoted strings with white space are read whole: the identity is the
	// one the server judged, which does not align.
	for _, tc := range []struct{ name, ar string }{
		{"header.i holding header.d", `dkim=pass header.d=evil.example header.i="x header.d=example.org "@evil.example`},
		{"quoted header.d with spaces", `dkim=pass header.d="evil.example example.org"`},
		{"quoted header.from with spaces", `dkim=pass header.d=evil.example; dmarc=pass header.from="evil.example header.from=example.org"`},
		{"quoted smtp.helo with spaces", `spf=pass smtp.helo="evil.example smtp.mailfrom=x@example.org"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := append(crlf("Authentication-Results: mx.example.com; "+tc.ar+"\n"), msg...)
			v := eval(t, raw, opts())
			if v.Pass() || v.DMARC.AlignedDKIM || v.DMARC.AlignedSPF || v.SPF.Domain == "example.org" {
				t.Errorf("DKIM %+v SPF %+v DMARC %+v", v.DKIM, v.SPF, v.DMARC)
			}
			for _, d := range v.DKIM {
				if d.Domain == "example.org" {
					t.Errorf("DKIM read as example.org: %+v", d)
				}
			}
		})
	}

	// What servers write is still read: OpenDKIM's quoted reason with
	// spaces, Microsoft's unlabelled properties, a quoted MAIL FROM.
	raw := append(crlf("Authentication-Results: mx.example.com;\n dkim=fail reason=\"signature verification failed\" (2048-bit key; unprotected) header.d=example.org header.i=@example.org header.b=\"aB+/cD9e\";\n dkim=pass (2048-bit key) header.d=example.org header.b=Xy+/z==;\n spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=\"b-7@example.org\";\n dmarc=pass action=none header.from=example.org;\n compauth=pass reason=100\n"), msg...)
	v := eval(t, raw, opts())
	if v.Source != SourceAuthResults || !v.Pass() || len(v.DKIM) != 2 || errText(v.DKIM[0].Error) != "signature verification failed" || v.SPF.Domain != "example.org" || v.SPF.Result != Pass {
		t.Errorf("real-world field: source %s DKIM %+v SPF %+v DMARC %+v ignored %+v", v.Source, v.DKIM, v.SPF, v.DMARC, v.IgnoredAuthResults)
	}
}
