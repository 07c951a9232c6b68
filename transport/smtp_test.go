package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/transport/smtptest"
)

const testMessage = "From: Alice <alice@example.org>\nTo: Bob <bob@example.org>\nSubject: hello\n\nHello, Bob.\n"

func password(pw string) func(context.Context) (string, error) {
	return func(context.Context) (string, error) { return pw, nil }
}

func newSMTP(t *testing.T, srv *smtptest.Server, opts *SMTPOptions) *SMTP {
	t.Helper()
	o := SMTPOptions{Username: "alice", Password: password("secret")}
	if opts != nil {
		o = *opts
	}
	o.Addr = srv.Addr
	o.TLSConfig = srv.TLS.Client
	o.CommandTimeout = 10 * time.Second
	s, err := NewSMTP(&o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func send(s Transport, to ...string) error {
	return s.Send(context.Background(), &Envelope{From: "alice@example.org", To: to}, strings.NewReader(testMessage))
}

func TestSMTPImplicitTLS(t *testing.T) {
	srv := smtptest.Start(t, nil)
	s := newSMTP(t, srv, nil)
	if err := send(s, "bob@example.org", "carol@example.org"); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the server got %d messages", len(msgs))
	}
	m := msgs[0]
	if !m.TLS || m.User != "alice" || m.From != "alice@example.org" || !slices.Equal(m.To, []string{"bob@example.org", "carol@example.org"}) {
		t.Fatalf("message: %+v", m)
	}
	if want := strings.ReplaceAll(testMessage, "\n", "\r\n"); string(m.Data) != want {
		t.Fatalf("data %q, want %q", m.Data, want)
	}
	r, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.StartTLS || r.TLSVersion != "TLS 1.3" || !r.Authenticated || r.Mechanism != "PLAIN" || r.RequireTLS || r.DiscardedBeforeTLS != 0 {
		t.Fatalf("Check = %+v", r)
	}
}

func TestSMTPSTARTTLS(t *testing.T) {
	srv := smtptest.Start(t, &smtptest.Options{StartTLS: true, RequireTLS: true})
	s := newSMTP(t, srv, &SMTPOptions{StartTLS: true, Username: "alice", Password: password("secret")})
	if err := send(s, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "alice" {
		t.Fatalf("messages: %+v", msgs)
	}
	r, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !r.StartTLS || r.TLSVersion == "" || !r.RequireTLS || !r.Authenticated {
		t.Fatalf("Check = %+v", r)
	}
	if _, ok := r.Extensions["STARTTLS"]; ok {
		t.Errorf("STARTTLS offered inside TLS: %v", r.Extensions)
	}
}

func TestS50_SMTPSTARTTLSStripped(t *testing.T) {
	// A server (or an attacker in the path) that does not offer STARTTLS:
	// refuse, never authenticate or send in plaintext.
	srv := smtptest.Start(t, &smtptest.Options{NoTLS: true})
	s := newSMTP(t, srv, &SMTPOptions{StartTLS: true, Username: "alice", Password: password("secret")})
	err := send(s, "bob@example.org")
	var te *TLSError
	if !errors.As(err, &te) || !errors.Is(err, ErrTLS) || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Fatalf("stripped STARTTLS: %v", err)
	}
	if Temporary(err) {
		t.Errorf("a TLS failure is not temporary: %v", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message went out in plaintext")
	}
}

func TestS50_SMTPImplicitTLSRequired(t *testing.T) {
	// The default is implicit TLS: a plaintext server on the port is
	// refused.
	srv := smtptest.Start(t, &smtptest.Options{NoTLS: true})
	s := newSMTP(t, srv, nil)
	if err := send(s, "bob@example.org"); !errors.Is(err, ErrTLS) {
		t.Fatalf("plaintext server with implicit TLS: %v", err)
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("a message went out in plaintext")
	}
}

// injector is a scripted submission server that answers STARTTLS with
// "220 ready to start TLS" and, in the same write (or, with later, on its
// own after a pause), a made-up reply; inside TLS it accepts one message.
type injector struct {
	ln     net.Listener
	cert   *tls.Config
	inject string
	later  bool

	mu       sync.Mutex
	received []string // commands received inside TLS
	gotData  bool
}

func startInjector(t *testing.T, srv *smtptest.Server, inject string, later bool) *injector {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	in := &injector{ln: ln, cert: srv.TLS.Server, inject: inject, later: later}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go in.serve(c)
		}
	}()
	return in
}

