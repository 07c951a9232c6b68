package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/spinner"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/securemail/securemail"
	"github.com/securemail/securemail/keystore"
	"github.com/securemail/securemail/mailbox"
	"github.com/securemail/securemail/message"
	"github.com/securemail/securemail/transport"
)

// page is what fills the screen between the top bar and the status line.
type page uint8

const (
	pageMailbox page = iota
	pageMessage
	pageCompose
	pageKeys
)

var pageNames = [...]string{"Mailbox", "Message", "Compose", "Keys"}

// busyDelay is how long work may take before a spinner shows.
const busyDelay = 200 * time.Millisecond

// Model is the TUI: a bubbletea model. Create it with New.
type Model struct {
	b     *backend
	cfg   Config
	theme *theme
	// ctx ends the model's background work (the new-mail watch): cancel
	// when the account is switched away from.
	ctx    context.Context
	cancel context.CancelFunc
	// watching is the folder whose changes are reported, "" for none.
	watching string
	watchCh  <-chan mailbox.Event

	width, height int
	page          page
	help          bool
	helpOffset    int

	errText  string // the error line
	infoText string // or, when there is no error, information

	// busy counts the work under way, each with a label; the spinner
	// shows once the oldest is older than busyDelay.
	busy       map[int]busyItem
	busyNext   int
	spin       spinner.Model
	spinning   bool
	spinShown  bool
	busySerial int

	folders      []string
	folderCur    int
	focusFolders bool
	lists        map[string]*folderList
	cur          *folderList
	gen          uint64
	filtering    bool
	filterInput  textinput.Model

	msg     *messagePage
	compose *composePage
	keys    *keysPage

	prompt *prompt

	// pw is a passphrase the user typed, kept in memory for the session
	// and handed to the commands that need it.
	pw []byte
}

type busyItem struct {
	label string
	since time.Time
}

