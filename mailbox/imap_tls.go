package mailbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// tlsDial opens the connection to the IMAP server and sets up TLS:
// implicit TLS (RFC 8314), or STARTTLS when asked for. It returns the
// connection to hand to the IMAP client, the TLS state and, for STARTTLS,
// how many bytes the server sent between its OK and the handshake (which
// were discarded).
func (m *IMAP) tlsDial(ctx context.Context) (net.Conn, tls.ConnectionState, int, error) {
	dial := m.opts.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		dial = d.DialContext
	}
	raw, err := dial(ctx, "tcp", m.addr)
	if err != nil {
		return nil, tls.ConnectionState{}, 0, &ConnError{Addr: m.addr, Err: err}
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	fail := func(err error) (net.Conn, tls.ConnectionState, int, error) {
		raw.Close()
		if ctx.Err() != nil {
			err = &ConnError{Addr: m.addr, Err: ctx.Err()}
		}
		return nil, tls.ConnectionState{}, 0, err
	}
	cfg := m.tlsConfig()
	if !m.opts.StartTLS {
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(m.handshakeError(err))
		}
		return tc, tc.ConnectionState(), 0, nil
	}
	raw.SetDeadline(time.Now().Add(m.opts.Timeout))
	discarded, err := m.startTLS(raw)
	if err != nil {
		return fail(err)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return fail(m.handshakeError(err))
	}
	raw.SetDeadline(time.Time{})
	// The IMAP client reads a greeting first; the real one came before
	// STARTTLS and is not to be trusted, so it gets a neutral one without
	// capabilities and asks for them inside TLS.
	conn := &greetedConn{Conn: tc, greeting: []byte("* OK securemail: TLS established\r\n")}
	return conn, tc.ConnectionState(), discarded, nil
}

func (m *IMAP) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if m.opts.TLSConfig != nil {
		cfg = m.opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = m.host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	if cfg.NextProtos == nil && !m.opts.StartTLS {
		cfg.NextProtos = []string{"imap"} // RFC 9051 §6.2.1 ALPN
	}
	return cfg
}

func (m *IMAP) handshakeError(err error) error {
	// A broken connection (reset, refused, timed out, closed) may mend; a
	// handshake that ran and failed (a certificate that does not verify,
	// an alert, bytes that are not TLS) is a TLS failure.
	var oe *net.OpError
	if (errors.As(err, &oe) && oe.Op != "remote error" && oe.Op != "local error") || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return &ConnError{Addr: m.addr, Err: err}
	}
	return &TLSError{Addr: m.addr, Reason: "TLS handshake failed", Err: err}
}

// startTLS speaks the plaintext part of an IMAP STARTTLS session (RFC 9051
// §6.2.1) itself, so that nothing of it reaches the IMAP client: it reads
// the greeting (PREAUTH is refused: a session authenticated before TLS
// would never be encrypted, S50), asks for the capabilities, requires
// STARTTLS among them and sends it. Its buffered reader is dropped once the
// tagged OK is read: whatever the server sent after it is discarded unread
// (S50), and bytes still in transit break the handshake. It returns how
// many bytes were discarded.
func (m *IMAP) startTLS(raw net.Conn) (int, error) {
	br := bufio.NewReaderSize(raw, 4096)
	connErr := func(err error) error { return &ConnError{Addr: m.addr, Err: err} }
	greeting, err := readIMAPLine(br)
	if err != nil {
		return 0, connErr(err)
	}
	kind, text := untagged(greeting)
	switch kind {
	case "OK":
	case "PREAUTH":
		return 0, &TLSError{Addr: m.addr, Reason: "the server greeted with PREAUTH before TLS; refusing a session that would never be encrypted"}
	case "BYE":
		return 0, connErr(fmt.Errorf("the server said BYE: %s", text))
	default:
		return 0, connErr(fmt.Errorf("not an IMAP greeting: %q", clip(greeting)))
	}
	caps := capsIn(text)
	if _, err := io.WriteString(raw, "S1 CAPABILITY\r\n"); err != nil {
		return 0, connErr(err)
	}
	for {
		line, err := readIMAPLine(br)
		if err != nil {
			return 0, connErr(err)
		}
		if status, text, ok := tagged(line, "S1"); ok {
			if status != "OK" {
				return 0, connErr(fmt.Errorf("CAPABILITY failed: %s %s", status, text))
			}
			caps = append(caps, capsIn(text)...)
			break
		}
		kind, text := untagged(line)
		switch kind {
		case "CAPABILITY":
			caps = append(caps, strings.Fields(strings.ToUpper(text))...)
		case "OK":
			caps = append(caps, capsIn(text)...)
		case "BYE":
			return 0, connErr(fmt.Errorf("the server said BYE: %s", text))
		}
	}
	offered := false
	for _, c := range caps {
		if c == "STARTTLS" {
			offered = true
		}
	}
	if !offered {
		return 0, &TLSError{Addr: m.addr, Reason: "the server does not offer STARTTLS; refusing to continue in plaintext (use implicit TLS, port 993, if the server has it)"}
	}
	if _, err := io.WriteString(raw, "S2 STARTTLS\r\n"); err != nil {
		return 0, connErr(err)
	}
	for {
		line, err := readIMAPLine(br)
		if err != nil {
			return 0, connErr(err)
		}
		if status, text, ok := tagged(line, "S2"); ok {
			if status != "OK" {
				return 0, &TLSError{Addr: m.addr, Reason: "the server refused STARTTLS", Err: errors.New(status + " " + text)}
			}
			break
		}
		if kind, text := untagged(line); kind == "BYE" {
			return 0, connErr(fmt.Errorf("the server said BYE: %s", text))
		}
	}
	// S50: br is not read again; what it holds is dropped with it.
	return br.Buffered(), nil
}

// readIMAPLine reads a line of at most 8 KiB ending in CRLF (or LF) and
// returns it without the line end. A line announcing a literal is refused:
// nothing before TLS needs one.
func readIMAPLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > 8192 {
			return "", errors.New("line longer than 8 KiB before TLS")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		line := strings.TrimRight(string(b), "\r\n")
		if strings.HasSuffix(line, "}") {
			return "", fmt.Errorf("unexpected literal before TLS: %q", clip(line))
		}
		return line, nil
	}
}

// untagged splits "* KIND text" into KIND (upper case) and text; kind is
// "" for a line that is not untagged.
func untagged(line string) (kind, text string) {
	rest, ok := strings.CutPrefix(line, "* ")
	if !ok {
		return "", ""
	}
	kind, text, _ = strings.Cut(rest, " ")
	return strings.ToUpper(kind), text
}

// tagged splits "TAG STATUS text" for the given tag.
func tagged(line, tag string) (status, text string, ok bool) {
	rest, ok := strings.CutPrefix(line, tag+" ")
	if !ok {
		return "", "", false
	}
	status, text, _ = strings.Cut(rest, " ")
	return strings.ToUpper(status), text, true
}

// capsIn returns the capabilities of a "[CAPABILITY ...]" response code at
// the start of text.
func capsIn(text string) []string {
	rest, ok := strings.CutPrefix(strings.ToUpper(text), "[CAPABILITY ")
	if !ok {
		return nil
	}
	list, _, _ := strings.Cut(rest, "]")
	return strings.Fields(list)
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// greetedConn is a TLS connection that begins with a made-up greeting.
type greetedConn struct {
	*tls.Conn
	greeting []byte
}

func (c *greetedConn) Read(p []byte) (int, error) {
	if len(c.greeting) > 0 {
		n := copy(p, c.greeting)
		c.greeting = c.greeting[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
