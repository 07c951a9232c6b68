package tui

import (
	"errors"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/transport"
)

// Compose fields, in tab order.
const (
	fieldTo = iota
	fieldCc
	fieldBcc
	fieldSubject
	fieldBody
	fieldCount
	fieldNone = -1 // no field has focus: keys are commands
)

var fieldNames = [...]string{"To", "Cc", "Bcc", "Subject"}

// keyStatusDelay is how long typing must pause before the recipients'
// keys are checked again.
const keyStatusDelay = 300 * time.Millisecond

// composePage writes a message.
type composePage struct {
	from       *mail.Address
	fields     [4]textinput.Model
	body       textarea.Model
	focus      int
	sign       bool
	encrypt    bool
	scheme     string // "", "pgp" or "smime"
	requireEnc bool   // a reply to or forward of encrypted mail (S26)
	// encMode is the account's encryption default (Config.Encrypt);
	// encBase what the message asks for by itself (a reply's policy),
	// and encChosen that the user chose with ctrl+e, so "when-possible"
	// no longer follows the recipients' keys.
	encMode     string
	encBase     bool
	encChosen   bool
	replyTo     *msgRef
	draftOf     *msgRef // the draft this message was opened from
	inReplyTo   string
	references  []string
	attachments []message.Attachment

	// status holds what is known of each recipient's keys, by scheme
	// and address ("pgp|alice@example.org").
	status    map[string]recipientStatus
	statusSeq int
	back      page // where to go when done

	confirmDiscard bool
	sending        bool
}

// Messages of compose.
type (
	keyStatusTick struct{ seq int }
	keyStatusMsg  struct {
		scheme   string
		statuses []recipientStatus
	}
	sentMsg struct {
		folder, id string
		draft      bool
		policy     securemail.Policy
		replied    *msgRef
		err        error
		retry      func(pw []byte) tea.Cmd
		// sent says a transport sent the message; saveErr that its copy
		// could not be filed in folder (it has gone all the same).
		sent    bool
		saveErr error
	}
	editorReadyMsg struct {
		dir, path, editor string
	}
	editorDoneMsg struct {
		path string
		text string
		err  error
	}
	attachedMsg struct {
		att message.Attachment
		err error
	}
)

// startCompose opens the compose page: empty, or with a reply's or
// forward's draft and policy.
func (m *Model) startCompose(d *message.Draft, pol securemail.Policy, replyTo *msgRef) tea.Cmd {
	c := &composePage{from: m.b.me(), status: map[string]recipientStatus{}, back: m.page, replyTo: replyTo}
	for i := range c.fields {
		in := textinput.New()
		in.Prompt = ""
		c.fields[i] = in
	}
	c.body = textarea.New()
	c.body.ShowLineNumbers = false
	c.body.Prompt = ""
	c.body.MaxHeight = 0
	c.body.Placeholder = "Write the message here, or press ctrl+o for $EDITOR"
	c.sign, c.encrypt, c.encMode = !m.cfg.NoSign, false, m.cfg.Encrypt
	if d != nil {
		c.fields[fieldTo].SetValue(addressListString(d.To))
		c.fields[fieldCc].SetValue(addressListString(d.Cc))
		c.fields[fieldBcc].SetValue(addressListString(d.Bcc))
		c.fields[fieldSubject].SetValue(d.Subject)
		c.body.SetValue(d.Text)
		c.body.MoveToBegin()
		c.inReplyTo, c.references = d.InReplyTo, d.References
		c.attachments = d.Attachments
		c.sign, c.encrypt, c.scheme, c.requireEnc = (pol.Sign || pol.Encrypt) && !m.cfg.NoSign, pol.Encrypt, pol.Scheme, pol.RequireEncryption
	}
	c.encBase = c.encrypt || c.requireEnc
	c.encrypt = c.encBase || c.encMode == "always"
	if c.from == nil {
		m.setErr(fmt.Errorf("you have no identity to send from: generate one on the keys page (K, then g)"))
	}
	m.compose = c
	m.page = pageCompose
	c.resize(m)
	first := fieldTo
	if d != nil && len(d.To) > 0 {
		first = fieldBody
	}
	return tea.Batch(c.setFocus(first), c.recheck())
}

