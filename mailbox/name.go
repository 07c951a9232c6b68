package mailbox

import (
	"strconv"
	"strings"
)

// maxNameLen is the longest file name most file systems accept.
const maxNameLen = 255

// Name is a Maildir file name taken apart. The parts concatenate back to
// the name: ID + Extra + Sep + Info (Sep and Info only when Sep is not 0),
// which is what [Name.String] returns.
//
// Names written by other programs look like these:
//
//	1700000000.M412345P2021.host,S=2048,W=2101:2,S   Dovecot (size hints)
//	1700000000.2021_1.host:2,FR                       mutt
//	1700000000_0.2021.host,U=12,FMD5=7e9d…:2,S        offlineimap (UID, folder hash)
//	1700000000.M1P2V3I4_0.host,S=2048:2,               Courier
//	1700000000.M1P2.host!2,S                          '!' instead of ':' (mbsync on Windows)
//	1700000000.M1P2.host                              no info (new/, some cur/ files)
type Name struct {
	// ID is the unique part: everything before the first ',' and before the
	// info separator. It does not change when flags change or the message
	// moves, so it is the message's identity.
	ID string
	// Extra holds the fields between the ID and the info, with their leading
	// comma (",S=2048,W=2101", ",U=12,FMD5=…"), exactly as found.
	Extra string
	// Size and VirtualSize are the S= (bytes on disk) and W= (bytes with
	// CRLF line ends) hints of Extra, or -1 when absent or unreadable.
	Size        int64
	VirtualSize int64
	// Sep is the info separator, ':' or '!', or 0 when the name has no info.
	Sep byte
	// Info is everything after Sep, exactly as found ("2,FS", "2,", "1,…").
	Info string
	// Flags are the letters of an Info of the form "2,LETTERS"; other bytes
	// there, and any Info of another version, are kept in Info only.
	Flags Flags
}

// ParseName takes a Maildir file name apart. It refuses names that cannot
// be a message file: empty, longer than 255 bytes, starting with '.' (the
// Maildir specification tells readers to skip those), holding a '/', a NUL
// or another control character, or with an empty unique part. It is
// otherwise lenient: unknown extra fields and flag letters are kept.
func ParseName(name string) (Name, error) {
	switch {
	case name == "":
		return Name{}, &NameError{Name: name, Reason: "empty"}
	case len(name) > maxNameLen:
		return Name{}, &NameError{Name: name, Reason: "longer than 255 bytes"}
	case name[0] == '.':
		return Name{}, &NameError{Name: name, Reason: "starts with '.'"}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '/' {
			return Name{}, &NameError{Name: name, Reason: "contains '/'"}
		} else if c < 0x20 || c == 0x7f {
			return Name{}, &NameError{Name: name, Reason: "contains a control character"}
		}
	}
	n := Name{Size: -1, VirtualSize: -1}
	base := name
	if i := infoIndex(name); i >= 0 {
		base, n.Sep, n.Info = name[:i], name[i], name[i+1:]
	}
	n.ID = base
	if i := strings.IndexByte(base, ','); i >= 0 {
		n.ID, n.Extra = base[:i], base[i:]
	}
	if n.ID == "" {
		return Name{}, &NameError{Name: name, Reason: "no unique part before ',' or the info"}
	}
	for rest := n.Extra; rest != ""; {
		rest = rest[1:] // the comma
		field := rest
		if i := strings.IndexByte(rest, ','); i >= 0 {
			field, rest = rest[:i], rest[i:]
		} else {
			rest = ""
		}
		switch {
		case strings.HasPrefix(field, "S=") && n.Size < 0:
			n.Size = parseSize(field[2:])
		case strings.HasPrefix(field, "W=") && n.VirtualSize < 0:
			n.VirtualSize = parseSize(field[2:])
		}
	}
	if flags, ok := strings.CutPrefix(n.Info, "2,"); ok {
		for i := 0; i < len(flags); i++ {
			n.Flags |= FlagOf(flags[i])
		}
	}
	return n, nil
}

// infoIndex returns the index of the info separator of name, or -1. The
// separator is the first ':'; without one, the first '!' followed by a
// version and a comma ("!2,"), the spelling used where ':' is not allowed in
// file names.
func infoIndex(name string) int {
	if i := strings.IndexByte(name, ':'); i >= 0 {
		return i
	}
	for i := 0; i+2 < len(name); i++ {
		if name[i] == '!' && (name[i+1] == '1' || name[i+1] == '2') && name[i+2] == ',' {
			return i
		}
	}
	return -1
}

func parseSize(s string) int64 {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return -1
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return -1
	}
	return v
}

// String returns the file name: the parts joined back together.
func (n Name) String() string {
	if n.Sep == 0 {
		return n.ID + n.Extra
	}
	return n.ID + n.Extra + string(n.Sep) + n.Info
}

// WithFlags returns the name with its flags replaced by f: the info becomes
// "2," and the letters of f in ASCII order, keeping any non-letter bytes the
// old "2," info held. The ID and Extra parts are untouched. A name without
// info gets ':' as its separator. An info of another version (the
// experimental "1,", which no known program writes) is replaced.
func (n Name) WithFlags(f Flags) Name {
	var present [256]bool
	if old, ok := strings.CutPrefix(n.Info, "2,"); ok {
		for i := 0; i < len(old); i++ {
			if FlagOf(old[i]) == 0 {
				present[old[i]] = true
			}
		}
	}
	f &= letterFlags
	for i := 0; i < 52; i++ {
		if f&(1<<i) != 0 {
			present[flagLetter(i)] = true
		}
	}
	b := make([]byte, 0, 2+len(n.Info))
	b = append(b, "2,"...)
	for c := range present {
		if present[c] {
			b = append(b, byte(c))
		}
	}
	if n.Sep == 0 {
		n.Sep = ':'
	}
	n.Info, n.Flags = string(b), f
	return n
}

// checkID reports whether id can be a message ID: a valid name with no
// extra fields and no info.
func checkID(id string) error {
	n, err := ParseName(id)
	if err != nil {
		return err
	}
	if n.ID != id {
		return &NameError{Name: id, Reason: "not a message ID (holds ',' or an info separator)"}
	}
	return nil
}

// escapeHost makes a host name safe inside a unique name: '/' and ':' as
// the Maildir specification says (\057, \072), and also ',' (the extra field
// separator), '!' (the other info separator), '\' and every byte outside
// printable ASCII, all as a backslash and three octal digits.
func escapeHost(host string) string {
	var b strings.Builder
	for i := 0; i < len(host); i++ {
		c := host[i]
		switch {
		case c == '/' || c == ':' || c == ',' || c == '!' || c == '\\' || c <= ' ' || c >= 0x7f:
			b.WriteByte('\\')
			b.WriteByte('0' + c>>6)
			b.WriteByte('0' + c>>3&7)
			b.WriteByte('0' + c&7)
		default:
			b.WriteByte(c)
		}
	}
	if b.Len() == 0 {
		return "localhost"
	}
	return b.String()
}

// timeKey is the number a unique name starts with (the delivery time in
// seconds in every known writer), or -1; listings sort on it first.
func timeKey(id string) int64 {
	var v int64
	i := 0
	for ; i < len(id) && i < 18 && '0' <= id[i] && id[i] <= '9'; i++ {
		v = v*10 + int64(id[i]-'0')
	}
	if i == 0 {
		return -1
	}
	return v
}
