// Package mailauth says who really sent a received message: DKIM (RFC
// 6376, RFC 8463), SPF (RFC 7208), DMARC (RFC 7489, and RFC 9989 where it
// is settled) with alignment, the ARC chain (RFC 8617), and
// Authentication-Results (RFC 8601) from servers the caller trusts. For
// senders it makes DKIM keys, their DNS records, and signatures.
//
// # Judging a message
//
// [Evaluate] (or an [Evaluator], which keeps parsed keys between
// messages) takes the message exactly as received and [Options]: the
// [DNS] to ask, the authserv-ids and host names of the user's own
// inbound servers, and, when known, the SMTP [Connection]. It returns a
// [Verdict]: one [DKIMResult] per signature, the [SPFResult], the
// [DMARCResult] (the answer to "did the From domain send this?",
// [Verdict.Pass]), the [ARCResult], warnings, and the
// Authentication-Results fields it did not trust. Results are the
// closed set of RFC 8601 words, [Result]; temporary failures ([TempError],
// a DNS timeout) are kept apart from permanent ones ([PermError]).
//
// The verdict is computed here ([SourceVerified]) unless a trusted
// Authentication-Results field is present, in which case it is read from
// it ([SourceAuthResults]). Only a field whose authserv-id equals one in
// [Options.TrustedAuthServIDs] exactly is trusted, and only the topmost.
//
// # DNS
//
// mailauth never uses the system resolver: the caller provides a [DNS]
// (whose shape *net.Resolver and blitiri.com.ar/go/spf share), and may
// add [DNSSECResolver] to have each DKIM key's DNSSEC status reported and
// bogus answers refused. Errors tell NXDOMAIN (permanent) from timeouts
// and SERVFAIL (temporary) the way *net.DNSError does. The subpackage
// mailauthtest serves records from memory for tests.
//
// # What is checked
//
// Verification follows the RFCs and adds what an attacker would exploit
// otherwise (SECURITY.md S30–S38): a message with several From fields, or
// a From field whose author domain cannot be read one way only, is
// unverifiable, never a pass; a signature with l= that leaves part of the
// body unsigned fails; a key record in testing mode (t=y) counts as no
// signature; t=s, revoked and duplicated key records, RSA keys under 1024
// bits and rsa-sha1 are refused; 1024-bit keys pass with a warning; fields
// a reader sees (Subject, To, Content-Type...) that no valid signature
// covers are warned about; alignment compares exact, validated domain
// names, with the organisational domain from the public suffix list;
// the work per message is bounded (signatures checked, SPF's lookup
// limits, ARC's 50 sets, header size).
//
// DKIM and ARC signatures are verified by this package's own engine,
// which go-msgauth's verifier cross-checks in the tests: go-msgauth's
// byte-at-a-time body canonicalization costs most of its time, and
// go-msgauth has no ARC verification to share an engine with. SPF is
// blitiri.com.ar/go/spf's, DKIM signing go-msgauth's.
// Authentication-Results fields are read by this package (RFC 8601 with
// RFC 5322's quoted strings and comments), and one that readers could
// take two ways (a property given twice, a stray word, a comment glued
// to a value) is ignored. SPF's facts from Received fields come only
// from the field the user's border server wrote: a hop is followed down
// only when the client it recorded is in [Options.TrustedHopNets], and a
// field whose client-chosen parts (the HELO, the recipient) make it read
// more than one way gives none.
//
// # Sending
//
// [GenerateDKIMKey] makes a key (RSA-2048 or Ed25519), [DKIMZoneLine] the
// TXT record to publish (split into strings of at most 255 octets),
// [MarshalDKIMPrivateKey] and [ParseDKIMPrivateKey] the PEM file, and
// [SignDKIM] signs (relaxed/relaxed, From over-signed). [SealARC] adds an
// ARC set, as a mailing list does.
package mailauth
