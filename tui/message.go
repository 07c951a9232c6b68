package tui

import (
	"fmt"
	"net/mail"
	"path/filepath"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/message"
)

// messagePage shows one message: the status panel, the header fields,
// the body in its own viewport, the attachments.
type messagePage struct {
	folder, id string
	loading    bool
	err        error
	o          *opened
	panel      []statusLine

	body      []string // body lines wrapped to wrapWidth, no control characters
	wrapWidth int
	offset    int // first body line shown
	bodyRows  int // rows of the body viewport at the last render
	attCur    int
	full      bool // the whole report instead of the message
}

// set shows an opened message.
func (p *messagePage) set(o *opened, sources map[string]keySource, m *Model) {
	p.o, p.loading, p.err = o, false, nil
	p.panel = statusLines(o.report, o.auth, sources, m.theme)
	p.offset, p.attCur = 0, 0
	p.wrapWidth = 0
	p.layout(m)
}

// layout wraps the body for the screen's width.
func (p *messagePage) layout(m *Model) {
	if p.o == nil {
		return
	}
	w := max(m.width-len(m.theme.bodyGutter)-1, 10)
	if w == p.wrapWidth {
		return
	}
	p.wrapWidth = w
	p.body = bodyLines(p.o.view, w, m.theme)
	p.offset = min(p.offset, max(len(p.body)-1, 0))
}

// bodyLines is the safe body wrapped to width: every line neutralised
// again (S25: the pipeline's SafeText is idempotent), tabs expanded, and
// cut to the width, so no line can move the cursor or reach beyond its
// row of the viewport (S24).
func bodyLines(v *securemail.View, width int, t *theme) []string {
	text := message.SafeText(v.Body)
	var out []string
	add := func(text string) {
		for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
			l = expandTabs(l)
			if ansi.StringWidth(l) <= width {
				out = append(out, l)
				continue
			}
			for _, w := range strings.Split(ansi.Wrap(l, width, " "), "\n") {
				out = append(out, t.clip(w, width))
			}
		}
	}
	add(text)
	if v.Unprotected != "" {
		out = append(out, "", t.rule+t.rule+" text that came with the message OUTSIDE its protection (not protected) "+t.rule+t.rule)
		add(message.SafeText(v.Unprotected))
	}
	return out
}

func (p *messagePage) scroll(delta int, m *Model) {
	p.offset = min(max(p.offset+delta, 0), max(len(p.body)-max(p.bodyRows, 1), 0))
}

// render draws the page: the status panel first, framed and drawn from
// the report alone; then the header fields, one line each; then the body
// viewport, each line behind a gutter; then the attachments.
func (p *messagePage) render(m *Model, width, height int) []string {
	t := m.theme
	if p.loading {
		return []string{"", t.fit("  opening the message"+t.ellipsis, width)}
	}
	if p.o == nil {
		msg := "the message could not be opened"
		if p.err != nil {
			msg += ": " + humanError(p.err)
		}
		return []string{"", t.clip("  "+message.SafeLine(msg), width)}
	}
	if p.full {
		return t.renderPanel("Security report", p.panel, width, height)
	}
	maxPanel := max(min(14, height/2), 4)
	out := t.renderPanel("Security", p.panel, width, maxPanel)
	for _, h := range p.o.view.Headers {
		name := message.SafeLine(h.Name)
		line := t.bold.Render(name+":") + " " + t.clip(message.SafeLine(h.Value), max(width-len(name)-2, 1))
		out = append(out, line)
	}
	atts := p.o.view.Attachments
	attRows := 0
	if len(atts) > 0 {
		attRows = min(len(atts), 4) + 1
	}
	p.bodyRows = max(height-len(out)-1-attRows, 1)
	out = append(out, sgrFaint+strings.Repeat(t.rule, width)+sgrReset)
	for i := range p.bodyRows {
		j := p.offset + i
		if j < len(p.body) {
			out = append(out, sgrFaint+t.bodyGutter+sgrReset+p.body[j])
		} else {
			out = append(out, sgrFaint+t.bodyGutter+sgrReset)
		}
	}
	if len(atts) > 0 {
		pos := ""
		if len(p.body) > p.bodyRows {
			pos = fmt.Sprintf(" · body lines %d-%d of %d", p.offset+1, min(p.offset+p.bodyRows, len(p.body)), len(p.body))
		}
		out = append(out, t.bold.Render(fmt.Sprintf("Attachments (%d) · a next · s save%s", len(atts), pos)))
		first := max(0, min(p.attCur-3, len(atts)-4))
		for i := first; i < min(first+4, len(atts)); i++ {
			a := atts[i]
			line := fmt.Sprintf(" [%d] %s (%s, %s)", i+1, message.SafeFilename(a.Name), message.SafeLine(a.MediaType), humanSize(a.Size))
			if a.Note != "" {
				line += " " + t.rule + " " + message.SafeLine(a.Note)
			}
			line = t.fit(line, width)
			if i == p.attCur {
				line = sgrReverse + line + sgrReset
			}
			out = append(out, line)
		}
	}
	return out
}

func humanSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

