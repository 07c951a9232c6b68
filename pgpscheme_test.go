package securemail

import (
	"bytes"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securemail/securemail/keystore"
)

// pgpStores makes two keystores: alice's (her identity and bob's public
// key) and bob's (his identity and alice's public key).
func pgpStores(t *testing.T) (alice, bob *keystore.Store) {
	t.Helper()
	dir := t.TempDir()
	open := func(name string) *keystore.Store {
		s, err := keystore.Open(filepath.Join(dir, name), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Generate(keystore.GenerateRequest{Email: name + "@example.org", PGP: true, NoPassphrase: true}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	alice, bob = open("alice"), open("bob")
	swap := func(from, to *keystore.Store, addr string) {
		e, err := from.Resolve(addr, keystore.PGP)
		if err != nil {
			t.Fatal(err)
		}
		var pub bytes.Buffer
		if err := from.Export(&pub, e.Fingerprint, "armor"); err != nil {
			t.Fatal(err)
		}
		if _, err := to.Import([]keystore.Input{{Name: addr, Data: pub.Bytes()}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	swap(alice, bob, "alice@example.org")
	swap(bob, alice, "bob@example.org")
	return alice, bob
}

func TestPGPProtectOpenRoundTrip(t *testing.T) {
	aliceStore, bobStore := pgpStores(t)
	for _, pol := range []Policy{{Sign: true}, {Encrypt: true}, {Sign: true, Encrypt: true}} {
		raw, err := Protect(draft(), pol, &ProtectOptions{Protectors: []Protector{&PGP{Store: aliceStore}}})
		if err != nil {
			t.Fatalf("%+v: %v", pol, err)
		}
		if pol.Encrypt && (bytes.Contains(raw, []byte("Meet at noon")) || bytes.Contains(raw, []byte("Secret plans"))) {
			t.Fatalf("%+v: plaintext outside:\n%s", pol, raw)
		}
		for name, st := range map[string]*keystore.Store{"bob": bobStore, "alice": aliceStore} {
			rep, view, err := Open(raw, &OpenOptions{Handlers: []Handler{&PGP{Store: st}}})
			if err != nil {
				t.Fatalf("%+v %s: %v", pol, name, err)
			}
			if view.Body != "Meet at noon.\n" || headerOf(view, "Subject") != "Secret plans" {
				t.Fatalf("%+v %s: view %+v\n%s", pol, name, view, raw)
			}
			wantEnc := "none"
			if pol.Encrypt {
				wantEnc = "pgp"
			}
			if rep.Encryption.Kind != wantEnc || (pol.Encrypt && !(rep.Encryption.OK && rep.Encryption.Integrity)) {
				t.Fatalf("%+v %s: encryption %+v", pol, name, rep.Encryption)
			}
			if pol.Sign != (len(rep.Signatures) == 1) || (pol.Sign && !rep.Verified()) {
				t.Fatalf("%+v %s: report %+v", pol, name, rep)
			}
			if rep.Failed() {
				t.Fatalf("%+v %s: failed %+v", pol, name, rep)
			}
		}
	}
}

func TestPGPProtectMissingKeyNamesRecipients(t *testing.T) {
	aliceStore, _ := pgpStores(t)
	d := draft()
	d.To = append(d.To, &mail.Address{Address: "carol@example.org"}, &mail.Address{Address: "dave@example.org"})
	_, err := Protect(d, Policy{Encrypt: true}, &ProtectOptions{Protectors: []Protector{&PGP{Store: aliceStore}}})
	if err == nil || !strings.Contains(err.Error(), "carol@example.org") || !strings.Contains(err.Error(), "dave@example.org") {
		t.Fatalf("err = %v", err)
	}
}
