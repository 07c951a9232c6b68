package mailbox

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/securemail/securemail/mailbox/imaptest"
)

// dialDovecot connects to d as its first user, with a header cache in a
// temporary directory unless cacheDir says where ("-" for none).
func dialDovecot(t testing.TB, d *imaptest.Dovecot, cacheDir string) *IMAP {
	t.Helper()
	m, err := DialIMAP(context.Background(), dovecotOptions(t, d, cacheDir))
	if err != nil {
		t.Fatalf("DialIMAP: %v\n%s", err, d.Log())
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func dovecotOptions(t testing.TB, d *imaptest.Dovecot, cacheDir string) *IMAPOptions {
	switch cacheDir {
	case "":
		cacheDir = t.TempDir()
	case "-":
		cacheDir = ""
	}
	pw := d.Password
	return &IMAPOptions{
		Addr:         d.Addr,
		TLSConfig:    d.TLS.Client,
		Username:     d.User,
		Password:     func(context.Context) (string, error) { return pw, nil },
		CacheDir:     cacheDir,
		Timeout:      20 * time.Second,
		PollInterval: 200 * time.Millisecond,
	}
}

// imapMessage returns a small message with CRLF line ends, as IMAP stores
// it.
func imapMessage(subject, body string) []byte {
	return []byte(strings.ReplaceAll(string(testMessage(subject, body)), "\n", "\r\n"))
}

// deliverN delivers n messages "m0".."m(n-1)" to folder and returns their
// IDs.
func deliverN(t testing.TB, m Mailbox, folder string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id, err := m.Deliver(folder, strings.NewReader(string(imapMessage(fmt.Sprintf("m%d", i), "body"))), 0)
		if err != nil {
			t.Fatalf("Deliver %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// waitEvent returns the next event of the wanted kind, failing the test
// after a few seconds.
func waitEvent(t testing.TB, ch <-chan Event, kind EventKind) Event {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatalf("the watch ended while waiting for a %v event", kind)
			}
			if ev.Kind == kind {
				return ev
			}
			t.Logf("event %v %v %v %v", ev.Kind, ev.IDs, ev.ID, ev.Err)
		case <-timeout:
			t.Fatalf("no %v event", kind)
		}
	}
}
