package smimea

import (
	"crypto/x509"
	"encoding/asn1"
	"slices"
	"unicode/utf8"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

var (
	oidSubjectAltName    = asn1.ObjectIdentifier{2, 5, 29, 17}
	oidSmtpUTF8Mailbox   = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 8, 9}
	oidPKCS9EmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// CertificateAddresses returns the email addresses a certificate is
// issued to, as written in it: its rfc822Name subject alternative names
// and its SmtpUTF8Mailbox ones (RFC 9598, for addresses with a non-ASCII
// local part), or, only when it has neither, the emailAddress attributes
// of its subject (the legacy form RFC 8550 §3 still asks receivers to
// recognise). Subject addresses are ignored beside alternative names: the
// names are what a CA checked, and the two may disagree.
func CertificateAddresses(cert *x509.Certificate) []string {
	if cert == nil {
		return nil
	}
	out := slices.Clone(cert.EmailAddresses)
	out = append(out, smtpUTF8Mailboxes(cert)...)
	if len(out) == 0 {
		for _, n := range cert.Subject.Names {
			if s, ok := n.Value.(string); ok && n.Type.Equal(oidPKCS9EmailAddress) {
				out = append(out, s)
			}
		}
	}
	return slices.Compact(out)
}

// smtpUTF8Mailboxes reads the otherName SmtpUTF8Mailbox alternative names
// that crypto/x509 skips:
//
//	GeneralName ::= CHOICE { otherName [0] IMPLICIT OtherName, ... }
//	OtherName ::= SEQUENCE { type-id OID, value [0] EXPLICIT ANY }
//	SmtpUTF8Mailbox ::= UTF8String
func smtpUTF8Mailboxes(cert *x509.Certificate) []string {
	var out []string
	for _, ext := range cert.Extensions {
		if !ext.Id.Equal(oidSubjectAltName) {
			continue
		}
		in := cryptobyte.String(ext.Value)
		var names cryptobyte.String
		if !in.ReadASN1(&names, cbasn1.SEQUENCE) {
			return nil
		}
		for !names.Empty() {
			var name cryptobyte.String
			var tag cbasn1.Tag
			if !names.ReadAnyASN1(&name, &tag) {
				return out
			}
			if tag != cbasn1.Tag(0).ContextSpecific().Constructed() {
				continue
			}
			var oid asn1.ObjectIdentifier
			var value, mailbox cryptobyte.String
			if !name.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSmtpUTF8Mailbox) ||
				!name.ReadASN1(&value, cbasn1.Tag(0).ContextSpecific().Constructed()) ||
				!value.ReadASN1(&mailbox, cbasn1.UTF8String) || !utf8.Valid(mailbox) {
				continue
			}
			out = append(out, string(mailbox))
		}
	}
	return out
}
