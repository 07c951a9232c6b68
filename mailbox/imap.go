package mailbox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Default ports of IMAP (RFC 8314 §3.3).
const (
	PortIMAPS = 993 // implicit TLS
	PortIMAP  = 143 // STARTTLS
)

// DefaultIMAPTimeout bounds each operation of an [IMAP] mailbox unless
// [IMAPOptions.Timeout] says otherwise.
const DefaultIMAPTimeout = 2 * time.Minute

// IMAPOptions configure an [IMAP] mailbox.
type IMAPOptions struct {
	// Addr is the server, "host:port" or "host" (then port 993, or 143
	// with StartTLS).
	Addr string
	// StartTLS connects in plaintext and upgrades with STARTTLS, which the
	// server must offer; the default is implicit TLS.
	StartTLS bool
	// TLSConfig verifies the server (RootCAs for a private CA); nil means
	// the system roots. ServerName defaults to the host of Addr and
	// MinVersion to TLS 1.2.
	TLSConfig *tls.Config

	// Username logs in, with the secret from Token (an OAuth 2 access
	// token, for OAUTHBEARER or XOAUTH2) when it is set, else from
	// Password (AUTHENTICATE PLAIN, or the LOGIN command when the server
	// offers no PLAIN). They are called for every new connection.
	Username string
	Password func(ctx context.Context) (string, error)
	Token    func(ctx context.Context) (string, error)
	// Mechanism forces one: PLAIN, LOGIN (the IMAP LOGIN command),
	// OAUTHBEARER or XOAUTH2; "" chooses.
	Mechanism string

	// CacheDir holds the header cache and the queue of changes made while
	// the server was unreachable (mode 0700, files 0600). "" keeps both
	// in memory only.
	CacheDir string
	// Timeout bounds each operation (a connection and login included);
	// 0 means [DefaultIMAPTimeout].
	Timeout time.Duration
	// MaxMessageSize is the largest message Open fetches and Deliver
	// stores; 0 means [DefaultMaxMessageSize].
	MaxMessageSize int64
	// PollInterval is how often [IMAP.Watch] asks a server without IDLE
	// for news; 0 means one minute.
	PollInterval time.Duration
	// Dial opens TCP connections; nil means a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// IMAP is a [Mailbox] on an IMAP server (RFC 9051, RFC 3501), through
// github.com/emersion/go-imap/v2, so that a program shows an IMAP account
// and a Maildir alike. It is safe for concurrent use: commands go one at a
// time over one connection, and [IMAP.Watch] opens its own.
//
// TLS is required (SECURITY.md S50): implicit TLS by default (port 993);
// with [IMAPOptions.StartTLS] the plaintext part of the session (greeting,
// CAPABILITY, STARTTLS) is spoken by this package, not by the IMAP client,
// so that a server that does not offer STARTTLS is refused, a PREAUTH
// greeting before TLS is refused, whatever the server sends between its OK
// and the handshake is discarded unread, and the capabilities are asked
// for again inside TLS. Logins (AUTHENTICATE PLAIN, the LOGIN command,
// OAUTHBEARER, XOAUTH2) happen inside TLS only.
//
// Folders are the server's names (INBOX in any case is INBOX, the
// hierarchy separator is the server's). Messages are named by their UID,
// in decimal: the ID of a message changes when it moves to another folder
// ([IMAP.MoveID] returns the new one), and every ID of a folder changes
// when the server gives the folder a new UIDVALIDITY.
//
// Listings are fast on large folders: the header cache (see
// [IMAPOptions.CacheDir]) keeps, per folder and UIDVALIDITY, the header
// blocks, sizes and dates already fetched, so that a listing asks only for
// the UIDs and flags, then for the headers it has not seen; on a server
// with CONDSTORE (RFC 7162) a folder listed again over the same
// connection costs one FETCH CHANGEDSINCE.
//
// When the connection breaks, the next operation connects again and
// retries once (a delivery is not retried: it may have been stored).
// Changes made while the server cannot be reached (flags, moves,
// deletions, deliveries) are queued, on disk with a cache directory, and
// replayed in order by the next connection: they return a [QueuedError].
type IMAP struct {
	opts IMAPOptions
	addr string
	host string
	port int

	base   context.Context
	cancel context.CancelFunc

	// mu serialises the use of the command connection and guards conn,
	// closed and the queue.
	mu     sync.Mutex
	conn   *imapConn
	closed bool
	queue  *imapQueue

	cache *imapCache

	watchers sync.WaitGroup // running Watch goroutines
	watchMu  sync.Mutex     // guards watching and sends to their channels
	watching []*watcher
}

var _ Mailbox = (*IMAP)(nil)

// imapConn is one logged-in connection.
type imapConn struct {
	c         *imapclient.Client
	tls       tls.ConnectionState
	caps      imap.CapSet
	discarded int    // bytes dropped before the STARTTLS handshake
	mech      string // how it logged in

	selected    string // "" when none
	uidValidity uint32
	// snap is the last listing of the selected folder, kept up to date
	// with CONDSTORE (RFC 7162) when the server has it.
	snap *folderSnap
}

func (ic *imapConn) lost() bool {
	select {
	case <-ic.c.Closed():
		return true
	default:
		return false
	}
}

// NewIMAP checks the options and returns the mailbox without connecting:
// the first operation connects. Use it to start while the network is
// down; [DialIMAP] connects at once.
func NewIMAP(opts *IMAPOptions) (*IMAP, error) {
	if opts == nil || opts.Addr == "" {
		return nil, errors.New("mailbox: no IMAP server address")
	}
	m := &IMAP{opts: *opts}
	def := PortIMAPS
	if opts.StartTLS {
		def = PortIMAP
	}
	host, port, err := splitAddr(opts.Addr, def)
	if err != nil {
		return nil, fmt.Errorf("mailbox: IMAP address %q: %v", opts.Addr, err)
	}
	m.port = port
	m.host = host
	m.addr = net.JoinHostPort(host, strconv.Itoa(m.port))
	if opts.Username == "" && (opts.Password != nil || opts.Token != nil) {
		return nil, errors.New("mailbox: a password or token source is set but no user name")
	}
	if opts.Username != "" && opts.Password == nil && opts.Token == nil {
		return nil, errors.New("mailbox: a user name is set but no password or token source")
	}
	switch strings.ToUpper(opts.Mechanism) {
	case "", mechPlain, mechLogin, mechOAuthBearer, mechXOAuth2:
	default:
		return nil, fmt.Errorf("mailbox: unsupported login mechanism %q (PLAIN, LOGIN, OAUTHBEARER, XOAUTH2)", opts.Mechanism)
	}
	if m.opts.Timeout <= 0 {
		m.opts.Timeout = DefaultIMAPTimeout
	}
	if m.opts.MaxMessageSize <= 0 {
		m.opts.MaxMessageSize = DefaultMaxMessageSize
	}
	if m.opts.PollInterval <= 0 {
		m.opts.PollInterval = time.Minute
	}
	m.cache = newIMAPCache(opts.CacheDir)
	q, err := openIMAPQueue(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	m.queue = q
	m.base, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// DialIMAP returns the mailbox connected and logged in, with any changes
// queued by an earlier session replayed.
func DialIMAP(ctx context.Context, opts *IMAPOptions) (*IMAP, error) {
	m, err := NewIMAP(opts)
	if err != nil {
		return nil, err
	}
	if err := m.Connect(ctx); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// Addr returns the server's "host:port".
func (m *IMAP) Addr() string { return m.addr }

// Connect connects and logs in unless connected, and replays the changes
// queued while the server was unreachable.
func (m *IMAP) Connect(ctx context.Context) error {
	return m.run(ctx, "connect", func(context.Context, *imapConn) error { return nil })
}

// Close flushes the header cache, logs out and closes the connections,
// and stops every [IMAP.Watch].
func (m *IMAP) Close() error {
	m.cancel()
	m.mu.Lock()
	m.closed = true
	ic := m.conn
	m.conn = nil
	m.mu.Unlock()
	if ic != nil {
		done := make(chan struct{})
		go func() {
			_ = ic.c.Logout().Wait()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
		}
		ic.c.Close()
	}
	m.watchers.Wait()
	return m.cache.flushAll()
}

// connect opens and logs in a new connection (without replaying the
// queue); handler, when not nil, receives the server's unsolicited data.
func (m *IMAP) connect(ctx context.Context, handler *imapclient.UnilateralDataHandler) (*imapConn, error) {
	conn, state, discarded, err := m.tlsDial(ctx)
	if err != nil {
		return nil, err
	}
	c := imapclient.New(conn, &imapclient.Options{UnilateralDataHandler: handler})
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	fail := func(err error) (*imapConn, error) {
		c.Close()
		if ctx.Err() != nil {
			return nil, &ConnError{Addr: m.addr, Err: ctx.Err()}
		}
		return nil, err
	}
	if err := c.WaitGreeting(); err != nil {
		return fail(m.netError(err))
	}
	ic := &imapConn{c: c, tls: state, discarded: discarded}
	if c.State() == imap.ConnStateNotAuthenticated {
		if err := m.login(ctx, ic); err != nil {
			return fail(err)
		}
	} else if c.State() == imap.ConnStateAuthenticated {
		ic.mech = "PREAUTH" // over TLS: the server knows the client by other means
	} else {
		return fail(&ConnError{Addr: m.addr, Err: fmt.Errorf("unexpected state %v after the greeting", c.State())})
	}
	ic.caps = c.Caps()
	if ic.caps == nil {
		return fail(&ConnError{Addr: m.addr, Err: errors.New("no CAPABILITY answer")})
	}
	return ic, nil
}

// netError maps an error of the IMAP client to ours.
func (m *IMAP) netError(err error) error {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return &ServerError{Op: "continue", Code: string(ie.Code), Text: ie.Text}
	}
	return &ConnError{Addr: m.addr, Err: err}
}

// run runs fn with the command connection, connecting (and replaying the
// queue) first when needed. When the connection turns out to be lost, it
// connects again and runs fn once more. It holds the connection for the
// whole of fn.
func (m *IMAP) run(ctx context.Context, op string, fn func(ctx context.Context, ic *imapConn) error) error {
	return m.runRetry(ctx, op, true, fn)
}

func (m *IMAP) runRetry(ctx context.Context, op string, retry bool, fn func(ctx context.Context, ic *imapConn) error) error {
	ctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	defer cancel()
	stopBase := context.AfterFunc(m.base, cancel)
	defer stopBase()
	m.mu.Lock()
	defer m.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if m.closed {
			return fmt.Errorf("mailbox: %s: the IMAP mailbox is closed", op)
		}
		ic, err := m.connLocked(ctx)
		if err != nil {
			return err
		}
		stop := context.AfterFunc(ctx, func() { ic.c.Close() })
		err = fn(ctx, ic)
		stop()
		if err == nil {
			return nil
		}
		if !ic.lost() && !isNetError(err) {
			return err
		}
		ic.c.Close()
		m.conn = nil
		if ctx.Err() != nil {
			return &ConnError{Addr: m.addr, Err: ctx.Err()}
		}
		if !retry || attempt > 0 {
			var ce *ConnError
			if errors.As(err, &ce) {
				return err
			}
			return &ConnError{Addr: m.addr, Err: err}
		}
	}
}

// connLocked returns the command connection, opening it and replaying
// the queue when there is none. The caller holds mu.
func (m *IMAP) connLocked(ctx context.Context) (*imapConn, error) {
	if m.conn != nil && !m.conn.lost() {
		if m.queue.len() > 0 {
			m.replayLocked(ctx, m.conn)
		}
		return m.conn, nil
	}
	if m.conn != nil {
		m.conn.c.Close()
		m.conn = nil
	}
	ic, err := m.connect(ctx, nil)
	if err != nil {
		return nil, err
	}
	m.conn = ic
	if m.queue.len() > 0 {
		m.replayLocked(ctx, ic)
	}
	if ic.lost() {
		ic.c.Close()
		m.conn = nil
		return nil, &ConnError{Addr: m.addr, Err: errors.New("connection lost")}
	}
	return ic, nil
}

// isNetError reports whether err says the connection failed, as opposed
// to a refusal by the server.
func isNetError(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return false
	}
	var ce *ConnError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe)
}

