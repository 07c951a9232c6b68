package tui

import "strings"

// binding is one line of the help.
type binding struct{ keys, what string }

var helpSections = []struct {
	title string
	keys  []binding
}{
	{"Everywhere", []binding{
		{"? / F1", "this help (any key closes it)"},
		{"ctrl+c", "quit at once"},
		{"m / c", "compose a new message"},
		{"K", "keys page"},
		{"A", "switch to the next account (when config.toml has several)"},
		{"mouse wheel", "scroll the list or the message"},
	}},
	{"Mailbox", []binding{
		{"j k / ↓ ↑", "next / previous message"},
		{"ctrl+f ctrl+b / PgDn PgUp", "page down / up (ctrl+d ctrl+u: half a page)"},
		{"g G / Home End", "first / last message"},
		{"enter / l", "open the message"},
		{"/", "quick filter on From and Subject (enter keeps it, esc clears it)"},
		{"s / S", "sort by arrival, date, from, subject / reverse the order"},
		{"tab / h", "go to the folders (j k, enter opens one)"},
		{"ctrl+r / $", "read the folder again"},
		{"q", "quit"},
	}},
	{"Badges", []binding{
		{"🔒 E", "encrypted (⚠ E!: could not be decrypted, or no integrity)"},
		{"✓ + / ✗ x / ≠ ! / ? ?", "signature valid by the sender / invalid / by someone else than the sender / not checked yet"},
		{"✓ + / ✗ x / · -", "DMARC: the From domain sent it / did not / publishes no policy"},
		{"N / r", "new / replied"},
	}},
	{"Message", []binding{
		{"j k / space b", "scroll the body by a line / a page"},
		{"n p", "next / previous message"},
		{"r / R / f", "reply / reply to all / forward (a reply to encrypted mail stays encrypted)"},
		{"e", "edit a draft (Drafts folder); an encrypted draft stays encrypted"},
		{"a / 1-9", "select an attachment"},
		{"s", "save the selected attachment to a path (it is never opened)"},
		{"i", "the whole security report"},
		{"esc / q", "back to the list"},
	}},
	{"Compose", []binding{
		{"tab / shift+tab", "next / previous field (enter too, outside the body)"},
		{"ctrl+e / ctrl+s", "encrypt / sign on or off"},
		{"ctrl+t", "scheme: auto, OpenPGP, S/MIME"},
		{"ctrl+o", "edit the body in $EDITOR"},
		{"ctrl+a", "attach a file"},
		{"ctrl+x", "send (through the account's SMTP or sendmail, a copy to Sent; to the outbox folder when it has none)"},
		{"ctrl+d", "save as a draft (encrypted to you when the message is to be encrypted)"},
		{"esc", "leave the field; twice outside a field: discard"},
	}},
	{"Keys", []binding{
		{"j k", "select a key"},
		{"g", "generate your identity (OpenPGP Ed25519 and S/MIME P-256)"},
		{"i", "import keys or certificates from a file"},
		{"l", "look an address up in the DNS (SMIMEA, OPENPGPKEY; DNSSEC-validated)"},
		{"p", "store and pin what the lookup found (only when DNSSEC secure)"},
		{"esc", "back"},
	}},
	{"The status panel", []binding{
		{"", "The framed panel above a message is drawn by securemail from its verdict alone: nothing in a message can draw into it."},
		{"", "Text below the rule, behind the gutter, is the message's own: a \"verified\" banner there proves nothing."},
	}},
}

// renderHelp draws the help overlay.
func (m *Model) renderHelp(width, height int) []string {
	t := m.theme
	var lines []string
	for _, s := range helpSections {
		lines = append(lines, t.bold.Render(s.title))
		for _, b := range s.keys {
			keys := b.keys
			if t.ascii {
				keys = strings.NewReplacer("🔒 ", "", "✓ ", "", "✗ ", "", "≠ ", "", "· ", "", "↓", "down", "↑", "up").Replace(keys)
			}
			if keys == "" {
				lines = append(lines, "  "+t.clip(b.what, width-2))
				continue
			}
			lines = append(lines, "  "+t.key.Render(t.fit(keys, 26))+" "+t.clip(b.what, max(width-30, 10)))
		}
		lines = append(lines, "")
	}
	off := min(m.helpOffset, max(len(lines)-height, 0))
	m.helpOffset = off
	return lines[off:]
}
