package main

import (
	"bufio"
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/mailauth"
)

// maxMessage bounds what open reads from stdin.
const maxMessage = 256 << 20

func (c *cli) openCommand() *cobra.Command {
	var noAuth bool
	var trustedIDs, trustedHops, trustedNets []string
	cmd := &cobra.Command{
		Use:   "open [--json] [--no-auth] [--trusted-authserv ID]... [--trusted-hop HOST]... [--trusted-hop-net CIDR]... < MESSAGE",
		Short: "Show a received message safely, with the verdict on it",
		Long: `open reads an RFC 5322 message on stdin and shows it as a person should see
it: the headers and text with every terminal escape and bidi override
neutralised, HTML as text (nothing is fetched), attachments listed but not
opened. The verdict (encryption, each signature, who sent it by DKIM, SPF
and DMARC as 'securemail auth' judges it, warnings about the sender and the
message's structure) goes to stderr, or with --json everything goes to
stdout as one JSON object (CLI.md's report, its "auth" part the auth
command's JSON, plus headers, body and attachments). --no-auth skips the
DKIM/SPF/DMARC verdict (and its DNS lookups). Exit 1 when a security
verdict failed: a signature, the encryption's integrity, or DMARC.`,
		Example: "  securemail open < message.eml",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			nets, err := parseHopNets(trustedNets, trustedHops)
			if err != nil {
				return err
			}
			raw, err := io.ReadAll(io.LimitReader(c.stdin, maxMessage+1))
			if err != nil {
				return usageError("reading the message: %v", err)
			}
			if len(raw) > maxMessage {
				return usageError("the message is larger than %d MiB", maxMessage>>20)
			}
			st, err := c.openStore()
			if err != nil {
				return err
			}
			opts := c.openOptions(st)
			if !noAuth {
				dns, err := c.authDNS()
				if err != nil {
					return err
				}
				ctx, cancel := context.WithTimeout(context.Background(), authTimeout)
				defer cancel()
				opts.Context = ctx
				opts.Auth = mailauth.NewEvaluator(&mailauth.Options{DNS: dns, TrustedAuthServIDs: trustedIDs, TrustedHops: trustedHops, TrustedHopNets: nets})
			}
			rep, view, err := securemail.Open(raw, opts)
			if err != nil {
				return usageError("%v", err)
			}
			if c.json {
				if err := writeJSON(c.stdout, struct {
					*securemail.Report
					*securemail.View
				}{rep, view}); err != nil {
					return err
				}
			} else {
				if err := writeView(c.stdout, view); err != nil {
					return err
				}
				c.sayReport(rep)
				if rep.Auth != nil {
					c.sayVerdict("", rep.Auth)
				}
			}
			if rep.Failed() {
				return &exitError{code: exitVerdict, err: fmt.Errorf("the message is not what it claims to be")}
			}
			if rep.Auth != nil && rep.Auth.DMARC.Result == mailauth.Fail {
				return &exitError{code: exitVerdict, err: fmt.Errorf("DMARC fails: the message did not come from %s", rep.Auth.FromDomain)}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&noAuth, "no-auth", false, "skip the DKIM/SPF/DMARC verdict")
	f.StringArrayVar(&trustedIDs, "trusted-authserv", nil, "believe Authentication-Results fields of authserv-id `ID` (your own server; exact match)")
	f.StringArrayVar(&trustedHops, "trusted-hop", nil, "take SPF's facts from the Received field your inbound server `HOST` added")
	f.StringArrayVar(&trustedNets, "trusted-hop-net", nil, "the network (`CIDR`, or an address) of your own servers that pass mail to a --trusted-hop")
	return cmd
}

// writeView prints the safe view: headers, a blank line, the text, then the
// attachments. Every string in it was neutralised by the pipeline.
func writeView(w io.Writer, v *securemail.View) error {
	bw := bufio.NewWriter(w)
	for _, h := range v.Headers {
		fmt.Fprintf(bw, "%s: %s\n", h.Name, h.Value)
	}
	fmt.Fprintf(bw, "\n%s", v.Body)
	if v.Body != "" && v.Body[len(v.Body)-1] != '\n' {
		bw.WriteByte('\n')
	}
	for i, a := range v.Attachments {
		if i == 0 {
			bw.WriteString("\nAttachments:\n")
		}
		fmt.Fprintf(bw, "  [%d] %s (%s, %d bytes)", i+1, a.Name, a.MediaType, a.Size)
		if a.Note != "" {
			fmt.Fprintf(bw, " — %s", a.Note)
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// sayReport tells the verdict in words on stderr.
func (c *cli) sayReport(r *securemail.Report) {
	switch {
	case r.Encryption.Kind == "none":
		c.v.infof("encryption: none")
	case r.Encryption.OK && r.Encryption.Integrity:
		alg := ""
		if r.Encryption.Algorithm != "" {
			alg = " (" + r.Encryption.Algorithm + ")"
		}
		part := ""
		if r.Encryption.Partial {
			part = ", but only part of the message"
		}
		c.v.infof("encryption: %s, integrity protected%s%s", r.Encryption.Kind, part, alg)
	case r.Encryption.OK:
		c.v.infof("encryption: %s (%s), WITHOUT integrity protection: only a valid signature inside vouches for the content", r.Encryption.Kind, r.Encryption.Algorithm)
	default:
		msg := "failed"
		if r.Encryption.Error != nil {
			msg = *r.Encryption.Error
		}
		c.v.infof("encryption: %s, %s", r.Encryption.Kind, safe(msg))
	}
	if len(r.Signatures) == 0 {
		c.v.infof("signature: none")
	}
	for _, s := range r.Signatures {
		state := "INVALID"
		if s.Valid && s.CoversRoot && s.MatchesFrom {
			state = "valid"
		} else if s.Valid && s.CoversRoot && r.From == "" && r.FromHeader == "" {
			state = "valid" // data, not mail: no sender to bind (--raw)
		} else if s.Valid && !s.MatchesFrom {
			state = "valid, but the signer is NOT the sender"
		}
		detail := ""
		if s.Error != nil {
			detail = ": " + *s.Error
		}
		c.v.infof("signature (%s): %s, by %s %s%s", s.Kind, state, safe(s.Signer), s.Fingerprint, safe(detail))
	}
	if r.FromHeader != "" || r.From != "" {
		from := r.From
		if from == "" {
			from = "unknown"
		}
		c.v.infof("from: %s", safe(from))
	}
	for _, w := range r.Warnings {
		c.v.warnf("%s", safe(w))
	}
}
