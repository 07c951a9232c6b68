package mailauth

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Evaluator evaluates received messages with fixed Options. It keeps
// parsed DKIM keys between messages (DNS is still asked every time), so
// a caller judging many messages should reuse one. It is safe for
// concurrent use.
type Evaluator struct {
	opts Options
	keys keyCache
	// buffers keeps the canonicalization buffers of finished evaluations
	// for the next ones.
	buffers sync.Pool
}

// buffers are an evaluation's reusable scratch space.
type buffers struct {
	header, body []byte
}

// NewEvaluator returns an Evaluator; nil opts means the zero Options.
func NewEvaluator(opts *Options) *Evaluator {
	e := &Evaluator{}
	if opts != nil {
		e.opts = *opts
	}
	return e
}

// Evaluate judges one message: raw is the message exactly as received
// (CRLF or LF line ends). See [Evaluator.Evaluate].
func Evaluate(ctx context.Context, raw []byte, opts *Options) (*Verdict, error) {
	return NewEvaluator(opts).Evaluate(ctx, raw)
}

// evaluation is the state of judging one message.
type evaluation struct {
	ctx        context.Context
	ev         *Evaluator
	msg        *message
	now        time.Time
	v          *Verdict
	answers    map[string]txtAnswer
	bodyHashes map[bodyHashKey]bodyHashValue
	scratch    []byte
	bodyBuf    []byte
}

func (e *evaluation) warnf(format string, args ...any) {
	w := fmt.Sprintf(format, args...)
	for _, have := range e.v.Warnings {
		if have == w {
			return
		}
	}
	e.v.Warnings = append(e.v.Warnings, w)
}

// Evaluate judges a message: who sent it, by DKIM, SPF and DMARC, and
// through which intermediaries, by ARC.
//
// When a trusted Authentication-Results field is present (and
// Options.Connection is not set) the verdict is read from it (Source
// "authentication-results"); otherwise it is computed here (Source
// "verified"): every DKIM signature verified against its DNS key, SPF
// evaluated when the connection facts are known (Options.Connection, or
// the Received field of the border hop of Options.TrustedHops and
// Options.TrustedHopNets), DMARC's policy found and
// alignment decided on the exact verified domains, and the ARC chain
// validated.
//
// The error is non-nil only when raw is not a message at all (it wraps
// ErrMalformedMessage); a message that fails every check is a Verdict
// that says so. Work is bounded on any input (S38).
func (ev *Evaluator) Evaluate(ctx context.Context, raw []byte) (*Verdict, error) {
	m, err := parseMessage(raw)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if ev.opts.Now != nil {
		now = ev.opts.Now
	}
	e := &evaluation{ctx: ctx, ev: ev, msg: m, now: now(), answers: map[string]txtAnswer{}}
	if b, ok := ev.buffers.Get().(*buffers); ok {
		e.scratch, e.bodyBuf = b.header, b.body
	} else {
		e.bodyBuf = make([]byte, 0, bodyChunk)
	}
	defer func() {
		ev.buffers.Put(&buffers{header: e.scratch[:0], body: e.bodyBuf[:0]})
	}()
	v := &Verdict{Source: SourceVerified, DKIM: []DKIMResult{}, Warnings: []string{},
		IgnoredAuthResults: []IgnoredAuthResults{}, ARC: ARCResult{Sealers: []string{}}}
	e.v = v

	from := judgeFrom(m)
	v.FromHeader, v.FromDomain = from.header, from.domain

	// Connection facts: given, or from the trusted border hop.
	conn, facts, border := ev.opts.Connection, "options", hopBorder{idx: -1}
	if conn == nil {
		facts = ""
		if len(ev.opts.TrustedHops) > 0 {
			conn, facts, border = e.connectionFromReceived()
		}
	}

	if tr := e.authResults(border); tr != nil {
		if ev.opts.Connection == nil {
			e.fromAuthResults(tr, from)
			return v, nil
		}
		v.IgnoredAuthResults = append(v.IgnoredAuthResults, IgnoredAuthResults{AuthServID: tr.id, Header: tr.header,
			Reason: "trusted, but the connection facts were given: the verdict is computed here"})
	}

	sigs, errs := e.dkimSignatures()
	sets, n, problem := e.arcCollect()
	var names []string
	for i, s := range sigs {
		if errs[i] == nil {
			names = append(names, s.keyName())
		}
	}
	if problem == "" {
		for i := 1; i <= n; i++ {
			for _, s := range []*signature{sets[i].amsSig, sets[i].asSig} {
				if s != nil && s.domain != "" && s.selector != "" {
					names = append(names, s.keyName())
				}
			}
		}
	}
	if from.problem == "" {
		names = append(names, "_dmarc."+from.domain)
	}
	if len(names) > 0 {
		e.answers = prefetchTXT(ctx, ev.opts.DNS, names)
	}

	v.DKIM = e.verifyDKIM(sigs, errs, from)
	v.SPF = e.evaluateSPF(conn, facts)
	v.ARC = e.verifyARCSets(sets, n, problem)
	v.DMARC = e.evaluateDMARC(from, v.DKIM, v.SPF)
	return v, nil
}
