// Package smtptest runs an SMTP submission server in memory for tests
// (github.com/emersion/go-smtp): implicit TLS or STARTTLS with a test
// certificate, AUTH PLAIN, LOGIN, OAUTHBEARER and XOAUTH2 inside TLS only,
// REQUIRETLS on demand, recipients refused on demand, and every accepted
// message kept for the test to look at ([Server.Messages]).
package smtptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/securemail/securemail/mailbox/imaptest"
)

// Options configure a [Server]; the zero value is an implicit-TLS server
// with the user "alice", password "secret".
type Options struct {
	// StartTLS serves plaintext with STARTTLS instead of implicit TLS;
	// NoTLS serves plaintext without STARTTLS (a stripped server).
	StartTLS bool
	NoTLS    bool
	// RequireTLS advertises REQUIRETLS (RFC 8689).
	RequireTLS bool
	// Users maps user names to passwords (nil: alice/secret); Tokens maps
	// user names to OAuth 2 tokens for OAUTHBEARER and XOAUTH2.
	Users  map[string]string
	Tokens map[string]string
	// Reject refuses these recipients at RCPT TO with the given code
	// (5xx or 4xx) and text.
	Reject map[string]*smtp.SMTPError
	// MaxMessageBytes advertises SIZE; 0 means none.
	MaxMessageBytes int64
}

// Message is a message the server accepted.
type Message struct {
	From       string
	To         []string
	Data       []byte
	RequireTLS bool
	UTF8       bool
	User       string // who authenticated, "" for nobody
	TLS        bool   // the session was encrypted
}

// Server is a running test server.
type Server struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// TLS is the certificate; TLS.Client trusts it.
	TLS *imaptest.TLS

	opts Options
	srv  *smtp.Server

	mu   sync.Mutex
	msgs []Message
}

// Start starts a server on a loopback port; the test's cleanup stops it.
func Start(t testing.TB, opts *Options) *Server {
	t.Helper()
	s := &Server{TLS: imaptest.NewTLS(t)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Users == nil {
		s.opts.Users = map[string]string{"alice": "secret"}
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &session{s: s, tls: isTLS}, nil
	}))
	srv.Domain = "smtp.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.EnableREQUIRETLS = s.opts.RequireTLS
	srv.EnableSMTPUTF8 = true
	srv.MaxMessageBytes = s.opts.MaxMessageBytes
	var ln net.Listener
	var err error
	switch {
	case s.opts.NoTLS:
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	case s.opts.StartTLS:
		srv.TLSConfig = s.TLS.Server
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	default:
		srv.TLSConfig = s.TLS.Server
		ln, err = tls.Listen("tcp", "127.0.0.1:0", s.TLS.Server)
	}
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	s.srv = srv
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

type session struct {
	s    *Server
	tls  bool
	user string
	msg  Message
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }

func (ss *session) Mail(from string, opts *smtp.MailOptions) error {
	ss.msg = Message{From: from, User: ss.user, TLS: ss.tls}
	if opts != nil {
		ss.msg.RequireTLS, ss.msg.UTF8 = opts.RequireTLS, opts.UTF8
	}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if e := ss.s.opts.Reject[to]; e != nil {
		return e
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = data
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, ss.msg)
	ss.s.mu.Unlock()
	return nil
}

func (ss *session) AuthMechanisms() []string {
	return []string{sasl.Plain, sasl.Login, sasl.OAuthBearer, "XOAUTH2"}
}

var errAuth = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	users, tokens := ss.s.opts.Users, ss.s.opts.Tokens
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, pass string) error {
			if identity != "" && identity != user {
				return errAuth
			}
			if p, ok := users[user]; !ok || p != pass {
				return errAuth
			}
			ss.user = user
			return nil
		}), nil
	case sasl.Login:
		return &loginServer{check: func(user, pass string) error {
			if p, ok := users[user]; !ok || p != pass {
				return errAuth
			}
			ss.user = user
			return nil
		}}, nil
	case sasl.OAuthBearer:
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if tok, ok := tokens[o.Username]; !ok || tok != o.Token {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			ss.user = o.Username
			return nil
		}), nil
	case "XOAUTH2":
		return &xoauth2Server{check: func(user, token string) error {
			if tok, ok := tokens[user]; !ok || tok != token {
				return errAuth
			}
			ss.user = user
			return nil
		}}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of LOGIN: "Username:", "Password:".
type loginServer struct {
	check func(user, pass string) error
	user  string
	step  int
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(response) > 0 { // an initial response is the user name
			l.user = string(response)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(response)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(l.user, string(response))
	}
	return nil, true, errors.New("unexpected response")
}

// xoauth2Server checks "user=U^Aauth=Bearer T^A^A".
type xoauth2Server struct {
	check func(user, token string) error
}

func (x *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	var user, token string
	for _, part := range bytes.Split(response, []byte{1}) {
		if v, ok := strings.CutPrefix(string(part), "user="); ok {
			user = v
		}
		if v, ok := strings.CutPrefix(string(part), "auth=Bearer "); ok {
			token = v
		}
	}
	return nil, true, x.check(user, token)
}
