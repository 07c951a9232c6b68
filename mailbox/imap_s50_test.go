package mailbox

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securemail/securemail/mailbox/imaptest"
)

// fakeIMAP is a scripted IMAP server for the STARTTLS attacks of
// SECURITY.md S50: its plaintext part says what a test tells it to; inside
// TLS it answers CAPABILITY, AUTHENTICATE PLAIN, LOGIN, NOOP and LOGOUT.
type fakeIMAP struct {
	t        *testing.T
	ln       net.Listener
	tls      *imaptest.TLS
	greeting string // the first line, "* OK ready"
	caps     string // the plaintext capabilities
	// startTLSReply answers STARTTLS ("OK Begin TLS"); inject is written
	// in the same write, right after it; injectLater is written 100 ms
	// later, on its own.
	startTLSReply string
	inject        string
	injectLater   string

	mu        sync.Mutex
	plaintext []string // lines the client sent before TLS
	secured   []string // lines the client sent inside TLS
	loggedIn  bool
}

func startFakeIMAP(t *testing.T, f *fakeIMAP) *fakeIMAP {
	t.Helper()
	f.t = t
	f.tls = imaptest.NewTLS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go f.serve(conn)
		}
	}()
	return f
}

func (f *fakeIMAP) options() *IMAPOptions {
	return &IMAPOptions{
		Addr:      f.ln.Addr().String(),
		StartTLS:  true,
		TLSConfig: f.tls.Client,
		Username:  "alice",
		Password:  func(context.Context) (string, error) { return "secret", nil },
		Timeout:   5 * time.Second,
	}
}

func (f *fakeIMAP) serve(conn net.Conn) {
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	io.WriteString(conn, f.greeting+"\r\n")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.plaintext = append(f.plaintext, line)
		f.mu.Unlock()
		tag, cmd, _ := strings.Cut(line, " ")
		switch strings.ToUpper(cmd) {
		case "CAPABILITY":
			io.WriteString(conn, "* CAPABILITY "+f.caps+"\r\n"+tag+" OK done\r\n")
		case "STARTTLS":
			io.WriteString(conn, tag+" "+f.startTLSReply+"\r\n"+f.inject)
			if !strings.HasPrefix(f.startTLSReply, "OK") {
				continue
			}
			if f.injectLater != "" {
				time.Sleep(100 * time.Millisecond)
				io.WriteString(conn, f.injectLater)
			}
			tc := tls.Server(conn, f.tls.Server)
			if err := tc.Handshake(); err != nil {
				return
			}
			f.serveTLS(tc)
			return
		default:
			io.WriteString(conn, tag+" BAD not before TLS\r\n")
		}
	}
}

func (f *fakeIMAP) serveTLS(conn net.Conn) {
	br := bufio.NewReader(conn)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		f.mu.Lock()
		f.secured = append(f.secured, line)
		f.mu.Unlock()
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		tag := fields[0]
		switch strings.ToUpper(fields[1]) {
		case "CAPABILITY":
			io.WriteString(conn, "* CAPABILITY IMAP4rev1 AUTH=PLAIN SASL-IR IDLE\r\n"+tag+" OK done\r\n")
		case "AUTHENTICATE":
			ok := len(fields) == 4 && fields[3] == base64.StdEncoding.EncodeToString([]byte("\x00alice\x00secret"))
			f.mu.Lock()
			f.loggedIn = ok
			f.mu.Unlock()
			if ok {
				io.WriteString(conn, tag+" OK logged in\r\n")
			} else {
				io.WriteString(conn, tag+" NO [AUTHENTICATIONFAILED] no\r\n")
			}
		case "NOOP":
			io.WriteString(conn, tag+" OK noop\r\n")
		case "LOGOUT":
			io.WriteString(conn, "* BYE bye\r\n"+tag+" OK bye\r\n")
			return
		default:
			io.WriteString(conn, tag+" BAD unknown\r\n")
		}
	}
}

// sentInPlaintext returns what the client sent before TLS other than
// CAPABILITY, STARTTLS and a TLS ClientHello.
func (f *fakeIMAP) sentInPlaintext() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, l := range f.plaintext {
		if strings.HasPrefix(l, "\x16\x03") {
			continue // a TLS ClientHello, to a server that speaks plaintext
		}
		_, cmd, _ := strings.Cut(l, " ")
		if c := strings.ToUpper(cmd); c != "CAPABILITY" && c != "STARTTLS" {
			out = append(out, l)
		}
	}
	return out
}

func TestS50_IMAPSTARTTLSStripped(t *testing.T) {
	// An attacker removed STARTTLS from the capabilities: refuse, send
	// no credentials.
	f := startFakeIMAP(t, &fakeIMAP{greeting: "* OK ready", caps: "IMAP4rev1 AUTH=PLAIN", startTLSReply: "OK go"})
	_, err := DialIMAP(context.Background(), f.options())
	wantErr(t, "no STARTTLS", err, ErrTLS)
	if sent := f.sentInPlaintext(); len(sent) > 0 {
		t.Fatalf("sent in plaintext: %q", sent)
	}
	if !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("error %q does not say why", err)
	}
}

