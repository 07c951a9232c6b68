package transport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/securemail/securemail/mailbox"
)

// Transport sends messages: [SMTP] or [Sendmail].
type Transport interface {
	// Send submits msg, an RFC 5322 message, for delivery to the
	// envelope's recipients. It returns once the server (or the command)
	// has taken responsibility for the message.
	Send(ctx context.Context, env *Envelope, msg io.Reader) error
}

// Envelope is the SMTP envelope of a message: who sends it and to whom it
// is delivered, bare addresses without angle brackets or names.
type Envelope struct {
	From string
	To   []string
	// RequireTLS asks that every hop of the delivery use TLS (RFC 8689
	// REQUIRETLS). Sending fails with a [RequireTLSError] when the server
	// does not offer it.
	RequireTLS bool
}

// EnvelopeOf reads the envelope of a message from its header: From (or
// Sender, when From holds several addresses) and every address of To, Cc
// and Bcc, each once. It reads only the header block of msg.
func EnvelopeOf(msg []byte) (*Envelope, error) {
	m, err := mail.ReadMessage(bytes.NewReader(headerBlock(msg)))
	if err != nil {
		return nil, fmt.Errorf("transport: reading the message header: %w", err)
	}
	from, err := m.Header.AddressList("From")
	if err != nil || len(from) == 0 {
		return nil, fmt.Errorf("transport: the message has no usable From address")
	}
	env := &Envelope{From: from[0].Address}
	if len(from) > 1 {
		sender, err := mail.ParseAddress(m.Header.Get("Sender"))
		if err != nil {
			return nil, fmt.Errorf("transport: From holds several addresses and there is no usable Sender")
		}
		env.From = sender.Address
	}
	seen := map[string]bool{}
	for _, field := range []string{"To", "Cc", "Bcc"} {
		if m.Header.Get(field) == "" {
			continue
		}
		list, err := m.Header.AddressList(field)
		if err != nil {
			return nil, fmt.Errorf("transport: the %s field: %w", field, err)
		}
		for _, a := range list {
			key := strings.ToLower(a.Address)
			if !seen[key] {
				seen[key] = true
				env.To = append(env.To, a.Address)
			}
		}
	}
	if len(env.To) == 0 {
		return nil, errors.New("transport: the message has no recipient in To, Cc or Bcc")
	}
	return env, nil
}

// headerBlock returns msg up to and including the empty line that ends its
// header (all of msg when there is none), so that a large body is not read.
func headerBlock(msg []byte) []byte {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(msg, []byte(sep)); i >= 0 {
			return msg[:i+len(sep)]
		}
	}
	return append(bytes.Clone(msg), '\n', '\n')
}

// Deliverer stores a message in a folder: a [mailbox.Mailbox] such as a
// Maildir or an IMAP account.
type Deliverer interface {
	Deliver(folder string, r io.Reader, flags mailbox.Flags) (id string, err error)
}

// Saver files the copy of a message that was sent.
type Saver interface {
	SaveSent(ctx context.Context, msg []byte) error
}

// SaveToFolder returns a Saver that delivers sent messages into folder of
// mb, marked as seen: APPEND for an IMAP account, a new file for a Maildir.
// A delivery that an IMAP account queued while its server was unreachable
// ([mailbox.ErrQueued]) counts as filed.
func SaveToFolder(mb Deliverer, folder string) Saver {
	return folderSaver{mb: mb, folder: folder}
}

type folderSaver struct {
	mb     Deliverer
	folder string
}

func (s folderSaver) SaveSent(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := s.mb.Deliver(s.folder, bytes.NewReader(msg), mailbox.Seen)
	if errors.Is(err, mailbox.ErrQueued) {
		return nil
	}
	return err
}

// SendAndSave sends msg with t and then, when save is not nil, files a
// copy. A failure to file the copy is a [SaveError]: the message has gone
// and must not be sent again.
func SendAndSave(ctx context.Context, t Transport, env *Envelope, msg []byte, save Saver) error {
	if err := t.Send(ctx, env, bytes.NewReader(msg)); err != nil {
		return err
	}
	if save == nil {
		return nil
	}
	if err := save.SaveSent(ctx, msg); err != nil {
		return &SaveError{Err: err}
	}
	return nil
}