func addressListString(as []*mail.Address) string {
	parts := make([]string, len(as))
	for i, a := range as {
		parts[i] = a.String()
	}
	return strings.Join(parts, ", ")
}

// typing reports whether a field has the keyboard.
func (c *composePage) typing() bool { return c.focus != fieldNone }

func (c *composePage) setFocus(f int) tea.Cmd {
	for i := range c.fields {
		c.fields[i].Blur()
	}
	c.body.Blur()
	c.focus = f
	switch {
	case f >= fieldTo && f <= fieldSubject:
		return c.fields[f].Focus()
	case f == fieldBody:
		return c.body.Focus()
	}
	return nil
}

func (c *composePage) resize(m *Model) {
	w := max(m.width-11, 10)
	for i := range c.fields {
		c.fields[i].SetWidth(w)
	}
	c.body.SetWidth(max(m.width-2, 10))
	c.body.SetHeight(max(m.height-3-c.headerRows(), 3))
}

// headerRows is how many rows the compose page uses above the body.
func (c *composePage) headerRows() int {
	return 1 + 4 + 1 + 1 + min(len(c.recipients()), 6) + 1 + 1
}

// update hands a message to the focused field, and schedules a key
// check when the recipients changed.
func (c *composePage) update(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	switch {
	case c.focus >= fieldTo && c.focus <= fieldBcc:
		before := c.fields[c.focus].Value()
		c.fields[c.focus], cmd = c.fields[c.focus].Update(msg)
		if c.fields[c.focus].Value() != before {
			return tea.Batch(cmd, c.recheck())
		}
	case c.focus == fieldSubject:
		c.fields[c.focus], cmd = c.fields[c.focus].Update(msg)
	case c.focus == fieldBody:
		c.body, cmd = c.body.Update(msg)
	}
	return cmd
}

// recheck schedules a check of the recipients' keys once typing pauses.
func (c *composePage) recheck() tea.Cmd {
	c.statusSeq++
	seq := c.statusSeq
	return tea.Tick(keyStatusDelay, func(time.Time) tea.Msg { return keyStatusTick{seq: seq} })
}