// New makes the TUI's model over cfg.
func New(cfg Config) (*Model, error) {
	if cfg.Mailbox == nil {
		return nil, errors.New("tui: no mailbox")
	}
	if cfg.Store == nil {
		return nil, errors.New("tui: no keystore")
	}
	if cfg.Outbox == "" {
		cfg.Outbox = "Outbox"
	}
	if cfg.Drafts == "" {
		cfg.Drafts = "Drafts"
	}
	if cfg.Folder == "" {
		cfg.Folder = "INBOX"
	}
	m := &Model{
		b:     newBackend(cfg),
		cfg:   cfg,
		theme: newTheme(cfg.ASCII),
		busy:  map[int]busyItem{},
		lists: map[string]*folderList{},
		width: 80, height: 24,
	}
	sp := spinner.Line
	if !cfg.ASCII {
		sp = spinner.Dot
	}
	m.spin = spinner.New(spinner.WithSpinner(sp))
	m.filterInput = textinput.New()
	m.filterInput.Prompt = "/"
	m.filterInput.Placeholder = "from or subject"
	m.folders = []string{cfg.Folder}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

func (m *Model) now() time.Time {
	if m.cfg.Now != nil {
		return m.cfg.Now()
	}
	return time.Now()
}

// Init lists the folders and the first folder.
func (m *Model) Init() tea.Cmd {
	return tea.Batch(listFolders(m.cfg.Mailbox), m.openFolder(m.cfg.Folder), m.startWatch(m.cfg.Folder))
}

// openFolder shows a folder, listing it the first time.
func (m *Model) openFolder(name string) tea.Cmd {
	if f, ok := m.lists[name]; ok {
		m.cur = f
		return m.ensureWindow()
	}
	m.gen++
	f := newFolderList(name, m.gen)
	m.lists[name] = f
	m.cur = f
	return m.work("listing "+name, scanCmd(m.cfg.Mailbox, name, f.gen))
}

// reloadFolder lists a folder again (after a delivery, or on request).
func (m *Model) reloadFolder(name string) tea.Cmd {
	f, ok := m.lists[name]
	if !ok {
		return nil
	}
	m.gen++
	f.gen = m.gen
	return m.work("listing "+name, scanCmd(m.cfg.Mailbox, name, f.gen))
}

// work wraps a command as work under way: the spinner shows if it takes
// longer than busyDelay.
func (m *Model) work(label string, cmd tea.Cmd) tea.Cmd {
	id := m.busyNext
	m.busyNext++
	m.busy[id] = busyItem{label: label, since: m.now()}
	done := func() tea.Msg { return doneMsg{id: id, msg: cmd()} }
	serial := m.busySerial
	return tea.Batch(done, tea.Tick(busyDelay, func(time.Time) tea.Msg { return busyCheckMsg{serial} }))
}

// Internal messages.
type (
	doneMsg struct {
		id  int
		msg tea.Msg
	}
	busyCheckMsg struct{ serial int }
	errMsg       struct{ err error }
	infoMsg      struct{ text string }
)

// Update handles a message.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = max(msg.Width, 20), max(msg.Height, 8)
		if m.msg != nil {
			m.msg.layout(m)
		}
		if m.compose != nil {
			m.compose.resize(m)
		}
		return m, m.ensureWindow()
	case doneMsg:
		delete(m.busy, msg.id)
		if len(m.busy) == 0 {
			m.spinShown = false
		}
		if msg.msg == nil {
			return m, nil
		}
		return m.Update(msg.msg)
	case busyCheckMsg:
		if len(m.busy) > 0 && !m.spinning {
			m.spinning, m.spinShown = true, true
			return m, m.spin.Tick
		}
		if len(m.busy) > 0 {
			m.spinShown = true
		}
		return m, nil
	case spinner.TickMsg:
		if len(m.busy) == 0 {
			m.spinning = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case errMsg:
		m.setErr(msg.err)
		return m, nil
	case infoMsg:
		m.note(msg.text)
		return m, nil
	case foldersMsg:
		if msg.err != nil {
			m.setErr(msg.err)
			return m, nil
		}
		m.folders = msg.names
		for i, n := range m.folders {
			if m.cur != nil && n == m.cur.name {
				m.folderCur = i
			}
		}
		return m, nil
	case scannedMsg:
		return m, m.onScanned(msg)
	case headersMsg:
		return m, m.onHeaders(msg)
	case filteredMsg:
		return m, m.onFiltered(msg)
	case checkedMsg:
		m.onChecked(msg)
		return m, m.nextCheck()
	case openedMsg:
		return m, m.onOpened(msg)
	case watchMsg:
		return m, m.onWatch(msg)
	case switchedMsg:
		return m.onSwitched(msg)
	case tea.KeyPressMsg:
		return m, m.onKey(msg)
	case tea.MouseWheelMsg:
		return m, m.onWheel(msg)
	case tea.PasteMsg:
		return m, m.forward(msg)
	}
	if cmd, ok := m.pageMsg(msg); ok {
		return m, cmd
	}
	return m, m.forward(msg)
}

// setErr shows an error on the error line, in words.
func (m *Model) setErr(err error) {
	if err == nil {
		return
	}
	m.note("")
	m.errText = message.SafeLine(strings.TrimPrefix(humanError(err), "securemail: "))
}

// humanError words the errors people meet.
func humanError(err error) string {
	var missing *securemail.MissingKeysError
	var bogus *securemail.BogusError
	var refused *transport.RecipientError
	switch {
	case errors.As(err, &refused):
		var who []string
		for _, r := range refused.Rejected {
			who = append(who, r.Address+" ("+r.Reply.String()+")")
		}
		return "the server refused " + strings.Join(who, ", ") + ": sent to nobody"
	case errors.As(err, &missing):
		return fmt.Sprintf("cannot send encrypted: no %s key for %s", schemeName(missing.Scheme), strings.Join(missing.Addresses, ", "))
	case errors.As(err, &bogus):
		return "the DNS answer for " + bogus.Lookup.Address + " failed DNSSEC validation (possibly forged): nothing was sent"
	case errors.Is(err, securemail.ErrWouldLeak):
		return "this message quotes encrypted mail: it must be sent encrypted (S26)"
	case errors.Is(err, keystore.ErrWrongPassphrase):
		return "wrong passphrase"
	}
	return err.Error()
}

