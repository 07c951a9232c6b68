package pgp

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// newKey makes a v4 Ed25519/Curve25519 key for name@example.org.
func newKey(t testing.TB, name string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.org", &packet.Config{
		Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultCipher: packet.CipherAES256,
		Time: func() time.Time { return time.Now().Add(-time.Hour) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// publicOnly returns a copy of e without its private keys.
func publicOnly(t testing.TB, e *openpgp.Entity) *openpgp.Entity {
	t.Helper()
	var b bytes.Buffer
	if err := e.Serialize(&b); err != nil {
		t.Fatal(err)
	}
	pub, err := openpgp.ReadEntity(packet.NewReader(&b))
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func encryptTo(t testing.TB, plain []byte, signer *openpgp.Entity, armor bool, to ...*openpgp.Entity) []byte {
	t.Helper()
	var rs []Recipient
	for _, e := range to {
		rs = append(rs, Recipient{Name: fingerprint(e), Key: e})
	}
	var out bytes.Buffer
	w, err := Encrypt(&out, rs, signer, &WriteParams{Armor: armor})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(plain)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func TestEncryptSignRoundTrip(t *testing.T) {
	alice, bob := newKey(t, "alice"), newKey(t, "bob")
	plain := []byte("hello, hybrid world\n")
	for _, armor := range []bool{false, true} {
		ct := encryptTo(t, plain, alice, armor, publicOnly(t, bob), publicOnly(t, alice))
		var out bytes.Buffer
		res, err := Read(bytes.NewReader(ct), &out, Entities{bob, publicOnly(t, alice)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if out.String() != string(plain) {
			t.Fatalf("plaintext %q", out.String())
		}
		if !res.Encrypted || !res.Integrity || len(res.Recipients) != 2 || res.DecryptedWith != fingerprint(bob) {
			t.Fatalf("result %+v", res)
		}
		if !strings.Contains(res.Algorithm, "AES-256") {
			t.Errorf("algorithm %q", res.Algorithm)
		}
		if len(res.Signatures) != 1 || !res.Signatures[0].Valid || res.Signatures[0].Fingerprint != fingerprint(alice) {
			t.Fatalf("signatures %+v", res.Signatures)
		}
		if got := res.Signatures[0].Emails; len(got) != 1 || got[0] != "alice@example.org" {
			t.Errorf("emails %v", got)
		}
	}
}
