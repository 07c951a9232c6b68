package mailbox

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// imapFlagMap pairs the Maildir flags that have an IMAP equivalent with it
// (RFC 9051 §2.3.2, $Forwarded from RFC 5788's registry). Other flags and
// keywords are neither reported nor changed over IMAP.
var imapFlagMap = []struct {
	flag Flags
	imap imap.Flag
}{
	{Seen, imap.FlagSeen},
	{Answered, imap.FlagAnswered},
	{Flagged, imap.FlagFlagged},
	{Draft, imap.FlagDraft},
	{Trashed, imap.FlagDeleted},
	{Passed, imap.FlagForwarded},
}

// flagsFromIMAP maps an IMAP flag list, and reports \Recent.
func flagsFromIMAP(list []imap.Flag) (f Flags, recent bool) {
	for _, fl := range list {
		if strings.EqualFold(string(fl), `\Recent`) {
			recent = true
			continue
		}
		for _, p := range imapFlagMap {
			if strings.EqualFold(string(fl), string(p.imap)) {
				f |= p.flag
			}
		}
	}
	return f, recent
}

// imapFlagsOf returns the IMAP flags of f that have an equivalent.
func imapFlagsOf(f Flags) []imap.Flag {
	var out []imap.Flag
	for _, p := range imapFlagMap {
		if f.Has(p.flag) {
			out = append(out, p.imap)
		}
	}
	return out
}

// imapMapped is every flag that has an IMAP equivalent.
func imapMapped() Flags {
	var f Flags
	for _, p := range imapFlagMap {
		f |= p.flag
	}
	return f
}
