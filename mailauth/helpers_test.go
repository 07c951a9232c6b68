package mailauth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"math/big"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/securemail/securemail/mailauth/mailauthtest"
)

// Test keys are made once per run: RSA generation is slow.
var (
	keyOnce    sync.Once
	rsaKey     *rsa.PrivateKey // 2048
	rsaKey2    *rsa.PrivateKey // 2048, another
	rsa1024Key *rsa.PrivateKey
	edKey      ed25519.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		gen := func(bits int) *rsa.PrivateKey {
			k, e := rsa.GenerateKey(rand.Reader, bits)
			if e != nil {
				err = e
			}
			return k
		}
		rsaKey, rsaKey2, rsa1024Key = gen(2048), gen(2048), gen(1024)
		_, edKey, _ = ed25519.GenerateKey(rand.Reader)
		if err != nil {
			panic(err)
		}
	})
}

// shortRSARecord is a key record with an RSA modulus of the given size
// (crypto/rsa no longer makes keys under 1024 bits; the public half is
// all a verifier sees).
func shortRSARecord(t testing.TB, bits int) string {
	t.Helper()
	n := new(big.Int).Lsh(big.NewInt(1), uint(bits-1))
	n.Add(n, big.NewInt(0x1235)) // odd, exactly bits long
	der, err := x509.MarshalPKIXPublicKey(&rsa.PublicKey{N: n, E: 65537})
	if err != nil {
		t.Fatal(err)
	}
	return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
}

// keyRecord is the DNS record publishing the public half of k.
func keyRecord(t testing.TB, k crypto.Signer) string {
	t.Helper()
	r, err := DKIMKeyRecord(k.Public())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// plainMessage is a small message from addr.
func plainMessage(from string) []byte {
	return crlf(fmt.Sprintf(`From: Alice <%s>
To: Bob <bob@example.net>
Subject: Lunch
Date: Mon, 3 Jun 2024 10:00:00 +0000
Message-ID: <lunch-1@example.org>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Shall we meet at noon?
`, from))
}

// sign signs with go-msgauth through SignDKIM.
func sign(t testing.TB, raw []byte, domain, selector string, k crypto.Signer) []byte {
	t.Helper()
	out, err := SignDKIM(raw, &DKIMSignOptions{Domain: domain, Selector: selector, Signer: k})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// craft makes a DKIM-Signature with exactly the tags given (bh= and b=
// added), hostile ones included, and prepends it.
func craft(t testing.TB, raw []byte, tags string, k crypto.Signer) []byte {
	t.Helper()
	f, err := engineSign(raw, kindDKIM, tags, k, nil)
	if err != nil {
		t.Fatal(err)
	}
	return append(f, raw...)
}

func eval(t testing.TB, raw []byte, opts *Options) *Verdict {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	v, err := Evaluate(context.Background(), raw, opts)
	if err != nil {
		t.Fatalf("Evaluate: %v", err)
	}
	return v
}

func errText(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func newZone() *mailauthtest.Zone { return &mailauthtest.Zone{} }

func mustContain(t testing.TB, what, got, want string) {
	t.Helper()
	if !strings.Contains(got, want) {
		t.Errorf("%s = %q, want it to mention %q", what, got, want)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