// onKey routes a key press: a prompt or the help overlay first, then the
// page.
func (m *Model) onKey(k tea.KeyPressMsg) tea.Cmd {
	if k.String() == "ctrl+c" {
		return tea.Quit
	}
	if m.prompt != nil {
		return m.promptKey(k)
	}
	if m.help {
		switch k.String() {
		case "j", "down":
			m.helpOffset++
		case "k", "up":
			m.helpOffset = max(m.helpOffset-1, 0)
		default:
			m.help = false
		}
		return nil
	}
	typing := m.filtering || (m.page == pageCompose && m.compose != nil && m.compose.typing())
	if !typing && (k.String() == "?" || k.String() == "f1") {
		m.help, m.helpOffset = true, 0
		return nil
	}
	if !typing {
		m.note("")
	}
	switch m.page {
	case pageMessage:
		return m.messageKey(k)
	case pageCompose:
		return m.composeKey(k)
	case pageKeys:
		return m.keysKey(k)
	}
	return m.mailboxKey(k)
}

// onWheel scrolls what is under the pointer's page.
func (m *Model) onWheel(w tea.MouseWheelMsg) tea.Cmd {
	delta := 0
	switch w.Mouse().Button {
	case tea.MouseWheelUp:
		delta = -3
	case tea.MouseWheelDown:
		delta = 3
	default:
		return nil
	}
	switch m.page {
	case pageMessage:
		if m.msg != nil {
			m.msg.scroll(delta, m)
		}
	case pageKeys:
		if m.keys != nil {
			m.keys.move(delta)
		}
	case pageMailbox:
		if m.cur != nil {
			m.cur.move(delta)
			m.cur.scrollTo(m.listHeight())
			return m.ensureWindow()
		}
	}
	return nil
}

// forward hands a message to the widget that has focus.
func (m *Model) forward(msg tea.Msg) tea.Cmd {
	if m.prompt != nil {
		var cmd tea.Cmd
		m.prompt.input, cmd = m.prompt.input.Update(msg)
		return cmd
	}
	if m.filtering {
		return m.filterUpdate(msg)
	}
	if m.page == pageCompose && m.compose != nil {
		return m.compose.update(msg)
	}
	return nil
}

// pageMsg hands the pages their own messages.
func (m *Model) pageMsg(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case sentMsg:
		return m.onSent(msg), true
	case keyStatusMsg:
		if m.compose != nil {
			m.compose.onKeyStatus(msg)
		}
		return nil, true
	case keyStatusTick:
		if m.compose != nil {
			return m.compose.onTick(msg, m), true
		}
		return nil, true
	case editorReadyMsg:
		return runEditor(msg), true
	case editorDoneMsg:
		if m.compose != nil {
			m.setErr(m.compose.onEditorDone(msg))
		}
		return nil, true
	case attachedMsg:
		if msg.err != nil {
			m.setErr(msg.err)
		} else if m.compose != nil {
			m.compose.attachments = append(m.compose.attachments, msg.att)
			m.note("attached " + message.SafeLine(msg.att.Filename))
		}
		return nil, true
	case savedMsg:
		if msg.err != nil {
			m.setErr(passphraseOr(msg.err, m, func(pw []byte) tea.Cmd { return msg.retry(pw) }))
		} else {
			m.note("saved to " + message.SafeLine(msg.path) + " (not opened)")
		}
		return nil, true
	case entriesMsg, importedMsg, generatedMsg, lookedUpMsg, rememberedMsg:
		if m.keys == nil {
			m.keys = newKeysPage()
		}
		return m.keys.onMsg(msg, m), true
	}
	return nil, false
}

