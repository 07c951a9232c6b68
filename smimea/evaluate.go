package smimea

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Options are the trust anchors and the clock [Evaluate] uses. A nil
// *Options means the defaults.
type Options struct {
	// Roots are the PKIX trust anchors that PKIX-TA (0) and PKIX-EE (1)
	// records require the certificate to validate to. Nil means the
	// system's roots (x509.SystemCertPool). DANE-TA (2) and DANE-EE (3)
	// records do not use them.
	Roots *x509.CertPool
	// Now is the time at which certificates must be valid; the zero
	// time means time.Now().
	Now time.Time
}

func (o *Options) now() time.Time {
	if o == nil || o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}

func (o *Options) roots() *x509.CertPool {
	if o == nil {
		return nil
	}
	return o.Roots
}

// Result is the verdict on one record: whether it vouches for the
// certificate as the address's.
type Result struct {
	Record Record
	// Err is nil when the record vouches for the certificate; otherwise
	// it says why not and matches one of ErrMalformedRecord, ErrNoMatch,
	// ErrPathValidation, ErrAddressMismatch, ErrUnusable or
	// ErrInvalidAddress.
	Err error
}

// Matched reports whether the record vouches for the certificate.
func (r Result) Matched() bool { return r.Err == nil }

// Evaluate decides whether records (the SMIMEA RRset found for addr, from
// a DNSSEC-secure answer) vouch for leaf as addr's certificate, and
// returns the first record that does. chain holds the other certificates
// at hand (intermediates, the anchor of a DANE-TA record), in any order;
// nothing is fetched.
//
// Whatever the records say, leaf must be addr's and usable to encrypt to
// it ([CheckCertificate]): a *[MismatchError] or *[UnusableError]
// otherwise. Then each record, by its usage (RFC 8162 §2, RFC 6698
// §2.1.1, RFC 7671 §5):
//
//   - DANE-EE (3): the record matches leaf ([Record.Matches]); the DNS
//     binds them, so there is no path validation.
//   - PKIX-EE (1): the record matches leaf, and leaf validates to
//     opts.Roots for emailProtection at opts.Now.
//   - PKIX-TA (0): leaf validates to opts.Roots for emailProtection, and
//     the record matches a CA certificate on a validated path.
//   - DANE-TA (2): the record matches a CA certificate in chain (or is
//     such a certificate, whole, as "2 0 0" records carry it), and leaf
//     validates to that certificate as its only trust anchor.
//
// When no record vouches for leaf the error is the first *[PathError]
// (a record matched, its path did not validate), else a *[RecordError]
// when every record is malformed, else a *[NoMatchError]. [EvaluateAll]
// gives the verdict on each record.
func Evaluate(records []Record, addr string, leaf *x509.Certificate, chain []*x509.Certificate, opts *Options) (Record, error) {
	if err := CheckCertificate(leaf, addr, opts); err != nil {
		return Record{}, err
	}
	var pathErr, malformed error
	nMalformed := 0
	for _, res := range evaluateEach(records, addr, leaf, chain, opts) {
		switch {
		case res.Err == nil:
			return res.Record, nil
		case errors.Is(res.Err, ErrPathValidation):
			if pathErr == nil {
				pathErr = res.Err
			}
		case errors.Is(res.Err, ErrMalformedRecord):
			nMalformed++
			if malformed == nil {
				malformed = res.Err
			}
		}
	}
	switch {
	case pathErr != nil:
		return Record{}, pathErr
	case nMalformed > 0 && nMalformed == len(records):
		return Record{}, malformed
	}
	return Record{}, &NoMatchError{Addr: addr, Records: len(records)}
}

// EvaluateAll is [Evaluate] record by record: one [Result] per record, in
// order, for reports that show every record's verdict. A leaf that is not
// addr's or not usable makes every well-formed record's Err that error.
func EvaluateAll(records []Record, addr string, leaf *x509.Certificate, chain []*x509.Certificate, opts *Options) []Result {
	if err := CheckCertificate(leaf, addr, opts); err != nil {
		out := make([]Result, len(records))
		for i, r := range records {
			out[i] = Result{Record: r, Err: err}
			if verr := r.Validate(); verr != nil {
				out[i].Err = verr
			}
		}
		return out
	}
	return evaluateEach(records, addr, leaf, chain, opts)
}

