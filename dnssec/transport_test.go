package dnssec

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestServerFromResolvConf(t *testing.T) {
	for in, want := range map[string]string{
		"search example.org\nnameserver 192.0.2.53\nnameserver 192.0.2.54\n": "192.0.2.53:53",
		"nameserver ::1\n":                     "[::1]:53",
		"options ndots:2\nnameserver 10.0.0.1": "10.0.0.1:53",
	} {
		got, err := ServerFromResolvConf(strings.NewReader(in))
		if err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ServerFromResolvConf(strings.NewReader("search example.org\n")); err == nil {
		t.Error("no nameserver accepted")
	}
}

func TestDefaultServer(t *testing.T) {
	s, err := DefaultServer()
	if err != nil {
		t.Skip(err)
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		t.Errorf("DefaultServer %q: %v", s, err)
	}
}

func TestTruncatedAnswerFallsBackToTCP(t *testing.T) {
	_, s := kit(t)
	before := s.TCPQueries()
	res, err := lookupVariant(t, "secure-tcp")
	mustStatus(t, res, err, Secure, -1)
	if len(res.Answer) != 1 || len(res.Answer[0].(*dns.TXT).Txt) != 12 {
		t.Errorf("answer %v", res.Answer)
	}
	if s.TCPQueries() == before {
		t.Error("no query came over TCP")
	}
}

// flakyServer answers every query over UDP except the first drop ones.
func flakyServer(t *testing.T, drop int) (string, *atomic.Int64) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		if seen.Add(1) <= int64(drop) {
			return
		}
		m := new(dns.Msg)
		m.SetReply(q)
		w.WriteMsg(m)
	})}
	go srv.ActivateAndServe()
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String(), &seen
}

func TestRetriesAfterTimeout(t *testing.T) {
	addr, seen := flakyServer(t, 1)
	q := new(dns.Msg)
	q.SetQuestion("example.test.", dns.TypeA)
	resp, err := NewNetTransport(addr, 200*time.Millisecond, 1).Exchange(context.Background(), q)
	if err != nil || resp.Id != q.Id {
		t.Fatalf("%v %v", resp, err)
	}
	if seen.Load() != 2 {
		t.Errorf("%d attempts", seen.Load())
	}

	addr, seen = flakyServer(t, 10)
	start := time.Now()
	_, err = NewNetTransport(addr, 100*time.Millisecond, 2).Exchange(context.Background(), q)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("err %v, want a timeout", err)
	}
	if seen.Load() != 3 || time.Since(start) > 2*time.Second {
		t.Errorf("%d attempts in %v", seen.Load(), time.Since(start))
	}
}

func TestTimeoutIsAQueryError(t *testing.T) {
	addr, _ := flakyServer(t, 1000)
	r, err := New(&Options{Server: addr, Timeout: 50 * time.Millisecond, Retries: -1, Anchors: RootAnchors()})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Lookup(context.Background(), "example.test.", dns.TypeA)
	var qe *QueryError
	if !errors.As(err, &qe) {
		t.Fatalf("err %v", err)
	}
}