// selectLocked selects folder on ic unless it is selected, and returns its
// UIDVALIDITY and message count. With fresh, the count of a folder that
// was selected already is brought up to date with a NOOP (the server tells
// of new messages only in answer to a command).
func (m *IMAP) selectLocked(ic *imapConn, folder string, fresh ...bool) (uint32, uint32, error) {
	if ic.selected == folder {
		if mb := ic.c.Mailbox(); mb != nil && mb.Name == folder {
			if len(fresh) > 0 && fresh[0] {
				if err := ic.c.Noop().Wait(); err != nil {
					return 0, 0, err
				}
				mb = ic.c.Mailbox()
			}
			if mb != nil && mb.Name == folder {
				return ic.uidValidity, mb.NumMessages, nil
			}
		}
	}
	ic.selected, ic.snap = "", nil
	data, err := ic.c.Select(folder, &imap.SelectOptions{CondStore: ic.caps.Has(imap.CapCondStore)}).Wait()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == "" && !folderExists(ic, folder) {
			// Servers that do not say NONEXISTENT (Dovecot 2.3 to
			// SELECT).
			return 0, 0, &NotFoundError{Folder: folder}
		}
		return 0, 0, folderError("select", folder, err)
	}
	ic.selected, ic.uidValidity = folder, data.UIDValidity
	m.cache.folder(folder).validate(data.UIDValidity)
	return data.UIDValidity, data.NumMessages, nil
}

