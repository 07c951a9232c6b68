package mailauth

import (
	"net/netip"
	"time"
)

// Source says where a verdict's results come from.
type Source string

const (
	// SourceVerified: computed here, from the message and DNS.
	SourceVerified Source = "verified"
	// SourceAuthResults: read from an Authentication-Results field whose
	// authserv-id is one the caller trusts (Options.TrustedAuthServIDs).
	SourceAuthResults Source = "authentication-results"
)

// Verdict is who really sent a message: each DKIM signature, SPF, DMARC
// with alignment, the ARC chain, and the warnings a reader should see.
// Its JSON form is CLI.md's "Received-mail verdict" (with additions).
//
// The verdict is data: DMARC's result is the one answer to "did the
// domain in From send this?" ([Verdict.Pass]), the rest says why.
type Verdict struct {
	// Source says whether the results were computed here or read from a
	// trusted Authentication-Results field (then AuthServID names it).
	Source     Source `json:"source"`
	AuthServID string `json:"authserv_id,omitempty"`
	// FromDomain is the domain of the single address of the single From
	// field, lower-case A-labels; "" when there is none or it is
	// ambiguous (S32: several From fields, several addresses, a name
	// with whitespace before the colon, an address that is not valid).
	FromDomain string `json:"from_domain"`
	// FromHeader is the From field that was judged, unfolded, as the
	// message carries it, so that a person sees what the verdict is about
	// (callers displaying it must neutralise control characters).
	FromHeader string       `json:"from_header"`
	DKIM       []DKIMResult `json:"dkim"`
	SPF        SPFResult    `json:"spf"`
	DMARC      DMARCResult  `json:"dmarc"`
	ARC        ARCResult    `json:"arc"`
	// Warnings are things a reader should know even when DMARC passes: a
	// signature that leaves Subject unsigned, a weak key, a DNS answer
	// that was not DNSSEC-secure.
	Warnings []string `json:"warnings"`
	// IgnoredAuthResults are the Authentication-Results fields that were
	// not trusted (S30), kept so that a forged one is visible.
	IgnoredAuthResults []IgnoredAuthResults `json:"ignored_authentication_results"`
}

// Pass reports whether DMARC passes: the From domain is authenticated by
// an aligned DKIM signature or SPF result.
func (v *Verdict) Pass() bool { return v.DMARC.Result == Pass }

// Temporary reports whether DMARC could not be decided because of a
// temporary failure (DNS): asking again later may give a verdict.
func (v *Verdict) Temporary() bool { return v.DMARC.Result == TempError }

// DKIMResult is the verdict on one DKIM signature.
type DKIMResult struct {
	// Domain is the signing domain d=, lower-case when it is a valid
	// domain name; as written otherwise (then Result is PermError and the
	// signature counts for nothing).
	Domain   string `json:"domain"`
	Selector string `json:"selector"`
	Result   Result `json:"result"`
	// Error says why the signature did not pass; nil when it did.
	Error *string `json:"error"`
	// Algorithm is a= ("rsa-sha256", "ed25519-sha256").
	Algorithm string `json:"algorithm,omitempty"`
	// Identifier is i=, the agent or user the signer vouches for.
	Identifier string `json:"identifier,omitempty"`
	// SignedHeaders are the h= names, lower-case, in order.
	SignedHeaders []string `json:"signed_headers,omitempty"`
	// KeyBits is the size of the public key.
	KeyBits int `json:"key_bits,omitempty"`
	// DNSSEC is the DNSSEC status of the key's DNS answer ("secure",
	// "insecure", ...) when the resolver reports one.
	DNSSEC string `json:"dnssec,omitempty"`
	// Testing: the key record says t=y. The signature is then treated as
	// absent (Result None), as RFC 6376 §3.6.1 requires.
	Testing bool `json:"testing,omitempty"`
}

// SPFResult is the SPF verdict (RFC 7208) on the connection that brought
// the message.
type SPFResult struct {
	Result Result `json:"result"`
	// Domain is the domain checked: the MAIL FROM domain, or the HELO
	// name when MAIL FROM was null.
	Domain string `json:"domain"`
	// Identity is "mailfrom" or "helo".
	Identity string `json:"identity,omitempty"`
	ClientIP string `json:"client_ip,omitempty"`
	HELO     string `json:"helo,omitempty"`
	MailFrom string `json:"mail_from,omitempty"`
	// Facts says where the connection facts came from: "options", or
	// "received:HOST" for the Received field added by trusted HOST.
	Facts string  `json:"facts,omitempty"`
	Error *string `json:"error"`
}