func TestS50_IMAPSTARTTLSRefused(t *testing.T) {
	f := startFakeIMAP(t, &fakeIMAP{greeting: "* OK ready", caps: "IMAP4rev1 STARTTLS", startTLSReply: "NO not today"})
	_, err := DialIMAP(context.Background(), f.options())
	wantErr(t, "STARTTLS refused", err, ErrTLS)
	if sent := f.sentInPlaintext(); len(sent) > 0 {
		t.Fatalf("sent in plaintext: %q", sent)
	}
}

func TestS50_IMAPPreauthPlaintext(t *testing.T) {
	// PREAUTH before TLS: the session would never be encrypted.
	f := startFakeIMAP(t, &fakeIMAP{greeting: "* PREAUTH welcome back", caps: "IMAP4rev1 STARTTLS", startTLSReply: "OK go"})
	_, err := DialIMAP(context.Background(), f.options())
	wantErr(t, "PREAUTH", err, ErrTLS)
	if !strings.Contains(err.Error(), "PREAUTH") {
		t.Errorf("error %q does not say why", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.plaintext) > 0 {
		t.Fatalf("the client went on after PREAUTH: %q", f.plaintext)
	}
}

func TestS50_IMAPInjectedBeforeHandshake(t *testing.T) {
	// Bytes sent with the OK to STARTTLS, before the handshake, pretend to
	// be the answer to the first command inside TLS (a capability list
	// with only LOGIN, and a tagged OK). They must be discarded unread.
	inject := "* CAPABILITY IMAP4rev1 LOGINDISABLED AUTH=ANONYMOUS\r\nT1 OK [CAPABILITY IMAP4rev1 AUTH=ANONYMOUS] injected\r\n"
	f := startFakeIMAP(t, &fakeIMAP{greeting: "* OK ready", caps: "IMAP4rev1 STARTTLS LOGINDISABLED", startTLSReply: "OK Begin TLS", inject: inject})
	m, err := DialIMAP(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	st, err := m.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.DiscardedBeforeTLS != len(inject) {
		t.Errorf("DiscardedBeforeTLS = %d, want %d", st.DiscardedBeforeTLS, len(inject))
	}
	if st.Mechanism != "PLAIN" || strings.Contains(strings.Join(st.Capabilities, " "), "ANONYMOUS") {
		t.Fatalf("the injected capabilities were used: %+v", st)
	}
	if sent := f.sentInPlaintext(); len(sent) > 0 {
		t.Fatalf("sent in plaintext: %q", sent)
	}
}

func TestS50_IMAPInjectedDuringHandshake(t *testing.T) {
	// Injected bytes that arrive after the OK, on their own, reach the TLS
	// layer: the handshake fails, and nothing is sent.
	f := startFakeIMAP(t, &fakeIMAP{greeting: "* OK ready", caps: "IMAP4rev1 STARTTLS", startTLSReply: "OK Begin TLS", injectLater: "* OK [CAPABILITY IMAP4rev1 AUTH=ANONYMOUS] injected\r\n"})
	_, err := DialIMAP(context.Background(), f.options())
	wantErr(t, "injection during the handshake", err, ErrTLS)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.loggedIn || len(f.secured) > 0 {
		t.Fatalf("the session went on: %q", f.secured)
	}
}

func TestS50_IMAPImplicitTLSRequired(t *testing.T) {
	// The default is implicit TLS: a server that speaks plaintext IMAP on
	// the port is refused, never used in the clear.
	f := startFakeIMAP(t, &fakeIMAP{greeting: "* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] plaintext", caps: "IMAP4rev1", startTLSReply: "OK"})
	opts := f.options()
	opts.StartTLS = false
	_, err := DialIMAP(context.Background(), opts)
	if !errors.Is(err, ErrTLS) && !errors.Is(err, ErrOffline) {
		t.Fatalf("plaintext server on the implicit-TLS port: %v", err)
	}
	if sent := f.sentInPlaintext(); len(sent) > 0 {
		t.Fatalf("sent in plaintext: %q", sent)
	}
}

func TestIMAPFakeSTARTTLSLogin(t *testing.T) {
	// The good path against the scripted server: STARTTLS, then
	// AUTHENTICATE PLAIN inside TLS only.
	f := startFakeIMAP(t, &fakeIMAP{greeting: "* OK ready", caps: "IMAP4rev1 STARTTLS LOGINDISABLED", startTLSReply: "OK Begin TLS"})
	m, err := DialIMAP(context.Background(), f.options())
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loggedIn {
		t.Fatalf("not logged in; the client said %q inside TLS", f.secured)
	}
}
