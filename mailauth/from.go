package mailauth

import (
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
)

// fromInfo is the judgement on the RFC 5322.From field, the identity
// DMARC authenticates.
type fromInfo struct {
	domain string // lower-case A-labels; "" when problem is set
	header string // the field(s) judged, unfolded
	// problem says why the From domain cannot be judged (S32): the
	// verdict is then none/unverifiable, never pass.
	problem string
	// ambiguous: the From field a reader sees may not be the one a
	// signature covers (several fields, a name with whitespace): a DKIM
	// signature that verifies is not accepted either.
	ambiguous bool
}

// addressParser reads addresses; display names in unknown charsets are
// left encoded (only the address matters here).
var addressParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// judgeFrom finds the author domain. Anything ambiguous, where a
// verifier and a mail reader could see different authors, makes the
// message unverifiable (S32): several From fields, whitespace between the
// name and the colon, several addresses, an address whose domain is not a
// domain name (an encoded word, a literal).
func judgeFrom(m *message) fromInfo {
	idxs := m.named("from")
	var fi fromInfo
	var vals []string
	for _, i := range idxs {
		vals = append(vals, strings.TrimSpace(unfold(m.fields[i].value)))
	}
	fi.header = strings.Join(vals, " | ")
	switch {
	case len(idxs) == 0:
		fi.problem = "the message has no From field"
		if len(m.named("sender")) > 0 || len(m.named("resent-from")) > 0 {
			fi.problem += " (Sender and Resent-From do not stand in for it)"
		}
		return fi
	case len(idxs) > 1:
		fi.problem = fmt.Sprintf("the message has %d From fields: unverifiable (readers may show another than the one checked)", len(idxs))
		fi.ambiguous = true
		return fi
	}
	f := &m.fields[idxs[0]]
	if f.wspBeforeColon {
		fi.problem = "the From field has whitespace before its colon, read differently by different programs: unverifiable"
		fi.ambiguous = true
		return fi
	}
	addrs, err := addressParser.ParseList(vals[0])
	if err != nil {
		fi.problem = fmt.Sprintf("the From field cannot be read as an address: %v", err)
		return fi
	}
	switch len(addrs) {
	case 0:
		fi.problem = "the From field holds no address"
		return fi
	case 1:
	default:
		fi.problem = fmt.Sprintf("the From field holds %d addresses: unverifiable", len(addrs))
		return fi
	}
	at := strings.LastIndexByte(addrs[0].Address, '@')
	if at < 0 {
		fi.problem = "the From address has no domain"
		return fi
	}
	d := asciiDomain(addrs[0].Address[at+1:])
	if d == "" || !strings.Contains(d, ".") {
		fi.problem = fmt.Sprintf("the From address %q does not end in a valid domain name: unverifiable", addrs[0].Address)
		return fi
	}
	fi.domain = d
	return fi
}
