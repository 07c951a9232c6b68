package mailbox

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
)

// The changes made while the IMAP server cannot be reached are queued and
// replayed, in order, by the next connection, before anything else is sent.
// With a cache directory the queue is on disk (queue/NNNN.json, and
// NNNN.eml for a delivery; written to a temporary file, synced, renamed),
// so that it survives the program. A change whose folder was replaced
// meanwhile (another UIDVALIDITY) is dropped, not applied to whatever
// message now has its UID; see [IMAP.ReplayErrors].

const (
	opFlags   = "flags"
	opMove    = "move"
	opDelete  = "delete"
	opDeliver = "deliver"
)

// queuedOp is one queued change.
type queuedOp struct {
	Seq         uint64 `json:"seq"`
	Op          string `json:"op"`
	Folder      string `json:"folder"`
	UIDValidity uint32 `json:"uidvalidity,omitempty"`
	UID         uint32 `json:"uid,omitempty"`
	Set         Flags  `json:"set,omitempty"`
	Clear       Flags  `json:"clear,omitempty"`
	Dest        string `json:"dest,omitempty"`
	Flags       Flags  `json:"flags,omitempty"`
	Time        int64  `json:"time"`

	body []byte // a delivery's message, when the queue is in memory
}

// imapQueue is the queue of one account.
type imapQueue struct {
	dir  string // "" in memory
	mu   sync.Mutex
	ops  []*queuedOp
	next uint64
	errs []error // replays that failed for good, for ReplayErrors
}

func openIMAPQueue(cacheDir string) (*imapQueue, error) {
	q := &imapQueue{next: 1}
	if cacheDir == "" {
		return q, nil
	}
	q.dir = filepath.Join(cacheDir, "queue")
	if err := os.MkdirAll(q.dir, 0o700); err != nil {
		return nil, fmt.Errorf("mailbox: queue: %w", err)
	}
	names, err := filepath.Glob(filepath.Join(q.dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("mailbox: queue: %w", err)
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("mailbox: queue: %w", err)
		}
		var op queuedOp
		if err := json.Unmarshal(data, &op); err != nil || op.Seq == 0 || filepath.Base(name) != queueName(op.Seq)+".json" {
			q.errs = append(q.errs, fmt.Errorf("mailbox: queue: %s is damaged; left aside", name))
			os.Rename(name, name+".bad")
			continue
		}
		q.ops = append(q.ops, &op)
		q.next = max(q.next, op.Seq+1)
	}
	slices.SortFunc(q.ops, func(a, b *queuedOp) int { return cmp.Compare(a.Seq, b.Seq) })
	return q, nil
}

func queueName(seq uint64) string { return fmt.Sprintf("%016d", seq) }

func (q *imapQueue) len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.ops)
}

func (q *imapQueue) list() []*queuedOp {
	q.mu.Lock()
	defer q.mu.Unlock()
	return slices.Clone(q.ops)
}

// add appends op (and a delivery's message) to the queue, durably when
// the queue is on disk.
func (q *imapQueue) add(op *queuedOp, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	op.Seq = q.next
	q.next++
	if q.dir == "" {
		op.body = body
		q.ops = append(q.ops, op)
		return nil
	}
	base := filepath.Join(q.dir, queueName(op.Seq))
	if op.Op == opDeliver {
		if err := writeSynced(base+".eml", body); err != nil {
			return fmt.Errorf("mailbox: queue: %w", err)
		}
	}
	data, err := json.Marshal(op)
	if err != nil {
		return err
	}
	if err := writeSynced(base+".json", data); err != nil {
		os.Remove(base + ".eml")
		return fmt.Errorf("mailbox: queue: %w", err)
	}
	q.ops = append(q.ops, op)
	return nil
}

// body returns a queued delivery's message.
func (q *imapQueue) body(op *queuedOp) ([]byte, error) {
	if q.dir == "" {
		return op.body, nil
	}
	return os.ReadFile(filepath.Join(q.dir, queueName(op.Seq)+".eml"))
}

// remove drops op from the queue.
func (q *imapQueue) remove(op *queuedOp) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.ops = slices.DeleteFunc(q.ops, func(o *queuedOp) bool { return o == op })
	if q.dir != "" {
		base := filepath.Join(q.dir, queueName(op.Seq))
		os.Remove(base + ".json")
		os.Remove(base + ".eml")
		syncDir(q.dir)
	}
}

