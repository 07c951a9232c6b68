package dnssec

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// A fuzz input for FuzzValidate is a conversation:
//
//	8 octets    the clock, Unix seconds, big-endian
//	then        messages, each a 2-octet big-endian length and a DNS
//	            message in wire format
//
// The first message carries the trust anchors (the DS and DNSKEY records
// of its answer section); the others are the answers the transport gives,
// in order, to whatever the resolver asks. Each answer gets the query's
// ID, and its question too when it has none, so that mutations reach the
// validator instead of stopping at the question check.

func encodeConversation(now time.Time, msgs [][]byte) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, uint64(now.Unix()))
	for _, m := range msgs {
		binary.Write(&b, binary.BigEndian, uint16(len(m)))
		b.Write(m)
	}
	return b.Bytes()
}

func decodeConversation(data []byte) (time.Time, [][]byte) {
	if len(data) < 8 {
		return time.Time{}, nil
	}
	now := time.Unix(int64(binary.BigEndian.Uint64(data)%(1<<40)), 0)
	data = data[8:]
	var msgs [][]byte
	for len(data) >= 2 {
		n := int(binary.BigEndian.Uint16(data))
		data = data[2:]
		if n > len(data) {
			n = len(data)
		}
		msgs = append(msgs, data[:n])
		data = data[n:]
	}
	return now, msgs
}

// recordConversation looks up name/qtype in the shared hierarchy and
// returns the conversation that replays it.
func recordConversation(t testing.TB, name string, qtype uint16) []byte {
	h, s := kit(t)
	anchors, err := h.AnchorRRs()
	if err != nil {
		t.Fatal(err)
	}
	am := new(dns.Msg)
	am.Answer = anchors
	first, err := am.Pack()
	if err != nil {
		t.Fatal(err)
	}
	msgs := [][]byte{first}
	var mu sync.Mutex
	inner := NewNetTransport(s.Addr(), 2*time.Second, 0)
	rec := TransportFunc(func(ctx context.Context, q *dns.Msg) (*dns.Msg, error) {
		resp, err := inner.Exchange(ctx, q)
		if err == nil {
			if b, err := resp.Pack(); err == nil {
				mu.Lock()
				msgs = append(msgs, b)
				mu.Unlock()
			}
		}
		return resp, err
	})
	r := kitResolver(t, func(o *Options) { o.Transport = rec })
	r.Lookup(context.Background(), name, qtype)
	return encodeConversation(h.Now(), msgs)
}

// replay validates name/qtype from a conversation and checks the
// invariants that must hold whatever the answers: no panic, a verdict or
// an error, bounded work, no data with a bogus verdict.
func replay(t testing.TB, data []byte, name string, qtype uint16) {
	now, msgs := decodeConversation(data)
	if len(msgs) == 0 {
		return
	}
	first := new(dns.Msg)
	if first.Unpack(msgs[0]) != nil {
		return
	}
	var anchors []dns.RR
	for _, rr := range first.Answer {
		switch rr.(type) {
		case *dns.DS, *dns.DNSKEY:
			anchors = append(anchors, rr)
		}
	}
	next := 1
	tr := TransportFunc(func(_ context.Context, q *dns.Msg) (*dns.Msg, error) {
		if next >= len(msgs) {
			return nil, errors.New("conversation over")
		}
		m := new(dns.Msg)
		err := m.Unpack(msgs[next])
		next++
		if err != nil {
			return nil, err
		}
		m.Id = q.Id
		if len(m.Question) == 0 {
			m.Question = q.Question
		}
		return m, nil
	})
	r, err := New(&Options{Transport: tr, Anchors: anchors, Now: func() time.Time { return now }})
	if err != nil {
		return // anchors the fuzzer broke
	}
	res, err := r.Lookup(context.Background(), name, qtype)
	if err != nil {
		if res != nil {
			t.Fatalf("both a result and an error: %v", err)
		}
		return
	}
	lim := r.lim
	if res.Queries > lim.MaxQueries || res.Verifications > lim.MaxVerifications {
		t.Fatalf("work beyond the limits: %d queries, %d verifications", res.Queries, res.Verifications)
	}
	if res.Queries > len(msgs)-1+1 {
		t.Fatalf("%d queries for %d answers", res.Queries, len(msgs)-1)
	}
	switch res.Status {
	case Secure, Insecure:
	case Bogus, Indeterminate:
		if len(res.Answer) > 0 || len(res.Chain) > 0 {
			t.Fatalf("%v result with data", res.Status)
		}
	default:
		t.Fatalf("status %d", res.Status)
	}
	if res.Status != Secure && res.Reason == "" {
		t.Fatalf("%v result without a reason", res.Status)
	}
	if strings.ContainsAny(res.Reason, "\x00\n\r\x1b") {
		t.Fatalf("control characters in the reason %q", res.Reason)
	}
}