func (in *injector) serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	io.WriteString(c, "220 smtp.test ESMTP\r\n")
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
		case strings.HasPrefix(cmd, "EHLO"):
			io.WriteString(c, "250-smtp.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
		case cmd == "STARTTLS":
			if in.later {
				io.WriteString(c, "220 ready to start TLS\r\n")
				time.Sleep(100 * time.Millisecond)
				io.WriteString(c, in.inject)
			} else {
				io.WriteString(c, "220 ready to start TLS\r\n"+in.inject)
			}
			tc := tls.Server(c, in.cert)
			if err := tc.Handshake(); err != nil {
				return
			}
			in.serveTLS(tc)
			return
		default:
			io.WriteString(c, "530 5.7.0 Must issue a STARTTLS command first\r\n")
		}
	}
}

func (in *injector) serveTLS(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		in.mu.Lock()
		in.received = append(in.received, cmd)
		in.mu.Unlock()
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			io.WriteString(c, "250-smtp.test\r\n250 AUTH PLAIN\r\n")
		case strings.HasPrefix(cmd, "AUTH PLAIN"):
			io.WriteString(c, "235 2.7.0 ok\r\n")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"):
			io.WriteString(c, "250 2.0.0 ok\r\n")
		case cmd == "DATA":
			io.WriteString(c, "354 go on\r\n")
			for {
				l, err := br.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			in.mu.Lock()
			in.gotData = true
			in.mu.Unlock()
			io.WriteString(c, "250 2.0.0 queued\r\n")
		case cmd == "QUIT":
			io.WriteString(c, "221 bye\r\n")
			return
		default:
			io.WriteString(c, "502 what\r\n")
		}
	}
}