func (q *imapQueue) fail(err error) {
	q.mu.Lock()
	q.errs = append(q.errs, err)
	if len(q.errs) > 100 {
		q.errs = q.errs[len(q.errs)-100:]
	}
	q.mu.Unlock()
}

// writeSynced writes data to path through a synced temporary file and a
// rename, mode 0600.
func writeSynced(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

// enqueue queues a change that could not reach the server.
func (m *IMAP) enqueue(op *queuedOp, body []byte) error {
	return m.queue.add(op, body)
}

// Queued returns how many changes wait for the server.
func (m *IMAP) Queued() int { return m.queue.len() }

// ReplayErrors returns, and forgets, the errors of queued changes that the
// server refused when they were replayed (a message deleted meanwhile, a
// folder replaced): those changes were dropped.
func (m *IMAP) ReplayErrors() []error {
	m.queue.mu.Lock()
	defer m.queue.mu.Unlock()
	errs := m.queue.errs
	m.queue.errs = nil
	return errs
}

// Sync connects if needed and replays the queued changes; it returns an
// error when the server is still unreachable.
func (m *IMAP) Sync(ctx context.Context) error {
	return m.run(ctx, "sync", func(ctx context.Context, ic *imapConn) error {
		m.replayLocked(ctx, ic)
		if n := m.queue.len(); n > 0 && ic.lost() {
			return &ConnError{Addr: m.addr, Err: fmt.Errorf("connection lost with %d changes still queued", n)}
		}
		return nil
	})
}

// replayLocked applies the queued changes in order. It stops at the first
// one that fails because the connection broke (the rest stay queued); one
// the server refuses is dropped and reported.
func (m *IMAP) replayLocked(ctx context.Context, ic *imapConn) {
	for _, op := range m.queue.list() {
		if ctx.Err() != nil {
			return
		}
		err := m.applyLocked(ic, op)
		if err != nil && (ic.lost() || isNetError(err)) {
			return
		}
		if err != nil {
			m.queue.fail(fmt.Errorf("mailbox: a queued %s in %q from %s was dropped: %w", op.Op, op.Folder, time.Unix(op.Time, 0).Format(time.DateTime), err))
			m.notify(Event{Kind: EventError, Folder: op.Folder, Err: err})
		}
		m.queue.remove(op)
	}
}

func (m *IMAP) applyLocked(ic *imapConn, op *queuedOp) error {
	uid := imap.UID(op.UID)
	switch op.Op {
	case opFlags:
		_, err := m.storeFlagsLocked(ic, op.Folder, uid, op.Set, op.Clear, op.UIDValidity)
		return err
	case opMove:
		_, err := m.moveLocked(ic, op.Folder, uid, op.Dest, op.UIDValidity)
		return err
	case opDelete:
		return m.deleteLocked(ic, op.Folder, uid, op.UIDValidity)
	case opDeliver:
		body, err := m.queue.body(op)
		if err != nil {
			return err
		}
		if id := messageID(body); id != "" {
			if _, _, err := m.selectLocked(ic, op.Folder); err != nil {
				return err
			}
			res, err := ic.c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Message-ID", Value: id}}}, nil).Wait()
			if err != nil {
				return serverError("search", err)
			}
			if uids := res.AllUIDs(); len(uids) > 0 {
				return nil // it arrived after all
			}
		}
		_, err = m.appendLocked(ic, op.Folder, body, op.Flags, time.Unix(op.Time, 0))
		return err
	}
	return errors.New("unknown queued operation " + strconv.Quote(op.Op))
}

// messageID returns the Message-ID of a message, "" when it has none.
func messageID(msg []byte) string {
	end, _ := headerEnd(msg)
	m, err := mail.ReadMessage(bytes.NewReader(append(bytes.Clone(msg[:end]), "\r\n"...)))
	if err != nil {
		return ""
	}
	id := strings.TrimSpace(m.Header.Get("Message-ID"))
	if id == "" || strings.ContainsAny(id, "\r\n\"\\") {
		return ""
	}
	return id
}