// passphraseOr asks for a passphrase when err says one is needed (and
// returns nil), else returns err.
func passphraseOr(err error, m *Model, retry func(pw []byte) tea.Cmd) error {
	var need *needPassphraseError
	switch {
	case errors.As(err, &need):
		m.askPassphrase("Passphrase for key "+need.Fingerprint, retry)
		return nil
	case errors.Is(err, keystore.ErrWrongPassphrase) && retry != nil:
		m.pw = nil
		m.askPassphrase("Wrong passphrase. Passphrase", retry)
		return nil
	}
	return err
}

// View draws the screen.
func (m *Model) View() tea.View {
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion
	v.WindowTitle = "securemail"
	if m.cfg.Title != "" {
		v.WindowTitle += " · " + m.cfg.Title
	}
	return v
}

// render is the screen's text: exactly height lines of at most width
// cells.
func (m *Model) render() string {
	t := m.theme
	bodyH := m.height - 3
	var body []string
	switch {
	case m.help:
		body = m.renderHelp(m.width, bodyH)
	case m.page == pageMessage && m.msg != nil:
		body = m.msg.render(m, m.width, bodyH)
	case m.page == pageCompose && m.compose != nil:
		body = m.compose.render(m, m.width, bodyH)
	case m.page == pageKeys && m.keys != nil:
		body = m.keys.render(m, m.width, bodyH)
	default:
		body = m.renderMailbox(m.width, bodyH)
	}
	lines := make([]string, 0, m.height)
	lines = append(lines, m.topBar())
	for i := range bodyH {
		if i < len(body) {
			lines = append(lines, body[i])
		} else {
			lines = append(lines, "")
		}
	}
	lines = append(lines, m.messageLine(), m.hintLine())
	for i, l := range lines {
		if ansi.StringWidth(l) > m.width {
			l = ansi.Truncate(l, m.width, t.ellipsis)
		}
		if t.ascii {
			l = asciiOnly(l)
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}

func (m *Model) topBar() string {
	t := m.theme
	s := " securemail"
	if m.cfg.Title != "" {
		s += " · " + m.cfg.Title
	}
	s += " │ " + pageNames[m.page]
	if t.ascii {
		s = strings.ReplaceAll(s, "│", "|")
	}
	if m.page == pageMailbox && m.cur != nil {
		s += " " + t.rule + " " + message.SafeLine(m.cur.name) + " " + t.rule + " " + m.cur.status()
	}
	if t.ascii {
		s = strings.NewReplacer("…", "...", "↓", "v", "↑", "^", "·", "-").Replace(s)
	}
	return sgrReverse + t.fit(s, m.width) + sgrReset
}

// messageLine is the error line, a prompt, or information.
func (m *Model) messageLine() string {
	t := m.theme
	switch {
	case m.prompt != nil:
		return t.clip(m.prompt.view(), m.width)
	case m.filtering:
		return t.clip(m.filterInput.View(), m.width)
	case m.errText != "":
		return t.bad.Render(t.clip("error: "+m.errText, m.width))
	case m.infoText != "":
		return t.clip(m.infoText, m.width)
	}
	return ""
}

// hintLine shows the main keys of the page, and the spinner.
func (m *Model) hintLine() string {
	t := m.theme
	var hints string
	switch {
	case m.prompt != nil:
		hints = "enter ok · esc cancel"
	case m.help:
		hints = "j k scroll · any other key closes the help"
	case m.page == pageMessage:
		hints = "r reply · R all · f forward · s save attachment · i report · esc back · ? help"
		if m.msg != nil && m.msg.folder == m.cfg.Drafts {
			hints = "e edit the draft · " + hints
		}
	case m.page == pageCompose:
		hints = "tab next field · ctrl+e encrypt · ctrl+s sign · ctrl+t scheme · ctrl+x send · ctrl+d draft · esc cancel · ? help"
		if m.compose != nil && m.compose.typing() {
			hints = "tab next field · ctrl+e encrypt · ctrl+s sign · ctrl+t scheme · ctrl+o $EDITOR · ctrl+x send · esc leave field"
		}
	case m.page == pageKeys:
		hints = "i import · g generate · l look up in DNS · p pin · esc back · ? help"
	default:
		hints = "enter open · m compose · / filter · s sort · K keys · tab folders · q quit · ? help"
	}
	if len(m.busy) > 0 && m.spinShown {
		label := ""
		for _, it := range m.busy {
			label = it.label
			break
		}
		spin := m.spin.View()
		if t.ascii {
			spin = "*"
		}
		hints = spin + " " + label + " · " + hints
	}
	if t.ascii {
		hints = strings.ReplaceAll(hints, "·", "|")
	}
	return t.dim.Render(t.clip(hints, m.width))
}

// Mailbox page.

// listHeight is how many rows of messages fit on the mailbox page.
func (m *Model) listHeight() int {
	return max(m.height-3-1, 1) // bar, message line, hint line; the list's header row
}

func (m *Model) folderWidth() int {
	w := 8
	for _, f := range m.folders {
		w = max(w, ansi.StringWidth(message.SafeLine(f))+3)
	}
	return min(w, max(m.width/4, 10))
}

func (m *Model) renderMailbox(width, height int) []string {
	t := m.theme
	fw := m.folderWidth()
	sep := "│"
	if t.ascii {
		sep = "|"
	}
	listW := max(width-fw-1, 10)
	list := m.renderList(m.cur, listW, height, !m.focusFolders)
	out := make([]string, height)
	for i := range height {
		left := ""
		if i < len(m.folders) {
			name := message.SafeLine(m.folders[i])
			marker := " "
			if m.cur != nil && m.folders[i] == m.cur.name {
				marker = "•"
				if t.ascii {
					marker = "*"
				}
			}
			left = t.fit(marker+name, fw)
			if m.focusFolders && i == m.folderCur {
				left = sgrReverse + left + sgrReset
			}
		} else {
			left = strings.Repeat(" ", fw)
		}
		right := ""
		if i < len(list) {
			right = list[i]
		}
		out[i] = left + sgrFaint + sep + sgrReset + right
	}
	return out
}

func (m *Model) mailboxKey(k tea.KeyPressMsg) tea.Cmd {
	if m.filtering {
		return m.filterKey(k)
	}
	f := m.cur
	h := m.listHeight()
	key := k.String()
	if m.focusFolders {
		switch key {
		case "j", "down":
			m.folderCur = min(m.folderCur+1, len(m.folders)-1)
			return nil
		case "k", "up":
			m.folderCur = max(m.folderCur-1, 0)
			return nil
		case "enter", "l", "right", "space":
			m.focusFolders = false
			if m.folderCur < len(m.folders) {
				return m.openFolder(m.folders[m.folderCur])
			}
			return nil
		case "tab", "esc":
			m.focusFolders = false
			return nil
		case "q":
			return tea.Quit
		}
		return m.globalKey(key)
	}
	switch key {
	case "j", "down":
		f.move(1)
	case "k", "up":
		f.move(-1)
	case "pgdown", "ctrl+f", "space":
		f.move(h)
	case "pgup", "ctrl+b":
		f.move(-h)
	case "ctrl+d":
		f.move(h / 2)
	case "ctrl+u":
		f.move(-h / 2)
	case "g", "home":
		f.move(-len(f.order))
	case "G", "end":
		f.move(len(f.order))
	case "enter", "l", "right":
		if r := f.selected(); r != nil {
			return m.openMessage(f.name, r.id)
		}
		return nil
	case "/":
		m.filtering = true
		m.filterInput.SetValue(f.filter)
		m.filterInput.CursorEnd()
		return m.filterInput.Focus()
	case "esc":
		if f.filter != "" {
			keep := f.selectedID()
			f.filter = ""
			f.rebuild(keep)
		}
	case "s":
		keep := f.selectedID()
		f.sort = (f.sort + 1) % sortKey(len(sortNames))
		f.desc = f.sort == sortArrival || f.sort == sortDate
		f.rebuild(keep)
		if f.sort != sortArrival && f.loaded < len(f.rows) {
			m.note("sorting what is read so far; the list is sorted again once every header is read")
		}
	case "S":
		keep := f.selectedID()
		f.desc = !f.desc
		f.rebuild(keep)
	case "tab", "h", "left":
		m.focusFolders = true
		return nil
	case "ctrl+r", "$":
		return m.reloadFolder(f.name)
	case "q":
		return tea.Quit
	default:
		return m.globalKey(key)
	}
	f.scrollTo(h)
	return m.ensureWindow()
}

// globalKey handles the keys every page but compose knows.
func (m *Model) globalKey(key string) tea.Cmd {
	switch key {
	case "m", "c":
		return m.startCompose(nil, securemail.Policy{}, nil)
	case "K":
		return m.showKeys()
	case "M":
		m.page = pageMailbox
	case "A":
		return m.nextAccount()
	}
	return nil
}

// Filter.

func (m *Model) filterKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "enter":
		m.filtering = false
		m.filterInput.Blur()
		return nil
	case "esc":
		m.filtering = false
		m.filterInput.Blur()
		if m.cur != nil && m.cur.filter != "" {
			keep := m.cur.selectedID()
			m.cur.filter = ""
			m.cur.rebuild(keep)
		}
		return m.ensureWindow()
	}
	return m.filterUpdate(k)
}

