package mailbox

import (
	"errors"
	"fmt"
)

// Sentinel errors for errors.Is. Each is matched by the struct error of the
// same family, which carries the details ([NotFoundError], [ExistError],
// [FolderNameError] and [NameError], [TooLargeError], [NotMaildirError]).
var (
	ErrNotFound    = errors.New("mailbox: not found")
	ErrExist       = errors.New("mailbox: already exists")
	ErrInvalidName = errors.New("mailbox: invalid name")
	ErrTooLarge    = errors.New("mailbox: too large")
	ErrNotMaildir  = errors.New("mailbox: not a maildir")
)

// NotFoundError says a folder, or a message in a folder, does not exist.
// ID is empty when the folder itself is missing.
type NotFoundError struct {
	Folder string
	ID     string
}

func (e *NotFoundError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("mailbox: no folder %q", e.Folder)
	}
	return fmt.Sprintf("mailbox: no message %q in folder %q", e.ID, e.Folder)
}

// Is reports whether target is [ErrNotFound].
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ExistError says a message with the same ID is already in the destination
// folder of a move.
type ExistError struct {
	Folder string
	ID     string
}

func (e *ExistError) Error() string {
	return fmt.Sprintf("mailbox: folder %q already holds message %q", e.Folder, e.ID)
}

// Is reports whether target is [ErrExist].
func (e *ExistError) Is(target error) bool { return target == ErrExist }

// FolderNameError says a folder name was refused: empty, with a '/', a ".."
// or an empty hierarchy level, a control character, or not UTF-8.
type FolderNameError struct {
	Name   string
	Reason string
}

func (e *FolderNameError) Error() string {
	return fmt.Sprintf("mailbox: bad folder name %q: %s", e.Name, e.Reason)
}

// Is reports whether target is [ErrInvalidName].
func (e *FolderNameError) Is(target error) bool { return target == ErrInvalidName }

// NameError says a string is not a Maildir file name or message ID (see
// [ParseName]).
type NameError struct {
	Name   string
	Reason string
}

func (e *NameError) Error() string {
	return fmt.Sprintf("mailbox: bad maildir file name %q: %s", e.Name, e.Reason)
}

// Is reports whether target is [ErrInvalidName].
func (e *NameError) Is(target error) bool { return target == ErrInvalidName }

// TooLargeError says a message is larger than the limit the caller set
// ([ReadOptions.MaxSize], [MboxOptions.MaxMessageSize]).
type TooLargeError struct {
	Folder string
	ID     string
	Limit  int64
}

func (e *TooLargeError) Error() string {
	if e.ID == "" {
		return fmt.Sprintf("mailbox: message larger than %d bytes", e.Limit)
	}
	return fmt.Sprintf("mailbox: message %q in folder %q is larger than %d bytes", e.ID, e.Folder, e.Limit)
}

// Is reports whether target is [ErrTooLarge].
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// NotMaildirError says a directory is not a Maildir: it lacks cur/, new/ or
// tmp/.
type NotMaildirError struct {
	Path   string
	Reason string
}

func (e *NotMaildirError) Error() string {
	return fmt.Sprintf("mailbox: %s is not a maildir: %s", e.Path, e.Reason)
}

// Is reports whether target is [ErrNotMaildir].
func (e *NotMaildirError) Is(target error) bool { return target == ErrNotMaildir }

// MboxError says an mbox file could not be read. Line is the 1-based line
// where the problem was found; Err, when set, is the underlying error (an
// [ErrTooLarge] or a read error).
type MboxError struct {
	Line   int64
	Reason string
	Err    error
}

func (e *MboxError) Error() string {
	if e.Err != nil && e.Reason == "" {
		return fmt.Sprintf("mailbox: mbox line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("mailbox: mbox line %d: %s", e.Line, e.Reason)
}

func (e *MboxError) Unwrap() error { return e.Err }
