package mailbox

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-sasl"
)

// Login mechanisms of [IMAPOptions.Mechanism].
const (
	mechPlain       = "PLAIN"
	mechLogin       = "LOGIN"
	mechOAuthBearer = "OAUTHBEARER"
	mechXOAuth2     = "XOAUTH2"
)

// login authenticates ic: a token with OAUTHBEARER or XOAUTH2, a password
// with AUTHENTICATE PLAIN or the LOGIN command. It runs only inside TLS,
// which tlsDial guarantees; the check below guards against a change.
func (m *IMAP) login(ctx context.Context, ic *imapConn) error {
	if !ic.tls.HandshakeComplete {
		return &AuthError{Addr: m.addr, Reason: "refusing to log in without TLS"}
	}
	if m.opts.Username == "" {
		return &AuthError{Addr: m.addr, Reason: "the server asks for a login and no user name is configured"}
	}
	caps := ic.c.Caps()
	offered := caps.AuthMechanisms()
	hasMech := func(mech string) bool {
		return slices.ContainsFunc(offered, func(o string) bool { return strings.EqualFold(o, mech) })
	}
	want := strings.ToUpper(m.opts.Mechanism)
	token := m.opts.Token != nil
	mech := want
	if mech == "" {
		switch {
		case token && hasMech(mechOAuthBearer):
			mech = mechOAuthBearer
		case token && hasMech(mechXOAuth2):
			mech = mechXOAuth2
		case token:
			return &AuthError{Addr: m.addr, Reason: "the server offers neither OAUTHBEARER nor XOAUTH2 (it offers " + offeredList(offered) + ")"}
		case hasMech(mechPlain):
			mech = mechPlain
		default:
			mech = mechLogin
		}
	}
	if mech == mechLogin && caps.Has(imap.CapLoginDisabled) {
		return &AuthError{Addr: m.addr, Mechanism: mech, Reason: "the server disabled LOGIN and offers " + offeredList(offered)}
	}
	if mech != mechLogin && !hasMech(mech) {
		return &AuthError{Addr: m.addr, Mechanism: mech, Reason: "the server does not offer it (it offers " + offeredList(offered) + ")"}
	}
	var secret string
	var err error
	if token {
		secret, err = m.opts.Token(ctx)
	} else {
		secret, err = m.opts.Password(ctx)
	}
	if err != nil {
		return &AuthError{Addr: m.addr, Mechanism: mech, Reason: "cannot get the secret", Err: err}
	}
	switch mech {
	case mechLogin:
		err = ic.c.Login(m.opts.Username, secret).Wait()
	case mechPlain:
		err = ic.c.Authenticate(sasl.NewPlainClient("", m.opts.Username, secret))
	case mechOAuthBearer:
		err = ic.c.Authenticate(sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: m.opts.Username, Token: secret, Host: m.host, Port: m.port}))
	case mechXOAuth2:
		err = ic.c.Authenticate(&xoauth2Client{username: m.opts.Username, token: secret})
	}
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return &AuthError{Addr: m.addr, Mechanism: mech, Err: &ServerError{Op: "log in", Code: string(ie.Code), Text: ie.Text}}
		}
		if isNetError(err) || ic.lost() {
			return &ConnError{Addr: m.addr, Err: err}
		}
		return &AuthError{Addr: m.addr, Mechanism: mech, Err: err}
	}
	ic.mech = mech
	return nil
}

func offeredList(mechs []string) string {
	if len(mechs) == 0 {
		return "no SASL mechanism"
	}
	slices.Sort(mechs)
	return strings.Join(mechs, ", ")
}

// xoauth2Client is the XOAUTH2 mechanism of Google and Microsoft: one
// message "user=U^Aauth=Bearer T^A^A"; a challenge carries the server's
// JSON error and is answered with an empty response.
type xoauth2Client struct {
	username, token string
	failed          bool
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return mechXOAuth2, []byte("user=" + c.username + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next([]byte) ([]byte, error) {
	if c.failed {
		return nil, sasl.ErrUnexpectedServerChallenge
	}
	c.failed = true
	return []byte{}, nil
}
