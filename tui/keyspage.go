package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/dnssec"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/message"
)

// keysPage lists the identities and contacts, and looks keys up in the
// DNS.
type keysPage struct {
	entries []keystore.Entry
	cur     int
	top     int
	rows    int // list rows at the last render

	lookupAddr string
	lookups    []*securemail.KeyLookup
	lookupErr  error
}

// Messages of the keys page.
type (
	entriesMsg  struct{ entries []keystore.Entry }
	importedMsg struct {
		path  string
		res   []keystore.ImportResult
		err   error
		retry func(pw []byte) tea.Cmd
	}
	generatedMsg struct {
		res []keystore.ImportResult
		err error
	}
	lookedUpMsg struct {
		addr    string
		lookups []*securemail.KeyLookup
		err     error
	}
	rememberedMsg struct {
		fprs []string
		err  error
	}
)

func newKeysPage() *keysPage { return &keysPage{} }

// showKeys opens the keys page and reads the keystore.
func (m *Model) showKeys() tea.Cmd {
	if m.keys == nil {
		m.keys = newKeysPage()
	}
	m.page = pageKeys
	return m.loadEntries()
}

func (m *Model) loadEntries() tea.Cmd {
	b := m.b
	return m.work("reading the keystore", func() tea.Msg { return entriesMsg{entries: b.entries()} })
}

func (p *keysPage) move(delta int) {
	p.cur = min(max(p.cur+delta, 0), max(len(p.entries)-1, 0))
}

func (p *keysPage) onMsg(msg tea.Msg, m *Model) tea.Cmd {
	switch msg := msg.(type) {
	case entriesMsg:
		p.entries = msg.entries
		sortEntries(p.entries)
		p.move(0)
	case importedMsg:
		if msg.err != nil {
			m.setErr(passphraseOr(msg.err, m, msg.retry))
			return nil
		}
		m.note(importSummary(msg.res))
		return m.loadEntries()
	case generatedMsg:
		if msg.err != nil {
			m.setErr(msg.err)
			return nil
		}
		m.note(importSummary(msg.res))
		return m.loadEntries()
	case lookedUpMsg:
		p.lookupAddr, p.lookups, p.lookupErr = msg.addr, msg.lookups, msg.err
		if msg.err != nil {
			m.setErr(msg.err)
		}
	case rememberedMsg:
		if msg.err != nil {
			m.setErr(msg.err)
		} else {
			m.note("stored and pinned: " + strings.Join(msg.fprs, ", "))
		}
		return m.loadEntries()
	}
	return nil
}

