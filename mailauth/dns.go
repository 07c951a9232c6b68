package mailauth

import (
	"context"
	"errors"
	"net"
	"sync"

	"github.com/securemail/securemail/dnssec"
)

// DNS is what mailauth asks of the DNS: the four lookups SPF needs (the
// interface of blitiri.com.ar/go/spf's WithResolver, which *net.Resolver
// also satisfies), of which DKIM, DMARC and ARC use LookupTXT. mailauth
// never falls back to the system resolver: with no DNS in the Options
// every lookup is a temporary failure.
//
// LookupTXT returns one string per TXT record, the record's strings
// joined (as net.Resolver does). Errors say what happened, as
// *net.DNSError does:
//
//   - IsNotFound: the name does not exist (NXDOMAIN) or has no records of
//     the type (NODATA). DKIM then reports permerror (no key), SPF none,
//     DMARC none: the permanent answers RFC 6376, 7208 and 7489 give.
//   - IsTimeout or IsTemporary: a timeout, SERVFAIL, an unreachable
//     server. The methods report temperror.
//
// Any other error is taken as temporary: an answer that could not be had
// proves nothing about what is published.
type DNS interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// DNSSECResolver is the optional extension of a DNS that validates
// DNSSEC: it reports, with a TXT answer, the status of its validation
// (the dnssec package's Status). mailauth uses it for DKIM key and DMARC
// record lookups and says in the verdict when a key's answer was secure.
// A Bogus answer is never used: it counts as a temporary failure (a
// validating resolver answers SERVFAIL to it), and the verdict says
// "bogus".
type DNSSECResolver interface {
	LookupTXTWithDNSSEC(ctx context.Context, name string) ([]string, dnssec.Status, error)
}

// lookupKind classifies the outcome of a lookup.
type lookupKind uint8

const (
	lookupOK        lookupKind = iota // records (possibly none: NODATA)
	lookupNotFound                    // NXDOMAIN or NODATA: permanent
	lookupTemporary                   // timeout, SERVFAIL, bogus, anything else
)

// classify sorts a lookup error into permanent absence and temporary
// failure (see DNS).
func classify(err error) lookupKind {
	if err == nil {
		return lookupOK
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound && !de.IsTimeout && !de.IsTemporary {
		return lookupNotFound
	}
	return lookupTemporary
}

// errNoDNS is what every lookup returns when Options.DNS is nil.
var errNoDNS = &net.DNSError{Err: "mailauth: no DNS resolver configured", IsTemporary: true}

// txtAnswer is the outcome of one TXT lookup.
type txtAnswer struct {
	txts []string
	// status is the DNSSEC status when the resolver reports one.
	status    dnssec.Status
	hasStatus bool
	kind      lookupKind
	err       error
}

// lookupTXT asks d for the TXT records at name, with their DNSSEC status
// when d can tell it.
func lookupTXT(ctx context.Context, d DNS, name string) txtAnswer {
	if d == nil {
		return txtAnswer{kind: lookupTemporary, err: errNoDNS}
	}
	if ds, ok := d.(DNSSECResolver); ok {
		txts, st, err := ds.LookupTXTWithDNSSEC(ctx, name)
		a := txtAnswer{txts: txts, status: st, hasStatus: true, kind: classify(err), err: err}
		if st == dnssec.Bogus { // an answer or a denial: never used
			a.txts, a.kind = nil, lookupTemporary
			a.err = &net.DNSError{Err: "DNSSEC validation failed (bogus answer)", Name: name, IsTemporary: true}
		}
		return a
	}
	txts, err := d.LookupTXT(ctx, name)
	return txtAnswer{txts: txts, kind: classify(err), err: err}
}

// maxParallelLookups bounds the TXT lookups one evaluation has in flight.
const maxParallelLookups = 8

// prefetchTXT looks up every name (deduplicated) and returns the answers
// by name. Lookups run concurrently, a few at a time, so that a message
// with several signatures waits for the slowest answer, not their sum.
func prefetchTXT(ctx context.Context, d DNS, names []string) map[string]txtAnswer {
	out := make(map[string]txtAnswer, len(names))
	var todo []string
	for _, n := range names {
		if _, ok := out[n]; !ok {
			out[n] = txtAnswer{}
			todo = append(todo, n)
		}
	}
	if len(todo) == 1 {
		out[todo[0]] = lookupTXT(ctx, d, todo[0])
		return out
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallelLookups)
	for _, n := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			a := lookupTXT(ctx, d, n)
			<-sem
			mu.Lock()
			out[n] = a
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// maxSPFQueries caps the DNS queries of one SPF evaluation. RFC 7208
// §4.6.4 already bounds them (10 DNS mechanisms, 10 names per MX or PTR,
// 2 void lookups), which blitiri.com.ar/go/spf enforces; this cap guards
// the guard.
const maxSPFQueries = 120

// spfDNS adapts a DNS for blitiri.com.ar/go/spf: it counts queries and
// hands back errors as the *net.DNSError the library inspects (it does not
// unwrap), so that a timeout gives temperror and NXDOMAIN a void lookup.
type spfDNS struct {
	d       DNS
	queries int
}

func (s *spfDNS) admit(name string) error {
	if s.d == nil {
		return &net.DNSError{Err: errNoDNS.Err, Name: name, IsTemporary: true}
	}
	s.queries++
	if s.queries > maxSPFQueries {
		return &net.DNSError{Err: "mailauth: SPF query limit reached", Name: name}
	}
	return nil
}

func spfError(name string, err error) error {
	if err == nil {
		return nil
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		return de
	}
	return &net.DNSError{Err: err.Error(), Name: name, IsTemporary: true,
		IsTimeout: errors.Is(err, context.DeadlineExceeded)}
}

func (s *spfDNS) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if err := s.admit(name); err != nil {
		return nil, err
	}
	r, err := s.d.LookupTXT(ctx, name)
	return r, spfError(name, err)
}

func (s *spfDNS) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	if err := s.admit(name); err != nil {
		return nil, err
	}
	r, err := s.d.LookupMX(ctx, name)
	return r, spfError(name, err)
}

func (s *spfDNS) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	if err := s.admit(host); err != nil {
		return nil, err
	}
	r, err := s.d.LookupIPAddr(ctx, host)
	return r, spfError(host, err)
}

func (s *spfDNS) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if err := s.admit(addr); err != nil {
		return nil, err
	}
	r, err := s.d.LookupAddr(ctx, addr)
	return r, spfError(addr, err)
}
