package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-smtp"
)

// Default ports of mail submission (RFC 8314 §3.3, RFC 6409).
const (
	PortSubmissions = 465 // implicit TLS
	PortSubmission  = 587 // STARTTLS
)

// DefaultCommandTimeout is how long SMTP waits for each reply unless
// [SMTPOptions.CommandTimeout] says otherwise.
const DefaultCommandTimeout = 2 * time.Minute

// SMTPOptions configure an [SMTP] transport.
type SMTPOptions struct {
	// Addr is the server, "host:port" or "host" (then port 465, or 587
	// with StartTLS).
	Addr string
	// StartTLS connects in plaintext and upgrades with STARTTLS, which the
	// server must offer; the default is implicit TLS.
	StartTLS bool
	// TLSConfig verifies the server (RootCAs for a private CA); nil means
	// the system roots. ServerName defaults to the host of Addr, and
	// MinVersion to TLS 1.2.
	TLSConfig *tls.Config

	// Username logs in when set, with the secret from Token (an OAuth 2
	// access token) when that is set, else from Password. The functions
	// are called once per connection.
	Username string
	Password func(ctx context.Context) (string, error)
	Token    func(ctx context.Context) (string, error)
	// Mechanism forces a SASL mechanism (PLAIN, LOGIN, OAUTHBEARER,
	// XOAUTH2); "" picks one the server offers ([ChooseMechanism]).
	Mechanism string

	// RequireTLS sends every message with REQUIRETLS (RFC 8689), as if
	// each [Envelope] asked for it.
	RequireTLS bool
	// HeloName is the name given in EHLO; "" means "localhost", which
	// tells the server nothing about this machine.
	HeloName string
	// CommandTimeout bounds the wait for each reply; 0 means
	// [DefaultCommandTimeout].
	CommandTimeout time.Duration
	// Dial opens the TCP connection; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// SMTP submits mail to a server (RFC 6409), one connection per message.
// It is safe for concurrent use.
type SMTP struct {
	opts SMTPOptions
	addr string
	host string
	port int
}

var _ Transport = (*SMTP)(nil)

// NewSMTP checks the options and returns the transport; it does not
// connect.
func NewSMTP(opts *SMTPOptions) (*SMTP, error) {
	if opts == nil || opts.Addr == "" {
		return nil, errors.New("transport: no SMTP server address")
	}
	s := &SMTP{opts: *opts}
	def := PortSubmissions
	if opts.StartTLS {
		def = PortSubmission
	}
	host, port, err := splitAddr(opts.Addr, def)
	if err != nil {
		return nil, fmt.Errorf("transport: SMTP address %q: %v", opts.Addr, err)
	}
	s.port = port
	s.host = host
	s.addr = net.JoinHostPort(host, strconv.Itoa(s.port))
	if opts.Username != "" && opts.Password == nil && opts.Token == nil {
		return nil, errors.New("transport: a user name is set but no password or token source")
	}
	if h := opts.HeloName; h != "" && (strings.ContainsFunc(h, func(r rune) bool { return r <= ' ' || r >= 0x7f }) || len(h) > 255) {
		return nil, fmt.Errorf("transport: EHLO name %q is not a host name", h)
	}
	if opts.Mechanism != "" {
		if _, err := NewSASLClient(opts.Mechanism, "", "", "", 0); err != nil {
			return nil, fmt.Errorf("transport: %v", err)
		}
	}
	return s, nil
}

// Addr returns the server's "host:port".
func (s *SMTP) Addr() string { return s.addr }

func (s *SMTP) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.opts.TLSConfig != nil {
		cfg = s.opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// session is one connection, after TLS and EHLO.
type session struct {
	s   *SMTP
	c   *smtp.Client
	tls tls.ConnectionState
	// discarded counts the bytes the server sent between its answer to
	// STARTTLS and the handshake, thrown away unread.
	discarded int
	stop      func() bool // detaches the context
	ctx       context.Context
	closed    bool
}

// connect dials, sets up TLS (implicit, or STARTTLS as required) and says
// EHLO inside TLS.
func (s *SMTP) connect(ctx context.Context) (*session, error) {
	dial := s.opts.Dial
	if dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		dial = d.DialContext
	}
	raw, err := dial(ctx, "tcp", s.addr)
	if err != nil {
		return nil, &ConnError{Addr: s.addr, Err: err}
	}
	// The context's end closes the connection, which ends any read or
	// write under way: go-smtp takes no context.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	fail := func(err error) (*session, error) {
		stop()
		raw.Close()
		if ctx.Err() != nil {
			return nil, &ConnError{Addr: s.addr, Err: ctx.Err()}
		}
		return nil, err
	}
	timeout := s.opts.CommandTimeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	helo := s.opts.HeloName
	if helo == "" {
		helo = "localhost"
	}
	cfg := s.tlsConfig()
	var tc *tls.Conn
	discarded := 0
	if s.opts.StartTLS {
		tc, discarded, err = s.startTLS(ctx, raw, cfg, helo, timeout)
		if err != nil {
			return fail(err)
		}
	} else {
		tc = tls.Client(raw, cfg)
		raw.SetDeadline(time.Now().Add(timeout))
		if err := tc.HandshakeContext(ctx); err != nil {
			return fail(s.handshakeError(err))
		}
		raw.SetDeadline(time.Time{})
	}
	var c *smtp.Client
	if s.opts.StartTLS {
		c = smtp.NewClient(&greetedConn{Conn: tc, greeting: []byte("220 securemail: TLS established\r\n")})
	} else {
		c = smtp.NewClient(tc)
	}
	c.CommandTimeout = timeout
	// The extensions are learnt inside TLS only: after STARTTLS this is
	// the second EHLO, and what the first one said is forgotten.
	if err := c.Hello(helo); err != nil {
		return fail(s.replyError("EHLO", err))
	}
	state := tc.ConnectionState()
	if !state.HandshakeComplete {
		return fail(&TLSError{Addr: s.addr, Reason: "the connection is not encrypted"})
	}
	return &session{s: s, c: c, tls: state, stop: stop, ctx: ctx, discarded: discarded}, nil
}

