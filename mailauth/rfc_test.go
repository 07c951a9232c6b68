package mailauth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/mailauth/mailauthtest"
)

// crlf turns a message written with \n into CRLF lines.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

// RFC 6376 Appendix A.2: the example signed message (its signature as
// corrected by erratum 3192), verified with the key of Appendix C.
const rfc6376Message = `DKIM-Signature: v=1; a=rsa-sha256; s=brisbane; d=example.com;
      c=simple/simple; q=dns/txt; i=joe@football.example.com;
      h=Received : From : To : Subject : Date : Message-ID;
      bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
      b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB
      4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut
      KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV
      4bmp/YzhwvcubU4=;
Received: from client1.football.example.com  [192.0.2.1]
      by submitserver.example.com with SUBMISSION;
      Fri, 11 Jul 2003 21:01:54 -0700 (PDT)
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game. Are you hungry yet?

Joe.
`

// RFC 6376 Appendix C: the public key record of selector brisbane.
const rfc6376Key = "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYtIxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhitdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"

// RFC 8463 Appendix A.3: a message signed twice, Ed25519 and RSA.
const rfc8463Message = `DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=brisbane; t=1528637909; h=from : to :
 subject : date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
 Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=test; t=1528637909; h=from : to : subject :
 date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
 DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
 dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game.  Are you hungry yet?

Joe.

`

// RFC 8463 Appendix A.2: the key records.
const (
	rfc8463Ed25519Key = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	rfc8463RSAKey     = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
)

var fixedNow = func() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC) }

func TestRFC6376AppendixA(t *testing.T) {
	z := (&mailauthtest.Zone{}).AddTXT("brisbane._domainkey.example.com", rfc6376Key)
	v, err := Evaluate(context.Background(), crlf(rfc6376Message), &Options{DNS: z, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.DKIM) != 1 || v.DKIM[0].Result != Pass {
		t.Fatalf("DKIM = %+v, want one pass", v.DKIM)
	}
	d := v.DKIM[0]
	if d.Domain != "example.com" || d.Selector != "brisbane" || d.Identifier != "joe@football.example.com" || d.KeyBits != 1024 {
		t.Errorf("DKIM = %+v", d)
	}
	// The 1024-bit key passes with a warning (RFC 8301).
	if !hasWarning(v, "only 1024 bits") {
		t.Errorf("warnings = %q, want the weak key named", v.Warnings)
	}
	// DMARC: example.com aligns (relaxed) with football.example.com.
	z.AddTXT("_dmarc.example.com", "v=DMARC1; p=reject")
	v, _ = Evaluate(context.Background(), crlf(rfc6376Message), &Options{DNS: z, Now: fixedNow})
	if v.FromDomain != "football.example.com" || v.DMARC.Result != Pass || !v.DMARC.AlignedDKIM || v.DMARC.Domain != "example.com" || v.DMARC.Policy != "reject" {
		t.Errorf("DMARC = %+v from %q", v.DMARC, v.FromDomain)
	}
	// The same message with LF line ends (as stored in a Maildir) verifies too.
	v, _ = Evaluate(context.Background(), []byte(rfc6376Message), &Options{DNS: z, Now: fixedNow})
	if v.DKIM[0].Result != Pass {
		t.Errorf("LF message: %+v", v.DKIM[0])
	}
	// One changed octet in the body fails.
	bad := strings.Replace(rfc6376Message, "hungry", "Hungry", 1)
	v, _ = Evaluate(context.Background(), crlf(bad), &Options{DNS: z, Now: fixedNow})
	if v.DKIM[0].Result != Fail || v.DMARC.Result != Fail {
		t.Errorf("changed body: DKIM %+v DMARC %+v", v.DKIM[0], v.DMARC)
	}
}

func TestS36_RFC8463DualSigned(t *testing.T) {
	z := (&mailauthtest.Zone{}).
		AddTXT("brisbane._domainkey.football.example.com", rfc8463Ed25519Key).
		AddTXT("test._domainkey.football.example.com", rfc8463RSAKey).
		AddTXT("_dmarc.football.example.com", "v=DMARC1; p=quarantine; adkim=s")
	v, err := Evaluate(context.Background(), crlf(rfc8463Message), &Options{DNS: z, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	if len(v.DKIM) != 2 {
		t.Fatalf("DKIM = %+v", v.DKIM)
	}
	for i, want := range []struct{ sel, alg string }{{"brisbane", "ed25519-sha256"}, {"test", "rsa-sha256"}} {
		d := v.DKIM[i]
		if d.Result != Pass || d.Selector != want.sel || d.Algorithm != want.alg {
			t.Errorf("signature %d = %+v, want pass by %s with %s", i, d, want.sel, want.alg)
		}
	}
	if !v.Pass() || v.DMARC.DKIMAlignment != "strict" {
		t.Errorf("DMARC = %+v", v.DMARC)
	}
	// Either signature alone carries the message: with the Ed25519 key
	// revoked, the RSA one still passes.
	z2 := (&mailauthtest.Zone{}).
		AddTXT("brisbane._domainkey.football.example.com", "v=DKIM1; k=ed25519; p=").
		AddTXT("test._domainkey.football.example.com", rfc8463RSAKey).
		AddTXT("_dmarc.football.example.com", "v=DMARC1; p=reject")
	v, _ = Evaluate(context.Background(), crlf(rfc8463Message), &Options{DNS: z2, Now: fixedNow})
	if v.DKIM[0].Result != PermError || v.DKIM[1].Result != Pass || !v.Pass() {
		t.Errorf("revoked Ed25519 key: %+v / %+v", v.DKIM, v.DMARC)
	}
}

func hasWarning(v *Verdict, sub string) bool {
	for _, w := range v.Warnings {
		if strings.Contains(w, sub) {
			return true
		}
	}
	return false
}