// folderExists reports whether the server lists folder.
func folderExists(ic *imapConn, folder string) bool {
	list, err := ic.c.List("", folder, nil).Collect()
	return err == nil && len(list) > 0 && !slices.Contains(list[0].Attrs, imap.MailboxAttrNonExistent)
}

// folderError maps a refusal about a folder: NONEXISTENT and TRYCREATE
// become a [NotFoundError].
func folderError(op, folder string, err error) error {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return err
	}
	if ie.Code == imap.ResponseCodeNonExistent || ie.Code == imap.ResponseCodeTryCreate {
		return &NotFoundError{Folder: folder}
	}
	return &ServerError{Op: fmt.Sprintf("%s %q", op, folder), Code: string(ie.Code), Text: ie.Text}
}

func serverError(op string, err error) error {
	var ie *imap.Error
	if !errors.As(err, &ie) {
		return err
	}
	return &ServerError{Op: op, Code: string(ie.Code), Text: ie.Text}
}

// checkIMAPFolder refuses folder names no server should be sent: empty,
// not UTF-8, with control characters, very long.
func checkIMAPFolder(name string) error {
	bad := func(reason string) error { return &FolderNameError{Name: name, Reason: reason} }
	switch {
	case name == "":
		return bad("empty")
	case len(name) > 1000:
		return bad("too long")
	case !utf8.ValidString(name):
		return bad("not UTF-8")
	}
	for _, r := range name {
		if r < 0x20 || (0x7f <= r && r < 0xa0) {
			return bad("contains a control character")
		}
	}
	return nil
}

