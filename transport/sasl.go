package transport

import (
	"bytes"
	"errors"
	"slices"
	"strings"

	"github.com/emersion/go-sasl"
)

// SASL mechanism names, as servers advertise them.
const (
	MechPlain       = "PLAIN"
	MechLogin       = "LOGIN"
	MechOAuthBearer = "OAUTHBEARER"
	MechXOAuth2     = "XOAUTH2"
)

// ChooseMechanism picks the SASL mechanism for a login: want when set
// (it must be offered), else for a token OAUTHBEARER or XOAUTH2, for a
// password PLAIN or LOGIN, the first of each pair the server offers.
// It reports false when none fits.
func ChooseMechanism(offered []string, want string, token bool) (string, bool) {
	has := func(m string) bool {
		return slices.ContainsFunc(offered, func(o string) bool { return strings.EqualFold(o, m) })
	}
	if want != "" {
		want = strings.ToUpper(want)
		return want, has(want)
	}
	pref := []string{MechPlain, MechLogin}
	if token {
		pref = []string{MechOAuthBearer, MechXOAuth2}
	}
	for _, m := range pref {
		if has(m) {
			return m, true
		}
	}
	return "", false
}

// NewSASLClient returns the client side of a SASL mechanism: PLAIN and
// LOGIN take the password as secret, OAUTHBEARER and XOAUTH2 an OAuth 2
// access token. host and port go into OAUTHBEARER's message (RFC 7628).
func NewSASLClient(mech, username, secret, host string, port int) (sasl.Client, error) {
	switch strings.ToUpper(mech) {
	case MechPlain:
		return sasl.NewPlainClient("", username, secret), nil
	case MechLogin:
		return &loginClient{username: username, password: secret}, nil
	case MechOAuthBearer:
		return sasl.NewOAuthBearerClient(&sasl.OAuthBearerOptions{Username: username, Token: secret, Host: host, Port: port}), nil
	case MechXOAuth2:
		return &xoauth2Client{username: username, token: secret}, nil
	}
	return nil, errors.New("unsupported SASL mechanism " + mech)
}

// loginClient is the obsolete LOGIN mechanism (draft-murchison-sasl-login)
// as servers really speak it: no initial response, then a "Username:" and
// a "Password:" challenge. go-sasl's sends the user name as an initial
// response, which some servers refuse.
type loginClient struct {
	username, password string
	step               int
}

func (c *loginClient) Start() (string, []byte, error) { return MechLogin, nil, nil }

func (c *loginClient) Next(challenge []byte) ([]byte, error) {
	c.step++
	ch := bytes.ToLower(challenge)
	switch {
	case bytes.HasPrefix(ch, []byte("user")):
		return []byte(c.username), nil
	case bytes.HasPrefix(ch, []byte("pass")):
		return []byte(c.password), nil
	case c.step == 1:
		return []byte(c.username), nil
	case c.step == 2:
		return []byte(c.password), nil
	}
	return nil, sasl.ErrUnexpectedServerChallenge
}

// xoauth2Client is Google's and Microsoft's XOAUTH2: one message
// "user=U^Aauth=Bearer T^A^A". A challenge is the server's JSON error,
// answered with an empty response so that it sends its final reply.
type xoauth2Client struct {
	username, token string
	failed          bool
}

func (c *xoauth2Client) Start() (string, []byte, error) {
	return MechXOAuth2, []byte("user=" + c.username + "\x01auth=Bearer " + c.token + "\x01\x01"), nil
}

func (c *xoauth2Client) Next(challenge []byte) ([]byte, error) {
	if c.failed {
		return nil, sasl.ErrUnexpectedServerChallenge
	}
	c.failed = true
	return []byte{}, nil
}