func evaluateEach(records []Record, addr string, leaf *x509.Certificate, chain []*x509.Certificate, opts *Options) []Result {
	out := make([]Result, len(records))
	for i, r := range records {
		out[i] = Result{Record: r, Err: evaluateOne(r, addr, leaf, chain, opts)}
	}
	return out
}

// evaluateOne judges one record for a leaf that CheckCertificate passed.
func evaluateOne(r Record, addr string, leaf *x509.Certificate, chain []*x509.Certificate, opts *Options) error {
	if err := r.Validate(); err != nil {
		return err
	}
	mismatch := func(reason string) error {
		return &NoMatchError{Addr: addr, Records: 1, Reason: UsageName(r.Usage) + " record: " + reason}
	}
	verify := func(roots *x509.CertPool) ([][]*x509.Certificate, error) {
		return leaf.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: certPool(chain),
			CurrentTime:   opts.now(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		})
	}
	switch r.Usage {
	case UsageDANEEE:
		if !r.Matches(leaf) {
			return mismatch("its data is not the certificate's")
		}
		return nil
	case UsagePKIXEE:
		if !r.Matches(leaf) {
			return mismatch("its data is not the certificate's")
		}
		if _, err := verify(opts.roots()); err != nil {
			return &PathError{Usage: r.Usage, Err: err}
		}
		return nil
	case UsagePKIXTA:
		chains, err := verify(opts.roots())
		if err != nil {
			return &PathError{Usage: r.Usage, Err: err}
		}
		for _, ch := range chains {
			for _, c := range ch[1:] {
				if r.Matches(c) {
					return nil
				}
			}
		}
		return mismatch("no CA certificate on the validated path matches it")
	case UsageDANETA:
		anchors := daneTAAnchors(r, leaf, chain)
		if len(anchors) == 0 {
			return mismatch("no certificate in the chain matches it")
		}
		var lastErr error
		for _, ta := range anchors {
			if !ta.BasicConstraintsValid || !ta.IsCA {
				lastErr = errors.New("the certificate it names is not a CA certificate")
				continue
			}
			roots := x509.NewCertPool()
			roots.AddCert(ta)
			if _, err := verify(roots); err != nil {
				lastErr = err
				continue
			}
			return nil
		}
		return &PathError{Usage: r.Usage, Err: lastErr}
	}
	return recordErrorf("certificate usage %d is not defined", r.Usage) // Validate refused it already
}

// daneTAAnchors returns the certificates a DANE-TA record names: those in
// chain it matches and, for a "2 0 0" record, the certificate it carries
// (RFC 7671 §5.2.2: the trust anchor then need not be in the chain). The
// leaf itself is never its own trust anchor.
func daneTAAnchors(r Record, leaf *x509.Certificate, chain []*x509.Certificate) []*x509.Certificate {
	var out []*x509.Certificate
	add := func(c *x509.Certificate) {
		if c == nil || c.Equal(leaf) || slices.ContainsFunc(out, c.Equal) {
			return
		}
		out = append(out, c)
	}
	for _, c := range chain {
		if r.Matches(c) {
			add(c)
		}
	}
	if r.Selector == SelectorCert && r.MatchingType == MatchingFull {
		if c, err := x509.ParseCertificate(r.Data); err == nil {
			add(c)
		}
	}
	return out
}

func certPool(certs []*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		if c != nil {
			p.AddCert(c)
		}
	}
	return p
}

