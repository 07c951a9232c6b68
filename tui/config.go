package tui

import (
	"context"
	"net/mail"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailauth"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/transport"
)

// Config is what the TUI runs on. Mailbox and Store are required; the
// rest have defaults.
type Config struct {
	// Mailbox holds the folders; Store the user's keys and contacts.
	Mailbox mailbox.Mailbox
	Store   *keystore.Store
	// Directory finds recipients' keys in the DNS (SMIMEA, OPENPGPKEY);
	// nil means no DNS lookups (compose then knows only the keystore).
	Directory *securemail.Directory
	// Auth judges who sent a message (DKIM, SPF, DMARC, ARC): Open fills
	// the Report's Auth part with it. Nil means no such verdict.
	Auth *mailauth.Evaluator
	// Me is the user's address, the From of new messages; nil means the
	// first address of the first identity in Store.
	Me *mail.Address
	// Passphrase unlocks a sealed identity (from --passphrase-file, say).
	// Nil means the TUI asks the user when a key needs one.
	Passphrase func(keystore.Entry) ([]byte, error)
	// Outbox is the folder sent messages are delivered to while no
	// transport is configured ("Outbox"); Drafts the folder of drafts
	// ("Drafts").
	Outbox, Drafts string
	// Transport sends messages (SMTP submission, a sendmail command);
	// nil means sent messages are delivered to Outbox instead.
	Transport transport.Transport
	// Sent is the folder that receives a copy of each message Transport
	// sent; "" means no copy is kept.
	Sent string
	// NoSign starts new messages unsigned (an account's sign = false);
	// the user can still turn signing on (ctrl+s).
	NoSign bool
	// Encrypt is the account's encryption default for new messages:
	// "always" (encryption is on, cannot be turned off, and sending is
	// refused while a recipient has no key), "when-possible" (on when
	// every recipient has a key, until the user chooses with ctrl+e) or
	// "never" (off until the user turns it on). "" leaves encryption off
	// until the user turns it on. A reply to encrypted mail stays
	// encrypted whatever the default (S26).
	Encrypt string
	// Account names the account shown; Accounts lists the accounts the
	// user can switch to (A), and Switch opens one as a Config. With
	// fewer than two accounts or no Switch, there is no switching.
	Account  string
	Accounts []string
	Switch   func(name string) (Config, error)
	// Folder is the folder opened first ("INBOX").
	Folder string
	// ASCII draws badges and frames in ASCII only.
	ASCII bool
	// Editor is the command that edits a body ($VISUAL, $EDITOR); empty
	// means the inline editor.
	Editor string
	// Title is shown in the top bar ("demo", an account name).
	Title string
	// Now is the clock dates are shown by ("today", "this year"); nil
	// means time.Now. Verdicts always use the real time.
	Now func() time.Time
	// AttachmentDir is where attachments are saved unless the user types
	// another path; "" means the current directory.
	AttachmentDir string
	// NoVerifyList leaves the list's verdict badges to messages the user
	// opened; otherwise the rows on screen that can be checked without a
	// passphrase are checked in the background (signatures, DKIM).
	NoVerifyList bool
	// CheckAuthInList lets those background checks evaluate DKIM, SPF and
	// DMARC too. It is off by default: the DNS lookups of a DKIM key tell
	// the sender's name servers when the list was shown. The demo, whose
	// DNS is on loopback, turns it on.
	CheckAuthInList bool
}

// Run runs the TUI on the terminal until the user quits.
func Run(ctx context.Context, cfg Config, opts ...tea.ProgramOption) error {
	m, err := New(cfg)
	if err != nil {
		return err
	}
	opts = append([]tea.ProgramOption{tea.WithContext(ctx)}, opts...)
	_, err = tea.NewProgram(m, opts...).Run()
	return err
}

// WantASCII reports whether the environment asks for ASCII only: a
// locale that is not UTF-8, or the Linux console.
func WantASCII() bool {
	if os.Getenv("TERM") == "linux" {
		return true
	}
	for _, v := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if s := os.Getenv(v); s != "" {
			s = strings.ToLower(s)
			return !strings.Contains(s, "utf-8") && !strings.Contains(s, "utf8")
		}
	}
	return false
}

// EditorFromEnv returns $VISUAL or $EDITOR.
func EditorFromEnv() string {
	if e := os.Getenv("VISUAL"); e != "" {
		return e
	}
	return os.Getenv("EDITOR")
}
