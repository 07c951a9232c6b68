package cms

import (
	"crypto"
	"encoding/asn1"
	"encoding/binary"
	"errors"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// envX963KDF is the ANSI X9.63 key derivation function (SEC 1 v2 §3.6.1,
// used by RFC 5753 §7.2): K = H(Z || counter || sharedInfo) for counter =
// 1, 2, ... as 32-bit big-endian, concatenated and truncated to keyLen.
func envX963KDF(h crypto.Hash, z, sharedInfo []byte, keyLen int) ([]byte, error) {
	if !h.Available() {
		return nil, errors.New("cms: KDF hash unavailable")
	}
	if keyLen <= 0 || keyLen > 255*h.Size() {
		return nil, errors.New("cms: bad KDF output length")
	}
	out := make([]byte, 0, keyLen+h.Size())
	var ctr [4]byte
	for i := uint32(1); len(out) < keyLen; i++ {
		binary.BigEndian.PutUint32(ctr[:], i)
		d := h.New()
		d.Write(z)
		d.Write(ctr[:])
		d.Write(sharedInfo)
		out = d.Sum(out)
	}
	return out[:keyLen], nil
}

// envECCCMSSharedInfo builds the DER encoding of ECC-CMS-SharedInfo (RFC 5753
// §7.2):
//
//	ECC-CMS-SharedInfo ::= SEQUENCE {
//	    keyInfo         AlgorithmIdentifier,
//	    entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,
//	    suppPubInfo [2] EXPLICIT OCTET STRING }
//
// keyInfo is the DER key-wrap AlgorithmIdentifier exactly as carried in the
// KeyAgreeRecipientInfo (for AES key wrap its parameters are absent, RFC 3565
// §2.3.2); suppPubInfo is the KEK length in bits as a 32-bit big-endian
// integer.
func envECCCMSSharedInfo(keyInfo []byte, ukm []byte, kekLen int) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(keyInfo)
		if ukm != nil {
			b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1OctetString(ukm)
			})
		}
		b.AddASN1(cbasn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			var bits [4]byte
			binary.BigEndian.PutUint32(bits[:], uint32(kekLen)*8)
			b.AddASN1OctetString(bits[:])
		})
	})
	return b.Bytes()
}

// envAlgIDNoParams returns the DER AlgorithmIdentifier for oid with absent
// parameters.
func envAlgIDNoParams(oid asn1.ObjectIdentifier) []byte {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
	})
	return b.BytesOrPanic()
}
