package demo

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
)

// TestDemoMessages builds a demo home and checks that every message says
// what Messages promises, through the pipeline and the DNS the demo
// serves.
func TestDemoMessages(t *testing.T) {
	d, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.Built {
		t.Error("a new home is not reported as built")
	}
	vs, err := d.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(Messages) {
		t.Fatalf("%d messages, want %d", len(vs), len(Messages))
	}
	subject := func(v Verdict) string {
		for _, h := range v.View.Headers {
			if h.Name == "Subject" {
				return h.Value
			}
		}
		return ""
	}
	// Newest first, as Messages lists them; the listing is oldest first.
	byIndex := func(i int) Verdict { return vs[len(vs)-1-i] }
	type want struct {
		subject  string // the subject shown (protected one for encrypted mail)
		enc      string
		verified bool
		failed   bool
		dmarc    mailauth.Result
		warning  string
	}
	wants := []want{
		{"Welcome to the securemail demo", "none", false, false, mailauth.Pass, ""},
		{"Lunch on Friday?", "pgp", true, false, mailauth.Pass, ""},
		{"Signed minutes of the board meeting", "none", true, false, mailauth.Pass, ""},
		{"The new door codes", "smime", true, false, mailauth.Pass, ""},
		{"Quarterly figures", "none", false, true, mailauth.Pass, "signed by dave@example.test, but the message is from alice@example.test"},
		{"Demo News: this week in secure mail", "none", false, false, mailauth.Pass, ""},
		{"Urgent: confirm your account", "none", false, false, mailauth.Fail, ""},
		{"Re: the contract", "none", false, false, mailauth.Pass, "part of the message is encrypted"},
		{`\u001b[1;32m✔ Verified \u001b[0m`, "none", false, false, mailauth.Pass, ""},
		{"Report and notes attached", "none", true, false, mailauth.Pass, ""},
	}
	for i, w := range wants {
		v := byIndex(i)
		s := subject(v)
		if !strings.HasPrefix(s, w.subject) {
			t.Errorf("message %d: subject %q, want %q", i, s, w.subject)
			continue
		}
		if v.Report.Encryption.Kind != w.enc || v.Report.Verified() != w.verified || v.Report.Failed() != w.failed {
			t.Errorf("%q: encryption %s verified %v failed %v, want %s %v %v", s, v.Report.Encryption.Kind, v.Report.Verified(), v.Report.Failed(), w.enc, w.verified, w.failed)
		}
		if v.Auth == nil || v.Auth.DMARC.Result != w.dmarc {
			t.Errorf("%q: DMARC %v, want %v", s, v.Auth, w.dmarc)
		}
		if w.warning != "" && !strings.Contains(strings.Join(v.Report.Warnings, "\n"), w.warning) {
			t.Errorf("%q: warnings %q, want %q", s, v.Report.Warnings, w.warning)
		}
	}
	if strings.ContainsRune(subject(byIndex(8)), '\x1b') {
		t.Error("an escape reached the view")
	}
	if enc := byIndex(3).Report.Encryption; !strings.Contains(enc.Algorithm, "GCM") || !enc.Integrity {
		t.Errorf("the S/MIME message is not AuthEnvelopedData: %+v", enc)
	}
	if atts := byIndex(9).View.Attachments; len(atts) != 2 {
		t.Errorf("attachments: %+v", atts)
	}

	// Dana's certificate is only in the DNS, and found there.
	k, err := d.Directory.SMIMEA(context.Background(), DanaAddress)
	if err != nil || !k.Usable() {
		t.Fatalf("SMIMEA lookup of Dana: %+v, %v", k, err)
	}
	if len(d.Store.Lookup(DanaAddress)) != 0 {
		t.Error("Dana's certificate is in the keystore from the start")
	}
	k, err = d.Directory.OpenPGPKey(context.Background(), ErinAddress)
	if err != nil || !k.Usable() {
		t.Fatalf("OPENPGPKEY lookup of Erin: %+v, %v", k, err)
	}
}

// TestDemoReopen opens a home again (a new DNS, the same keys and mail),
// and refuses a directory that holds something else.
func TestDemoReopen(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	anchor1, _ := os.ReadFile(d.AnchorFile)
	d.Close()
	d, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Built {
		t.Error("an existing home was built again")
	}
	if anchor2, _ := os.ReadFile(d.AnchorFile); string(anchor1) == string(anchor2) {
		t.Error("the DNS was not signed afresh")
	}
	vs, err := d.Check(context.Background())
	if err != nil || len(vs) != len(Messages) {
		t.Fatalf("%d messages, %v", len(vs), err)
	}
	if vs[len(vs)-6].Auth.DMARC.Result != mailauth.Pass {
		t.Errorf("the newsletter fails DMARC after reopening: %+v", vs[len(vs)-6].Auth.DMARC)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.toml")); err != nil {
		t.Error(err)
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "precious"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(other, nil); !errors.Is(err, ErrNotDemoHome) {
		t.Errorf("a foreign directory: %v", err)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 1 {
		t.Error("the demo wrote into a foreign directory")
	}
	// The user's identities are unprotected (a demo), the contacts' secret
	// keys are not in the home.
	for _, e := range d.Store.Entries() {
		if e.Secret && !strings.HasSuffix(e.Emails[0], MeAddress) {
			t.Errorf("a contact's secret key is in the home: %v", e.Emails)
		}
		if e.Source == keystore.SMIMEA {
			t.Errorf("a DNS key is in the store from the start: %v", e.Emails)
		}
	}
}