// recipients are the addresses in To, Cc and Bcc, each once, lower-case.
func (c *composePage) recipients() []string {
	var out []string
	for _, f := range []int{fieldTo, fieldCc, fieldBcc} {
		for _, a := range splitAddresses(c.fields[f].Value()) {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

// splitAddresses reads a field's addresses; what does not parse is kept
// as typed, so its status can say it is not an address.
func splitAddresses(v string) []string {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	if as, err := mail.ParseAddressList(v); err == nil {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = strings.ToLower(a.Address)
		}
		return out
	}
	var out []string
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if a, err := mail.ParseAddress(part); err == nil {
			out = append(out, strings.ToLower(a.Address))
		} else {
			out = append(out, part)
		}
	}
	return out
}

func (c *composePage) statusKey(addr string) string { return c.scheme + "|" + addr }

// onTick starts the key check when no key was typed since it was
// scheduled.
func (c *composePage) onTick(t keyStatusTick, m *Model) tea.Cmd {
	if t.seq != c.statusSeq {
		return nil
	}
	c.followKeys()
	var todo []string
	for _, a := range c.recipients() {
		st, ok := c.status[c.statusKey(a)]
		if !ok || st.State == keyUnknown {
			todo = append(todo, a)
			c.status[c.statusKey(a)] = recipientStatus{Addr: a, State: keyChecking}
		}
	}
	if len(todo) == 0 {
		return nil
	}
	b, ctx, scheme := m.b, m.ctx, c.scheme
	return m.work("checking the recipients' keys", func() tea.Msg {
		return keyStatusMsg{scheme: scheme, statuses: b.keyStatus(ctx, todo, scheme, true)}
	})
}

func (c *composePage) onKeyStatus(msg keyStatusMsg) {
	for _, st := range msg.statuses {
		c.status[msg.scheme+"|"+st.Addr] = st
	}
	c.followKeys()
}

// followKeys applies "when-possible": unless the user chose, encryption
// is on exactly when there are recipients and every one has a key (or
// the message asks for it by itself).
func (c *composePage) followKeys() {
	if c.encMode != "when-possible" || c.encChosen {
		return
	}
	rcpts := c.recipients()
	all := len(rcpts) > 0
	for _, a := range rcpts {
		switch c.status[c.statusKey(a)].State {
		case keyInStore, keyFoundDNS:
		default:
			all = false
		}
	}
	c.encrypt = c.encBase || all
}

func (m *Model) composeKey(k tea.KeyPressMsg) tea.Cmd {
	c := m.compose
	if c == nil {
		m.page = pageMailbox
		return nil
	}
	key := k.String()
	if key != "esc" {
		c.confirmDiscard = false
	}
	switch key {
	case "ctrl+e":
		if c.encrypt && c.requireEnc {
			m.setErr(fmt.Errorf("this message quotes or continues encrypted mail: it stays encrypted (S26)"))
			return nil
		}
		if c.encrypt && c.encMode == "always" {
			m.setErr(fmt.Errorf("this account always encrypts (encrypt = \"always\" in its configuration): encryption stays on"))
			return nil
		}
		c.encrypt = !c.encrypt
		c.encChosen = true
		return nil
	case "ctrl+s":
		c.sign = !c.sign
		return nil
	case "ctrl+t":
		switch c.scheme {
		case "":
			c.scheme = "pgp"
		case "pgp":
			c.scheme = "smime"
		default:
			c.scheme = ""
		}
		return c.recheck()
	case "ctrl+o":
		return m.editBody()
	case "ctrl+a":
		m.ask("Attach file", "", false, func(path string) tea.Cmd {
			path = expandHome(strings.TrimSpace(path))
			if path == "" {
				return nil
			}
			return m.work("reading "+path, attachCmd(path))
		})
		return nil
	case "ctrl+d":
		return m.send(true)
	case "ctrl+x":
		return m.send(false)
	case "tab":
		return c.setFocus((c.focus + 1 + fieldCount) % fieldCount)
	case "shift+tab":
		if c.focus == fieldNone {
			return c.setFocus(fieldBody)
		}
		return c.setFocus((c.focus - 1 + fieldCount) % fieldCount)
	case "esc":
		if c.typing() {
			return c.setFocus(fieldNone)
		}
		if !c.confirmDiscard {
			c.confirmDiscard = true
			m.note("press esc again to discard this message, ctrl+d to save it as a draft")
			return nil
		}
		m.compose = nil
		m.page = c.back
		m.note("message discarded")
		return nil
	}
	if c.typing() {
		if key == "enter" && c.focus != fieldBody {
			return c.setFocus(c.focus + 1)
		}
		return c.update(k)
	}
	switch key {
	case "enter", "i":
		return c.setFocus(fieldBody)
	case "q":
		m.note("press esc twice to discard this message")
		return nil
	}
	return nil
}

// attachCmd reads a file to attach.
func attachCmd(path string) tea.Cmd {
	return func() tea.Msg {
		data, err := os.ReadFile(path)
		if err != nil {
			return attachedMsg{err: err}
		}
		return attachedMsg{att: message.Attachment{Filename: filepath.Base(path), Data: data}}
	}
}

// editBody hands the body to $EDITOR in a private temporary file (0600
// in a 0700 directory), which is removed as soon as it is read back.
func (m *Model) editBody() tea.Cmd {
	c := m.compose
	if strings.TrimSpace(m.cfg.Editor) == "" {
		m.note("no $EDITOR is set: edit the body here (tab to it)")
		return c.setFocus(fieldBody)
	}
	text, editor := c.body.Value(), m.cfg.Editor
	return func() tea.Msg {
		dir, err := os.MkdirTemp("", "securemail-edit-")
		if err != nil {
			return editorDoneMsg{err: err}
		}
		path := filepath.Join(dir, "message.txt")
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			os.RemoveAll(dir)
			return editorDoneMsg{err: err}
		}
		return editorReadyMsg{dir: dir, path: path, editor: editor}
	}
}