var fuzzQueries = []struct {
	name  string
	qtype uint16
}{
	{"www.example.test.", dns.TypeA},
	{"c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.sub.example.test.", dns.TypeSMIMEA},
	{"nope.example.test.", dns.TypeA},
	{"www.sub.example.test.", dns.TypeTXT},
	{"anything.wildcard.test.", dns.TypeTXT},
	{"alias.example.test.", dns.TypeA},
	{"www.unsigned.test.", dns.TypeA},
	{"www.child.optout.test.", dns.TypeA},
	{"www.keytrap.test.", dns.TypeA},
	{"anything.wild.nsec3.test.", dns.TypeTXT},
}

// FuzzValidate feeds the validator arbitrary answers: the seeds are real
// conversations with the test hierarchy (one per query of fuzzQueries),
// which the fuzzer mutates. The first octet of the input past the
// conversation picks the query.
func FuzzValidate(f *testing.F) {
	seeds := 0
	for i, q := range fuzzQueries {
		f.Add(uint8(i), recordConversation(f, q.name, q.qtype))
		seeds++
	}
	if seeds == 0 {
		f.Fatal("empty seed corpus")
	}
	f.Fuzz(func(t *testing.T, pick uint8, data []byte) {
		q := fuzzQueries[int(pick)%len(fuzzQueries)]
		replay(t, data, q.name, q.qtype)
	})
}

// FuzzParseAnchors: no panic, and what is accepted is only DS and
// DNSKEY records that parse again to the same records.
func FuzzParseAnchors(f *testing.F) {
	for _, s := range []string{
		". IN DS 20326 8 2 E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D\n",
		"$ORIGIN test.\nexample 3600 IN DNSKEY 257 3 13 ( U6YMpO2NDKQ15p1jrd2Dfmy70hAw7pNDctOqrgL4MCNs\n jP3ELEl61LP5iJnYOxt4BV1WE6pC2DM+0E3XPJqXhw== ) ; c\n",
		"; only a comment\n",
		". IN A 192.0.2.1\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		rrs, err := ParseAnchors(strings.NewReader(in))
		if err != nil {
			return
		}
		var again strings.Builder
		for _, rr := range rrs {
			switch rr.(type) {
			case *dns.DS, *dns.DNSKEY:
			default:
				t.Fatalf("accepted %v", rr)
			}
			again.WriteString(rr.String() + "\n")
		}
		rrs2, err := ParseAnchors(strings.NewReader(again.String()))
		if err != nil || len(rrs2) != len(rrs) {
			t.Fatalf("round trip: %v, %d != %d", err, len(rrs2), len(rrs))
		}
		for i := range rrs {
			// Compared as text: a name with escapes may be held
			// differently after printing ("'." and "\'.") yet print the same.
			if rrs[i].String() != rrs2[i].String() {
				t.Fatalf("round trip changed %v to %v", rrs[i], rrs2[i])
			}
		}
	})
}

// The replay harness must reproduce the live verdicts, or the fuzzer
// explores nothing.
func TestReplayReproducesVerdicts(t *testing.T) {
	for _, q := range fuzzQueries {
		data := recordConversation(t, q.name, q.qtype)
		now, msgs := decodeConversation(data)
		first := new(dns.Msg)
		if err := first.Unpack(msgs[0]); err != nil {
			t.Fatal(err)
		}
		live, liveErr := kitResolver(t).Lookup(context.Background(), q.name, q.qtype)
		next := 1
		tr := TransportFunc(func(_ context.Context, query *dns.Msg) (*dns.Msg, error) {
			m := new(dns.Msg)
			if err := m.Unpack(msgs[next]); err != nil {
				return nil, err
			}
			next++
			m.Id = query.Id
			return m, nil
		})
		r, err := New(&Options{Transport: tr, Anchors: first.Answer, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		res, err := r.Lookup(context.Background(), q.name, q.qtype)
		if ourVerdict(res, err) != ourVerdict(live, liveErr) {
			t.Errorf("%s: replay %s, live %s", q.name, ourVerdict(res, err), ourVerdict(live, liveErr))
		}
		replay(t, data, q.name, q.qtype)
	}
}
