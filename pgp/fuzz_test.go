package pgp

import (
	"bytes"
	"sync"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/securemail/securemail/message"
)

var fuzzKeys = sync.OnceValue(func() []*openpgp.Entity {
	return []*openpgp.Entity{newKey(&testing.B{}, "alice"), newKey(&testing.B{}, "bob")}
})

// fuzzMessages are seeds for the packet reader: encrypted, signed,
// signed and encrypted, cleartext-signed, armored and binary.
func fuzzMessages(t testing.TB) [][]byte {
	ks := fuzzKeys()
	alice, bob := ks[0], ks[1]
	var out [][]byte
	out = append(out, encryptTo(t, []byte("hello\n"), nil, false, bob))
	out = append(out, encryptTo(t, []byte("hello\n"), alice, true, bob, alice))
	for _, armor := range []bool{false, true} {
		var b bytes.Buffer
		w, err := Sign(&b, alice, &WriteParams{Armor: armor})
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte("signed text\n"))
		w.Close()
		out = append(out, b.Bytes())
	}
	out = append(out, []byte("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n-----BEGIN PGP SIGNATURE-----\n\nwsBcBAEBCAAQ\n=AAAA\n-----END PGP SIGNATURE-----\n"))
	return out
}

func TestFuzzSeedsNotEmpty(t *testing.T) {
	if len(fuzzMessages(t)) == 0 || len(fuzzMIME(t)) == 0 {
		t.Fatal("no seeds")
	}
}

// FuzzRead feeds our use of go-crypto's packet reader. Whatever the
// input: no panic, and on error not one byte of output (S03, S04).
func FuzzRead(f *testing.F) {
	for _, m := range fuzzMessages(f) {
		f.Add(m)
	}
	kr := Entities(fuzzKeys())
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		res, err := Read(bytes.NewReader(data), &out, kr, &Options{MemoryLimit: 1 << 10, TempDir: t.TempDir(), MaxPlaintext: 1 << 20})
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("error %v but %d bytes written", err, out.Len())
			}
			return
		}
		if res.Encrypted && !res.Integrity {
			t.Fatal("encrypted without integrity and no error")
		}
		if int64(out.Len()) != res.Size {
			t.Fatalf("wrote %d bytes, Size %d", out.Len(), res.Size)
		}
	})
}

// FuzzVerifyDetached feeds detached signatures (armored or binary).
func FuzzVerifyDetached(f *testing.F) {
	alice := fuzzKeys()[0]
	sig, _, err := DetachSign([]byte("data"), alice, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("data"), sig)
	f.Add([]byte("data"), []byte("-----BEGIN PGP SIGNATURE-----\n\n=AAAA\n-----END PGP SIGNATURE-----\n"))
	kr := Entities(fuzzKeys())
	f.Fuzz(func(t *testing.T, data, sig []byte) {
		sigs, err := VerifyDetached(bytes.NewReader(data), sig, kr, nil)
		if err == nil && len(sigs) == 0 {
			t.Fatal("no error and no signature")
		}
	})
}

// fuzzMIME are seeds for the PGP/MIME structure reader.
func fuzzMIME(t testing.TB) [][]byte {
	alice, bob := fuzzKeys()[0], fuzzKeys()[1]
	entity := []byte("Content-Type: text/plain\r\n\r\nhello\r\n")
	signed, err := WrapSigned(entity, alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := WrapEncrypted(entity, []Recipient{{Name: "bob", Key: bob}}, alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	hdr := []byte("From: alice@example.org\r\nMIME-Version: 1.0\r\n")
	return [][]byte{
		append(append([]byte{}, hdr...), signed...),
		append(append([]byte{}, hdr...), enc...),
		[]byte("From: a@b\r\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n--x\r\nContent-Type: application/pgp-signature\r\n\r\nsig\r\n--x--\r\n"),
		[]byte("From: a@b\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=x\r\n\r\n--x\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 2\r\n--x--\r\n"),
	}
}

// FuzzMIMEStructure feeds the PGP/MIME structure readers and the whole
// unwrap of a signed or encrypted message.
func FuzzMIMEStructure(f *testing.F) {
	for _, m := range fuzzMIME(f) {
		f.Add(m)
	}
	kr := Entities(fuzzKeys())
	f.Fuzz(func(t *testing.T, raw []byte) {
		m, err := message.Parse(raw, &message.ParseOptions{MaxSize: 1 << 20, MaxParts: 100})
		if err != nil {
			return
		}
		if IsSigned(m.Root) {
			signed, sig, err := SignedParts(m, m.Root)
			if err == nil {
				VerifyDetached(bytes.NewReader(signed), sig, kr, nil)
			}
		}
		if IsEncrypted(m.Root) {
			data, err := EncryptedData(m, m.Root)
			if err == nil {
				ReadAll(data, kr, &Options{MaxPlaintext: 1 << 20})
			}
		}
	})
}

// FuzzFindBlocks checks the inline block finder's invariants.
func FuzzFindBlocks(f *testing.F) {
	f.Add([]byte("hi\n-----BEGIN PGP MESSAGE-----\n\nabc\n-----END PGP MESSAGE-----\nbye\n"))
	f.Add([]byte("-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\nx\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\ny\r\n-----END PGP SIGNATURE-----"))
	f.Add([]byte("> -----BEGIN PGP MESSAGE-----\n-----END PGP MESSAGE-----\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		last := 0
		for _, b := range FindBlocks(text) {
			if b.Start < last || b.End <= b.Start || b.End > len(text) {
				t.Fatalf("block %+v after %d in %d bytes", b, last, len(text))
			}
			if !bytes.HasPrefix(text[b.Start:], []byte("-----BEGIN PGP ")) {
				t.Fatalf("block %+v does not start with a BEGIN line", b)
			}
			if b.Start > 0 && text[b.Start-1] != '\n' {
				t.Fatalf("block %+v does not start a line", b)
			}
			last = b.End
		}
	})
}

func TestFindBlocks(t *testing.T) {
	text := []byte("Dear Bob,\n> -----BEGIN PGP MESSAGE-----\n-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\nbye\n-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n-----BEGIN PGP SIGNATURE-----\n\nBBBB\n-----END PGP SIGNATURE-----\n-----BEGIN PGP MESSAGE-----\nno end\n")
	bs := FindBlocks(text)
	if len(bs) != 2 || bs[0].Kind != InlineMessage || bs[1].Kind != InlineCleartext {
		t.Fatalf("%+v", bs)
	}
	if got := string(text[bs[0].Start:bs[0].End]); got != "-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n" {
		t.Fatalf("%q", got)
	}
}
