// Package smimea implements the DNS side of certificate discovery for
// mail: SMIMEA owner names and records (RFC 8162), OPENPGPKEY owner names
// (RFC 7929), TLSA records for DANE (RFC 6698, RFC 7671), and the rules
// that decide whether a record vouches for a certificate as an address's.
//
// It does no DNS itself: the records come from a validating resolver (the
// dnssec package), and only a DNSSEC-secure answer may be used to encrypt
// (S40). It keeps no state; the clock and the trust anchors come in
// [Options].
//
// # Owner names
//
// [OwnerName] maps an address to the name of its SMIMEA records: the
// SHA-256 of the local part only, truncated to 28 octets, in hex, under
// "_smimecert" and the domain (S49):
//
//	name, err := smimea.OwnerName("hugh@example.com")
//	// c93f1e400f26708f98cb19d936620da35eec8f72e57f9eec01c1afd6._smimecert.example.com.
//
// The local part is hashed as written (quoting removed, NFC): "Hugh" and
// "hugh" have different names, and [LowerCaseFallback] gives the one
// retry a client may make. [OpenPGPKeyName] is the same under
// "_openpgpkey", and [TLSAName] names the TLSA records of a mail server
// ("_25._tcp.mail.example.org.").
//
// # Records
//
// A [Record] is the RDATA that SMIMEA and TLSA share: certificate usage,
// selector, matching type and data. [ParseRecord] reads it in
// presentation format, alone or as a zone-file line; [FromRR] takes it
// from a miekg/dns record; [NewRecord] makes it from a certificate;
// [Record.ZoneLine] prints it for a zone file. All of them validate
// strictly ([Record.Validate]): usages 0–3, selectors 0–1, matching
// types 0–2, digests of the right length, and certificates or public
// keys that parse. A "3 0 0" record carries the certificate itself:
// [Record.Certificate] returns it.
//
// # Trust
//
// [Evaluate] decides whether an RRset vouches for a certificate as an
// address's, following each record's usage: DANE-EE binds the
// certificate directly, PKIX-EE adds path validation, PKIX-TA and DANE-TA
// constrain the trust anchor. Whatever the usage, the certificate must
// name the address asked for, local part exactly, and allow encryption
// ([CheckCertificate]). [CertificateFor] finds the certificate among
// records that carry one; [EvaluateAll] gives one [Result] per record.
//
//	cert, rec, err := smimea.CertificateFor(records, "hugh@example.com", &smimea.Options{Now: now})
//
// # Errors
//
// Every error matches one of the Err variables with errors.Is, and most
// are struct errors with the details: [AddressError], [RecordError],
// [NoMatchError], [MismatchError], [PathError], [UnusableError].
package smimea
