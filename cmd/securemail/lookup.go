package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/keystore"
)

// lookupTimeout bounds one DNS key lookup, all its queries together.
const lookupTimeout = 20 * time.Second

// directory is the DNS key directory over the validating resolver that
// --resolver and --trust-anchor configure.
func (c *cli) directory() (*securemail.Directory, error) {
	if c.dir != nil {
		return c.dir, nil
	}
	server, anchor := c.resolver, c.trustAnchor
	if server == "" {
		server = os.Getenv("SECUREMAIL_RESOLVER")
	}
	if anchor == "" {
		anchor = os.Getenv("SECUREMAIL_TRUST_ANCHOR")
	}
	opts := &dnssec.Options{Server: server}
	if opts.Server == "" {
		srv, err := dnssec.DefaultServer()
		if err != nil {
			return nil, &exitError{code: exitTemporary, err: fmt.Errorf("no DNS resolver: %v", err), hint: "name one with --resolver HOST:PORT"}
		}
		opts.Server = srv
	}
	if anchor != "" {
		f, err := os.Open(anchor)
		if err != nil {
			return nil, usageError("trust anchors: %v", err)
		}
		defer f.Close()
		if opts.Anchors, err = dnssec.ParseAnchors(io.LimitReader(f, 1<<20)); err != nil {
			return nil, usageError("trust anchors %s: %v", anchor, err)
		}
	}
	r, err := dnssec.New(opts)
	if err != nil {
		return nil, usageError("%v", err)
	}
	c.dnsServerUsed = opts.Server
	c.dir = &securemail.Directory{Resolver: r}
	return c.dir, nil
}

// lookupCommand is "smimea lookup" (kind keystore.SMIME) or
// "openpgpkey lookup" (keystore.PGP).
func (c *cli) lookupCommand(kind keystore.Kind) *cobra.Command {
	var save bool
	what, rr := "S/MIME certificate", "SMIMEA"
	if kind == keystore.PGP {
		what, rr = "OpenPGP key", "OPENPGPKEY"
	}
	cmd := &cobra.Command{
		Use:   "lookup ADDR [--import]",
		Short: "Find someone's " + what + " in the DNS (" + rr + "), DNSSEC-validated",
		Long: `lookup asks the DNS for the ` + rr + ` records of ADDR and validates the
answer with DNSSEC from the trust anchors (the IANA root keys, or
--trust-anchor), not trusting the resolver's word. The ` + what + `
found is usable only when the answer is secure and a record vouches for it
as ADDR's; with --import it is then stored in the keystore (provenance
` + strings.ToLower(rr) + `, with the DNSSEC status and TTL) and pinned unless you pinned
another one yourself. When nothing is found under the local part as
written and it has capital letters, the lower-cased one is tried, and the
output says so.

Exit status: 0 usable, 1 bogus (validation failed: possibly forged),
3 nothing usable (no records, records not protected by DNSSEC, or none
vouching for a usable key), 4 the lookup failed (network, resolver).`,
		Example: "  securemail smimea lookup hugh@example.com\n  securemail --json openpgpkey lookup hugh@example.com",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.lookup(cmd.Context(), kind, args[0], save)
		},
	}
	cmd.Flags().BoolVar(&save, "import", false, "store a usable result in the keystore")
	return cmd
}

func (c *cli) lookup(ctx context.Context, kind keystore.Kind, addr string, save bool) error {
	dir, err := c.directory()
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	var k *securemail.KeyLookup
	if kind == keystore.PGP {
		k, err = dir.OpenPGPKey(ctx, addr)
	} else {
		k, err = dir.SMIMEA(ctx, addr)
	}
	if err != nil {
		var le *securemail.LookupError
		if errors.As(err, &le) && ctx.Err() == nil {
			return usageError("%v", err)
		}
		return &exitError{code: exitTemporary, err: err}
	}
	var fpr string
	if save && k.Usable() {
		st, err := c.openStore()
		if err != nil {
			return err
		}
		if fpr, err = dir.Remember(st, k); err != nil && fpr == "" {
			return err
		} else if err != nil {
			c.v.warnf("%v", err)
		}
	}
	if c.json {
		if err := writeJSON(c.stdout, lookupJSON(k)); err != nil {
			return err
		}
	} else {
		c.sayLookup(k, fpr)
	}
	return lookupExit(k)
}

// lookupJSON is CLI.md's lookup object.
func lookupJSON(k *securemail.KeyLookup) map[string]any {
	recs := make([]map[string]any, 0, len(k.Records))
	for _, r := range k.Records {
		m := map[string]any{"matched": r.Matched}
		if r.Usage != nil {
			m["usage"], m["selector"], m["matching"] = *r.Usage, *r.Selector, *r.Matching
		}
		if r.Certificate != nil {
			m["certificate"] = r.Certificate // base64 in JSON
		}
		if r.Key != nil {
			m["key"] = r.Key
		}
		if r.Error != "" {
			m["error"] = r.Error
		}
		recs = append(recs, m)
	}
	out := map[string]any{
		"kind": k.Kind, "address": k.Address, "name": k.Name, "dnssec": k.DNSSEC.String(),
		"ttl": k.TTL, "records": recs, "usable": k.Usable(), "error": nil,
	}
	if k.LowerCased {
		out["lower_cased"], out["asked"] = true, k.Asked
	}
	if k.Reason != "" {
		out["reason"] = k.Reason
	}
	if k.Fingerprint != "" && k.Usable() {
		out["fingerprint"] = k.Fingerprint
	}
	if k.Problem != "" {
		out["error"] = k.Problem
	}
	return out
}

