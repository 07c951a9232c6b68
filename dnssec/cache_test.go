package dnssec

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/securemail/securemail/internal/testkit"
)

func TestLRU(t *testing.T) {
	now := time.Unix(1000, 0)
	c := newLRU[string, int](2)
	c.put("a", 1, now, now.Add(time.Minute))
	c.put("b", 2, now, now.Add(time.Minute))
	if v, _, ok := c.get("a", now); !ok || v != 1 {
		t.Fatal("a missing")
	}
	c.put("c", 3, now, now.Add(time.Minute)) // evicts b, the least recently used
	if _, _, ok := c.get("b", now); ok {
		t.Error("b not evicted")
	}
	if _, _, ok := c.get("a", now.Add(time.Minute)); ok {
		t.Error("a not expired")
	}
	c.put("d", 4, now, now) // already expired: not stored
	if _, _, ok := c.get("d", now); ok || c.len() > 2 {
		t.Error("expired entry stored")
	}
	off := newLRU[string, int](0)
	off.put("a", 1, now, now.Add(time.Minute))
	if _, _, ok := off.get("a", now); ok {
		t.Error("disabled cache stores")
	}
}

// clock is a settable clock for the resolver.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestCacheAnswersAndAges(t *testing.T) {
	h, _ := kit(t)
	c := &clock{h.Now()}
	r := kitResolver(t, func(o *Options) { o.Now = c.now })
	ctx := context.Background()
	first, err := r.Lookup(ctx, testkit.SampleSMIMEA, dns.TypeSMIMEA)
	mustStatus(t, first, err, Secure, -1)
	if first.Cached || first.Queries == 0 {
		t.Fatalf("first lookup: %+v", first)
	}
	// The caller may change what it got; the cache keeps its copy.
	first.Answer[0].Header().Ttl = 1

	c.t = c.t.Add(100 * time.Second)
	second, err := r.Lookup(ctx, testkit.SampleSMIMEA, dns.TypeSMIMEA)
	mustStatus(t, second, err, Secure, -1)
	if !second.Cached || second.Queries != 0 || second.Verifications != 0 {
		t.Fatalf("second lookup not from the cache: %+v", second)
	}
	if second.TTL != 3600-100 || second.Answer[0].Header().Ttl != 3600-100 {
		t.Errorf("TTL %d / %d after 100 s", second.TTL, second.Answer[0].Header().Ttl)
	}

	// Past the TTL the answer is asked again, but the zone keys of the
	// chain are still cached: only the answer itself is fetched.
	c.t = c.t.Add(3600 * time.Second)
	third, err := r.Lookup(ctx, testkit.SampleSMIMEA, dns.TypeSMIMEA)
	mustStatus(t, third, err, Secure, -1)
	if third.Cached || third.Queries != 1 {
		t.Errorf("after expiry: cached %v, %d queries", third.Cached, third.Queries)
	}
}

func TestCacheTTLCappedBySignatureExpiry(t *testing.T) {
	h, _ := kit(t)
	// Signatures expire 30 days after the signing time; 50 s before that
	// the answer may be kept 50 s, not its 3600 s TTL.
	at := h.Now().Add(30*24*time.Hour - 50*time.Second)
	res, err := lookupVariant(t, "secure", func(o *Options) { o.Now = func() time.Time { return at } })
	mustStatus(t, res, err, Secure, -1)
	if res.TTL > 50 {
		t.Errorf("TTL %d", res.TTL)
	}
}

func TestCacheKeepsNegativeAndBogusAnswers(t *testing.T) {
	h, _ := kit(t)
	c := &clock{h.Now()}
	r := kitResolver(t, func(o *Options) { o.Now = c.now })
	ctx := context.Background()
	for _, q := range []struct {
		name string
		want Status
	}{{"nope.example.test.", Secure}, {"www.expired.test.", Bogus}} {
		res, err := r.Lookup(ctx, q.name, dns.TypeA)
		mustStatus(t, res, err, q.want, -1)
		res, err = r.Lookup(ctx, q.name, dns.TypeA)
		mustStatus(t, res, err, q.want, -1)
		if !res.Cached {
			t.Errorf("%s not cached", q.name)
		}
	}
	// A bogus answer is kept for a minute only.
	c.t = c.t.Add(61 * time.Second)
	res, err := r.Lookup(ctx, "www.expired.test.", dns.TypeA)
	mustStatus(t, res, err, Bogus, -1)
	if res.Cached {
		t.Error("bogus answer kept over a minute")
	}
}

func TestCacheIsBounded(t *testing.T) {
	r := kitResolver(t, func(o *Options) { o.CacheSize = 3 })
	h, _ := kit(t)
	for _, v := range h.Variants() {
		r.Lookup(context.Background(), v.QName, v.QType)
	}
	if n, m := r.results.len(), r.facts.len(); n > 3 || m > 3 {
		t.Errorf("%d results, %d facts cached", n, m)
	}
	r.FlushCache()
	if r.results.len() != 0 || r.facts.len() != 0 {
		t.Error("FlushCache left entries")
	}
	off := kitResolver(t, func(o *Options) { o.CacheSize = -1 })
	for i := 0; i < 2; i++ {
		res, err := off.Lookup(context.Background(), "www.example.test.", dns.TypeA)
		mustStatus(t, res, err, Secure, -1)
		if res.Cached || res.Queries == 0 {
			t.Errorf("cache disabled, yet %+v", res)
		}
	}
}
