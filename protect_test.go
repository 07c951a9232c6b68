package securemail

import (
	"bytes"
	"errors"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/message"
)

// fakeProtector stands in for a scheme: it "encrypts" by wrapping the
// entity in an opaque part and remembers what it was given.
type fakeProtector struct {
	got []byte
}

func (f *fakeProtector) Scheme() string { return "pgp" }
func (f *fakeProtector) Wrap(entity []byte, d *message.Draft, p Policy) ([]byte, error) {
	f.got = entity
	return []byte("Content-Type: application/x-fake-encrypted\r\n\r\nOPAQUE\r\n"), nil
}

func draft() *message.Draft {
	return &message.Draft{
		From:    &mail.Address{Name: "Alice", Address: "alice@example.org"},
		To:      []*mail.Address{{Address: "bob@example.org"}},
		Subject: "Secret plans",
		Date:    time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Text:    "Meet at noon.\n",
	}
}

func TestProtectPlain(t *testing.T) {
	raw, err := Protect(draft(), Policy{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep, view, err := Open(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.From != "alice@example.org" || view.Body != "Meet at noon.\n" || headerOf(view, "Subject") != "Secret plans" {
		t.Fatalf("%+v %+v", rep, view)
	}
}

// RFC 9788: with encryption, the real Subject goes inside (hp="cipher")
// and the outside says "...".
func TestProtectHeaderProtection(t *testing.T) {
	f := &fakeProtector{}
	raw, err := Protect(draft(), Policy{Encrypt: true}, &ProtectOptions{Protectors: []Protector{f}})
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("Secret plans")) || !bytes.Contains(raw, []byte("Subject: ...\r\n")) {
		t.Fatalf("outer header leaks the subject:\n%s", raw)
	}
	inner, err := message.Parse(f.got, nil)
	if err != nil {
		t.Fatal(err)
	}
	if inner.Root.Params["hp"] != "cipher" || inner.Root.Header.Get("Subject") != "Secret plans" || inner.Root.Header.Get("Message-ID") == "" {
		t.Fatalf("inner entity:\n%s", f.got)
	}
	outer, _ := message.Parse(raw, nil)
	if outer.Root.Header.Get("Message-ID") != inner.Root.Header.Get("Message-ID") {
		t.Fatal("inside and outside disagree on the Message-ID")
	}
	var ns *NoSchemeError
	if _, err := Protect(draft(), Policy{Sign: true, Scheme: "smime"}, &ProtectOptions{Protectors: []Protector{f}}); !errors.As(err, &ns) {
		t.Fatalf("missing scheme: %v", err)
	}
}

const encryptedMessage = "From: alice@example.org\r\nTo: bob@example.org\r\nSubject: ...\r\nMessage-ID: <m1@example.org>\r\n" +
	"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=e\r\n\r\n" +
	"--e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n--e\r\nContent-Type: application/octet-stream\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n--e--\r\n"

// S26: a reply to (or forward of) an encrypted message is encrypted or
// refused, never sent with the decrypted text in the clear.
func TestS26_ReplyToEncryptedStaysEncrypted(t *testing.T) {
	raw := []byte(encryptedMessage)
	// As a scheme handler would report it, with the decrypted text shown.
	rep := &Report{Encryption: EncryptionReport{Kind: "pgp", OK: true, Integrity: true}, Signatures: []SignatureReport{}}
	view := &View{Headers: []HeaderLine{{"From", "alice@example.org"}, {"Subject", "Secret plans"}, {"Date", "Mon, 23 Nov 2026"}}, Body: "the decrypted secret\n"}
	me := &mail.Address{Address: "bob@example.org"}
	d, pol, err := Reply(raw, rep, view, &ReplyOptions{From: me})
	if err != nil {
		t.Fatal(err)
	}
	if !pol.Encrypt || !pol.RequireEncryption || pol.Scheme != "pgp" {
		t.Fatalf("reply policy %+v", pol)
	}
	if d.Subject != "Re: Secret plans" || d.InReplyTo != "<m1@example.org>" || len(d.To) != 1 || d.To[0].Address != "alice@example.org" {
		t.Fatalf("%+v", d)
	}
	if !strings.Contains(d.Text, "> the decrypted secret") {
		t.Fatal("the quote is missing")
	}
	// Trying to send it in the clear fails, with nothing produced.
	pol.Encrypt = false
	out, err := Protect(d, pol, nil)
	if !errors.Is(err, ErrWouldLeak) || out != nil {
		t.Fatalf("a reply to encrypted mail went out in the clear: %v", err)
	}
	fd, fpol := Forward(rep, view, me)
	if !fpol.RequireEncryption || !strings.Contains(fd.Text, "the decrypted secret") {
		t.Fatalf("forward policy %+v", fpol)
	}
	fpol.Encrypt = false
	if _, err := Protect(fd, fpol, nil); !errors.Is(err, ErrWouldLeak) {
		t.Fatal("a forward of encrypted mail went out in the clear")
	}
	// A reply to plain mail may be plain.
	_, ppol, err := Reply([]byte("From: a@example.org\r\nSubject: hi\r\n\r\nx\r\n"), &Report{Encryption: EncryptionReport{Kind: "none"}}, &View{}, nil)
	if err != nil || ppol.RequireEncryption {
		t.Fatalf("%+v %v", ppol, err)
	}
}

// S27: mailto: links cannot attach local files or trigger decryption.
func TestS27_MailtoNeverAttachesOrDecrypts(t *testing.T) {
	d, ignored, err := Mailto("mailto:bob@example.org?subject=hi&attach=/home/bob/.ssh/id_ed25519&attachment=file:///etc/passwd&body=-----BEGIN%20PGP%20MESSAGE-----%0Aabc")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Attachments) != 0 || len(ignored) != 2 {
		t.Fatalf("attachments %d, ignored %v", len(d.Attachments), ignored)
	}
	if !strings.Contains(d.Text, "-----BEGIN PGP MESSAGE-----") {
		t.Fatal("the body must stay literal text")
	}
	if len(d.To) != 1 || d.To[0].Address != "bob@example.org" || d.Subject != "hi" {
		t.Fatalf("%+v", d)
	}
	if _, _, err := Mailto("http://example.org"); err == nil {
		t.Fatal("not a mailto: URI")
	}
}
