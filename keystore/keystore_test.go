package keystore

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

func TestGenerateUnlockRoundTrip(t *testing.T) {
	s := newTestStore(t)
	res, err := s.Generate(GenerateRequest{Email: "Alice@Example.org", Name: "Alice", Algo: "p256", Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].Kind != PGP || res[1].Kind != SMIME {
		t.Fatalf("results = %+v", res)
	}
	for _, r := range res {
		e, ok := s.Get(r.Fingerprint)
		if !ok || !e.Secret || !e.Protected || e.Source != Generated || !e.PinnedFor("alice@example.org") {
			t.Fatalf("entry %+v", e)
		}
		if e.Expires == nil || time.Until(*e.Expires) < 2*365*24*time.Hour {
			t.Fatalf("expiry %v", e.Expires)
		}
	}
	e, err := s.UnlockPGP(res[0].Fingerprint, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if e.PrivateKey == nil || e.PrivateKey.Encrypted {
		t.Fatal("primary key not unlocked")
	}
	key, cert, err := s.UnlockSMIME(res[1].Fingerprint, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if !keyMatchesCert(key, cert) || !slices.Contains(cert.EmailAddresses, "alice@example.org") {
		t.Fatal("S/MIME key does not match its certificate")
	}
	if _, err := s.UnlockPGP(res[0].Fingerprint, []byte("wrong")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	// A reopened store sees the same keys.
	s2, err := Open(s.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(s.Entries(), s2.Entries(), func(a, b Entry) bool { return a.Fingerprint == b.Fingerprint }) {
		t.Fatal("reopened store differs")
	}
}

func TestGenerateRejectsBadRequests(t *testing.T) {
	s := newTestStore(t)
	for _, req := range []GenerateRequest{
		{Email: "not an address", Passphrase: testPass},
		{Email: "a@example.org", Algo: "dsa1024", Passphrase: testPass},
		{Email: "a@example.org", Algo: "ed25519", SMIME: true, Passphrase: testPass},
	} {
		if _, err := s.Generate(req); err == nil {
			t.Errorf("Generate(%+v) succeeded", req)
		}
	}
	if s.Len() != 0 {
		t.Fatal("store changed")
	}
}

func TestImportMergesUserIDsAndSubkeys(t *testing.T) {
	s := newTestStore(t)
	now := time.Now()
	e := newEntity(t, "Bob", "bob@example.org", now, 0)
	first := publicBytes(t, e)
	res, err := s.Import([]Input{{Name: "bob.pgp", Data: first}}, nil)
	if err != nil || res[0].Status != StatusNew {
		t.Fatalf("%+v %v", res, err)
	}
	if err := e.AddUserId("Bob", "work", "bob@work.example", &packet.Config{}); err != nil {
		t.Fatal(err)
	}
	if err := e.AddEncryptionSubkey(&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA}); err != nil {
		t.Fatal(err)
	}
	res, err = s.Import([]Input{{Name: "bob2.pgp", Data: publicBytes(t, e)}}, nil)
	if err != nil || res[0].Status != StatusMerged {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ := s.Get(res[0].Fingerprint)
	if !slices.Equal(got.Emails, []string{"bob@example.org", "bob@work.example"}) || !got.PinnedFor("bob@work.example") {
		t.Fatalf("emails %v pinned %v", got.Emails, got.Pinned)
	}
	stored, err := s.PGPKey(got.Fingerprint)
	if err != nil || len(stored.Subkeys) != 2 {
		t.Fatalf("subkeys: %v", err)
	}
	// Importing the same again changes nothing.
	before := storeFiles(t, s.Dir())
	res, err = s.Import([]Input{{Name: "bob2.pgp", Data: publicBytes(t, e)}}, nil)
	if err != nil || res[0].Status != StatusUnchanged {
		t.Fatalf("%+v %v", res, err)
	}
	sameFiles(t, before, storeFiles(t, s.Dir()))
}

func TestImportRevocationOfKnownKey(t *testing.T) {
	s := newTestStore(t)
	e := newEntity(t, "Dan", "dan@example.org", time.Now(), 0)
	if _, err := s.Import([]Input{{Name: "dan", Data: publicBytes(t, e)}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Revoke(packet.KeyCompromised, "lost", nil); err != nil {
		t.Fatal(err)
	}
	res, err := s.Import([]Input{{Name: "dan-rev", Data: publicBytes(t, e)}}, nil)
	if err != nil || res[0].Status != StatusMerged {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ := s.Get(res[0].Fingerprint)
	if !got.Revoked || len(got.Pinned) != 0 {
		t.Fatalf("revoked key still pinned: %+v", got)
	}
	// A revoked key the store did not have is refused.
	s2 := newTestStore(t)
	res, err = s2.Import([]Input{{Name: "dan-rev", Data: publicBytes(t, e)}}, nil)
	if err != nil || res[0].Status != StatusRejected || s2.Len() != 0 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestImportExpired(t *testing.T) {
	created := time.Now().Add(-48 * time.Hour)
	e := newEntity(t, "Eve", "eve@example.org", created, 24*time.Hour)
	s := newTestStore(t)
	res, err := s.Import([]Input{{Name: "eve", Data: publicBytes(t, e)}}, nil)
	if err != nil || res[0].Status != StatusRejected || s.Len() != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	res, err = s.Import([]Input{{Name: "eve", Data: publicBytes(t, e)}}, &ImportOptions{AllowExpired: true})
	if err != nil || res[0].Status != StatusNew {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ := s.Get(res[0].Fingerprint)
	if !got.Expired(time.Now()) || len(got.Pinned) != 0 {
		t.Fatalf("%+v", got)
	}
}

func TestS28_ConflictingKeyNotSilentlyPinned(t *testing.T) {
	s := newTestStore(t)
	a := newEntity(t, "Fay", "fay@example.org", time.Now(), 0)
	b := newEntity(t, "Fay Attacker", "fay@example.org", time.Now(), 0)
	if _, err := s.Import([]Input{{Name: "a", Data: publicBytes(t, a)}}, nil); err != nil {
		t.Fatal(err)
	}
	res, err := s.Import([]Input{{Name: "b", Data: publicBytes(t, b)}}, &ImportOptions{Source: Message, Origin: "<m1@example.org>", Sender: "fay@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Conflicts) != 1 || res[0].Conflicts[0].Pinned != pgpFingerprint(a) {
		t.Fatalf("conflict not reported: %+v", res)
	}
	pinned, ok := s.Pinned(PGP, "fay@example.org")
	if !ok || pinned.Fingerprint != pgpFingerprint(a) {
		t.Fatalf("pinned = %+v", pinned)
	}
	if len(s.Lookup("fay@example.org")) != 2 {
		t.Fatal("both keys must be kept")
	}
	if _, err := s.Resolve("fay@example.org", PGP); err != nil {
		t.Fatalf("resolve picks the pinned key: %v", err)
	}
	res, err = s.Import([]Input{{Name: "b", Data: publicBytes(t, b)}}, &ImportOptions{Pin: true})
	if err != nil || len(res[0].Conflicts) != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	if p, _ := s.Pinned(PGP, "fay@example.org"); p.Fingerprint != pgpFingerprint(b) {
		t.Fatal("--pin did not move the pin")
	}
}

func TestResolveNamesKeys(t *testing.T) {
	s := newTestStore(t)
	e := newEntity(t, "Gus", "gus@example.org", time.Now(), 0)
	if _, err := s.Import([]Input{{Name: "g", Data: publicBytes(t, e)}}, nil); err != nil {
		t.Fatal(err)
	}
	fpr := pgpFingerprint(e)
	var short *ShortKeyIDError
	if _, err := s.Resolve(fpr[24:], ""); !errors.As(err, &short) {
		t.Fatalf("long key ID accepted: %v", err)
	}
	if _, err := s.Resolve(fpr[32:], ""); !errors.As(err, &short) {
		t.Fatalf("short key ID accepted: %v", err)
	}
	spaced := fpr[:4] + " " + fpr[4:20] + "  " + fpr[20:]
	if got, err := s.Resolve("0x"+spaced, ""); err != nil || got.Fingerprint != fpr {
		t.Fatalf("spaced fingerprint: %v", err)
	}
	var nf *NotFoundError
	if _, err := s.Resolve("nobody@example.org", ""); !errors.As(err, &nf) {
		t.Fatalf("unknown address: %v", err)
	}
	if _, err := s.Resolve(fpr, SMIME); !errors.As(err, &nf) {
		t.Fatalf("wrong kind: %v", err)
	}
}

func TestExportImportSecretRoundTrip(t *testing.T) {
	s := newTestStore(t)
	res, err := s.Generate(GenerateRequest{Email: "hal@example.org", Algo: "p256", Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fpr, format string
	}{
		{res[0].Fingerprint, ExportArmor},
		{res[0].Fingerprint, ExportBinary},
		{res[1].Fingerprint, ExportPEM},
		{res[1].Fingerprint, ExportP12},
	} {
		var buf bytes.Buffer
		if err := s.ExportSecret(&buf, tc.fpr, tc.format, testPass); err != nil {
			t.Fatalf("%s: %v", tc.format, err)
		}
		if bytes.Contains(buf.Bytes(), []byte("PRIVATE KEY-----")) && !bytes.Contains(buf.Bytes(), []byte("ENCRYPTED PRIVATE KEY")) && tc.format == ExportPEM {
			t.Fatal("PEM export is not encrypted")
		}
		s2 := newTestStore(t)
		if tc.format == ExportP12 {
			// A PKCS#12 import needs the right password.
			_, err := s2.Import([]Input{{Name: "x", Data: buf.Bytes()}}, &ImportOptions{Passphrase: passFunc([]byte("nope"))})
			if !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("p12 wrong password: %v", err)
			}
		}
		got, err := s2.Import([]Input{{Name: "x", Data: buf.Bytes()}}, &ImportOptions{Passphrase: passFunc(testPass)})
		if err != nil {
			t.Fatalf("%s re-import: %v", tc.format, err)
		}
		if got[0].Fingerprint != tc.fpr || !got[0].Secret {
			t.Fatalf("%s: %+v", tc.format, got)
		}
	}
}

func TestDeleteAndTrust(t *testing.T) {
	s := newTestStore(t)
	res, err := s.Generate(GenerateRequest{Email: "ida@example.org", Algo: "p256", SMIME: true, Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	fpr := res[0].Fingerprint
	var nca *NotCAError
	if err := s.SetTrustAnchor(fpr, true); !errors.As(err, &nca) {
		t.Fatalf("leaf made a trust anchor: %v", err)
	}
	var sk *SecretKeyError
	if err := s.Delete(fpr, false); !errors.As(err, &sk) {
		t.Fatalf("secret deleted without asking: %v", err)
	}
	if err := s.Delete(fpr, true); err != nil {
		t.Fatal(err)
	}
	if s.Len() != 0 {
		t.Fatal("not deleted")
	}
	if files := storeFiles(t, s.Dir()); len(files) != 1 { // only the index
		t.Fatalf("objects left behind: %v", len(files))
	}
}

func TestS28_MessageKeysForOwnOrUnrelatedAddressIgnored(t *testing.T) {
	s := newTestStore(t)
	if _, err := s.Generate(GenerateRequest{Email: "me@example.org", PGP: true, Passphrase: testPass}); err != nil {
		t.Fatal(err)
	}
	mine := newEntity(t, "Me Impostor", "me@example.org", time.Now(), 0)
	other := newEntity(t, "Other", "other@example.org", time.Now(), 0)
	for _, tc := range []struct {
		key    []byte
		sender string
	}{
		{publicBytes(t, mine), "me@example.org"},      // claims my own address
		{publicBytes(t, other), "sender@example.org"}, // not the sender's key
	} {
		res, err := s.Import([]Input{{Name: "msg", Data: tc.key}}, &ImportOptions{Source: Message, Sender: tc.sender})
		if err != nil || res[0].Status != StatusRejected {
			t.Fatalf("%+v %v", res, err)
		}
	}
	if s.Len() != 1 {
		t.Fatalf("%d keys, want only my own", s.Len())
	}
	// The sender's own key is taken, with its provenance.
	res, err := s.Import([]Input{{Name: "msg", Data: publicBytes(t, other)}}, &ImportOptions{Source: Message, Sender: "Other@Example.org", Origin: "<id@example.org>"})
	if err != nil || res[0].Status != StatusNew {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ := s.Get(res[0].Fingerprint)
	if got.Source != Message || got.Origin != "<id@example.org>" {
		t.Fatalf("%+v", got)
	}
}

func TestSMIMEAProvenanceRecorded(t *testing.T) {
	s := newTestStore(t)
	src := newTestStore(t)
	res, err := src.Generate(GenerateRequest{Email: "dns@example.org", SMIME: true, Algo: "p256", Passphrase: testPass})
	if err != nil {
		t.Fatal(err)
	}
	var cert bytes.Buffer
	if err := src.Export(&cert, res[0].Fingerprint, ExportDER); err != nil {
		t.Fatal(err)
	}
	owner := "c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.org."
	got, err := s.Import([]Input{{Name: "dns", Data: cert.Bytes()}}, &ImportOptions{Source: SMIMEA, Origin: owner, DNSSEC: "secure", TTL: 3600})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := s.Get(got[0].Fingerprint)
	if e.Source != SMIMEA || e.DNSSEC != "secure" || e.TTL != 3600 || e.Origin != owner || e.Obtained.IsZero() || e.Secret {
		t.Fatalf("%+v", e)
	}
}

func TestImportRevocationCertificate(t *testing.T) {
	s := newTestStore(t)
	e := newEntity(t, "Rev", "rev@example.org", time.Now(), 0)
	pub := publicBytes(t, e)
	if _, err := s.Import([]Input{{Name: "k", Data: pub}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Revoke(packet.KeyCompromised, "stolen", nil); err != nil {
		t.Fatal(err)
	}
	revCert := func(sig *packet.Signature, flip bool) []byte {
		var raw, armored bytes.Buffer
		sig.Serialize(&raw)
		b := raw.Bytes()
		if flip {
			b[len(b)-3] ^= 0x40 // inside the signature value
		}
		armorPGP(&armored, "PGP PUBLIC KEY BLOCK", b)
		return armored.Bytes()
	}
	// A revocation whose signature does not verify is refused.
	var ie *IntegrityError
	if _, err := s.Import([]Input{{Name: "forged.rev", Data: revCert(e.Revocations[0].Packet, true)}}, nil); !errors.As(err, &ie) {
		t.Fatalf("forged revocation: %v", err)
	}
	res, err := s.Import([]Input{{Name: "k.rev", Data: revCert(e.Revocations[0].Packet, false)}}, nil)
	if err != nil || res[0].Status != StatusMerged {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ := s.Get(pgpFingerprint(e))
	if !got.Revoked || len(got.Pinned) != 0 {
		t.Fatalf("%+v", got)
	}
	// For a key the store does not have, it is a not-found error.
	var nf *NotFoundError
	if _, err := newTestStore(t).Import([]Input{{Name: "k.rev", Data: revCert(e.Revocations[0].Packet, false)}}, nil); !errors.As(err, &nf) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestAddressesWithControlsAreNotAddresses(t *testing.T) {
	s := newTestStore(t)
	e := newEntity(t, "Mallory", "mal\u202elory@example.org", time.Now(), 0)
	res, err := s.Import([]Input{{Name: "m", Data: publicBytes(t, e)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res[0].Emails) != 0 {
		t.Fatalf("bidi control accepted in an address: %q", res[0].Emails)
	}
	if _, err := s.Generate(GenerateRequest{Email: "a\u202eb@example.org", PGP: true, Passphrase: testPass}); err == nil {
		t.Fatal("generated a key for an address with a bidi control")
	}
}

// A secret primary key followed by a public subkey packet (tag 14) is
// hostile-but-parsable input: it must import (the subkey public only) or
// fail cleanly, never panic.
func TestImportSecretKeyWithPublicSubkeyPacket(t *testing.T) {
	e := newEntity(t, "Mix", "mix@example.org", time.Now(), 0)
	var buf bytes.Buffer
	e.PrivateKey.Serialize(&buf)
	for _, name := range sortedIdentities(e) {
		e.Identities[name].Serialize(&buf)
	}
	e.Subkeys[0].Serialize(&buf, false) // public subkey packet
	s := newTestStore(t)
	res, err := s.Import([]Input{{Name: "mix", Data: buf.Bytes()}}, &ImportOptions{NoPassphrase: true})
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.UnlockPGP(res[0].Fingerprint, nil)
	if err != nil {
		t.Fatal(err)
	}
	if k.PrivateKey == nil || len(k.Subkeys) != 1 || k.Subkeys[0].PrivateKey != nil {
		t.Fatalf("unexpected key shape")
	}
}

// S28: a key found in a message is taken only for the sender's address,
// whatever other user IDs it carries.
func TestS28_MessageKeyOnlyForSender(t *testing.T) {
	s := newTestStore(t)
	e := newEntity(t, "Eve", "eve@evil.example", time.Now(), 0)
	if err := e.AddUserId("CEO", "", "ceo@victim.example", &packet.Config{}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Import([]Input{{Name: "msg", Data: publicBytes(t, e)}}, &ImportOptions{Source: Message, Sender: "eve@evil.example"})
	if err != nil || res[0].Status != StatusNew {
		t.Fatalf("%+v %v", res, err)
	}
	if got := s.Lookup("ceo@victim.example"); len(got) != 0 {
		t.Fatalf("the key was taken for an address other than the sender's: %+v", got)
	}
	// The same through a merge: a new user ID arriving by message.
	if err := e.AddUserId("Boss", "", "boss@victim.example", &packet.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import([]Input{{Name: "msg2", Data: publicBytes(t, e)}}, &ImportOptions{Source: Message, Sender: "eve@evil.example"}); err != nil {
		t.Fatal(err)
	}
	if len(s.Lookup("boss@victim.example")) != 0 || len(s.Lookup("ceo@victim.example")) != 0 {
		t.Fatal("a merge by message added another address")
	}
}

// A reader holding an old snapshot still reads a key after another
// process replaced its objects (and collected the old ones).
func TestReaderSurvivesConcurrentRewrite(t *testing.T) {
	s := newTestStore(t)
	e := newEntity(t, "Gil", "gil@example.org", time.Now(), 0)
	if _, err := s.Import([]Input{{Name: "g", Data: publicBytes(t, e)}}, nil); err != nil {
		t.Fatal(err)
	}
	reader, err := Open(s.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.AddUserId("Gil", "", "gil@work.example", &packet.Config{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import([]Input{{Name: "g2", Data: publicBytes(t, e)}}, nil); err != nil {
		t.Fatal(err)
	}
	k, err := reader.PGPKey(pgpFingerprint(e))
	if err != nil {
		t.Fatalf("stale reader: %v", err)
	}
	if len(k.Identities) != 2 {
		t.Fatal("the reader did not see the new version")
	}
	if err := s.Delete(pgpFingerprint(e), false); err != nil {
		t.Fatal(err)
	}
	var nf *NotFoundError
	if _, err := reader.PGPKey(pgpFingerprint(e)); !errors.As(err, &nf) {
		t.Fatalf("deleted meanwhile: %v", err)
	}
}

func TestPinNeverPinsRevokedKeys(t *testing.T) {
	s := newTestStore(t)
	good := newEntity(t, "Hal", "hal@example.org", time.Now(), 0)
	bad := newEntity(t, "Hal", "hal@example.org", time.Now(), 0)
	if _, err := s.Import([]Input{{Name: "good", Data: publicBytes(t, good)}}, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import([]Input{{Name: "bad", Data: publicBytes(t, bad)}}, nil); err != nil {
		t.Fatal(err)
	}
	bad.Revoke(packet.KeyCompromised, "", nil)
	if _, err := s.Import([]Input{{Name: "bad", Data: publicBytes(t, bad)}}, &ImportOptions{Pin: true}); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Pinned(PGP, "hal@example.org"); p.Fingerprint != pgpFingerprint(good) {
		t.Fatal("--pin moved the pin to a revoked key")
	}
}

func TestUnsupportedPrivateKeyIsMalformedInput(t *testing.T) {
	k, _ := ecdh.X25519().GenerateKey(rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	_, err = newTestStore(t).Import([]Input{{Name: "x25519.der", Data: der}}, &ImportOptions{NoPassphrase: true})
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("%T %v", err, err)
	}
}

// A fresh Store answers lookups by scanning the index lines, then by maps;
// both give the same answers, and a change made through the Store is seen.
func TestLazyIndexLookups(t *testing.T) {
	s := newTestStore(t)
	var fprs []string
	for i := 0; i < 5; i++ {
		e := newEntity(t, "U", fmt.Sprintf("u%d@example.org", i), time.Now(), 0)
		fprs = append(fprs, pgpFingerprint(e))
		if _, err := s.Import([]Input{{Name: "u", Data: publicBytes(t, e)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	fresh, err := Open(s.Dir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if fresh.Len() != 5 {
		t.Fatalf("Len %d", fresh.Len())
	}
	for round := 0; round < 4; round++ { // scans first, maps later
		for i, fpr := range fprs {
			got := fresh.Lookup(fmt.Sprintf("U%d@example.org", i))
			if len(got) != 1 || got[0].Fingerprint != fpr {
				t.Fatalf("round %d: lookup %d: %+v", round, i, got)
			}
			if e, ok := fresh.Get(fpr); !ok || e.Fingerprint != fpr {
				t.Fatalf("round %d: get %d", round, i)
			}
		}
		if len(fresh.Lookup("u1@example.org.evil")) != 0 || len(fresh.Lookup("1@example.org")) != 0 {
			t.Fatal("a substring matched as an address")
		}
	}
	fresh2, _ := Open(s.Dir(), nil)
	if err := fresh2.Delete(fprs[0], false); err != nil {
		t.Fatal(err)
	}
	if fresh2.Len() != 4 || len(fresh2.Entries()) != 4 || len(fresh2.Lookup("u0@example.org")) != 0 {
		t.Fatal("a change through the Store is not seen by it")
	}
}
