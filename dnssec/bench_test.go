package dnssec

import (
	"context"
	"sync"
	"testing"

	"github.com/miekg/dns"
	"github.com/securemail/securemail/internal/testkit"
)

// BenchmarkColdLookup validates the SMIMEA record of hugh@sub.example.test,
// three zones below the anchor (test., example.test., sub.example.test.),
// with an empty cache each time: the query, then DNSKEY . and DS and
// DNSKEY of each zone below.
//
//   - loopback: over UDP to the test hierarchy's server in the same
//     process. ns/op is wall time; cpu-ns/op is the CPU the whole process
//     spent (the server's packing included); server-queries/op counts what
//     the server received (TCP retries included), to compare with Unbound
//     (TestUnboundQueryCount).
//   - replay: the same answers served from memory, so that ns/op is the
//     validator's CPU alone (unpacking included).
func BenchmarkColdLookup(b *testing.B) {
	ctx := context.Background()
	b.Run("loopback", func(b *testing.B) {
		_, s := kit(b)
		opts := kitOptions(b)
		b.ReportAllocs()
		queries, verifications := 0, 0
		served := s.Queries()
		cpu := cpuTime()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			res, err := r.Lookup(ctx, testkit.SampleSMIMEA, dns.TypeSMIMEA)
			if err != nil || res.Status != Secure {
				b.Fatalf("%v %v", res, err)
			}
			queries += res.Queries
			verifications += res.Verifications
		}
		b.StopTimer()
		b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		b.ReportMetric(float64(queries)/float64(b.N), "queries/op")
		b.ReportMetric(float64(s.Queries()-served)/float64(b.N), "server-queries/op")
		b.ReportMetric(float64(verifications)/float64(b.N), "verifications/op")
	})
	b.Run("replay", func(b *testing.B) {
		tr := replayTransport(b, testkit.SampleSMIMEA, dns.TypeSMIMEA)
		opts := kitOptions(b)
		opts.Transport = tr
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			r, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			res, err := r.Lookup(ctx, testkit.SampleSMIMEA, dns.TypeSMIMEA)
			if err != nil || res.Status != Secure {
				b.Fatalf("%v %v", res, err)
			}
		}
	})
}

// replayTransport records the answers a lookup gets from the test
// hierarchy and returns a transport that serves them from memory.
func replayTransport(tb testing.TB, name string, qtype uint16) Transport {
	_, s := kit(tb)
	var mu sync.Mutex
	answers := map[dns.Question][]byte{}
	inner := NewNetTransport(s.Addr(), 0, 0)
	rec := TransportFunc(func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		resp, err := inner.Exchange(ctx, q)
		if err == nil {
			b, perr := resp.Pack()
			if perr != nil {
				return nil, perr
			}
			mu.Lock()
			answers[q.Question[0]] = b
			mu.Unlock()
		}
		return resp, err
	})
	r := kitResolver(tb, func(o *Options) { o.Transport = rec })
	if _, err := r.Lookup(context.Background(), name, qtype); err != nil {
		tb.Fatal(err)
	}
	return TransportFunc(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		b, ok := answers[q.Question[0]]
		if !ok {
			return nil, &QueryError{Name: q.Question[0].Name, Type: q.Question[0].Qtype}
		}
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil {
			return nil, err
		}
		m.Id = q.Id
		return m, nil
	})
}

// BenchmarkWarmLookup is the same lookup answered from the cache (goal:
// under 20 µs).
func BenchmarkWarmLookup(b *testing.B) {
	ctx := context.Background()
	r := kitResolver(b)
	if res, err := r.Lookup(ctx, testkit.SampleSMIMEA, dns.TypeSMIMEA); err != nil || res.Status != Secure {
		b.Fatalf("%v %v", res, err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := r.Lookup(ctx, testkit.SampleSMIMEA, dns.TypeSMIMEA)
		if err != nil || !res.Cached {
			b.Fatalf("%v %v", res, err)
		}
	}
}

// BenchmarkRRSIGVerify is one signature check of the cold lookup (an
// ECDSA P-256 RRSIG over the SMIMEA RRset): the unit of its cost.
func BenchmarkRRSIGVerify(b *testing.B) {
	_, s := kit(b)
	q := new(dns.Msg)
	q.SetQuestion("sub.example.test.", dns.TypeDNSKEY)
	q.SetEdns0(udpSize, true)
	keys, err := dns.Exchange(q, s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	q.SetQuestion(testkit.SampleSMIMEA, dns.TypeSMIMEA)
	data, err := dns.Exchange(q, s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	m := splitMsg(data)
	rrset := m.answer[rrKey{testkit.SampleSMIMEA, dns.TypeSMIMEA}]
	sigs := m.answerSigs[rrKey{testkit.SampleSMIMEA, dns.TypeSMIMEA}]
	var zk []zoneKey
	for _, rr := range keys.Answer {
		if k, ok := rr.(*dns.DNSKEY); ok {
			zk = append(zk, zoneKey{key: k, tag: k.KeyTag()})
		}
	}
	opts := kitOptions(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lk := &lookup{lim: Limits{}.withDefaults(), now: opts.Now()}
		if sc := lk.verifyRRset(rrset, sigs, "sub.example.test.", zk); sc.status != Secure {
			b.Fatal(sc.reason)
		}
	}
}