func (m *Model) filterUpdate(msg tea.Msg) tea.Cmd {
	var cmd tea.Cmd
	m.filterInput, cmd = m.filterInput.Update(msg)
	if f := m.cur; f != nil && f.filter != m.filterInput.Value() {
		f.filter = m.filterInput.Value()
		if len(f.rows) > syncFilterRows {
			return tea.Batch(cmd, f.filterCmd())
		}
		f.refilter(f.selectedID())
		f.scrollTo(m.listHeight())
		return tea.Batch(cmd, m.ensureWindow())
	}
	return cmd
}

// syncFilterRows is the largest folder filtered inside Update; a larger
// one is filtered by a command (30-60 ms for 100,000 rows), so that
// typing stays responsive.
const syncFilterRows = 20_000

// onFiltered installs a filter's result if it is still the one wanted.
func (m *Model) onFiltered(msg filteredMsg) tea.Cmd {
	f, ok := m.lists[msg.folder]
	if !ok || f.gen != msg.gen || f.version != msg.version || strings.ToLower(f.filter) != msg.needle {
		return nil
	}
	keep := f.selectedID()
	f.order = msg.order
	if !msg.narrowed {
		f.sortOrder()
	}
	f.shown, f.shownVersion = msg.needle, msg.version
	f.place(keep)
	f.scrollTo(m.listHeight())
	return m.ensureWindow()
}