func TestS50_SMTPInjectedBeforeHandshake(t *testing.T) {
	// Right after "220 ready to start TLS" the server (or an attacker)
	// sends a made-up EHLO reply that offers no AUTH and a made-up "250"
	// for MAIL. Read as if it came inside TLS, it would answer the
	// client's first commands. It must be discarded unread.
	srv := smtptest.Start(t, nil)
	inject := "250-evil.example\r\n250 SIZE 10\r\n250 2.0.0 injected\r\n"
	in := startInjector(t, srv, inject, false)
	s, err := NewSMTP(&SMTPOptions{Addr: in.ln.Addr().String(), StartTLS: true, TLSConfig: srv.TLS.Client, Username: "alice", Password: password("secret"), CommandTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if r.DiscardedBeforeTLS != len(inject) {
		t.Errorf("DiscardedBeforeTLS = %d, want %d", r.DiscardedBeforeTLS, len(inject))
	}
	if _, ok := r.Extensions["SIZE"]; ok || !r.Authenticated {
		t.Fatalf("the injected reply was used: %+v", r)
	}
	if err := send(s, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.gotData || in.received[0] != "EHLO LOCALHOST" {
		t.Fatalf("inside TLS the server got %q", in.received)
	}
}

func TestS50_SMTPInjectedDuringHandshake(t *testing.T) {
	// Injected bytes that arrive on their own after the 220 reach the TLS
	// layer: the handshake fails and nothing is sent.
	srv := smtptest.Start(t, nil)
	in := startInjector(t, srv, "250 2.0.0 injected\r\n", true)
	s, err := NewSMTP(&SMTPOptions{Addr: in.ln.Addr().String(), StartTLS: true, TLSConfig: srv.TLS.Client, Username: "alice", Password: password("secret"), CommandTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := send(s, "bob@example.org"); !errors.Is(err, ErrTLS) {
		t.Fatalf("injection during the handshake: %v", err)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.received) > 0 {
		t.Fatalf("the session went on: %q", in.received)
	}
}

func TestSMTPRejectedRecipients(t *testing.T) {
	srv := smtptest.Start(t, &smtptest.Options{Reject: map[string]*smtp.SMTPError{
		"nobody@example.org": {Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"},
		"full@example.org":   {Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full"},
	}})
	s := newSMTP(t, srv, nil)
	err := send(s, "bob@example.org", "nobody@example.org", "full@example.org")
	var re *RecipientError
	if !errors.As(err, &re) || !errors.Is(err, ErrRecipients) {
		t.Fatalf("Send: %v", err)
	}
	if len(re.Rejected) != 2 || re.Rejected[0].Address != "nobody@example.org" || re.Rejected[0].Reply.Code != 550 ||
		re.Rejected[0].Reply.Enhanced != "5.1.1" || re.Rejected[1].Reply.Code != 452 {
		t.Fatalf("rejections: %+v", re.Rejected)
	}
	if !strings.Contains(err.Error(), "<nobody@example.org>: 550 5.1.1 No such user") || Temporary(err) {
		t.Fatalf("error %q (temporary %v)", err, Temporary(err))
	}
	if len(srv.Messages()) != 0 {
		t.Fatal("the message went to the recipients that were accepted")
	}
	// All refusals temporary: the error is.
	if err := send(s, "full@example.org"); !Temporary(err) {
		t.Fatalf("a 452 refusal: %v, want temporary", err)
	}
}

func TestSMTPRequireTLS(t *testing.T) {
	with := smtptest.Start(t, &smtptest.Options{RequireTLS: true})
	s := newSMTP(t, with, &SMTPOptions{Username: "alice", Password: password("secret"), RequireTLS: true})
	if err := send(s, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	if msgs := with.Messages(); len(msgs) != 1 || !msgs[0].RequireTLS {
		t.Fatalf("messages: %+v", msgs)
	}

	without := smtptest.Start(t, nil)
	s = newSMTP(t, without, nil)
	err := s.Send(context.Background(), &Envelope{From: "alice@example.org", To: []string{"bob@example.org"}, RequireTLS: true}, strings.NewReader(testMessage))
	var rte *RequireTLSError
	if !errors.As(err, &rte) {
		t.Fatalf("REQUIRETLS not offered: %v", err)
	}
	if len(without.Messages()) != 0 {
		t.Fatal("sent without REQUIRETLS")
	}
	// Not asked for: sent as usual.
	if err := send(s, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPAuth(t *testing.T) {
	srv := smtptest.Start(t, &smtptest.Options{StartTLS: true, Tokens: map[string]string{"alice": "tok-123"}})
	for _, tc := range []struct {
		name string
		opts SMTPOptions
		want string // the mechanism, "" for a refusal
	}{
		{"plain", SMTPOptions{Username: "alice", Password: password("secret")}, "PLAIN"},
		{"login", SMTPOptions{Username: "alice", Password: password("secret"), Mechanism: "login"}, "LOGIN"},
		{"oauthbearer", SMTPOptions{Username: "alice", Token: password("tok-123")}, "OAUTHBEARER"},
		{"xoauth2", SMTPOptions{Username: "alice", Token: password("tok-123"), Mechanism: "XOAUTH2"}, "XOAUTH2"},
		{"wrong password", SMTPOptions{Username: "alice", Password: password("wrong")}, ""},
		{"wrong token", SMTPOptions{Username: "alice", Token: password("nope"), Mechanism: "XOAUTH2"}, ""},
		{"unknown mechanism", SMTPOptions{Username: "alice", Password: password("secret"), Mechanism: "CRAM-MD5"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.StartTLS = true
			s, err := NewSMTP(&SMTPOptions{Addr: srv.Addr, StartTLS: true, TLSConfig: srv.TLS.Client, Username: tc.opts.Username,
				Password: tc.opts.Password, Token: tc.opts.Token, Mechanism: tc.opts.Mechanism, CommandTimeout: 5 * time.Second})
			if tc.opts.Mechanism == "CRAM-MD5" {
				if err == nil {
					t.Fatal("NewSMTP accepted an unsupported mechanism")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			r, err := s.Check(context.Background())
			if tc.want == "" {
				if !errors.Is(err, ErrAuth) || Temporary(err) {
					t.Fatalf("Check: %v, want a permanent ErrAuth", err)
				}
				return
			}
			if err != nil || r.Mechanism != tc.want || !r.Authenticated {
				t.Fatalf("Check = %+v, %v", r, err)
			}
		})
	}
	// The secret source fails: say so, send nothing.
	s := newSMTP(t, srv, &SMTPOptions{StartTLS: true, Username: "alice", Password: func(context.Context) (string, error) {
		return "", errors.New("pass: mail/example.org is not in the password store")
	}})
	if err := send(s, "bob@example.org"); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "not in the password store") {
		t.Fatalf("failing password source: %v", err)
	}
}

func TestSMTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s, err := NewSMTP(&SMTPOptions{Addr: addr})
	if err != nil {
		t.Fatal(err)
	}
	err = send(s, "bob@example.org")
	var ce *ConnError
	if !errors.As(err, &ce) || !Temporary(err) {
		t.Fatalf("closed port: %v", err)
	}

	// A server that never answers: the context ends the wait.
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s, _ = NewSMTP(&SMTPOptions{Addr: ln.Addr().String()})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err = s.Send(ctx, &Envelope{From: "a@example.org", To: []string{"b@example.org"}}, strings.NewReader(testMessage))
	if !Temporary(err) || time.Since(start) > 5*time.Second {
		t.Fatalf("silent server: %v after %v", err, time.Since(start))
	}
}

func TestSMTPBadInput(t *testing.T) {
	for _, opts := range []*SMTPOptions{nil, {}, {Addr: "[::1"}, {Addr: "host:99999"}, {Addr: "h", Username: "u"}, {Addr: "h", HeloName: "a\r\nMAIL"}} {
		if _, err := NewSMTP(opts); err == nil {
			t.Errorf("NewSMTP(%+v) accepted", opts)
		}
	}
	s, err := NewSMTP(&SMTPOptions{Addr: "mail.example.org"})
	if err != nil || s.Addr() != "mail.example.org:465" {
		t.Fatalf("default port: %v %v", s, err)
	}
	s, _ = NewSMTP(&SMTPOptions{Addr: "mail.example.org", StartTLS: true})
	if s.Addr() != "mail.example.org:587" {
		t.Fatalf("STARTTLS default port: %s", s.Addr())
	}
	for _, env := range []*Envelope{nil, {From: "a@example.org"}, {From: "a@b\r\nRCPT TO:<x@y>", To: []string{"b@example.org"}}, {From: "a@example.org", To: []string{"<b@example.org>"}}} {
		if err := s.Send(context.Background(), env, strings.NewReader("x")); err == nil {
			t.Errorf("Send(%+v) accepted", env)
		}
	}
}

func TestSendAndSave(t *testing.T) {
	srv := smtptest.Start(t, nil)
	s := newSMTP(t, srv, nil)
	md, err := mailbox.OpenMaildir(filepath.Join(t.TempDir(), "Maildir"), &mailbox.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer md.Close()
	if err := md.CreateFolder("Sent"); err != nil {
		t.Fatal(err)
	}
	env, err := EnvelopeOf([]byte(testMessage))
	if err != nil {
		t.Fatal(err)
	}
	if err := SendAndSave(context.Background(), s, env, []byte(testMessage), SaveToFolder(md, "Sent")); err != nil {
		t.Fatal(err)
	}
	var saved []mailbox.Message
	for m, err := range md.List("Sent", nil) {
		if err != nil {
			t.Fatal(err)
		}
		saved = append(saved, m)
	}
	if len(saved) != 1 || saved[0].Flags != mailbox.Seen || saved[0].Header.Get("Subject") != "hello" || len(srv.Messages()) != 1 {
		t.Fatalf("Sent: %+v; server: %d", saved, len(srv.Messages()))
	}
	// The copy fails: the message went, and the error says so.
	err = SendAndSave(context.Background(), s, env, []byte(testMessage), SaveToFolder(md, "Missing"))
	var se *SaveError
	if !errors.As(err, &se) || !errors.Is(err, mailbox.ErrNotFound) || len(srv.Messages()) != 2 {
		t.Fatalf("failed copy: %v", err)
	}
	// The send fails: nothing is saved.
	bad := newSMTP(t, srv, &SMTPOptions{Username: "alice", Password: password("wrong")})
	if err := SendAndSave(context.Background(), bad, env, []byte(testMessage), SaveToFolder(md, "Sent")); !errors.Is(err, ErrAuth) {
		t.Fatalf("failed send: %v", err)
	}
	if n := len(saved); n != 1 {
		t.Fatal(n)
	}
}

func TestEnvelopeOf(t *testing.T) {
	env, err := EnvelopeOf([]byte("From: A <a@example.org>\r\nTo: b@example.org, C <c@example.org>\r\nCc: b@example.org\r\nBcc: d@example.org\r\nSubject: x\r\n\r\nTo: e@example.org\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	if env.From != "a@example.org" || !slices.Equal(env.To, []string{"b@example.org", "c@example.org", "d@example.org"}) {
		t.Fatalf("envelope %+v", env)
	}
	env, err = EnvelopeOf([]byte("From: a@example.org, b@example.org\nSender: s@example.org\nTo: t@example.org\n\n"))
	if err != nil || env.From != "s@example.org" {
		t.Fatalf("Sender: %+v %v", env, err)
	}
	for _, bad := range []string{"To: b@example.org\n\n", "From: a@example.org\n\nbody", "From: a@example.org\nTo: <<<\n\n"} {
		if _, err := EnvelopeOf([]byte(bad)); err == nil {
			t.Errorf("EnvelopeOf(%q) accepted", bad)
		}
	}
}