// startTLS greets the server in plaintext, requires STARTTLS in its EHLO
// reply, sends it and runs the TLS handshake. The plaintext dialogue is
// read through a buffered reader of its own that is dropped once the
// server said "220" to STARTTLS: whatever it sent after that line and
// before the handshake is discarded unread (S50), and bytes still in
// transit make the handshake fail. It returns the TLS connection and how
// many bytes were discarded.
func (s *SMTP) startTLS(ctx context.Context, raw net.Conn, cfg *tls.Config, helo string, timeout time.Duration) (*tls.Conn, int, error) {
	raw.SetDeadline(time.Now().Add(timeout))
	br := bufio.NewReaderSize(raw, 4096)
	connErr := func(err error) error { return &ConnError{Addr: s.addr, Err: err} }
	code, lines, err := readReply(br)
	if err != nil {
		return nil, 0, connErr(err)
	}
	if code != 220 {
		return nil, 0, &ServerError{Addr: s.addr, Stage: "the connection", Reply: Reply{Code: code, Message: strings.Join(lines, " ")}}
	}
	if _, err := io.WriteString(raw, "EHLO "+helo+"\r\n"); err != nil {
		return nil, 0, connErr(err)
	}
	code, lines, err = readReply(br)
	if err != nil {
		return nil, 0, connErr(err)
	}
	if code != 250 {
		return nil, 0, &ServerError{Addr: s.addr, Stage: "EHLO", Reply: Reply{Code: code, Message: strings.Join(lines, " ")}}
	}
	offered := false
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], "STARTTLS") {
			offered = true
		}
	}
	if !offered {
		return nil, 0, &TLSError{Addr: s.addr, Reason: "the server does not offer STARTTLS; refusing to continue in plaintext"}
	}
	if _, err := io.WriteString(raw, "STARTTLS\r\n"); err != nil {
		return nil, 0, connErr(err)
	}
	code, lines, err = readReply(br)
	if err != nil {
		return nil, 0, connErr(err)
	}
	if code != 220 {
		return nil, 0, &TLSError{Addr: s.addr, Reason: "the server refused STARTTLS", Err: errors.New(Reply{Code: code, Message: strings.Join(lines, " ")}.String())}
	}
	// S50: br is not read again; what it holds is dropped with it.
	discarded := br.Buffered()
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, discarded, s.handshakeError(err)
	}
	raw.SetDeadline(time.Time{})
	return tc, discarded, nil
}

