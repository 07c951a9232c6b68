package dnssec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Options configure a [Resolver]. A nil *Options, like the zero value,
// asks the first nameserver of /etc/resolv.conf and trusts the IANA root
// anchors.
type Options struct {
	// Server is the recursive resolver asked, as "host:port". Empty means
	// [DefaultServer]. Ignored when Transport is set.
	Server string
	// Transport carries the queries; nil means [NewNetTransport] to
	// Server with Timeout and Retries.
	Transport Transport
	// Anchors are the trust anchors: DS or DNSKEY records, for the root or
	// for any zone (the deepest one above a name is used). Nil means
	// [RootAnchors].
	Anchors []dns.RR
	// Now is the clock signature validity windows and cache lifetimes are
	// judged by. Nil means time.Now.
	Now func() time.Time
	// Timeout bounds each attempt of a query; 0 means 2 s.
	Timeout time.Duration
	// Retries is how many more times a UDP query that got no answer is
	// sent; 0 means 2, negative means none.
	Retries int
	// Limits bound the work of one lookup; zero fields take defaults.
	Limits Limits
	// CacheSize is the number of answers and of zone facts (keys, zone
	// cuts) kept; 0 means 10000 each, negative disables the cache.
	CacheSize int
}

// Limits bound the work one [Resolver.Lookup] may do, whatever the
// answers it gets (S48). Zero fields take the defaults given.
type Limits struct {
	// MaxVerificationsPerRRset caps the signature verifications spent on
	// one RRset, counting each (RRSIG, DNSKEY) pair tried: 8, like
	// Unbound's MAX_VALIDATE_RRSIGS (the KeyTrap fix, CVE-2023-50387).
	// Reaching it makes the answer Bogus, as in Unbound.
	MaxVerificationsPerRRset int
	// MaxVerifications caps the verifications of one lookup, all RRsets
	// of the chain of trust and of a CNAME chain together: 128. Reaching
	// it makes the answer Indeterminate (no verdict was reached).
	MaxVerifications int
	// MaxQueries caps the queries one lookup sends: 64. Reaching it makes
	// the answer Indeterminate.
	MaxQueries int
	// MaxCNAMEs caps the CNAME and DNAME links followed: 8. A longer chain
	// is a [*CNAMEError].
	MaxCNAMEs int
	// MaxNSEC3Iterations and MaxNSEC3Hashes are passed to each denial
	// proof ([DenialLimits]); 0 keeps their defaults
	// ([DefaultMaxNSEC3Iterations], [DefaultMaxNSEC3Hashes]).
	MaxNSEC3Iterations int
	MaxNSEC3Hashes     int
	// MaxNSEC3HashesPerLookup caps the NSEC3 hashes of all the proofs of
	// one lookup together (CVE-2023-50868): 128. Reaching it makes the
	// answer Indeterminate.
	MaxNSEC3HashesPerLookup int
}

func (l Limits) withDefaults() Limits {
	if l.MaxVerificationsPerRRset <= 0 {
		l.MaxVerificationsPerRRset = 8
	}
	if l.MaxVerifications <= 0 {
		l.MaxVerifications = 128
	}
	if l.MaxQueries <= 0 {
		l.MaxQueries = 64
	}
	if l.MaxCNAMEs <= 0 {
		l.MaxCNAMEs = 8
	}
	if l.MaxNSEC3HashesPerLookup <= 0 {
		l.MaxNSEC3HashesPerLookup = 128
	}
	return l
}

// Resolver is a validating stub resolver. It asks a recursive resolver
// with the DO and CD bits set, so that it receives signatures and gets
// the data even when the upstream would call it bogus, and judges every
// answer itself from its trust anchors. Safe for concurrent use.
type Resolver struct {
	transport Transport
	anchors   anchorSet
	now       func() time.Time
	lim       Limits
	results   *lru[resultKey, *Result]
	facts     *lru[string, zoneFact]
	maxTTL    uint32
}

type resultKey struct {
	name  string
	qtype uint16
}