// DMARCResult is the DMARC verdict (RFC 7489; RFC 9989 where settled).
type DMARCResult struct {
	Result Result `json:"result"`
	// Policy is what the domain asks of receivers for mail that fails:
	// "none", "quarantine" or "reject" (p=, or sp= for a subdomain);
	// "" when there is no policy. It is reported whatever the result and
	// whatever pct=: sampling is the receiver's business, and the verdict
	// has no randomness in it.
	Policy string `json:"policy"`
	// Domain is the policy domain: where the record was found, the From
	// domain or its organisational domain.
	Domain      string `json:"domain"`
	AlignedDKIM bool   `json:"aligned_dkim"`
	AlignedSPF  bool   `json:"aligned_spf"`
	// OrgDomain is the From domain's organisational domain (the public
	// suffix list's registrable domain).
	OrgDomain string `json:"organizational_domain,omitempty"`
	// DKIMAlignment and SPFAlignment are "relaxed" or "strict" (adkim=,
	// aspf=).
	DKIMAlignment string `json:"adkim,omitempty"`
	SPFAlignment  string `json:"aspf,omitempty"`
	// Percent is pct= when the record has it (RFC 7489; RFC 9989 drops it).
	Percent *int `json:"pct,omitempty"`
	// Testing: the record says t=y (RFC 9989): the owner is testing and
	// asks for one step less than Policy.
	Testing bool    `json:"testing,omitempty"`
	Error   *string `json:"error"`
}

// ARCResult is the verdict on the ARC chain (RFC 8617): whether the
// intermediaries that handled a forwarded message (a mailing list, say)
// are who they claim, and who they are.
type ARCResult struct {
	// Result is the chain validation status: None (no ARC sets), Pass or
	// Fail.
	Result    Result `json:"result"`
	Instances int    `json:"instances"`
	// Sealers are the d= of each ARC-Seal, instance 1 (the first
	// intermediary) first.
	Sealers []string `json:"sealers"`
	// OldestPass is the lowest instance whose ARC-Message-Signature still
	// verifies (RFC 8617 §5.2 step 4): from that hop on, the message is
	// unchanged. 0 when unknown.
	OldestPass int     `json:"oldest_pass,omitempty"`
	Error      *string `json:"error"`
}

// IgnoredAuthResults is an Authentication-Results field that was not
// trusted, and why.
type IgnoredAuthResults struct {
	AuthServID string `json:"authserv_id"`
	Reason     string `json:"reason"`
	// Header is the field's value, unfolded (and cut at 512 octets).
	Header string `json:"header"`
}

// Options configure evaluation. The zero value verifies DKIM and DMARC
// with no DNS (so every lookup is a temporary failure): set DNS.
type Options struct {
	// DNS answers the lookups. mailauth never uses the system resolver.
	DNS DNS
	// TrustedAuthServIDs are the authserv-ids of Authentication-Results
	// fields to believe: the user's own inbound servers. Matching is
	// exact (ASCII case aside), never a substring or pattern (S30).
	TrustedAuthServIDs []string
	// TrustedHops are the host names of the user's own inbound servers,
	// as they name themselves in the "by" clause of the Received fields
	// they add. When Connection is nil, SPF takes its facts from the
	// Received field the border hop added, and never from any other
	// Received field: the top field must have been added by a trusted
	// hop, and the walk goes on to the field below only while the
	// client of the current one was one of the user's own servers by
	// TrustedHopNets. Authentication-Results fields below the border
	// field are not believed.
	TrustedHops []string
	// TrustedHopNets are the networks of the user's own servers (a
	// relay in front of the inbound server, a content filter on
	// 127.0.0.1 that sends the mail back in). A trusted hop whose client
	// address, as the hop recorded it, is in one of them received the
	// message from another of the user's servers, so the walk goes on
	// down. Whether a client is internal is never decided on the name
	// it gave in HELO, nor on its reverse DNS name: the client chooses
	// the one, and whoever runs its address's reverse zone the other.
	// A hop that received the message by LMTP over a local socket (no
	// client address: Dovecot, Cyrus) is internal too.
	TrustedHopNets []netip.Prefix
	// Connection gives the SPF facts directly (and makes the verdict be
	// computed here even when a trusted Authentication-Results field is
	// present).
	Connection *Connection
	// MaxSignatures bounds the DKIM signatures checked (0: 8); later ones
	// are reported with Result Policy, unchecked (S38).
	MaxSignatures int
	// Now returns the current time, for x= expiry (nil: time.Now).
	Now func() time.Time
}

// Connection is what the receiving server saw of the client.
type Connection struct {
	// IP is the client's address.
	IP netip.Addr
	// HELO is the name the client gave in HELO/EHLO.
	HELO string
	// MailFrom is the MAIL FROM address without angle brackets; "<>"
	// for the null reverse-path (a bounce); "" when unknown.
	MailFrom string
}