// Folder loading.

func (m *Model) onScanned(msg scannedMsg) tea.Cmd {
	f, ok := m.lists[msg.folder]
	if !ok || f.gen != msg.gen {
		return nil
	}
	if msg.err != nil {
		f.err = msg.err
		f.scanned = true
		m.setErr(msg.err)
		return nil
	}
	f.setRows(msg.rows)
	f.scrollTo(m.listHeight())
	// The rows on screen first; the rest once they are there.
	return m.ensureWindow()
}

func (m *Model) onHeaders(msg headersMsg) tea.Cmd {
	f, ok := m.lists[msg.folder]
	if !ok || f.gen != msg.gen {
		if msg.stream != nil {
			return msg.stream.cancelCmd()
		}
		return nil
	}
	if msg.err != nil {
		m.setErr(msg.err)
	}
	f.apply(msg.headers)
	var cmds []tea.Cmd
	if msg.window {
		f.windowBusy = false
		if !f.streamDone && !f.streaming {
			f.streaming = true
			s := newHeaderStream(m.cfg.Mailbox, f.name)
			cmds = append(cmds, s.batchCmd(f.name, f.gen))
		}
	} else {
		if msg.stream != nil {
			cmds = append(cmds, msg.stream.batchCmd(f.name, f.gen))
		} else {
			f.streamDone, f.streaming = true, false
		}
		if f.filter != "" || f.sort != sortArrival {
			if f.streamDone || f.sort == sortArrival {
				keep := f.selectedID()
				f.rebuild(keep)
				f.scrollTo(m.listHeight())
			}
		}
	}
	cmds = append(cmds, m.ensureWindow(), m.nextCheck())
	return tea.Batch(cmds...)
}

