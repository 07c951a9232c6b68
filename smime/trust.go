// Package smime is securemail's S/MIME 4.0 layer (RFC 8551) over our own
// CMS (package smime/cms): composing and reading S/MIME messages, and
// judging the certificate of a signer: a chain to a trust anchor, the
// emailProtection purpose, a key usage that allows signing, validity at
// the time of verification (not the signer's claimed signing time), and
// the From address among the certificate's addresses (SECURITY.md S13,
// S23). Nothing is fetched: chains are built from the certificates in
// the message and in the keystore (S07).
package smime

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Trust is what a signer's certificate is judged against.
type Trust struct {
	// Anchors are the CA certificates the user trusts (the keystore's
	// trust anchors).
	Anchors []*x509.Certificate
	// System adds the system's root certificates to the anchors.
	System bool
	// Intermediates may complete a chain: certificates from the message
	// and from the keystore. They are never anchors.
	Intermediates []*x509.Certificate
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// SignerVerdict is the judgement of a signer's certificate.
type SignerVerdict struct {
	// Trusted: the certificate chains to an anchor, for email
	// protection, and may sign, now.
	Trusted bool
	// Emails are the certificate's addresses (rfc822Name SANs, and an
	// emailAddress in the subject when there are none), lower-cased.
	Emails []string
	// Chain is the verified chain, leaf first, when Trusted.
	Chain []*x509.Certificate
	// Problems say, in words, why the certificate is not trusted.
	Problems []string
}

// CheckSigner judges the certificate that made a signature. signingTime
// is the time the signer claims (zero if none): it is reported when it is
// in the future, but validity is checked at the verifier's time, which an
// attacker does not choose (S13).
func CheckSigner(cert *x509.Certificate, signingTime time.Time, t *Trust) SignerVerdict {
	if t == nil {
		t = &Trust{}
	}
	now := time.Now()
	if t.Now != nil {
		now = t.Now()
	}
	v := SignerVerdict{Emails: CertificateEmails(cert)}
	if !signingTime.IsZero() && signingTime.After(now.Add(5*time.Minute)) {
		v.Problems = append(v.Problems, fmt.Sprintf("the signing time (%s) is in the future", signingTime.UTC().Format(time.RFC3339)))
	}
	if now.Before(cert.NotBefore) {
		v.Problems = append(v.Problems, "the certificate is not yet valid")
	}
	if now.After(cert.NotAfter) {
		v.Problems = append(v.Problems, "the certificate expired on "+cert.NotAfter.UTC().Format("2006-01-02"))
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		v.Problems = append(v.Problems, "the certificate's key usage does not allow signing")
	}
	if len(cert.ExtKeyUsage) > 0 && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
		v.Problems = append(v.Problems, "the certificate is not for email protection (no emailProtection extended key usage)")
	}
	if cert.IsCA && cert.BasicConstraintsValid {
		v.Problems = append(v.Problems, "the signer's certificate is a CA certificate, not a person's")
	}
	chain, err := buildChain(cert, now, t)
	if err != nil {
		v.Problems = append(v.Problems, err.Error())
	}
	if len(v.Problems) == 0 {
		v.Trusted, v.Chain = true, chain
	}
	return v
}

// buildChain verifies cert to an anchor for email protection at now.
func buildChain(cert *x509.Certificate, now time.Time, t *Trust) ([]*x509.Certificate, error) {
	var roots *x509.CertPool
	if t.System {
		if sys, err := x509.SystemCertPool(); err == nil {
			roots = sys
		}
	}
	if roots == nil {
		roots = x509.NewCertPool()
	}
	for _, a := range t.Anchors {
		roots.AddCert(a)
	}
	inter := x509.NewCertPool()
	for _, c := range t.Intermediates {
		if !c.Equal(cert) {
			inter.AddCert(c)
		}
	}
	if len(t.Anchors) == 0 && !t.System {
		return nil, errors.New("no trust anchors: the certificate cannot be checked (add your CA with 'securemail keys trust')")
	}
	chains, err := cert.Verify(x509.VerifyOptions{
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   now,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
	})
	if err != nil {
		return nil, chainError(cert, err, append(append([]*x509.Certificate{}, t.Intermediates...), t.Anchors...))
	}
	return chains[0], nil
}

// chainError words x509's verification errors for a person.
func chainError(cert *x509.Certificate, err error, known []*x509.Certificate) error {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.As(err, &unknown):
		if bytes.Equal(cert.RawIssuer, cert.RawSubject) && signedBy(cert, cert) {
			return errors.New("the certificate is self-signed and not one of your trust anchors")
		}
		// x509 does not even try a parent that is not a CA: say so.
		for _, p := range known {
			if bytes.Equal(p.RawSubject, cert.RawIssuer) && !(p.IsCA && p.BasicConstraintsValid) && signedBy(cert, p) {
				return errors.New("the certificate was issued by one that signs others without being a CA (" + p.Subject.CommonName + ")")
			}
		}
		return errors.New("the certificate does not chain to any of your trust anchors")
	case errors.As(err, &invalid):
		switch invalid.Reason {
		case x509.Expired:
			return errors.New("a certificate in the chain has expired or is not yet valid")
		case x509.NotAuthorizedToSign:
			return errors.New("a certificate in the chain signs others without being a CA")
		case x509.IncompatibleUsage:
			return errors.New("the chain does not allow email protection")
		}
		return errors.New("the chain is not valid: " + invalid.Error())
	}
	return errors.New("the chain is not valid: " + err.Error())
}

// signedBy reports whether parent's key made cert's signature.
func signedBy(cert, parent *x509.Certificate) bool {
	return parent.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
}

// CertificateEmails returns the addresses a certificate carries:
// its rfc822Name subject alternative names, or, when it has none, the
// emailAddress attribute of its subject (RFC 8550 §3), lower-cased.
func CertificateEmails(cert *x509.Certificate) []string {
	var out []string
	for _, e := range cert.EmailAddresses {
		out = append(out, strings.ToLower(e))
	}
	if len(out) == 0 {
		for _, n := range cert.Subject.Names {
			if n.Type.Equal([]int{1, 2, 840, 113549, 1, 9, 1}) {
				if s, ok := n.Value.(string); ok {
					out = append(out, strings.ToLower(s))
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
