package dnssec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/miekg/dns"
)

// Transport sends one query to the recursive resolver and returns its
// answer. It is the seam where tests, fuzz targets and other transports
// (DNS over TLS, a fixed set of answers) plug in; [NewNetTransport] is the
// ordinary one. Exchange must be safe for concurrent use. The answer is
// owned by the caller afterwards (the resolver may modify it).
type Transport interface {
	Exchange(ctx context.Context, query *dns.Msg) (*dns.Msg, error)
}

// TransportFunc adapts a function to [Transport].
type TransportFunc func(ctx context.Context, query *dns.Msg) (*dns.Msg, error)

// Exchange calls f.
func (f TransportFunc) Exchange(ctx context.Context, query *dns.Msg) (*dns.Msg, error) {
	return f(ctx, query)
}

// udpSize is the EDNS0 buffer size advertised: the DNS flag day 2020
// value, small enough to avoid IP fragmentation.
const udpSize = 1232

// NewNetTransport returns a [Transport] that asks server ("host:port")
// over UDP, falls back to TCP when the answer is truncated, gives each
// attempt timeout (0 means 2 s) and retries a timed-out or failed UDP
// attempt retries more times (negative means none).
func NewNetTransport(server string, timeout time.Duration, retries int) Transport {
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	if retries < 0 {
		retries = 0
	}
	return &netTransport{server: server, timeout: timeout, retries: retries}
}

type netTransport struct {
	server  string
	timeout time.Duration
	retries int
}

func (t *netTransport) Exchange(ctx context.Context, query *dns.Msg) (*dns.Msg, error) {
	udp := &dns.Client{Net: "udp", Timeout: t.timeout, UDPSize: udpSize}
	var lastErr error
	for attempt := 0; attempt <= t.retries; attempt++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		resp, _, err := udp.ExchangeContext(ctx, query, t.server)
		if err == nil && resp.Truncated {
			// RFC 7766 §5: a truncated answer is asked again over TCP.
			tcp := &dns.Client{Net: "tcp", Timeout: t.timeout}
			resp, _, err = tcp.ExchangeContext(ctx, query, t.server)
		}
		if err == nil {
			return resp, nil
		}
		lastErr = err
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
	}
	return nil, lastErr
}

// DefaultServer returns the first nameserver of /etc/resolv.conf as
// "host:port", the recursive resolver asked when Options.Server is empty.
func DefaultServer() (string, error) {
	f, err := os.Open("/etc/resolv.conf")
	if err != nil {
		return "", fmt.Errorf("dnssec: no default resolver: %w", err)
	}
	defer f.Close()
	return ServerFromResolvConf(f)
}

// ServerFromResolvConf returns the first nameserver of a resolv.conf(5)
// file as "host:port".
func ServerFromResolvConf(r io.Reader) (string, error) {
	conf, err := dns.ClientConfigFromReader(r)
	if err != nil {
		return "", fmt.Errorf("dnssec: reading resolv.conf: %w", err)
	}
	if len(conf.Servers) == 0 {
		return "", errors.New("dnssec: resolv.conf names no nameserver")
	}
	return net.JoinHostPort(conf.Servers[0], conf.Port), nil
}