// ensureWindow reads the header fields of the rows on screen that are
// not read yet.
func (m *Model) ensureWindow() tea.Cmd {
	f := m.cur
	if f == nil || !f.scanned || f.windowBusy || m.page != pageMailbox {
		return nil
	}
	lo, hi, ok := f.unloadedWindow(m.listHeight())
	if !ok {
		if !f.streamDone && !f.streaming && len(f.rows) > 0 {
			f.streaming = true
			s := newHeaderStream(m.cfg.Mailbox, f.name)
			return s.batchCmd(f.name, f.gen)
		}
		return m.nextCheck()
	}
	f.windowBusy = true
	return m.work("reading "+f.name, windowCmd(m.cfg.Mailbox, f.name, f.gen, lo, hi-lo+1))
}

// Opening a message.

type openedMsg struct {
	folder, id string
	o          *opened
	sources    map[string]keySource
	err        error
	retry      func(pw []byte) tea.Cmd
}

// openMessage reads and opens a message, then shows it.
func (m *Model) openMessage(folder, id string) tea.Cmd {
	m.page = pageMessage
	m.msg = &messagePage{folder: folder, id: id, loading: true}
	b, ctx, pw := m.b, m.ctx, m.pw
	var run func(pw []byte) tea.Cmd
	run = func(pw []byte) tea.Cmd {
		return m.work("opening the message", func() tea.Msg {
			o, err := b.open(ctx, folder, id, pw)
			if err != nil {
				return openedMsg{folder: folder, id: id, err: err, retry: run}
			}
			b.setFlags(folder, id, mailbox.Seen)
			return openedMsg{folder: folder, id: id, o: o, sources: b.sourcesOf(o.report)}
		})
	}
	return run(pw)
}

func (m *Model) onOpened(msg openedMsg) tea.Cmd {
	if m.msg == nil || m.msg.folder != msg.folder || m.msg.id != msg.id {
		return nil
	}
	if msg.err != nil {
		if err := passphraseOr(msg.err, m, msg.retry); err != nil {
			m.msg.loading = false
			m.msg.err = err
			m.setErr(err)
		}
		return nil
	}
	m.msg.set(msg.o, msg.sources, m)
	if f, ok := m.lists[msg.folder]; ok {
		if j, ok := f.index[msg.id]; ok {
			r := &f.rows[j]
			r.flags |= mailbox.Seen
			r.isNew = false
			r.badge, r.checked = badgesOf(msg.o), true
			if s := protectedSubject(msg.o); s != "" {
				r.subject = s
			}
		}
	}
	return nil
}

