package tui

import (
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// prompt is a one-line question on the message line: a path, an
// address, a passphrase.
type prompt struct {
	label  string
	input  textinput.Model
	secret bool
	done   func(value string) tea.Cmd
}

func (p *prompt) view() string {
	return p.label + ": " + p.input.View()
}

// ask shows a prompt; done runs with the answer on enter.
func (m *Model) ask(label, value string, secret bool, done func(string) tea.Cmd) {
	in := textinput.New()
	in.Prompt = ""
	in.SetValue(value)
	in.CursorEnd()
	in.SetWidth(max(m.width-len(label)-4, 10))
	if secret {
		in.EchoMode = textinput.EchoPassword
		in.EchoCharacter = '*'
	}
	in.Focus()
	m.prompt = &prompt{label: label, input: in, secret: secret, done: done}
}

// askPassphrase asks for a passphrase, keeps it for the session and runs
// retry with it.
func (m *Model) askPassphrase(label string, retry func(pw []byte) tea.Cmd) {
	m.ask(label, "", true, func(v string) tea.Cmd {
		if v == "" {
			m.note("no passphrase given: nothing done")
			return nil
		}
		m.pw = []byte(v)
		if retry == nil {
			return nil
		}
		return retry(m.pw)
	})
}

func (m *Model) promptKey(k tea.KeyPressMsg) tea.Cmd {
	p := m.prompt
	switch k.String() {
	case "esc":
		m.prompt = nil
		return nil
	case "enter":
		m.prompt = nil
		return p.done(p.input.Value())
	}
	var cmd tea.Cmd
	p.input, cmd = p.input.Update(k)
	return cmd
}

// expandHome turns a leading ~/ into the home directory.
func expandHome(path string) string {
	if path == "~" || strings.HasPrefix(path, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, strings.TrimPrefix(path, "~"))
		}
	}
	return path
}
