package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/mailauth"
)

// authTimeout bounds the DNS work of judging one message.
const authTimeout = 30 * time.Second

func (c *cli) authCommand() *cobra.Command {
	var trustedIDs, trustedHops, trustedNets []string
	var clientIP, helo, mailFrom string
	cmd := &cobra.Command{
		Use:   "auth [--json] [--trusted-authserv ID]... [--trusted-hop HOST]... [--trusted-hop-net CIDR]... [--client-ip IP --helo NAME --mail-from ADDR] [FILE...]",
		Short: "Say who really sent a message: DKIM, SPF, DMARC and ARC",
		Long: `auth judges received messages (the FILEs, or stdin), as they were received:
it verifies every DKIM signature against its key in the DNS (--resolver),
evaluates SPF when the connection facts are known, decides DMARC with
alignment of the verified domains with the From domain, and validates the
ARC chain of forwarded mail.

SPF needs the connection: give --client-ip, --helo and --mail-from (use
'<>' for a bounce), or name your own inbound servers with --trusted-hop:
the facts are then read from the Received field your border server added,
and from no other. When your mail passes several of your servers (a relay,
a content filter on 127.0.0.1), name their networks with --trusted-hop-net:
a Received field is followed down to the one below only when the client it
records is in one of them, never on the name the client gave.

Authentication-Results fields are believed only from the authserv-ids
given with --trusted-authserv, matched exactly: the topmost such field is
then the verdict (source "authentication-results") unless connection
facts are given. Fields from other servers are listed as ignored.

With --json the verdict is a JSON object on stdout; with several FILEs,
one object per line, each with its "file". Exit 0 only when DMARC passes
for every message, 1 when a verdict failed, 2 when a file is not a
message, 4 when DNS failed for the time being.`,
		Example: "  securemail auth message.eml\n  securemail auth --json --trusted-authserv mx.example.com ~/Maildir/cur/*",
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, files []string) error {
			nets, err := parseHopNets(trustedNets, trustedHops)
			if err != nil {
				return err
			}
			opts := &mailauth.Options{TrustedAuthServIDs: trustedIDs, TrustedHops: trustedHops, TrustedHopNets: nets}
			facts := cmd.Flags().Changed("client-ip") || cmd.Flags().Changed("helo") || cmd.Flags().Changed("mail-from")
			if facts {
				if !cmd.Flags().Changed("client-ip") || !cmd.Flags().Changed("helo") || !cmd.Flags().Changed("mail-from") {
					return &exitError{code: exitUsage, err: errors.New("--client-ip, --helo and --mail-from go together"), hint: "give all three, with --mail-from '<>' for a bounce"}
				}
				ip, err := netip.ParseAddr(clientIP)
				if err != nil {
					return usageError("--client-ip %q is not an IP address", clientIP)
				}
				mf := strings.TrimSpace(mailFrom)
				if mf != "<>" {
					mf = strings.TrimSuffix(strings.TrimPrefix(mf, "<"), ">")
				}
				if mf == "" {
					mf = "<>"
				}
				opts.Connection = &mailauth.Connection{IP: ip, HELO: helo, MailFrom: mf}
			}
			d, err := c.authDNS()
			if err != nil {
				return err
			}
			opts.DNS = d
			return c.runAuth(mailauth.NewEvaluator(opts), files)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&trustedIDs, "trusted-authserv", nil, "believe Authentication-Results fields of authserv-id `ID` (your own server; exact match)")
	f.StringArrayVar(&trustedHops, "trusted-hop", nil, "your inbound server `HOST`, as it names itself in the Received fields it adds")
	f.StringArrayVar(&trustedNets, "trusted-hop-net", nil, "the network (`CIDR`, or an address) of your own servers that pass mail to a --trusted-hop")
	f.StringVar(&clientIP, "client-ip", "", "the `IP` address of the client that sent the message (for SPF)")
	f.StringVar(&helo, "helo", "", "the `NAME` the client gave in HELO/EHLO")
	f.StringVar(&mailFrom, "mail-from", "", "the MAIL FROM `ADDR` ('<>' for a bounce)")
	return cmd
}