// readReply reads one SMTP reply (RFC 5321 §4.2): lines "CODE-text" then
// "CODE text", at most 100 lines of at most 2000 bytes.
func readReply(br *bufio.Reader) (int, []string, error) {
	var lines []string
	code := 0
	for len(lines) < 100 {
		line, err := readLine(br, 2000)
		if err != nil {
			return 0, nil, err
		}
		if len(line) < 3 {
			return 0, nil, fmt.Errorf("malformed reply %q", line)
		}
		c, err := strconv.Atoi(line[:3])
		if err != nil || c < 200 || c > 599 || (code != 0 && c != code) {
			return 0, nil, fmt.Errorf("malformed reply %q", line)
		}
		code = c
		text := ""
		if len(line) > 4 {
			text = line[4:]
		}
		lines = append(lines, text)
		if len(line) == 3 || line[3] == ' ' {
			return code, lines, nil
		}
		if line[3] != '-' {
			return 0, nil, fmt.Errorf("malformed reply %q", line)
		}
	}
	return 0, nil, errors.New("reply of more than 100 lines")
}

// readLine reads a line ending in CRLF or LF, without it.
func readLine(br *bufio.Reader, limit int) (string, error) {
	var b []byte
	for {
		chunk, err := br.ReadSlice('\n')
		b = append(b, chunk...)
		if len(b) > limit {
			return "", fmt.Errorf("line longer than %d bytes", limit)
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
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// greetedConn is a TLS connection that begins with a made-up greeting, so
// that go-smtp's client, which reads a greeting first, can speak over a
// connection whose real greeting came before STARTTLS.
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

func (s *SMTP) handshakeError(err error) error {
	// A broken connection (reset, refused, timed out, closed) may mend; a
	// handshake that ran and failed (a certificate that does not verify,
	// an alert, bytes that are not TLS) is a TLS failure.
	var oe *net.OpError
	if (errors.As(err, &oe) && oe.Op != "remote error" && oe.Op != "local error") || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return &ConnError{Addr: s.addr, Err: err}
	}
	return &TLSError{Addr: s.addr, Reason: "TLS handshake failed", Err: err}
}

func isSMTPError(err error) bool {
	var se *smtp.SMTPError
	return errors.As(err, &se)
}

func replyOf(se *smtp.SMTPError) Reply {
	r := Reply{Code: se.Code, Message: se.Message}
	if ec := se.EnhancedCode; ec != smtp.NoEnhancedCode && ec != smtp.EnhancedCodeNotSet && ec[0] > 0 {
		r.Enhanced = fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2])
	}
	return r
}

// replyError turns go-smtp's error for a command into ours: a refusal, or
// a broken connection.
func (s *SMTP) replyError(stage string, err error) error {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return &ServerError{Addr: s.addr, Stage: stage, Reply: replyOf(se)}
	}
	return &ConnError{Addr: s.addr, Err: err}
}

// extensions returns the EHLO keywords (upper case) and their parameters.
func (ss *session) extensions() map[string]string {
	out := map[string]string{}
	for _, ext := range []string{"STARTTLS", "AUTH", "SIZE", "8BITMIME", "SMTPUTF8", "REQUIRETLS", "PIPELINING", "DSN", "CHUNKING", "BINARYMIME", "ENHANCEDSTATUSCODES"} {
		if ok, param := ss.c.Extension(ext); ok {
			out[ext] = param
		}
	}
	return out
}

func (ss *session) authMechanisms() []string {
	ok, param := ss.c.Extension("AUTH")
	if !ok {
		return nil
	}
	return strings.Fields(strings.ToUpper(param))
}