func (c *cli) sayLookup(k *securemail.KeyLookup, imported string) {
	w := c.stdout
	fmt.Fprintf(w, "%s %s\n", k.Name, strings.ToUpper(k.Kind))
	fmt.Fprintf(w, "  dnssec: %s", k.DNSSEC)
	if k.Reason != "" {
		fmt.Fprintf(w, " (%s)", safe(k.Reason))
	}
	fmt.Fprintln(w)
	if k.LowerCased {
		fmt.Fprintf(w, "  nothing under the local part as written; found as %s\n", k.Asked)
	}
	for i, r := range k.Records {
		fmt.Fprintf(w, "  record %d:", i+1)
		if r.Usage != nil {
			fmt.Fprintf(w, " %d %d %d", *r.Usage, *r.Selector, *r.Matching)
		}
		if r.Certificate != nil {
			if cert, err := x509.ParseCertificate(r.Certificate); err == nil {
				fmt.Fprintf(w, ", certificate %q", safe(cert.Subject.String()))
			}
		}
		if r.Key != nil {
			fmt.Fprintf(w, ", key of %d octets", len(r.Key))
		}
		if r.Matched {
			fmt.Fprint(w, ": vouches for it")
		} else if r.Error != "" {
			fmt.Fprintf(w, ": %s", safe(r.Error))
		}
		fmt.Fprintln(w)
	}
	if k.Usable() {
		fmt.Fprintf(w, "  usable: %s (for %s, for %d s)\n", k.Fingerprint, k.Asked, k.TTL)
		if imported != "" {
			fmt.Fprintf(w, "  stored in the keystore as %s\n", imported)
		}
	} else {
		fmt.Fprintf(w, "  not usable: %s\n", safe(k.Problem))
	}
}

// lookupExit is the exit status of a lookup: 0 usable, 1 bogus, 3 nothing
// usable, 4 could not be judged.
func lookupExit(k *securemail.KeyLookup) error {
	switch {
	case k.Usable():
		return nil
	case k.DNSSEC == dnssec.Bogus:
		return &exitError{code: exitVerdict, err: errors.New(k.Problem)}
	case k.DNSSEC == dnssec.Indeterminate:
		return &exitError{code: exitTemporary, err: errors.New(k.Problem)}
	case k.DNSSEC == dnssec.Insecure && k.Found():
		return &exitError{code: exitNotFound, err: errors.New(k.Problem), hint: "ask the owner of " + domainOf(k.Asked) + " to sign the zone with DNSSEC, or get the key from them and 'securemail keys import' it"}
	}
	return &exitError{code: exitNotFound, err: errors.New(k.Problem)}
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// findKeys looks up in the DNS the keys of kind that addrs lack (has says
// which they have), before encrypting to them: problems with the lookups
// go to stderr, a bogus answer or a stale DNS key is an error.
func (c *cli) findKeys(st *keystore.Store, kind keystore.Kind, addrs []string, has func(string) bool) error {
	need := false
	for _, a := range addrs {
		if !has(a) || c.staleDNSKey(st, kind, a) {
			need = true
		}
	}
	if !need {
		return nil
	}
	dir, err := c.directory()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	looks, err := dir.FindKeys(ctx, st, kind, addrs, has)
	for _, k := range looks {
		switch {
		case k.Usable():
			c.v.infof("%s: %s found in the DNS (DNSSEC secure) and stored: %s", k.Address, strings.ToUpper(k.Kind), k.Fingerprint)
		case k.DNSSEC == dnssec.Insecure && k.Found():
			c.v.warnf("%s: %s records found, but not protected by DNSSEC (insecure): not used", k.Address, strings.ToUpper(k.Kind))
		case k.DNSSEC != dnssec.Bogus:
			c.v.infof("%s: %s", k.Address, safe(k.Problem))
		}
	}
	var bogus *securemail.BogusError
	var stale *securemail.StaleError
	switch {
	case errors.As(err, &bogus):
		return &exitError{code: exitVerdict, err: err, hint: "the answer failed DNSSEC validation: it may be forged; nothing was encrypted"}
	case errors.As(err, &stale):
		return &exitError{code: exitNotFound, err: err}
	case err != nil:
		return &exitError{code: exitTemporary, err: err}
	}
	return nil
}

// staleDNSKey reports whether addr's pinned key of kind came from a DNS
// answer past its TTL.
func (c *cli) staleDNSKey(st *keystore.Store, kind keystore.Kind, addr string) bool {
	d := &securemail.Directory{}
	for _, e := range st.Lookup(addr) {
		if e.Kind == kind && e.PinnedFor(addr) && d.Stale(e) {
			return true
		}
	}
	return false
}

// openpgpkeyCommand is "securemail openpgpkey": OpenPGP keys in the DNS.
func (c *cli) openpgpkeyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "openpgpkey",
		Short: "OpenPGP keys in the DNS (OPENPGPKEY, RFC 7929)",
		Long: `An OPENPGPKEY record publishes a person's OpenPGP key in their domain's
DNS, at <SHA-256 of the local part, 28 octets, hex>._openpgpkey.<domain>.
Only an answer DNSSEC proves authentic is worth using.`,
		Example: "  securemail openpgpkey lookup hugh@example.com",
		Args:    cobra.ArbitraryArgs,
		RunE:    groupRunE,
	}
	cmd.AddCommand(c.lookupCommand(keystore.PGP))
	return cmd
}