// badgesOf turns a verdict into the list's badges.
func badgesOf(o *opened) badges {
	var bd badges
	rep := o.report
	switch {
	case rep.Encryption.Kind == "none":
	case rep.Encryption.OK && (rep.Encryption.Integrity || !rep.Failed()):
		bd.enc = encOK
	default:
		bd.enc = encBad
	}
	for _, s := range rep.Signatures {
		st := sigValid
		switch {
		case s.Valid && s.CoversRoot && s.MatchesFrom:
		case !s.MatchesFrom && len(s.Emails) > 0 && rep.From != "":
			st = sigNotSender
		default:
			st = sigBad
		}
		if bd.sig == sigNone || st > bd.sig {
			bd.sig = st
		}
	}
	if o.auth != nil {
		switch o.auth.DMARC.Result.String() {
		case "pass":
			bd.dmarc = dmarcPass
		case "none":
			bd.dmarc = dmarcNone
		default:
			bd.dmarc = dmarcFail
			if o.auth.Temporary() {
				bd.dmarc = dmarcUnknown
			}
		}
	}
	return bd
}

// Background checks of the rows on screen.

type checkedMsg struct {
	folder, id string
	badge      badges
	ok         bool
	subject    string // the protected Subject of an encrypted message (RFC 9788)
}

// nextCheck checks the verdict of the next row on screen whose badges
// are only a hint, one at a time, without asking for a passphrase.
func (m *Model) nextCheck() tea.Cmd {
	f := m.cur
	if m.cfg.NoVerifyList || f == nil || f.checking || m.page != pageMailbox {
		return nil
	}
	r := f.nextToCheck(m.listHeight())
	if r == nil {
		return nil
	}
	r.pending, f.checking = true, true
	b, ctx, folder, id := m.b, m.ctx, f.name, r.id
	return func() tea.Msg {
		o, err := b.check(ctx, folder, id)
		if err != nil {
			return checkedMsg{folder: folder, id: id}
		}
		return checkedMsg{folder: folder, id: id, badge: badgesOf(o), ok: true, subject: protectedSubject(o)}
	}
}

func (m *Model) onChecked(msg checkedMsg) {
	f, ok := m.lists[msg.folder]
	if !ok {
		return
	}
	f.checking = false
	j, ok := f.index[msg.id]
	if !ok {
		return
	}
	r := &f.rows[j]
	r.pending, r.checked = false, true
	if msg.ok {
		r.badge = msg.badge
	}
	if msg.subject != "" {
		f.version++
		r.subject = msg.subject
		r.search += "\x00" + strings.ToLower(r.subject)
	}
}

// protectedSubject is the Subject an encrypted message carries inside
// (the outside shows "...", RFC 9788), for its row.
func protectedSubject(o *opened) string {
	if o.report.Encryption.Kind == "none" || !o.report.Encryption.OK {
		return ""
	}
	for _, h := range o.view.Headers {
		if h.Name == "Subject" {
			return message.SafeLine(h.Value)
		}
	}
	return ""
}

// note shows information on the message line, replacing any error.
func (m *Model) note(text string) {
	m.errText, m.infoText = "", text
}

// asciiGlyphs are the ASCII stand-ins of the typographic characters the
// pages use in their own text.
var asciiGlyphs = strings.NewReplacer("·", "-", "…", "~", "─", "-", "│", "|", "✓", "+", "✗", "x", "≠", "!",
	"↓", "v", "↑", "^", "—", "-", "•", "*", "▶", ">", "╭", "+", "╮", "+", "╰", "+", "╯", "+", "⚠", "!")

// asciiOnly replaces every character outside ASCII by "?". A terminal
// that is not UTF-8 would read the bytes of a UTF-8 character one by one,
// and some of them (0x9B, CSI) as C1 controls: the text from a message
// must not reach it as UTF-8 (S25).
func asciiOnly(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			s = asciiGlyphs.Replace(s)
			var b strings.Builder
			for _, r := range s {
				if r >= 0x80 {
					b.WriteString(strings.Repeat("?", max(ansi.StringWidth(string(r)), 1)))
					continue
				}
				b.WriteRune(r)
			}
			return b.String()
		}
	}
	return s
}
