package mailauth

import (
	"bytes"
	"crypto"
	"fmt"
	"regexp"
	"testing"

	"github.com/securemail/securemail/mailauth/mailauthtest"
)

// arcHop forwards a message as an intermediary does: it validates the
// chain it received, changes the message (a list's footer) if it does,
// then seals.
func arcHop(t *testing.T, raw []byte, z *mailauthtest.Zone, domain string, k crypto.Signer, change func([]byte) []byte) []byte {
	t.Helper()
	v := eval(t, raw, &Options{DNS: z})
	if change != nil {
		raw = change(raw)
	}
	out, err := SealARC(raw, &ARCSealOptions{
		Domain: domain, Selector: "arc", Signer: k,
		AuthServID: "mx." + domain, AuthResults: fmt.Sprintf("arc=%s; dmarc=%s header.from=%s", v.ARC.Result, v.DMARC.Result, v.FromDomain),
		ChainValidation: v.ARC.Result, Now: fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// threeHops is a message signed by example.org, through list1 (which
// forwards it as is), list2 (which adds a footer: the original DKIM
// signature breaks) and list3.
func threeHops(t *testing.T) ([]byte, *mailauthtest.Zone) {
	keys(t)
	z := newZone().
		AddTXT("sel._domainkey.example.org", keyRecord(t, rsaKey)).
		AddTXT("_dmarc.example.org", "v=DMARC1; p=reject").
		AddTXT("arc._domainkey.list1.example", keyRecord(t, rsaKey2)).
		AddTXT("arc._domainkey.list2.example", keyRecord(t, rsaKey)).
		AddTXT("arc._domainkey.list3.example", keyRecord(t, rsaKey2))
	raw := sign(t, plainMessage("alice@example.org"), "example.org", "sel", rsaKey)
	raw = arcHop(t, raw, z, "list1.example", rsaKey2, nil)
	raw = arcHop(t, raw, z, "list2.example", rsaKey, func(b []byte) []byte {
		return append(b, crlf("-- \nYou are subscribed to list2.\n")...)
	})
	raw = arcHop(t, raw, z, "list3.example", rsaKey2, nil)
	return raw, z
}

func TestARCThreeHops(t *testing.T) {
	raw, z := threeHops(t)
	v := eval(t, raw, &Options{DNS: z})
	a := v.ARC
	if a.Result != Pass || a.Instances != 3 || fmt.Sprint(a.Sealers) != "[list1.example list2.example list3.example]" {
		t.Fatalf("ARC = %+v (%s)", a, errText(a.Error))
	}
	// list2 changed the body: message signatures from list2 on verify.
	if a.OldestPass != 2 {
		t.Errorf("oldest pass = %d, want 2", a.OldestPass)
	}
	// The author's signature broke at list2: DMARC fails; ARC says who
	// handled the message, for a person (or a local policy) to judge.
	if v.DKIM[0].Result != Fail || v.DMARC.Result != Fail {
		t.Errorf("DKIM %+v DMARC %+v", v.DKIM, v.DMARC)
	}
	// list2 recorded (in its ARC-Authentication-Results) that the chain
	// and DMARC passed when it received the message.
	if !regexp.MustCompile(`(?m)^ARC-Authentication-Results: i=2; mx.list2.example;\r\n arc=pass; dmarc=pass header.from=example.org`).Match(raw) {
		t.Errorf("AAR 2 not as expected:\n%s", raw[:1500])
	}
}

func TestARCBroken(t *testing.T) {
	raw, z := threeHops(t)
	for _, tc := range []struct {
		name   string
		change func([]byte) []byte
		want   string
	}{
		{"modified body after the last hop", func(b []byte) []byte {
			return bytes.Replace(b, []byte("Shall we meet at noon?"), []byte("Shall we meet at one?"), 1)
		}, "ARC-Message-Signature 3: the body hash does not match"},
		{"modified subject after the last hop", func(b []byte) []byte {
			return bytes.Replace(b, []byte("Subject: Lunch"), []byte("Subject: Pay now"), 1)
		}, "ARC-Message-Signature 3: the signature does not verify"},
		{"broken seal: an earlier hop's results rewritten", func(b []byte) []byte {
			return bytes.Replace(b, []byte("i=1; mx.list1.example;\r\n arc=none; dmarc=pass"), []byte("i=1; mx.list1.example;\r\n arc=none; dmarc=fail"), 1)
		}, "ARC-Seal 3: the signature does not verify"},
		{"broken seal: cv rewritten", func(b []byte) []byte {
			return regexp.MustCompile(`ARC-Seal: i=2; a=rsa-sha256; cv=pass`).ReplaceAll(b, []byte("ARC-Seal: i=2; a=rsa-sha256; cv=none"))
		}, "cv=none, where cv=pass belongs"},
		{"newest seal says fail", func(b []byte) []byte {
			return regexp.MustCompile(`ARC-Seal: i=3; a=rsa-sha256; cv=pass`).ReplaceAll(b, []byte("ARC-Seal: i=3; a=rsa-sha256; cv=fail"))
		}, "cv=fail"},
		{"a set removed", func(b []byte) []byte {
			return regexp.MustCompile(`(?m)^ARC-[A-Za-z-]+: i=2;[^\n]*\n(?:[ \t][^\n]*\n)*`).ReplaceAll(b, nil)
		}, "instance 2 is missing"},
		{"a set duplicated", func(b []byte) []byte {
			m := regexp.MustCompile(`(?s)ARC-Seal: i=1;.*?\r\n(?:ARC-Message|\S)`).Find(b)
			return append(m[:len(m)-1:len(m)-1], b...)
		}, "two ARC-Seal fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := eval(t, tc.change(bytes.Clone(raw)), &Options{DNS: z})
			if v.ARC.Result != Fail {
				t.Fatalf("ARC = %+v", v.ARC)
			}
			mustContain(t, "error", errText(v.ARC.Error), tc.want)
		})
	}
	// A key that cannot be fetched makes the chain temporarily unknown.
	z.SetServFail("arc._domainkey.list3.example")
	if v := eval(t, raw, &Options{DNS: z}); v.ARC.Result != TempError {
		t.Errorf("SERVFAIL: %+v", v.ARC)
	}
	// No ARC fields: none.
	if v := eval(t, plainMessage("a@example.org"), &Options{DNS: z}); v.ARC.Result != None || v.ARC.Instances != 0 {
		t.Errorf("no ARC: %+v", v.ARC)
	}
}

func TestARCLimit(t *testing.T) {
	keys(t)
	z := newZone().AddTXT("arc._domainkey.list.example", keyRecord(t, rsaKey2))
	raw := plainMessage("alice@example.org")
	for i := 0; i < maxARCSets; i++ {
		raw = arcHopQuiet(t, raw, "list.example", i == 0)
	}
	if v := eval(t, raw, &Options{DNS: z}); v.ARC.Result != Pass || v.ARC.Instances != maxARCSets {
		t.Fatalf("%d sets: %+v", maxARCSets, v.ARC)
	}
	if _, err := SealARC(raw, &ARCSealOptions{Domain: "list.example", Selector: "arc", Signer: rsaKey2, ChainValidation: Pass}); err == nil {
		t.Error("a 51st set was sealed")
	}
	if _, err := SealARC(plainMessage("a@example.org"), &ARCSealOptions{Domain: "list.example", Selector: "arc", Signer: edKey}); err == nil {
		t.Error("an Ed25519 seal was made")
	}
	// A 51st set made by hand is refused by the verifier.
	extra := crlf("ARC-Authentication-Results: i=51; x; none\nARC-Message-Signature: i=51; a=rsa-sha256; d=list.example; s=arc; h=from; bh=AAAA; b=AAAA\nARC-Seal: i=51; a=rsa-sha256; cv=pass; d=list.example; s=arc; b=AAAA\n")
	if v := eval(t, append(extra, raw...), &Options{DNS: z}); v.ARC.Result != Fail {
		t.Errorf("51 sets: %+v", v.ARC)
	}
}

// arcHopQuiet seals without validating first (the chain is known good).
func arcHopQuiet(t *testing.T, raw []byte, domain string, first bool) []byte {
	cv := Pass
	if first {
		cv = None
	}
	out, err := SealARC(raw, &ARCSealOptions{Domain: domain, Selector: "arc", Signer: rsaKey2, AuthServID: "mx." + domain, ChainValidation: cv, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