// parseHopNets reads the --trusted-hop-net values: prefixes, or single
// addresses.
func parseHopNets(nets, hops []string) ([]netip.Prefix, error) {
	if len(nets) > 0 && len(hops) == 0 {
		return nil, usageError("--trusted-hop-net needs --trusted-hop")
	}
	var out []netip.Prefix
	for _, n := range nets {
		p, err := netip.ParsePrefix(n)
		if err != nil {
			a, aerr := netip.ParseAddr(n)
			if aerr != nil || a.Zone() != "" {
				return nil, usageError("--trusted-hop-net %q is not a network (CIDR) or an IP address", n)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// authOutput is the JSON of one message: the verdict, and which file.
type authOutput struct {
	File string `json:"file,omitempty"`
	*mailauth.Verdict
	Error string `json:"error,omitempty"`
}

// runAuth judges stdin or each file, prints, and returns the exit status
// CLI.md gives: 0 only when DMARC passes for all; 1 if any verdict
// failed; else 2 if any file was not a message; else 4 if DNS failed.
func (c *cli) runAuth(ev *mailauth.Evaluator, files []string) error {
	type source struct {
		name string
		open func() ([]byte, error)
	}
	var srcs []source
	if len(files) == 0 {
		srcs = append(srcs, source{"", c.readMessage})
	}
	for _, f := range files {
		srcs = append(srcs, source{f, func() ([]byte, error) { return readMessageFile(f) }})
	}
	lines := len(srcs) > 1
	failed, malformed, temporary := 0, 0, 0
	var lastErr error
	for _, s := range srcs {
		out := authOutput{File: s.name}
		raw, err := s.open()
		var v *mailauth.Verdict
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
			v, err = ev.Evaluate(ctx, raw)
			cancel()
		}
		if err != nil {
			malformed++
			if errors.Is(err, mailauth.ErrMalformedMessage) {
				err = errors.New(strings.TrimPrefix(err.Error(), "mailauth: "))
			}
			if s.name != "" {
				err = fmt.Errorf("%s: %w", s.name, err)
			}
			lastErr = err
			if c.json && lines {
				out.Error = err.Error()
				if werr := writeJSONLine(c.stdout, out); werr != nil {
					return werr
				}
			} else if lines {
				c.v.errorf("%s", safe(err.Error()))
			}
			continue
		}
		out.Verdict = v
		switch {
		case v.Pass():
		case v.Temporary():
			temporary++
		default:
			failed++
		}
		switch {
		case c.json && lines:
			err = writeJSONLine(c.stdout, out)
		case c.json:
			err = writeJSON(c.stdout, out)
		case lines:
			c.sayVerdict(s.name, v)
		default:
			c.sayVerdict("", v)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case failed > 0:
		what := "the message is not authenticated as coming from its From domain (DMARC does not pass)"
		if lines {
			what = fmt.Sprintf("%d of %d messages are not authenticated as coming from their From domain", failed, len(srcs))
		}
		return &exitError{code: exitVerdict, err: errors.New(what)}
	case malformed > 0 && !lines:
		return &exitError{code: exitUsage, err: lastErr}
	case malformed > 0:
		return &exitError{code: exitUsage, err: fmt.Errorf("%d of %d files could not be judged", malformed, len(srcs))}
	case temporary > 0:
		return &exitError{code: exitTemporary, err: errors.New("DNS failed for the time being: DMARC could not be decided"), hint: "try again later, or check --resolver"}
	}
	return nil
}

// readMessageFile reads a message file, bounded.
func readMessageFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := io.ReadAll(io.LimitReader(f, maxMessage+1))
	if err != nil {
		return nil, err
	}
	if len(raw) > maxMessage {
		return nil, fmt.Errorf("larger than %d MiB", maxMessage>>20)
	}
	return raw, nil
}

// sayVerdict tells a verdict in words on stderr, DMARC first: it is the
// answer; the rest says why.
func (c *cli) sayVerdict(file string, v *mailauth.Verdict) {
	say := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if file != "" {
			msg = file + ": " + msg
		}
		c.v.infof("%s", safe(msg))
	}
	reason := func(p *string) string {
		if p == nil {
			return ""
		}
		return ": " + *p
	}
	d := v.DMARC
	switch {
	case d.Result == mailauth.Pass:
		var by []string
		if d.AlignedDKIM {
			by = append(by, "DKIM")
		}
		if d.AlignedSPF {
			by = append(by, "SPF")
		}
		say("dmarc: pass, %s authenticated by %s (policy %s at %s)", v.FromDomain, strings.Join(by, " and "), d.Policy, d.Domain)
	case d.Policy != "":
		say("dmarc: %s, policy %s at %s%s", d.Result, d.Policy, d.Domain, reason(d.Error))
	default:
		say("dmarc: %s%s", d.Result, reason(d.Error))
	}
	if v.FromHeader != "" {
		say("from: %s", v.FromHeader)
	}
	if len(v.DKIM) == 0 {
		say("dkim: none (the message is not signed)")
	}
	for _, k := range v.DKIM {
		var info []string
		if k.Algorithm != "" {
			info = append(info, k.Algorithm)
		}
		if k.KeyBits > 0 {
			info = append(info, fmt.Sprintf("%d-bit key", k.KeyBits))
		}
		if k.DNSSEC != "" {
			info = append(info, "key DNSSEC "+k.DNSSEC)
		}
		detail := ""
		if len(info) > 0 {
			detail = " (" + strings.Join(info, ", ") + ")"
		}
		sel := ""
		if k.Selector != "" {
			sel = " s=" + k.Selector
		}
		say("dkim: %s d=%s%s%s%s", k.Result, k.Domain, sel, detail, reason(k.Error))
	}
	s := v.SPF
	switch {
	case s.Identity != "" && s.ClientIP != "":
		say("spf: %s for %s (%s from %s)%s", s.Result, s.Domain, s.Identity, s.ClientIP, reason(s.Error))
	case s.Identity != "":
		say("spf: %s for %s%s", s.Result, s.Domain, reason(s.Error))
	default:
		say("spf: %s%s", s.Result, reason(s.Error))
	}
	if a := v.ARC; a.Result != mailauth.None || a.Instances > 0 {
		sealers := ""
		if len(a.Sealers) > 0 {
			sealers = ", sealed by " + strings.Join(a.Sealers, ", ")
		}
		say("arc: %s%s%s", a.Result, sealers, reason(a.Error))
	}
	if v.Source == mailauth.SourceAuthResults {
		say("source: the Authentication-Results field of %s (trusted)", v.AuthServID)
	} else {
		say("source: verified here")
	}
	for _, w := range v.Warnings {
		msg := w
		if file != "" {
			msg = file + ": " + w
		}
		c.v.warnf("%s", safe(msg))
	}
	for _, ig := range v.IgnoredAuthResults {
		say("ignored Authentication-Results of %q: %s", ig.AuthServID, ig.Reason)
	}
}

// newAuthDNS makes the DNS that auth asks: the validating resolver of
// --resolver and --trust-anchor (securemail.AuthDNS: each TXT answer with
// its DNSSEC status, bogus answers never used), asking plainly when the
// resolver cannot be validated through. A variable, for tests.
var newAuthDNS = func(c *cli) (mailauth.DNS, error) {
	dir, err := c.directory()
	if err != nil {
		return nil, err
	}
	return &securemail.AuthDNS{Resolver: dir.Resolver, Plain: dnssec.NewNetTransport(c.dnsServerUsed, 5*time.Second, 1)}, nil
}

func (c *cli) authDNS() (mailauth.DNS, error) { return newAuthDNS(c) }