// imapFolder returns the server's name of a folder: "INBOX" in any case is
// INBOX (RFC 9051 §5.1).
func imapFolder(name string) (string, error) {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX", nil
	}
	return name, checkIMAPFolder(name)
}

// parseUID reads a message ID: the decimal UID of the message.
func parseUID(folder, id string) (imap.UID, error) {
	n, err := strconv.ParseUint(id, 10, 32)
	if err != nil || n == 0 || id[0] == '0' || id[0] == '+' {
		return 0, &NotFoundError{Folder: folder, ID: id}
	}
	return imap.UID(n), nil
}

func uidString(uid imap.UID) string { return strconv.FormatUint(uint64(uid), 10) }

// Folders returns INBOX and every selectable folder the server lists,
// sorted, by their names on the server (decoded from modified UTF-7), with
// the server's hierarchy separator.
func (m *IMAP) Folders() ([]string, error) {
	var out []string
	err := m.run(m.base, "list folders", func(ctx context.Context, ic *imapConn) error {
		list, err := ic.c.List("", "*", nil).Collect()
		if err != nil {
			return serverError("list folders", err)
		}
		out = out[:0]
		for _, l := range list {
			if slices.Contains(l.Attrs, imap.MailboxAttrNoSelect) || slices.Contains(l.Attrs, imap.MailboxAttrNonExistent) {
				continue
			}
			if strings.EqualFold(l.Mailbox, "INBOX") || checkIMAPFolder(l.Mailbox) != nil {
				continue
			}
			out = append(out, l.Mailbox)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(out)
	return append([]string{"INBOX"}, slices.Compact(out)...), nil
}

// CreateFolder creates a folder on the server; one that exists is not an
// error.
func (m *IMAP) CreateFolder(name string) error {
	folder, err := imapFolder(name)
	if err != nil || folder == "INBOX" {
		return err
	}
	return m.run(m.base, "create folder", func(ctx context.Context, ic *imapConn) error {
		err := ic.c.Create(folder, nil).Wait()
		var ie *imap.Error
		if err == nil || !errors.As(err, &ie) {
			return err
		}
		if ie.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		// Servers without the ALREADYEXISTS code: look.
		if folderExists(ic, folder) {
			return nil
		}
		return folderError("create", folder, err)
	})
}

// Status is what [IMAP.Check] learned about the server.
type Status struct {
	Addr         string
	TLSVersion   string // "TLS 1.3"
	CipherSuite  string
	StartTLS     bool
	Capabilities []string
	// Mechanism is how the session logged in ("PLAIN", "LOGIN",
	// "OAUTHBEARER", "XOAUTH2"; "PREAUTH" when the server authenticated
	// the connection itself).
	Mechanism string
	IDLE      bool
	// DiscardedBeforeTLS counts the bytes the server sent after its OK to
	// STARTTLS and before the handshake, thrown away unread: a correct
	// server sends none (S50).
	DiscardedBeforeTLS int
	// Queued counts the changes waiting for replay.
	Queued int
}

// Check connects (unless connected) and reports on the connection.
func (m *IMAP) Check(ctx context.Context) (*Status, error) {
	st := &Status{Addr: m.addr, StartTLS: m.opts.StartTLS}
	err := m.run(ctx, "check", func(ctx context.Context, ic *imapConn) error {
		if err := ic.c.Noop().Wait(); err != nil {
			return err
		}
		st.TLSVersion = tls.VersionName(ic.tls.Version)
		st.CipherSuite = tls.CipherSuiteName(ic.tls.CipherSuite)
		for c := range ic.caps {
			st.Capabilities = append(st.Capabilities, string(c))
		}
		slices.Sort(st.Capabilities)
		st.Mechanism = ic.mech
		st.IDLE = ic.caps.Has(imap.CapIdle) || ic.caps.Has(imap.CapIMAP4rev2)
		st.DiscardedBeforeTLS = ic.discarded
		st.Queued = m.queue.len()
		return nil
	})
	return st, err
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
