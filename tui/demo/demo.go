// Package demo builds the world `securemail demo` runs in, offline: a
// home with a keystore and a Maildir, contacts with OpenPGP keys and
// S/MIME certificates from a demo certificate authority, and a
// DNSSEC-signed DNS hierarchy served on loopback (internal/testkit) that
// publishes the contacts' SMIMEA and OPENPGPKEY records and the senders'
// DKIM keys, SPF and DMARC policies.
//
// Every message in the demo mailbox is made by securemail's own code
// when the home is built: encrypted and signed with the pipeline
// (securemail.Protect), DKIM-signed with mailauth.SignDKIM, and the
// attacks built the way an attacker would build them. [Messages] lists
// them with what each one shows.
//
// A home is built once; opening it again (Open with the same
// directory) serves its DNS records again with fresh DNSSEC keys.
package demo

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/internal/testkit"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/mailbox"
)

// The demo's people and places.
const (
	MeAddress    = "you@example.test"
	MeName       = "You Demo"
	AliceAddress = "alice@example.test" // OpenPGP key in your keystore
	BobAddress   = "bob@example.test"   // S/MIME, certificate from the demo CA
	DaveAddress  = "dave@example.test"  // OpenPGP key in your keystore
	DanaAddress  = "dana@example.test"  // S/MIME certificate only in the DNS (SMIMEA)
	ErinAddress  = "erin@example.test"  // OpenPGP key only in the DNS (OPENPGPKEY)

	// TrustedHop is the demo's inbound mail server: the SPF facts are read
	// from the Received field it adds.
	TrustedHop = "mx.example.test"
)

// Extra zones of the demo hierarchy, under "test." (testkit makes the
// root, "test.", "example.test." and "sub.example.test.").
var extraZones = []string{"news.test.", "bank.test.", "evil.test."}

// Files in a demo home.
const (
	zoneFile   = "demo/world.zone" // the records the DNS publishes
	caFile     = "demo/ca.pem"     // the demo CA (a trust anchor in the keystore)
	anchorFile = "demo/anchor.txt" // this run's DNSSEC trust anchor
	readmeFile = "demo/README.txt"
	configFile = "config.toml"
	maildirDir = "Maildir"
	keysDir    = "keys"
)

// Options configure Open. Nil means the defaults.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MessageTime is when the newest message is dated (the others are
	// older); zero means Now. Tests set it for stable screens.
	MessageTime time.Time
}

// Demo is an open demo home with its DNS served.
type Demo struct {
	Home    string
	Maildir string
	// Resolver is the address of the loopback DNS server ("127.0.0.1:port")
	// and AnchorFile the trust anchor to validate it from: the values of
	// SECUREMAIL_RESOLVER and SECUREMAIL_TRUST_ANCHOR for CLI commands
	// run while the demo is open.
	Resolver   string
	AnchorFile string
	// Built is set when this Open built the home (it did not exist).
	Built bool

	Store     *keystore.Store
	Mailbox   *mailbox.Maildir
	Directory *securemail.Directory
	Auth      *mailauth.Evaluator
	Me        *mail.Address

	server *testkit.Server
}

// IsDemoHome reports whether dir holds a demo home.
func IsDemoHome(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, zoneFile))
	return err == nil
}

// ErrNotDemoHome is returned for a directory that holds something else
// than a demo home: the demo never writes into it.
var ErrNotDemoHome = errors.New("demo: the directory is not empty and holds no demo: choose another one")

// Open builds the demo home in dir when it holds none (dir must then be
// missing or empty), and serves its DNS records on loopback until Close.
func Open(dir string, opts *Options) (*Demo, error) {
	if opts == nil {
		opts = &Options{}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	d := &Demo{Home: dir, Maildir: filepath.Join(dir, maildirDir), AnchorFile: filepath.Join(dir, anchorFile)}
	if !IsDemoHome(dir) {
		if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
			return nil, ErrNotDemoHome
		}
		if err := build(dir, now, opts.MessageTime); err != nil {
			return nil, fmt.Errorf("demo: building %s: %w", dir, err)
		}
		d.Built = true
	}
	if err := d.start(now); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// start opens the keystore and the Maildir and serves the DNS.
func (d *Demo) start(now func() time.Time) error {
	zone, err := os.ReadFile(filepath.Join(d.Home, zoneFile))
	if err != nil {
		return err
	}
	h, err := testkit.New(&testkit.Options{NoVariants: true, Now: now()})
	if err != nil {
		return err
	}
	for _, z := range extraZones {
		if _, err := h.AddZone(z, nil); err != nil {
			return err
		}
	}
	if err := h.AddText(string(zone)); err != nil {
		return fmt.Errorf("demo: %s: %w", zoneFile, err)
	}
	if d.server, err = h.Serve("127.0.0.1:0"); err != nil {
		return err
	}
	d.Resolver = d.server.Addr()
	anchor, err := h.Anchor()
	if err != nil {
		return err
	}
	if err := os.WriteFile(d.AnchorFile, []byte(anchor), 0o600); err != nil {
		return err
	}
	anchors, err := dnssec.ParseAnchors(strings.NewReader(anchor))
	if err != nil {
		return err
	}
	r, err := dnssec.New(&dnssec.Options{Server: d.Resolver, Anchors: anchors, Now: now, Timeout: 2 * time.Second})
	if err != nil {
		return err
	}
	d.Directory = &securemail.Directory{Resolver: r, Now: now}
	d.Auth = mailauth.NewEvaluator(&mailauth.Options{DNS: &securemail.AuthDNS{Resolver: r}, TrustedHops: []string{TrustedHop}, Now: now})
	if d.Store, err = keystore.Open(filepath.Join(d.Home, keysDir), &keystore.Options{Now: now}); err != nil {
		return err
	}
	if d.Mailbox, err = mailbox.OpenMaildir(d.Maildir, nil); err != nil {
		return err
	}
	d.Me = &mail.Address{Name: MeName, Address: MeAddress}
	return nil
}

// Close stops the DNS server and closes the Maildir.
func (d *Demo) Close() error {
	var errs []error
	if d.server != nil {
		errs = append(errs, d.server.Close())
	}
	if d.Mailbox != nil {
		errs = append(errs, d.Mailbox.Close())
	}
	return errors.Join(errs...)
}

// Check opens every message of the demo's INBOX with the pipeline and
// returns the verdicts, for tests and for `demo --prepare-only`.
func (d *Demo) Check(ctx context.Context) ([]Verdict, error) {
	pgp := &securemail.PGP{Store: d.Store}
	sm := &securemail.SMIME{Store: d.Store}
	opts := &securemail.OpenOptions{Handlers: []securemail.Handler{pgp, sm}}
	var out []Verdict
	for msg, err := range d.Mailbox.List("INBOX", nil) {
		if err != nil {
			return nil, err
		}
		raw, err := mailbox.ReadMessage(d.Mailbox, "INBOX", msg.ID, nil)
		if err != nil {
			return nil, err
		}
		rep, view, err := securemail.Open(raw, opts)
		if err != nil {
			return nil, err
		}
		v := Verdict{ID: msg.ID, Report: rep, View: view}
		v.Auth, _ = d.Auth.Evaluate(ctx, raw)
		out = append(out, v)
	}
	return out, nil
}

// Verdict is what the pipeline says of one demo message.
type Verdict struct {
	ID     string
	Report *securemail.Report
	View   *securemail.View
	Auth   *mailauth.Verdict
}
