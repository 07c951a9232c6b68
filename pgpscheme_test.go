package securemail

import (
	"bytes"
	"net/mail"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/pgp"
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

// pgpOpen opens raw with the PGP handler over st.
func pgpOpen(t *testing.T, st *keystore.Store, raw []byte) (*Report, *View) {
	t.Helper()
	rep, view, err := Open(raw, &OpenOptions{Handlers: []Handler{&PGP{Store: st}}})
	if err != nil {
		t.Fatal(err)
	}
	return rep, view
}

var fromLine = regexp.MustCompile(`(?m)^From: .*\r\n`)

// aliceSigned is a PGP/MIME message signed by Alice with the given From.
func aliceSigned(t *testing.T, st *keystore.Store, from string) []byte {
	t.Helper()
	d := draft()
	raw, err := Protect(d, Policy{Sign: true}, &ProtectOptions{Protectors: []Protector{&PGP{Store: st}}})
	if err != nil {
		t.Fatal(err)
	}
	if from != "" {
		raw = fromLine.ReplaceAll(raw, []byte("From: "+from+"\r\n"))
	}
	return raw
}

// S21: a signed part inside a multipart/mixed with other text is not a
// signed message, and the other text is not shown as signed.
func TestS21_PGPSignedPartNotRoot(t *testing.T) {
	aliceStore, bobStore := pgpStores(t)
	signed := aliceSigned(t, aliceStore, "")
	m, err := message.Parse(signed, nil)
	if err != nil {
		t.Fatal(err)
	}
	entity := m.Raw[m.Root.HeaderEnd:]
	ct := m.Root.Header.Get("Content-Type")
	raw := []byte("From: Alice <alice@example.org>\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
		"--outer\r\nContent-Type: text/plain\r\n\r\nPay Eve 1000 EUR today.\r\n--outer\r\nContent-Type: " + ct + "\r\n" + string(entity) + "\r\n--outer--\r\n")
	rep, view := pgpOpen(t, bobStore, raw)
	if len(rep.Signatures) != 0 || rep.Verified() {
		t.Fatalf("a signed sub-part made the message signed: %+v", rep)
	}
	if !strings.Contains(view.Body, "Pay Eve") || len(view.Attachments) != 1 || view.Attachments[0].Note == "" {
		t.Fatalf("view %+v", view)
	}
}

// S22: inline OpenPGP with text around the block: only the block is
// read; the text around it is shown apart and the signature does not
// cover the message.
func TestS22_InlineTextAroundBlockUnprotected(t *testing.T) {
	aliceStore, bobStore := pgpStores(t)
	e, _ := aliceStore.Resolve("alice@example.org", keystore.PGP)
	alice, err := aliceStore.UnlockPGP(e.Fingerprint, nil)
	if err != nil {
		t.Fatal(err)
	}
	var signed bytes.Buffer
	w, err := pgp.Sign(&signed, alice, &pgp.WriteParams{Armor: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("I owe Bob 10 EUR.\n"))
	w.Close()
	head := "From: Alice <alice@example.org>\r\nSubject: IOU\r\n\r\n"
	for name, c := range map[string]struct {
		body    string
		covered bool
	}{
		"alone":       {signed.String(), true},
		"text before": {"Also pay Eve 1000 EUR.\n\n" + signed.String(), false},
		"text after":  {signed.String() + "\nPS: and Eve 1000 EUR.\n", false},
	} {
		rep, view := pgpOpen(t, bobStore, []byte(head+strings.ReplaceAll(c.body, "\n", "\r\n")))
		if len(rep.Signatures) != 1 || rep.Signatures[0].CoversRoot != c.covered || rep.Verified() != c.covered {
			t.Fatalf("%s: %+v", name, rep)
		}
		if view.Body != "I owe Bob 10 EUR.\n" {
			t.Fatalf("%s: body %q", name, view.Body)
		}
		if !c.covered && (!strings.Contains(view.Unprotected, "Eve") || strings.Contains(view.Body, "Eve")) {
			t.Fatalf("%s: unprotected text %q, body %q", name, view.Unprotected, view.Body)
		}
	}
}

// S23: a valid signature by a key that does not carry the From address
// is not valid for the message; the signer is named.
func TestS23_PGPSignerIsNotFrom(t *testing.T) {
	aliceStore, bobStore := pgpStores(t)
	for _, from := range []string{"Mallory <mallory@example.org>", `"alice@example.org" <mallory@example.org>`, ""} {
		raw := aliceSigned(t, aliceStore, from)
		if from == "" {
			raw = fromLine.ReplaceAll(raw, nil)
		}
		rep, _ := pgpOpen(t, bobStore, raw)
		if len(rep.Signatures) != 1 {
			t.Fatalf("%q: %+v", from, rep)
		}
		s := rep.Signatures[0]
		if s.Valid || s.MatchesFrom || rep.Verified() || !rep.Failed() || s.Error == nil || len(s.Fingerprint) != 40 {
			t.Fatalf("%q: signature %+v", from, s)
		}
	}
}

// S08 in mail: an inline encrypted block that holds nothing, beside
// cleartext, is not an encrypted message.
func TestS08_EmptyEncryptedBlockBesideCleartext(t *testing.T) {
	aliceStore, bobStore := pgpStores(t)
	bob, err := aliceStore.PGPKey(mustResolve(t, aliceStore, "bob@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	var ct bytes.Buffer
	w, err := pgp.Encrypt(&ct, []pgp.Recipient{{Name: "bob", Key: bob}}, nil, &pgp.WriteParams{Armor: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	raw := "From: Alice <alice@example.org>\r\nSubject: x\r\n\r\nPlease wire 1000 EUR to Eve.\r\n\r\n" + strings.ReplaceAll(ct.String(), "\n", "\r\n")
	rep, view := pgpOpen(t, bobStore, []byte(raw))
	if rep.Encryption.Kind == "pgp" && !rep.Encryption.Partial {
		t.Fatalf("shown as an encrypted message: %+v", rep.Encryption)
	}
	if rep.Verified() || strings.Contains(view.Body, "Eve") || !strings.Contains(view.Unprotected, "Eve") {
		t.Fatalf("report %+v view %+v", rep, view)
	}
}

func mustResolve(t *testing.T, st *keystore.Store, addr string) string {
	t.Helper()
	e, err := st.Resolve(addr, keystore.PGP)
	if err != nil {
		t.Fatal(err)
	}
	return e.Fingerprint
}