func (m *Model) messageKey(k tea.KeyPressMsg) tea.Cmd {
	p := m.msg
	if p == nil {
		m.page = pageMailbox
		return nil
	}
	rows := max(p.bodyRows, 1)
	switch k.String() {
	case "esc", "q", "h", "left":
		if p.full {
			p.full = false
			return nil
		}
		m.page = pageMailbox
		return tea.Batch(m.ensureWindow(), m.nextCheck())
	case "j", "down":
		p.scroll(1, m)
	case "k", "up":
		p.scroll(-1, m)
	case "space", "pgdown", "ctrl+f":
		p.scroll(rows, m)
	case "pgup", "ctrl+b", "b":
		p.scroll(-rows, m)
	case "g", "home":
		p.offset = 0
	case "G", "end":
		p.scroll(len(p.body), m)
	case "i":
		p.full = !p.full
	case "a", "tab":
		if p.o != nil && len(p.o.view.Attachments) > 0 {
			p.attCur = (p.attCur + 1) % len(p.o.view.Attachments)
		}
	case "s":
		return m.askSaveAttachment()
	case "r":
		return m.reply(false)
	case "R":
		return m.reply(true)
	case "f":
		return m.forwardMessage()
	case "e":
		return m.editDraft()
	case "n", "J":
		return m.stepMessage(1)
	case "p", "K":
		if k.String() == "K" {
			return m.showKeys()
		}
		return m.stepMessage(-1)
	default:
		if k.Text >= "1" && k.Text <= "9" && len(k.Text) == 1 && p.o != nil {
			if i := int(k.Text[0] - '1'); i < len(p.o.view.Attachments) {
				p.attCur = i
			}
			return nil
		}
		return m.globalKey(k.String())
	}
	return nil
}

// stepMessage opens the next (or previous) message of the list.
func (m *Model) stepMessage(delta int) tea.Cmd {
	f := m.cur
	if f == nil || m.msg == nil || f.name != m.msg.folder {
		return nil
	}
	f.move(delta)
	f.scrollTo(m.listHeight())
	if r := f.selected(); r != nil && r.id != m.msg.id {
		return m.openMessage(f.name, r.id)
	}
	return nil
}

// Attachments.

type savedMsg struct {
	path  string
	err   error
	retry func(pw []byte) tea.Cmd
}

// askSaveAttachment asks where to save the selected attachment.
func (m *Model) askSaveAttachment() tea.Cmd {
	p := m.msg
	if p == nil || p.o == nil || len(p.o.view.Attachments) == 0 {
		m.note("this message has no attachment")
		return nil
	}
	a := p.o.view.Attachments[p.attCur]
	def := filepath.Join(m.cfg.AttachmentDir, message.SafeFilename(a.Name))
	raw := p.o.raw
	m.ask("Save "+message.SafeFilename(a.Name)+" to", def, false, func(path string) tea.Cmd {
		path = expandHome(strings.TrimSpace(path))
		if path == "" {
			return nil
		}
		return m.saveAttachment(raw, a, path, m.pw)
	})
	return nil
}

func (m *Model) saveAttachment(raw []byte, a securemail.Attachment, path string, pw []byte) tea.Cmd {
	b := m.b
	var run func(pw []byte) tea.Cmd
	run = func(pw []byte) tea.Cmd {
		return m.work("saving "+path, func() tea.Msg {
			data, err := b.attachmentData(raw, a, pw)
			if err == nil {
				err = saveFile(path, data)
			}
			return savedMsg{path: path, err: err, retry: run}
		})
	}
	return run(pw)
}

// Reply and forward (S26): the pipeline builds the draft and the policy;
// a reply to encrypted mail must be sent encrypted.

func (m *Model) reply(all bool) tea.Cmd {
	p := m.msg
	if p == nil || p.o == nil {
		return nil
	}
	me := m.b.me()
	d, pol, err := securemail.Reply(p.o.raw, p.o.report, p.o.view, &securemail.ReplyOptions{From: me, All: all})
	if err != nil {
		m.setErr(err)
		return nil
	}
	return m.startCompose(d, pol, &msgRef{folder: p.folder, id: p.id})
}

func (m *Model) forwardMessage() tea.Cmd {
	p := m.msg
	if p == nil || p.o == nil {
		return nil
	}
	d, pol := securemail.Forward(p.o.report, p.o.view, m.b.me())
	return m.startCompose(d, pol, nil)
}

// me is the user's From address for display.
func addressString(a *mail.Address) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// editDraft opens a draft from the drafts folder in compose. A draft that
// was stored encrypted stays a message that must be sent encrypted (S26);
// once sent, the draft is removed.
func (m *Model) editDraft() tea.Cmd {
	p := m.msg
	if p == nil || p.o == nil || p.folder != m.cfg.Drafts {
		m.note("only a message of the " + m.cfg.Drafts + " folder can be edited (e)")
		return nil
	}
	d := &message.Draft{Text: p.o.view.Body}
	for _, h := range p.o.view.Headers {
		switch h.Name {
		case "To":
			d.To = parseList(h.Value)
		case "Cc":
			d.Cc = parseList(h.Value)
		case "Subject":
			d.Subject = h.Value
		}
	}
	rep := p.o.report
	pol := securemail.Policy{Sign: true}
	if rep.Encryption.Kind != "none" {
		pol.Encrypt, pol.RequireEncryption = true, true
		if rep.Encryption.Kind == "pgp" || rep.Encryption.Kind == "smime" {
			pol.Scheme = rep.Encryption.Kind
		}
	}
	cmd := m.startCompose(d, pol, nil)
	m.compose.draftOf = &msgRef{folder: p.folder, id: p.id}
	return cmd
}

func parseList(v string) []*mail.Address {
	as, err := mail.ParseAddressList(v)
	if err != nil {
		return nil
	}
	return as
}