// runEditor runs the editor on the file; the program gives it the
// terminal meanwhile.
func runEditor(msg editorReadyMsg) tea.Cmd {
	args := strings.Fields(msg.editor)
	if len(args) == 0 {
		os.RemoveAll(msg.dir)
		return func() tea.Msg { return editorDoneMsg{err: fmt.Errorf("no editor command")} }
	}
	cmd := exec.Command(args[0], append(args[1:], msg.path)...)
	return tea.ExecProcess(cmd, func(err error) tea.Msg {
		data, rerr := os.ReadFile(msg.path)
		os.RemoveAll(msg.dir)
		if err == nil {
			err = rerr
		}
		return editorDoneMsg{path: msg.path, text: string(data), err: err}
	})
}

func (c *composePage) onEditorDone(msg editorDoneMsg) error {
	if msg.err != nil {
		return fmt.Errorf("the editor: %w", msg.err)
	}
	c.body.SetValue(strings.TrimRight(msg.text, "\n") + "\n")
	return nil
}

// draft is what the page holds as a message.Draft, or an error saying
// which field is wrong.
func (c *composePage) draft() (*message.Draft, error) {
	d := &message.Draft{From: c.from, Subject: c.fields[fieldSubject].Value(), Text: c.body.Value(),
		InReplyTo: c.inReplyTo, References: c.references, Attachments: c.attachments}
	for _, f := range []struct {
		i   int
		dst *[]*mail.Address
	}{{fieldTo, &d.To}, {fieldCc, &d.Cc}, {fieldBcc, &d.Bcc}} {
		v := strings.TrimSpace(c.fields[f.i].Value())
		if v == "" {
			continue
		}
		as, err := mail.ParseAddressList(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a list of addresses", fieldNames[f.i], v)
		}
		*f.dst = as
	}
	if d.From == nil {
		return nil, fmt.Errorf("you have no identity to send from: generate one on the keys page")
	}
	return d, nil
}

