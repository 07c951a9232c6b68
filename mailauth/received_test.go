package mailauth

import (
	"net/netip"
	"strings"
	"testing"
)

func TestParseReceived(t *testing.T) {
	for _, tc := range []struct {
		name, value          string
		helo, ip, by, envFrm string
	}{
		{"postfix",
			"from mail.sender.example (mail.sender.example [192.0.2.1])\r\n\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))\r\n\tby mx.example.com (Postfix) with ESMTPS id 4ABC\r\n\tfor <bob@example.com>; Mon, 3 Jun 2024 10:00:01 +0000",
			"mail.sender.example", "192.0.2.1", "mx.example.com", ""},
		{"postfix unknown rDNS", "from helo.example (unknown [198.51.100.7]) by mx.example.com (Postfix) with ESMTP id X; Mon, 3 Jun 2024 10:00:01 +0000",
			"helo.example", "198.51.100.7", "mx.example.com", ""},
		{"postfix IPv6", "from mail.sender.example (mail.sender.example [IPv6:2001:db8::25]) by mx.example.com (Postfix) with ESMTPS id X; Mon, 3 Jun 2024 10:00:01 +0000",
			"mail.sender.example", "2001:db8::25", "mx.example.com", ""},
		{"exim", "from mail-wm1-f41.google.com ([209.85.128.41]:38707 helo=mail-wm1-f41.google.com)\r\n\tby mx.example.com with esmtps (TLS1.3) tls TLS_AES_128_GCM_SHA256\r\n\t(Exim 4.96)\r\n\t(envelope-from <alice@gmail.com>)\r\n\tid 1abc-000Def-2x\r\n\tfor bob@example.com; Mon, 03 Jun 2024 10:00:01 +0000",
			"mail-wm1-f41.google.com", "209.85.128.41", "mx.example.com", "alice@gmail.com"},
		{"exim other helo", "from rdns.sender.example ([192.0.2.9] helo=liar.example) by mx.example.com with esmtp (Exim 4.96) (envelope-from <>) id X; Mon, 03 Jun 2024 10:00:01 +0000",
			"liar.example", "192.0.2.9", "mx.example.com", "<>"},
		{"sendmail", "from helo.sender.example (rdns.sender.example [203.0.113.4])\r\n\tby mx.example.com (8.17.1/8.17.1) with ESMTPS id 453A01; Mon, 3 Jun 2024 10:00:01 GMT",
			"helo.sender.example", "203.0.113.4", "mx.example.com", ""},
		{"google", "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41])\r\n        by mx.google.com with SMTPS id a640c23a62f3a-a6;\r\n        Mon, 03 Jun 2024 03:00:01 -0700 (PDT)",
			"mail-sor-f41.google.com", "209.85.220.41", "mx.google.com", ""},
		{"literal HELO", "from [192.0.2.5] (unknown [192.0.2.5]) by mx.example.com (Postfix) with ESMTP id X; Mon, 3 Jun 2024 10:00:01 +0000",
			"[192.0.2.5]", "192.0.2.5", "mx.example.com", ""},
	} {
		st, err := parseReceived(unfold([]byte(tc.value)))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if st.helo != tc.helo || st.ip.String() != tc.ip || st.by != tc.by || st.envelopeFrom != tc.envFrm {
			t.Errorf("%s: helo %q ip %v by %q envelope-from %q", tc.name, st.helo, st.ip, st.by, st.envelopeFrom)
		}
	}
	for _, bad := range []string{"", "by mx.example.com", "from x (unbalanced [192.0.2.1] by y", "from x"} {
		if _, err := parseReceived(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

// TestSPFFromTrustedHop takes the SPF facts from the Received field the
// user's border server added, and from nowhere else.
func TestSPFFromTrustedHop(t *testing.T) {
	z := newZone().
		AddTXT("example.org", "v=spf1 ip4:192.0.2.0/24 -all").
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject")
	msg := plainMessage("alice@example.org")
	hops := []string{"mx.example.com", "imap.example.com"}
	border := "Received: from mail.example.org (mail.example.org [192.0.2.1])\n by mx.example.com (Postfix) with ESMTPS id A; Mon, 3 Jun 2024 10:00:01 +0000\n"
	internal := "Received: from mx.example.com (mx.example.com [10.0.0.2])\n by imap.example.com (Postfix) with LMTP id B; Mon, 3 Jun 2024 10:00:02 +0000\n"
	forged := "Received: from trusted.example.org (trusted.example.org [192.0.2.99])\n by mx.example.com (Postfix) with ESMTPS id Z; Mon, 3 Jun 2024 09:00:00 +0000\n"

	// Return-Path added at delivery, two hops, the client of the top one
	// in the user's own network: the border hop's facts.
	nets := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24")}
	raw := append(crlf("Return-Path: <bounce@example.org>\n"+internal+border), msg...)
	v := eval(t, raw, &Options{DNS: z, TrustedHops: hops, TrustedHopNets: nets})
	if v.SPF.Result != Pass || v.SPF.ClientIP != "192.0.2.1" || v.SPF.HELO != "mail.example.org" || v.SPF.MailFrom != "bounce@example.org" || v.SPF.Facts != "received:mx.example.com" || !v.Pass() {
		t.Errorf("two hops: %+v, DMARC %s", v.SPF, v.DMARC.Result)
	}
	// Without the network, the top hop is the border (its client calling
	// itself mx.example.com proves nothing), and a warning says how to
	// name the network.
	v = eval(t, raw, &Options{DNS: z, TrustedHops: hops})
	if v.SPF.ClientIP != "10.0.0.2" || v.SPF.Facts != "received:imap.example.com" || v.Pass() || !hasWarning(v, "--trusted-hop-net") {
		t.Errorf("two hops, no network: %+v %q", v.SPF, v.Warnings)
	}

	// A message whose top Received field was not added by a trusted hop
	// gives no facts, whatever the fields below claim.
	raw = append(crlf("Received: from x (x [203.0.113.1]) by relay.other.example; Mon, 3 Jun 2024 10:00:03 +0000\n"+border), msg...)
	v = eval(t, raw, &Options{DNS: z, TrustedHops: hops})
	if v.SPF.Result != None || !hasWarning(v, "not by a trusted hop") {
		t.Errorf("untrusted top: %+v %q", v.SPF, v.Warnings)
	}

	// A sender's forged Received field "by mx.example.com" lies below the
	// real one; the walk stops at the border and never reads it.
	raw = append(crlf("Return-Path: <bounce@example.org>\n"+strings.Replace(border, "192.0.2.1", "203.0.113.50", 1)+forged), msg...)
	v = eval(t, raw, &Options{DNS: z, TrustedHops: hops})
	if v.SPF.Result != Fail || v.SPF.ClientIP != "203.0.113.50" {
		t.Errorf("forged field below: %+v", v.SPF)
	}

	// Without MAIL FROM in the field and no Return-Path above it: unknown.
	raw = append(crlf(border), msg...)
	v = eval(t, raw, &Options{DNS: z, TrustedHops: hops})
	if v.SPF.Result != None || !strings.Contains(errText(v.SPF.Error), "MAIL FROM unknown") {
		t.Errorf("no MAIL FROM: %+v", v.SPF)
	}
	// A Return-Path below the border field was the sender's.
	raw = append(crlf(border+"Return-Path: <bounce@example.org>\n"), msg...)
	v = eval(t, raw, &Options{DNS: z, TrustedHops: hops})
	if v.SPF.MailFrom != "" {
		t.Errorf("Return-Path below the border: %+v", v.SPF)
	}
	// Options.Connection wins over the Received fields.
	v = eval(t, append(crlf(border), msg...), &Options{DNS: z, TrustedHops: hops,
		Connection: &Connection{IP: mustAddr("203.0.113.1"), HELO: "x.example", MailFrom: "a@example.org"}})
	if v.SPF.Result != Fail || v.SPF.Facts != "options" {
		t.Errorf("explicit facts: %+v", v.SPF)
	}
}