func importSummary(res []keystore.ImportResult) string {
	if len(res) == 0 {
		return "no key was found"
	}
	var parts []string
	for _, r := range res {
		s := fmt.Sprintf("%s %s %s", r.Status, r.Kind, r.Fingerprint)
		if len(r.Emails) > 0 {
			s += " <" + message.SafeLine(strings.Join(r.Emails, ", ")) + ">"
		}
		if r.Reason != "" {
			s += " (" + message.SafeLine(r.Reason) + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

func (m *Model) keysKey(k tea.KeyPressMsg) tea.Cmd {
	p := m.keys
	if p == nil {
		return m.showKeys()
	}
	switch k.String() {
	case "esc", "q", "M":
		m.page = pageMailbox
		return m.ensureWindow()
	case "j", "down":
		p.move(1)
	case "k", "up":
		p.move(-1)
	case "pgdown", "space":
		p.move(max(p.rows, 1))
	case "pgup":
		p.move(-max(p.rows, 1))
	case "g":
		m.ask("New identity: email address", "", false, func(email string) tea.Cmd {
			email = strings.TrimSpace(email)
			if email == "" {
				return nil
			}
			m.ask("Passphrase to seal it (empty: none, not recommended)", "", true, func(pw string) tea.Cmd {
				b := m.b
				return m.work("generating keys for "+email, func() tea.Msg {
					res, err := b.generate(email, "", []byte(pw))
					b.identityAdded()
					return generatedMsg{res: res, err: err}
				})
			})
			return nil
		})
	case "i":
		m.ask("Import keys from file", "", false, func(path string) tea.Cmd {
			path = expandHome(strings.TrimSpace(path))
			if path == "" {
				return nil
			}
			b := m.b
			var run func(pw []byte) tea.Cmd
			run = func(pw []byte) tea.Cmd {
				return m.work("importing "+path, func() tea.Msg {
					res, err := b.importFile(path, pw)
					b.identityAdded()
					return importedMsg{path: path, res: res, err: err, retry: run}
				})
			}
			return run(nil)
		})
	case "l", "/":
		m.ask("Look up in the DNS (SMIMEA, OPENPGPKEY)", "", false, func(addr string) tea.Cmd {
			addr = strings.TrimSpace(addr)
			if addr == "" {
				return nil
			}
			b, ctx := m.b, m.ctx
			return m.work("looking up "+addr, func() tea.Msg {
				looks, err := b.lookupKeys(ctx, addr)
				return lookedUpMsg{addr: addr, lookups: looks, err: err}
			})
		})
	case "p":
		var usable []*securemail.KeyLookup
		for _, l := range p.lookups {
			if l.Usable() {
				usable = append(usable, l)
			}
		}
		if len(usable) == 0 {
			m.note("nothing to pin: look an address up first (l); only DNSSEC-secure answers can be pinned")
			return nil
		}
		b := m.b
		return m.work("storing the keys found", func() tea.Msg {
			var fprs []string
			for _, l := range usable {
				fpr, err := b.remember(l)
				if err != nil {
					return rememberedMsg{fprs: fprs, err: err}
				}
				fprs = append(fprs, fpr)
			}
			return rememberedMsg{fprs: fprs}
		})
	case "r", "ctrl+r":
		return m.loadEntries()
	default:
		return m.globalKey(k.String())
	}
	return nil
}

// render draws the keys page: the list, the selected key's details, and
// the last DNS lookup.
func (p *keysPage) render(m *Model, width, height int) []string {
	t := m.theme
	var out []string
	out = append(out, t.bold.Render(t.fit(fmt.Sprintf(" Keys: %d (you: identities with a secret key; others: contacts)", len(p.entries)), width)))
	head := fmt.Sprintf(" %-3s %-6s %-32s %-10s %-12s %s", "", "kind", "address", "source", "expires", "fingerprint")
	out = append(out, sgrFaint+t.fit(head, width)+sgrReset)
	detail := p.details(m)
	lookup := p.lookupLines(m)
	p.rows = max(height-len(out)-len(detail)-len(lookup)-1, 3)
	if p.cur < p.top {
		p.top = p.cur
	}
	if p.cur >= p.top+p.rows {
		p.top = p.cur - p.rows + 1
	}
	for i := p.top; i < min(p.top+p.rows, len(p.entries)); i++ {
		e := p.entries[i]
		who := "   "
		if e.Secret {
			who = "you"
		}
		if e.TrustAnchor {
			who = "CA "
		}
		addr := strings.Join(e.Emails, ",")
		if addr == "" {
			addr = e.Subject
		}
		pin := " "
		for _, a := range e.Emails {
			if e.PinnedFor(a) {
				pin = "*"
			}
		}
		exp := "never"
		if e.Expires != nil {
			exp = e.Expires.Format("2006-01-02")
			if e.Expired(m.now()) {
				exp = "EXPIRED"
			}
		}
		if e.Revoked {
			exp = "REVOKED"
		}
		line := fmt.Sprintf(" %s %-6s %s %-10s %-12s %s", who, kindName(e.Kind), t.fit(pin+message.SafeLine(addr), 32), e.Source, exp, e.Fingerprint)
		line = t.fit(line, width)
		if i == p.cur {
			line = sgrReverse + line + sgrReset
		}
		out = append(out, line)
	}
	for len(out) < 2+p.rows {
		out = append(out, "")
	}
	out = append(out, sgrFaint+strings.Repeat(t.rule, width)+sgrReset)
	out = append(out, detail...)
	out = append(out, lookup...)
	return out
}

func kindName(k keystore.Kind) string {
	if k == keystore.SMIME {
		return "S/MIME"
	}
	return "PGP"
}

// details are the selected key's facts.
func (p *keysPage) details(m *Model) []string {
	t := m.theme
	if p.cur >= len(p.entries) {
		return []string{t.dim.Render(" no keys yet: g generates your identity, i imports a file")}
	}
	e := p.entries[p.cur]
	src := string(e.Source)
	if e.DNSSEC != "" {
		src += ", DNSSEC " + e.DNSSEC
	}
	if e.Origin != "" {
		src += ", from " + message.SafeLine(e.Origin)
	}
	lines := []string{
		" fingerprint " + e.Fingerprint,
		fmt.Sprintf(" %s %s · created %s · obtained %s · source %s", kindName(e.Kind), message.SafeLine(e.Algorithm), e.Created.Format("2006-01-02"), e.Obtained.Format("2006-01-02"), src),
	}
	if len(e.UserIDs) > 0 {
		lines = append(lines, " user IDs: "+message.SafeLine(strings.Join(e.UserIDs, "; ")))
	} else if e.Subject != "" {
		lines = append(lines, " subject: "+message.SafeLine(e.Subject)+" · issuer: "+message.SafeLine(e.Issuer))
	}
	if len(e.Pinned) > 0 {
		lines = append(lines, " pinned for "+message.SafeLine(strings.Join(e.Pinned, ", ")))
	}
	for i := range lines {
		lines[i] = t.clip(lines[i], m.width)
	}
	return lines
}

// lookupLines show the last DNS lookup.
func (p *keysPage) lookupLines(m *Model) []string {
	t := m.theme
	if p.lookupAddr == "" {
		return nil
	}
	out := []string{t.bold.Render(" DNS lookup of " + message.SafeLine(p.lookupAddr))}
	if p.lookupErr != nil && len(p.lookups) == 0 {
		return append(out, t.bad.Render(t.clip("  "+message.SafeLine(p.lookupErr.Error()), m.width)))
	}
	for _, l := range p.lookups {
		rr := strings.ToUpper(l.Kind)
		s := fmt.Sprintf("  %s: DNSSEC %s, %d record(s)", rr, l.DNSSEC, len(l.Records))
		switch {
		case l.Usable():
			s += ": usable, " + l.Fingerprint + " (p pins it)"
			out = append(out, t.good.Render(t.clip(s, m.width)))
		case l.DNSSEC == dnssec.Bogus:
			s += ": BOGUS (possibly forged): " + message.SafeLine(l.Reason)
			out = append(out, t.bad.Render(t.clip(s, m.width)))
		default:
			if l.Problem != "" {
				s += ": " + message.SafeLine(l.Problem)
			}
			out = append(out, t.warn.Render(t.clip(s, m.width)))
		}
	}
	return out
}

// sortEntries puts your identities first, then contacts by address and
// kind, then the certificate authorities.
func sortEntries(es []keystore.Entry) {
	rank := func(e keystore.Entry) int {
		switch {
		case e.Secret:
			return 0
		case e.TrustAnchor || e.CA:
			return 2
		}
		return 1
	}
	first := func(e keystore.Entry) string {
		if len(e.Emails) > 0 {
			return e.Emails[0]
		}
		return e.Subject
	}
	slices.SortStableFunc(es, func(a, b keystore.Entry) int {
		if c := cmp.Compare(rank(a), rank(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(first(a), first(b)); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		return cmp.Compare(a.Fingerprint, b.Fingerprint)
	})
}