// send protects the message and delivers it to the outbox (or, as a
// draft, to the drafts folder). Encrypted mail is refused before any
// work when a recipient is known to have no key, naming them.
func (m *Model) send(asDraft bool) tea.Cmd {
	c := m.compose
	if c.sending {
		return nil
	}
	d, err := c.draft()
	if err != nil {
		m.setErr(err)
		return nil
	}
	if !asDraft && len(d.To)+len(d.Cc)+len(d.Bcc) == 0 {
		m.setErr(fmt.Errorf("no recipient: fill in To"))
		return nil
	}
	pol := securemail.Policy{Sign: c.sign, Encrypt: c.encrypt, Scheme: c.scheme, RequireEncryption: c.requireEnc}
	if !asDraft && pol.Encrypt {
		var without []string
		for _, a := range c.recipients() {
			switch st := c.status[c.statusKey(a)].State; {
			case st == keyNone, st == keyBogus, st == keyInsecure, st == keyBadAddress:
				without = append(without, a)
			case c.encMode == "always" && st == keyFailed:
				// The account must not send in the clear: a key that
				// could not be looked up is no key.
				without = append(without, a)
			}
		}
		if len(without) > 0 {
			m.setErr(fmt.Errorf("cannot send encrypted: no usable key for %s (remove them, or find their keys on the keys page)", strings.Join(without, ", ")))
			return nil
		}
	}
	if !asDraft && pol.RequireEncryption && !pol.Encrypt {
		m.setErr(securemail.ErrWouldLeak)
		return nil
	}
	c.sending = true
	folder, flags := m.cfg.Outbox, mailbox.Seen
	label := "sending"
	via := m.cfg.Transport != nil
	switch {
	case asDraft:
		folder, label, via = m.cfg.Drafts, "saving the draft", false
	case via:
		folder = m.cfg.Sent
	}
	b, ctx, replied, draftOf := m.b, m.ctx, c.replyTo, c.draftOf
	var run func(pw []byte) tea.Cmd
	run = func(pw []byte) tea.Cmd {
		return m.work(label, func() tea.Msg {
			req := sendRequest{draft: d, policy: pol, folder: folder, flags: flags, pw: pw}
			var id string
			var err error
			if asDraft {
				id, err = b.saveDraft(ctx, req)
			} else {
				req.answered = replied
				id, err = b.send(ctx, req)
			}
			var saveErr *transport.SaveError
			if errors.As(err, &saveErr) {
				err = nil // sent: only the copy is missing
			}
			if err == nil && draftOf != nil {
				// The draft is replaced by the new draft, or sent.
				_ = b.cfg.Mailbox.Delete(draftOf.folder, draftOf.id)
			}
			msg := sentMsg{folder: folder, id: id, draft: asDraft, policy: pol, replied: replied, err: err, retry: run, sent: via && err == nil}
			if saveErr != nil {
				msg.saveErr = saveErr.Err
			}
			return msg
		})
	}
	return run(m.pw)
}

func (m *Model) onSent(msg sentMsg) tea.Cmd {
	c := m.compose
	if c != nil {
		c.sending = false
	}
	if msg.err != nil {
		m.setErr(passphraseOr(msg.err, m, msg.retry))
		if c != nil && m.prompt != nil {
			c.sending = true // the retry sends
		}
		if c != nil && m.prompt == nil && !msg.draft {
			// The message stays on the compose page: nothing is lost.
			m.errText += " — not sent; the message is kept (ctrl+x tries again, ctrl+d saves a draft)"
		}
		return nil
	}
	what := "plain"
	switch {
	case msg.policy.Encrypt && msg.policy.Sign:
		what = "encrypted and signed"
	case msg.policy.Encrypt:
		what = "encrypted"
	case msg.policy.Sign:
		what = "signed"
	}
	if msg.draft {
		if msg.policy.Encrypt || msg.policy.RequireEncryption {
			m.note("draft saved, encrypted to you, in " + msg.folder)
		} else {
			m.note("draft saved in " + msg.folder)
		}
	} else if msg.sent {
		switch {
		case msg.saveErr != nil:
			m.setErr(fmt.Errorf("sent %s, but its copy could not be saved to %s: %w (do not send it again)", what, msg.folder, msg.saveErr))
		case msg.folder != "":
			m.note(fmt.Sprintf("sent %s; a copy is in %s", what, msg.folder))
		default:
			m.note(fmt.Sprintf("sent %s", what))
		}
	} else {
		m.note(fmt.Sprintf("sent %s: saved to %s (no transport is configured)", what, msg.folder))
	}
	if msg.replied != nil {
		if f, ok := m.lists[msg.replied.folder]; ok {
			if j, ok := f.index[msg.replied.id]; ok {
				f.rows[j].flags |= mailbox.Answered
			}
		}
	}
	back := pageMailbox
	if c != nil {
		back = c.back
	}
	m.compose = nil
	m.page = back
	return tea.Batch(m.reloadFolder(msg.folder), listFolders(m.cfg.Mailbox))
}

