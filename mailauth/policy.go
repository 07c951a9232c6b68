package mailauth

import "fmt"

// The algorithm and key policy of DKIM and ARC verification, in one
// place (RFC 8301, RFC 8463).
const (
	// minRSABits: shorter RSA keys are refused (RFC 8301 §3.2: "MUST NOT
	// consider signatures using RSA keys of less than 1024 bits as
	// valid").
	minRSABits = 1024
	// weakRSABits: keys from minRSABits up to this pass, with a warning:
	// RFC 8301 still requires verifiers to accept 1024-bit keys, though
	// signers should use 2048.
	weakRSABits = 2048
	// maxRSABits: longer keys are refused; verification cost grows with the
	// key and the key is the sender's choice (S38). RFC 8301 §3.2 asks
	// verifiers to handle up to 4096 bits.
	maxRSABits = 8192
	// defaultMaxSignatures: DKIM signatures checked per message when
	// Options.MaxSignatures is 0; later ones are reported as "policy",
	// not checked (S38).
	defaultMaxSignatures = 8
	// maxSignedHeaders bounds the h= list of one signature.
	maxSignedHeaders = 256
	// maxARCSets is RFC 8617 §4.2.1's limit on ARC instances.
	maxARCSets = 50
)

// sigAlgorithm is a signature algorithm we verify.
type sigAlgorithm struct {
	name    string // as in a=
	keyType string // the key record's k=
}

var (
	algRSASHA256     = sigAlgorithm{"rsa-sha256", "rsa"}
	algEd25519SHA256 = sigAlgorithm{"ed25519-sha256", "ed25519"}
)

// lookupAlgorithm maps an a= value to an algorithm we accept, or explains
// the refusal (a permerror).
func lookupAlgorithm(a string) (sigAlgorithm, error) {
	switch lowerASCII(a) {
	case "rsa-sha256":
		return algRSASHA256, nil
	case "ed25519-sha256":
		return algEd25519SHA256, nil
	case "rsa-sha1":
		return sigAlgorithm{}, fmt.Errorf("rsa-sha1 is refused (RFC 8301 §3.1)")
	}
	return sigAlgorithm{}, fmt.Errorf("unsupported algorithm %q", a)
}
