package tui

import (
	"fmt"
	"slices"

	tea "charm.land/bubbletea/v2"

	"github.com/securemail/securemail/mailbox"
)

// New mail: a mailbox that is a mailbox.Watcher (IMAP) reports changes to
// the first folder; the list is read again on new mail, an expunge or a
// reconnection.

// watchMsg is one event of the watch, or its end (ok false).
type watchMsg struct {
	folder string
	ch     <-chan mailbox.Event
	ev     mailbox.Event
	ok     bool
	err    error
	// started says the watch has begun (ch is set, ev is empty).
	started bool
}

// startWatch subscribes to the changes of folder when the mailbox can
// report them; nil otherwise. The watch ends with m.ctx.
func (m *Model) startWatch(folder string) tea.Cmd {
	w, ok := m.cfg.Mailbox.(mailbox.Watcher)
	if !ok {
		return nil
	}
	ctx := m.ctx
	return func() tea.Msg {
		ch, err := w.Watch(ctx, folder)
		if err != nil {
			return watchMsg{folder: folder, err: err}
		}
		return watchMsg{folder: folder, ch: ch, started: true}
	}
}

// nextEvent waits for the next event of a watch.
func nextEvent(folder string, ch <-chan mailbox.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		return watchMsg{folder: folder, ch: ch, ev: ev, ok: ok}
	}
}

func (m *Model) onWatch(msg watchMsg) tea.Cmd {
	if msg.err != nil {
		if m.ctx.Err() == nil {
			m.setErr(fmt.Errorf("no new-mail notifications for %s: %w", msg.folder, msg.err))
		}
		return nil
	}
	next := nextEvent(msg.folder, msg.ch)
	if msg.started {
		m.watching, m.watchCh = msg.folder, msg.ch
		return next
	}
	if msg.ch != m.watchCh {
		// A watch of the account switched away from: it ends with its
		// context; drain it.
		if msg.ok {
			return next
		}
		return nil
	}
	if !msg.ok {
		m.watching, m.watchCh = "", nil
		return nil // the watch ended (the mailbox closed, or the account changed)
	}
	switch msg.ev.Kind {
	case mailbox.EventNew, mailbox.EventExpunged, mailbox.EventReconnected:
		return tea.Batch(next, m.reloadFolder(msg.folder))
	case mailbox.EventError:
		if msg.ev.Err != nil {
			m.setErr(msg.ev.Err)
		}
	}
	return next
}

// Accounts.

// switchedMsg carries the configuration of the account switched to.
type switchedMsg struct {
	name string
	cfg  Config
	err  error
}

// nextAccount opens the account after the current one (A).
func (m *Model) nextAccount() tea.Cmd {
	if m.cfg.Switch == nil || len(m.cfg.Accounts) < 2 {
		m.note("there is no other account (add one with 'securemail account add')")
		return nil
	}
	i := slices.Index(m.cfg.Accounts, m.cfg.Account)
	name := m.cfg.Accounts[(i+1)%len(m.cfg.Accounts)]
	open := m.cfg.Switch
	return m.work("opening account "+name, func() tea.Msg {
		cfg, err := open(name)
		return switchedMsg{name: name, cfg: cfg, err: err}
	})
}

// onSwitched replaces the model by one on the new account, keeping the
// window size and the passphrase typed.
func (m *Model) onSwitched(msg switchedMsg) (tea.Model, tea.Cmd) {
	if msg.err != nil {
		m.setErr(fmt.Errorf("account %s: %w", msg.name, msg.err))
		return m, nil
	}
	c := msg.cfg
	if c.Switch == nil {
		c.Switch, c.Accounts = m.cfg.Switch, m.cfg.Accounts
	}
	if c.Account == "" {
		c.Account = msg.name
	}
	nm, err := New(c)
	if err != nil {
		m.setErr(fmt.Errorf("account %s: %w", msg.name, err))
		return m, nil
	}
	m.stop()
	// The old model's work may still report: its generations and busy
	// ids must not be mistaken for the new model's.
	nm.gen, nm.busyNext = m.gen, m.busyNext
	nm.pw = m.pw
	nm.note("account " + c.Account)
	w, h := m.width, m.height
	return nm, tea.Batch(nm.Init(), func() tea.Msg { return tea.WindowSizeMsg{Width: w, Height: h} })
}

// stop ends the model's background work (the watch).
func (m *Model) stop() {
	if m.cancel != nil {
		m.cancel()
	}
}