// New returns a Resolver configured by opts (nil for the defaults).
func New(opts *Options) (*Resolver, error) {
	if opts == nil {
		opts = &Options{}
	}
	anchors := opts.Anchors
	if anchors == nil {
		anchors = RootAnchors()
	}
	set, err := newAnchorSet(anchors)
	if err != nil {
		return nil, err
	}
	t := opts.Transport
	if t == nil {
		server := opts.Server
		if server == "" {
			if server, err = DefaultServer(); err != nil {
				return nil, err
			}
		}
		retries := opts.Retries
		if retries == 0 {
			retries = 2
		}
		t = NewNetTransport(server, opts.Timeout, retries)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	size := opts.CacheSize
	if size == 0 {
		size = 10000
	}
	return &Resolver{
		transport: t,
		anchors:   set,
		now:       now,
		lim:       opts.Limits.withDefaults(),
		results:   newLRU[resultKey, *Result](size),
		facts:     newLRU[string, zoneFact](size),
		maxTTL:    86400,
	}, nil
}

// FlushCache forgets every cached answer and zone fact.
func (r *Resolver) FlushCache() {
	r.results.purge()
	r.facts.purge()
}

// Result is the validated outcome of a lookup.
type Result struct {
	// Name and Type are the question, Name in canonical form.
	Name string
	Type uint16
	// Status is the verdict. Only Secure data may be relied on (S40);
	// Insecure data is returned for the caller to show, not to trust;
	// Bogus and Indeterminate results carry no data.
	Status Status
	// Reason says in words why the answer is not Secure (empty when it
	// is), naming the record, zone and check that failed.
	Reason string
	// EDE is the RFC 8914 extended DNS error code that classifies Reason
	// (dns.ExtendedErrorCodeToString names it); meaningful only when
	// Reason is not empty.
	EDE uint16
	// Rcode is the DNS response code of the last answer (NOERROR or
	// NXDOMAIN for a Secure or Insecure result).
	Rcode int
	// NXDomain is set when Target does not exist, NoData when it exists
	// without records of Type; either way Answer is empty.
	NXDomain bool
	NoData   bool
	// Answer is the RRset of Type at Target, without RRSIGs; the TTLs are
	// lowered to the original TTLs and signature lifetimes.
	Answer []dns.RR
	// Chain is the CNAME and DNAME records followed from Name to Target,
	// in order.
	Chain []dns.RR
	// Target is the name the answer is about: Name, or the end of Chain.
	Target string
	// TTL is how many seconds the result may be kept: the smallest TTL of
	// the records relied on, and no longer than the earliest expiry of the
	// signatures relied on.
	TTL uint32
	// Queries and Verifications count the queries sent and the signature
	// verifications done for this result (zero when it came from the
	// cache).
	Queries       int
	Verifications int
	// Cached is set when the result came from the cache.
	Cached bool
}

// String summarises r on one line, as "secure: x.example. SMIMEA (2
// records)" or "bogus (EDE 7 Signature Expired): ...".
func (r *Result) String() string {
	var b strings.Builder
	b.WriteString(r.Status.String())
	if r.Reason != "" {
		name := dns.ExtendedErrorCodeToString[r.EDE]
		if name == "" {
			name = "?"
		}
		fmt.Fprintf(&b, " (EDE %d %s): %s", r.EDE, name, r.Reason)
		return b.String()
	}
	fmt.Fprintf(&b, ": %s %s", r.Name, typeName(r.Type))
	switch {
	case r.NXDomain:
		b.WriteString(" does not exist")
	case r.NoData:
		b.WriteString(" has no records")
	default:
		fmt.Fprintf(&b, " (%d records)", len(r.Answer))
	}
	return b.String()
}

// ErrInvalidQuery is returned (wrapped) by Lookup for a name that is not
// a domain name or a type that cannot be asked for (ANY, AXFR, RRSIG...).
var ErrInvalidQuery = errors.New("dnssec: invalid query")

// QueryError is a query the recursive resolver did not answer, or
// answered with something that is not an answer to it (wrong ID or
// question, not a response). It is temporary: asking later may work.
type QueryError struct {
	Name string
	Type uint16
	Err  error
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("dnssec: query %s %s: %v", e.Name, typeName(e.Type), e.Err)
}

func (e *QueryError) Unwrap() error { return e.Err }

// CNAMEError is a CNAME or DNAME chain that loops or is longer than
// Limits.MaxCNAMEs, a broken zone Unbound answers with SERVFAIL.
type CNAMEError struct {
	Name  string   // the name asked for
	Chain []string // the names visited, Name first
	Loop  bool     // the chain comes back to a name visited before
}

func (e *CNAMEError) Error() string {
	what := "too long a CNAME chain"
	if e.Loop {
		what = "CNAME loop"
	}
	return fmt.Sprintf("dnssec: %s from %s: %s", what, e.Name, strings.Join(e.Chain, " -> "))
}

// errWorkLimit stops a lookup that reached Limits.MaxQueries.
var errWorkLimit = errors.New("work limit")

// Lookup asks for the RRset of qtype at name and validates the answer,
// following CNAME and DNAME records. A non-nil Result carries the verdict
// (the data is to be used only when Status is Secure); the error is
// non-nil only when no verdict could be reached: a bad query
// ([ErrInvalidQuery]), a resolver that does not answer ([*QueryError]), a
// CNAME loop or overlong chain ([*CNAMEError]), or ctx ending.
func (r *Resolver) Lookup(ctx context.Context, name string, qtype uint16) (*Result, error) {
	if !validName(name) {
		return nil, fmt.Errorf("%w: %q is not a domain name", ErrInvalidQuery, name)
	}
	if unusableQtype(qtype) {
		return nil, fmt.Errorf("%w: type %s cannot be looked up", ErrInvalidQuery, typeName(qtype))
	}
	qname := canonicalName(name)
	now := r.now()
	if res, expires, ok := r.results.get(resultKey{qname, qtype}, now); ok {
		return cachedCopy(res, expires, now), nil
	}
	lk := &lookup{r: r, lim: r.lim, now: now}
	res, err := lk.run(ctx, qname, qtype)
	if errors.Is(err, errWorkLimit) {
		res, err = &Result{Name: qname, Type: qtype, Status: Indeterminate, EDE: dns.ExtendedErrorCodeDNSSECIndeterminate,
			Reason: fmt.Sprintf("work limit: %d queries in one lookup", lk.lim.MaxQueries)}, nil
	}
	if err != nil {
		return nil, err
	}
	res.Queries, res.Verifications = lk.queries, lk.verifications
	if ttl := cacheTTL(res, r.maxTTL); ttl > 0 {
		// The cache keeps its own copy: the caller may change res.
		c := *res
		c.Answer, c.Chain = copyRRs(res.Answer, noTTL), copyRRs(res.Chain, noTTL)
		r.results.put(resultKey{qname, qtype}, &c, now, now.Add(time.Duration(ttl)*time.Second))
	}
	return res, nil
}

func cacheTTL(res *Result, maxTTL uint32) uint32 {
	switch res.Status {
	case Indeterminate:
		return 0
	case Bogus:
		return bogusTTL
	}
	return min(res.TTL, maxTTL)
}

// cachedCopy returns a copy of res for a caller, its TTLs lowered to the
// time left until expires.
func cachedCopy(res *Result, expires, now time.Time) *Result {
	left := uint32(max(expires.Sub(now)/time.Second, 0))
	c := *res
	c.Cached = true
	c.Queries, c.Verifications = 0, 0
	c.TTL = min(c.TTL, left)
	c.Answer = copyRRs(res.Answer, left)
	c.Chain = copyRRs(res.Chain, left)
	return &c
}

func copyRRs(rrs []dns.RR, maxTTL uint32) []dns.RR {
	if rrs == nil {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		if h := out[i].Header(); h.Ttl > maxTTL {
			h.Ttl = maxTTL
		}
	}
	return out
}

// lookup is the state of one Lookup: its clock reading and the work
// spent.
type lookup struct {
	r             *Resolver
	lim           Limits
	now           time.Time
	queries       int
	verifications int
	nsec3Hashes   int
}

// query asks the transport for name/qtype with DO and CD set (RFC 4035
// §3.2.2, §4.6) and checks that what came back answers it.
func (lk *lookup) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if lk.queries >= lk.lim.MaxQueries {
		return nil, errWorkLimit
	}
	lk.queries++
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = true
	q.CheckingDisabled = true
	q.SetEdns0(udpSize, true)
	resp, err := lk.r.transport.Exchange(ctx, q)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &QueryError{Name: name, Type: qtype, Err: err}
	}
	switch {
	case resp == nil:
		err = errors.New("no answer")
	case !resp.Response:
		err = errors.New("the reply is not a response")
	case resp.Id != q.Id:
		err = errors.New("the reply has another ID")
	case resp.Opcode != dns.OpcodeQuery:
		err = fmt.Errorf("the reply has opcode %d", resp.Opcode)
	case len(resp.Question) != 1 || !sameName(resp.Question[0].Name, name) ||
		resp.Question[0].Qtype != qtype || resp.Question[0].Qclass != dns.ClassINET:
		err = errors.New("the reply answers another question")
	}
	if err != nil {
		return nil, &QueryError{Name: name, Type: qtype, Err: err}
	}
	return resp, nil
}