// CheckCertificate checks what [Evaluate] requires of a certificate
// whatever the records say (S49): that it is addr's, and that a sender
// can encrypt to it at opts.Now.
//
// It is addr's when one of its rfc822Name or SmtpUTF8Mailbox (RFC 9598)
// subject alternative names is addr, or, for a certificate without such
// names, the emailAddress attribute of its subject is (RFC 8550 §3 still
// asks receivers to recognise it). Addresses are compared as RFC 8162
// hashes them: the local part exactly (case included, after removing
// quoting and NFC), the domain case-insensitively (as A-labels). A
// certificate for another address at the same domain is not addr's: an
// *[MismatchError].
//
// It can be encrypted to when it is valid at opts.Now, is not a CA
// certificate, has an RSA key (keyEncipherment, when it has a key usage
// extension) or an elliptic-curve key (keyAgreement, likewise), and has
// no extended key usage or one with emailProtection or
// anyExtendedKeyUsage: an *[UnusableError] otherwise. The validity period
// is checked for DANE-EE too, unlike TLS (RFC 7671 §5.1): a sender should
// not encrypt to a certificate its recipient's software may refuse.
func CheckCertificate(cert *x509.Certificate, addr string, opts *Options) error {
	a, err := parseAddress(addr)
	if err != nil {
		return err
	}
	if cert == nil {
		return fmt.Errorf("%w: no certificate to check", ErrNoCertificate)
	}
	if err := checkAddress(cert, addr, a); err != nil {
		return err
	}
	return checkUsable(cert, opts.now())
}

func checkAddress(cert *x509.Certificate, addr string, want address) error {
	names := CertificateAddresses(cert)
	for _, n := range names {
		got, err := parseAddress(n)
		if err == nil && got.local == want.local && got.domain == want.domain {
			return nil
		}
	}
	return &MismatchError{Addr: addr, Certificate: names}
}

func checkUsable(cert *x509.Certificate, now time.Time) error {
	unusable := func(format string, args ...any) error {
		return &UnusableError{Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case now.Before(cert.NotBefore):
		return unusable("it is not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	case now.After(cert.NotAfter):
		return unusable("it expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	case cert.BasicConstraintsValid && cert.IsCA:
		return unusable("it is a CA certificate, not a person's")
	}
	var need x509.KeyUsage
	var needName string
	switch cert.PublicKey.(type) {
	case *rsa.PublicKey:
		need, needName = x509.KeyUsageKeyEncipherment, "keyEncipherment"
	case *ecdsa.PublicKey, *ecdh.PublicKey: // ECDH, P-256 to P-521 or X25519
		need, needName = x509.KeyUsageKeyAgreement, "keyAgreement"
	default:
		return unusable("its %s key cannot encrypt", cert.PublicKeyAlgorithm)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&need == 0 {
		return unusable("its key usage does not include %s", needName)
	}
	if (len(cert.ExtKeyUsage) > 0 || len(cert.UnknownExtKeyUsage) > 0) &&
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) &&
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return unusable("its extended key usage does not include emailProtection")
	}
	return nil
}

// CertificateFor finds, among records, a certificate that the records
// vouch for as addr's: each record that carries an end-entity
// certificate whole (PKIX-EE or DANE-EE, selector 0, matching type 0) is
// tried with [Evaluate], with the certificates that PKIX-TA and DANE-TA
// records carry whole as its chain. It returns the first that passes and
// the record that vouched for it; the error is ErrNoCertificate's kind
// when no record carries an end-entity certificate, else the first
// certificate's error.
func CertificateFor(records []Record, addr string, opts *Options) (*x509.Certificate, Record, error) {
	if _, err := parseAddress(addr); err != nil {
		return nil, Record{}, err
	}
	var leaves, cas []*x509.Certificate
	for _, r := range records {
		if r.Selector != SelectorCert || r.MatchingType != MatchingFull || r.Validate() != nil {
			continue
		}
		c, err := r.Certificate()
		if err != nil {
			continue
		}
		switch r.Usage {
		case UsagePKIXEE, UsageDANEEE:
			if !slices.ContainsFunc(leaves, c.Equal) {
				leaves = append(leaves, c)
			}
		default:
			if !slices.ContainsFunc(cas, c.Equal) {
				cas = append(cas, c)
			}
		}
	}
	if len(leaves) == 0 {
		return nil, Record{}, fmt.Errorf("%w: no record for %s carries an end-entity certificate", ErrNoCertificate, addr)
	}
	var first error
	for _, leaf := range leaves {
		rec, err := Evaluate(records, addr, leaf, cas, opts)
		if err == nil {
			return leaf, rec, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, Record{}, first
}