// auth logs in when a user name is configured and returns the mechanism
// used ("" when none was needed).
func (ss *session) auth() (string, error) {
	s := ss.s
	if s.opts.Username == "" {
		return "", nil
	}
	if !ss.tls.HandshakeComplete {
		return "", &AuthError{Addr: s.addr, Reason: "refusing to send credentials without TLS"}
	}
	offered := ss.authMechanisms()
	token := s.opts.Token != nil
	mech, ok := ChooseMechanism(offered, s.opts.Mechanism, token)
	if !ok {
		reason := "the server offers no SASL mechanism"
		if len(offered) > 0 {
			reason = "the server offers only " + strings.Join(offered, ", ")
		}
		return mech, &AuthError{Addr: s.addr, Mechanism: mech, Reason: reason}
	}
	var secret string
	var err error
	if token {
		secret, err = s.opts.Token(ss.ctx)
	} else {
		secret, err = s.opts.Password(ss.ctx)
	}
	if err != nil {
		return mech, &AuthError{Addr: s.addr, Mechanism: mech, Reason: "cannot get the secret", Err: err}
	}
	client, err := NewSASLClient(mech, s.opts.Username, secret, s.host, s.port)
	if err != nil {
		return mech, &AuthError{Addr: s.addr, Mechanism: mech, Err: err}
	}
	if err := ss.c.Auth(client); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) {
			return mech, &AuthError{Addr: s.addr, Mechanism: mech, Err: &ServerError{Addr: s.addr, Stage: "AUTH", Reply: replyOf(se)}}
		}
		if ss.ctx.Err() != nil {
			return mech, &ConnError{Addr: s.addr, Err: ss.ctx.Err()}
		}
		var ne net.Error
		if errors.As(err, &ne) || errors.Is(err, io.EOF) {
			return mech, &ConnError{Addr: s.addr, Err: err}
		}
		return mech, &AuthError{Addr: s.addr, Mechanism: mech, Err: err}
	}
	return mech, nil
}

// close says QUIT when the session is still usable, and closes.
func (ss *session) close(quit bool) {
	if ss.closed {
		return
	}
	ss.closed = true
	if quit {
		_ = ss.c.Quit()
	}
	ss.c.Close()
	ss.stop()
}

// Send submits msg over a new connection: TLS, EHLO, AUTH, MAIL FROM
// (with REQUIRETLS when asked for), RCPT TO for every recipient, DATA.
// When the server refuses any recipient, the transaction is reset and a
// [RecipientError] lists every refused one: nothing is sent.
func (s *SMTP) Send(ctx context.Context, env *Envelope, msg io.Reader) error {
	if env == nil || env.From == "" || len(env.To) == 0 {
		return errors.New("transport: the envelope needs a sender and at least one recipient")
	}
	for _, a := range append([]string{env.From}, env.To...) {
		if err := checkAddress(a); err != nil {
			return err
		}
	}
	ss, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer ss.close(false)
	err = ss.send(env, msg)
	if err != nil && ctx.Err() != nil {
		return &ConnError{Addr: s.addr, Err: ctx.Err()}
	}
	ss.close(err == nil || !isConnError(err))
	return err
}

func isConnError(err error) bool {
	var ce *ConnError
	return errors.As(err, &ce)
}

func (ss *session) send(env *Envelope, msg io.Reader) error {
	s := ss.s
	if _, err := ss.auth(); err != nil {
		return err
	}
	opts := &smtp.MailOptions{}
	if env.RequireTLS || s.opts.RequireTLS {
		if ok, _ := ss.c.Extension("REQUIRETLS"); !ok {
			return &RequireTLSError{Addr: s.addr}
		}
		opts.RequireTLS = true
	}
	if !isASCII(env.From) || slices.ContainsFunc(env.To, func(a string) bool { return !isASCII(a) }) {
		if ok, _ := ss.c.Extension("SMTPUTF8"); !ok {
			return &ServerError{Addr: s.addr, Stage: "MAIL FROM", Reply: Reply{Code: 555, Message: "an address is not ASCII and the server does not offer SMTPUTF8"}}
		}
		opts.UTF8 = true
	}
	if l, ok := msg.(interface{ Len() int }); ok {
		opts.Size = int64(l.Len())
		if ok, param := ss.c.Extension("SIZE"); ok {
			if max, err := strconv.ParseInt(param, 10, 64); err == nil && max > 0 && opts.Size > max {
				return &ServerError{Addr: s.addr, Stage: "MAIL FROM", Reply: Reply{Code: 552, Enhanced: "5.3.4", Message: fmt.Sprintf("the message (%d bytes) is larger than the server accepts (%d bytes)", opts.Size, max)}}
			}
		}
	}
	if err := ss.c.Mail(env.From, opts); err != nil {
		return s.replyError("MAIL FROM", err)
	}
	var rejected []Rejection
	for _, rcpt := range env.To {
		if err := ss.c.Rcpt(rcpt, nil); err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				return &ConnError{Addr: s.addr, Err: err}
			}
			rejected = append(rejected, Rejection{Address: rcpt, Reply: replyOf(se)})
		}
	}
	if len(rejected) > 0 {
		if err := ss.c.Reset(); err != nil && !isSMTPError(err) {
			return &ConnError{Addr: s.addr, Err: err}
		}
		return &RecipientError{Rejected: rejected}
	}
	w, err := ss.c.Data()
	if err != nil {
		return s.replyError("DATA", err)
	}
	if _, err := io.Copy(w, msg); err != nil {
		w.Close()
		return &ConnError{Addr: s.addr, Err: err}
	}
	if _, err := w.CloseWithResponse(); err != nil {
		return s.replyError("the message", err)
	}
	return nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// checkAddress refuses what cannot be an envelope address: empty, with