// render draws the compose page.
func (c *composePage) render(m *Model, width, height int) []string {
	t := m.theme
	label := func(s string) string { return t.bold.Render(t.fit(s+":", 10)) }
	out := []string{label("From") + t.clip(message.SafeLine(addressString(c.from)), width-10)}
	for i := range c.fields {
		out = append(out, label(fieldNames[i])+c.fields[i].View())
	}
	box := func(on bool) string {
		if on {
			return "[x]"
		}
		return "[ ]"
	}
	scheme := map[string]string{"": "auto", "pgp": "OpenPGP", "smime": "S/MIME"}[c.scheme]
	sec := fmt.Sprintf("%s sign (ctrl+s)  %s encrypt (ctrl+e)  scheme: %s (ctrl+t)", box(c.sign), box(c.encrypt), scheme)
	switch {
	case c.requireEnc:
		sec += "  · must stay encrypted (S26)"
	case c.encMode == "always":
		sec += "  · this account always encrypts"
	case c.encMode == "when-possible" && !c.encChosen:
		sec += "  · on when every recipient has a key"
	}
	out = append(out, label("Security")+t.clip(sec, width-10))
	rcpts := c.recipients()
	out = append(out, t.bold.Render("Keys of the recipients"))
	if len(rcpts) == 0 {
		out = append(out, t.dim.Render("  (no recipient yet)"))
	}
	for i, a := range rcpts {
		if i == 5 && len(rcpts) > 6 {
			out = append(out, t.dim.Render(fmt.Sprintf("  %s and %d more", t.ellipsis, len(rcpts)-5)))
			break
		}
		out = append(out, t.clip(c.statusLine(a, m), width))
	}
	att := "none (ctrl+a attaches a file)"
	if len(c.attachments) > 0 {
		var names []string
		for _, a := range c.attachments {
			names = append(names, fmt.Sprintf("%s (%s)", message.SafeFilename(a.Filename), humanSize(len(a.Data))))
		}
		att = strings.Join(names, ", ")
	}
	out = append(out, label("Attach")+t.clip(att, width-10))
	rule := t.rule + t.rule + " body "
	out = append(out, sgrFaint+rule+strings.Repeat(t.rule, max(width-ansi.StringWidth(rule), 0))+sgrReset)
	out = append(out, strings.Split(c.body.View(), "\n")...)
	return out
}

// statusLine words one recipient's key status.
func (c *composePage) statusLine(addr string, m *Model) string {
	t := m.theme
	ok, bad, warn := "✓", "✗", "!"
	if t.ascii {
		ok, bad, warn = "+", "x", "!"
	}
	st, known := c.status[c.statusKey(addr)]
	a := t.fit(message.SafeLine(addr), 28)
	if !known {
		return "  " + a + " " + t.dim.Render("…")
	}
	detail := message.SafeLine(st.Detail)
	switch st.State {
	case keyChecking:
		return "  " + a + " " + t.dim.Render("checking"+t.ellipsis)
	case keyInStore:
		s := fmt.Sprintf("%s %s key in your keystore %s", ok, schemeName(st.Scheme), detail)
		if st.Stale {
			s += " (from the DNS, past its TTL: looked up again when sending)"
		}
		return "  " + a + " " + t.good.Render(s)
	case keyFoundDNS:
		rr := "SMIMEA"
		if st.Scheme == "pgp" {
			rr = "OPENPGPKEY"
		}
		return "  " + a + " " + t.good.Render(fmt.Sprintf("%s found via %s (DNSSEC secure): %s %s", ok, rr, schemeName(st.Scheme), detail))
	case keyInsecure:
		return "  " + a + " " + t.warn.Render(fmt.Sprintf("%s not usable: %s", warn, detail))
	case keyBogus:
		return "  " + a + " " + t.bad.Render(fmt.Sprintf("%s BOGUS DNS answer (possibly forged): %s", bad, detail))
	case keyFailed:
		return "  " + a + " " + t.warn.Render(fmt.Sprintf("%s lookup failed: %s", warn, detail))
	case keyBadAddress:
		return "  " + a + " " + t.bad.Render(bad+" not an address")
	}
	s := bad + " no key found"
	if c.encrypt {
		s += ": cannot encrypt to them"
	}
	return "  " + a + " " + t.bad.Render(s)
}
