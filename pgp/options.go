package pgp

import (
	"crypto"
	"crypto/rand"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Options tune reading and writing. A nil *Options means the defaults.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Rand is the source of randomness; nil means crypto/rand.
	Rand io.Reader
	// MemoryLimit is how much plaintext Decrypt keeps in memory before
	// it spools to an encrypted temporary file (default 16 MiB).
	MemoryLimit int
	// MaxPlaintext bounds the plaintext of one message, decompressed
	// (default 64 GiB), against compression bombs.
	MaxPlaintext int64
	// TempDir is where spool files go (default os.TempDir()).
	TempDir string
}

const (
	defaultMemoryLimit  = 16 << 20
	defaultMaxPlaintext = 64 << 30
)

func (o *Options) now() time.Time {
	if o != nil && o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o *Options) rand() io.Reader {
	if o != nil && o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

func (o *Options) memoryLimit() int {
	if o != nil && o.MemoryLimit > 0 {
		return o.MemoryLimit
	}
	return defaultMemoryLimit
}

func (o *Options) maxPlaintext() int64 {
	if o != nil && o.MaxPlaintext > 0 {
		return o.MaxPlaintext
	}
	return defaultMaxPlaintext
}

func (o *Options) tempDir() string {
	if o != nil {
		return o.TempDir
	}
	return ""
}

// config is the one place where the OpenPGP algorithm policy lives:
// SHA-256 signatures and AES-256 by default, no compression on output,
// SHA-1 and weaker refused for message signatures (S19) and MD5 and
// RIPEMD-160 everywhere, RSA keys of at least 2048 bits, strict packet
// grammar (S18), no unauthenticated data (S03), and the intended-
// recipient check on signed and encrypted messages (S20).
func (o *Options) config() *packet.Config {
	limit := o.maxPlaintext()
	return &packet.Config{
		Time:          o.clock(),
		Rand:          o.rand(),
		DefaultHash:   crypto.SHA256,
		DefaultCipher: packet.CipherAES256,
		// Compression is the default "none": compressing before encrypting
		// leaks through lengths, and keeps the fast path fast.
		RejectHashAlgorithms:        map[crypto.Hash]bool{crypto.MD5: true, crypto.RIPEMD160: true},
		RejectMessageHashAlgorithms: map[crypto.Hash]bool{crypto.MD5: true, crypto.RIPEMD160: true, crypto.SHA1: true},
		MinRSABits:                  2048,
		CheckPacketSequence:         packet.BoolPointer(true),
		CheckIntendedRecipients:     packet.BoolPointer(true),
		MaxDecompressedMessageSize:  &limit,
	}
}

func (o *Options) clock() func() time.Time {
	if o != nil && o.Now != nil {
		return o.Now
	}
	return time.Now
}

// Time is the current time of the options' clock.
func (o *Options) Time() time.Time { return o.now() }