// white space, angle brackets or control characters (which would change
// the command line).
func checkAddress(a string) error {
	if a == "" || !utf8.ValidString(a) || strings.ContainsAny(a, "<> \t") {
		return fmt.Errorf("transport: %q is not a usable envelope address", a)
	}
	for _, r := range a {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("transport: %q is not a usable envelope address", a)
		}
	}
	return nil
}

// Report is what [SMTP.Check] learned about a server.
type Report struct {
	Addr        string
	TLSVersion  string // "TLS 1.3"
	CipherSuite string
	StartTLS    bool // upgraded with STARTTLS (else implicit TLS)
	// Extensions are the EHLO keywords offered inside TLS, with their
	// parameters ("SIZE": "35882577").
	Extensions map[string]string
	// AuthMechanisms are the SASL mechanisms offered.
	AuthMechanisms []string
	// Authenticated is true when the login succeeded with Mechanism; it
	// stays false when no user name is configured.
	Authenticated bool
	Mechanism     string
	// RequireTLS says the server offers REQUIRETLS (RFC 8689).
	RequireTLS bool
	// DiscardedBeforeTLS counts the bytes the server sent after its
	// answer to STARTTLS and before the handshake, which were thrown
	// away unread. A correct server sends none: more is a sign of an
	// attack on the connection (S50).
	DiscardedBeforeTLS int
}

// Check connects, sets up TLS, logs in when a user name is configured and
// says QUIT, without sending anything. The report is filled as far as the
// steps went, also when it returns an error.
func (s *SMTP) Check(ctx context.Context) (*Report, error) {
	r := &Report{Addr: s.addr, StartTLS: s.opts.StartTLS}
	ss, err := s.connect(ctx)
	if err != nil {
		return r, err
	}
	defer ss.close(false)
	r.DiscardedBeforeTLS = ss.discarded
	r.TLSVersion = tls.VersionName(ss.tls.Version)
	r.CipherSuite = tls.CipherSuiteName(ss.tls.CipherSuite)
	r.Extensions = ss.extensions()
	r.AuthMechanisms = ss.authMechanisms()
	_, r.RequireTLS = r.Extensions["REQUIRETLS"]
	mech, err := ss.auth()
	r.Mechanism = mech
	if err != nil {
		return r, err
	}
	r.Authenticated = s.opts.Username != ""
	ss.close(true)
	return r, nil
}

// splitAddr reads "host:port", "host", "[v6]:port" or "[v6]", with def as
// the port when none is given.
func splitAddr(addr string, def int) (string, int, error) {
	host, portStr, err := net.SplitHostPort(addr)
	switch {
	case err == nil:
	case strings.HasPrefix(addr, "[") && strings.HasSuffix(addr, "]"):
		host = addr[1 : len(addr)-1]
	case strings.ContainsAny(addr, ":[]"):
		return "", 0, errors.New("not host:port (write an IPv6 address in brackets)")
	default:
		host = addr
	}
	if host == "" || strings.ContainsFunc(host, func(r rune) bool { return r <= ' ' || r == '/' || r == '\\' || r == 0x7f }) {
		return "", 0, errors.New("no usable host name")
	}
	port := def
	if portStr != "" {
		p, err := strconv.Atoi(portStr)
		if err != nil || p <= 0 || p > 65535 {
			return "", 0, errors.New("bad port")
		}
		port = p
	}
	return host, port, nil
}
