package testkit

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// udpSize is the EDNS0 buffer size the server advertises and the largest
// UDP answer it sends.
const udpSize = 1232

// Server serves a signed Hierarchy on one UDP and one TCP socket sharing
// an address.
type Server struct {
	h        *Hierarchy
	addr     string
	udp, tcp *dns.Server
	queries  atomic.Int64
	tcpCount atomic.Int64
	once     sync.Once
}

// Serve signs the hierarchy if needed and serves it on addr ("host:port";
// port 0 picks a free port, the same for UDP and TCP). Close stops it.
func (h *Hierarchy) Serve(addr string) (*Server, error) {
	if err := h.Sign(); err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("testkit: %w", err)
	}
	var pc net.PacketConn
	var ln net.Listener
	for attempt := 0; ; attempt++ {
		pc, err = net.ListenPacket("udp", net.JoinHostPort(host, port))
		if err != nil {
			return nil, fmt.Errorf("testkit: %w", err)
		}
		udpPort := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
		ln, err = net.Listen("tcp", net.JoinHostPort(host, udpPort))
		if err == nil {
			break
		}
		pc.Close()
		if port != "0" || attempt == 20 {
			return nil, fmt.Errorf("testkit: %w", err)
		}
	}
	s := &Server{h: h, addr: pc.LocalAddr().String()}
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &dns.Server{PacketConn: pc, Handler: s, NotifyStartedFunc: notify}
	s.tcp = &dns.Server{Listener: ln, Handler: s, NotifyStartedFunc: notify, ReadTimeout: 5 * time.Second}
	errs := make(chan error, 2)
	go func() { errs <- s.udp.ActivateAndServe() }()
	go func() { errs <- s.tcp.ActivateAndServe() }()
	for i := 0; i < 2; i++ {
		select {
		case <-started:
		case err := <-errs:
			s.Close()
			return nil, fmt.Errorf("testkit: serving: %w", err)
		case <-time.After(10 * time.Second):
			s.Close()
			return nil, errors.New("testkit: the DNS server did not start")
		}
	}
	return s, nil
}

// Addr returns the address served, "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Port returns the port served.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Hierarchy returns the hierarchy served.
func (s *Server) Hierarchy() *Hierarchy { return s.h }

// Queries returns the number of queries received so far, over UDP and
// TCP.
func (s *Server) Queries() int64 { return s.queries.Load() }

// TCPQueries returns the number of queries received over TCP.
func (s *Server) TCPQueries() int64 { return s.tcpCount.Load() }

// Close stops the server.
func (s *Server) Close() error {
	var err error
	s.once.Do(func() {
		err = errors.Join(s.udp.Shutdown(), s.tcp.Shutdown())
	})
	return err
}

// ServeDNS answers one query; over UDP an answer larger than the
// client's buffer (512 octets without EDNS0) is truncated with TC set, so
// that the client asks again over TCP.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	s.queries.Add(1)
	resp := s.h.Answer(req)
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = min(max(int(opt.UDPSize()), dns.MinMsgSize), udpSize)
		}
		resp.Truncate(size)
	} else {
		s.tcpCount.Add(1)
	}
	_ = w.WriteMsg(resp)
}
