// Package cms implements the parts of the Cryptographic Message Syntax
// (RFC 5652) that S/MIME 4.0 (RFC 8551) needs, on
// golang.org/x/crypto/cryptobyte. It reads the DER and the BER that
// "openssl cms -stream" emits, strictly and within bounds, and writes DER.
//
// # Reading BER
//
// [ToDER] turns one BER value into its definite-length form: indefinite
// lengths become definite and segmented OCTET STRINGs become one. It never
// panics, rejects truncation, oversized lengths and deep nesting (S15), and
// works within [Limits] (a nil *Limits means 256 MiB and depth 64). The
// parsers call it first, so they accept BER directly.
//
// # Signed data
//
// [ParseSignedData] parses a ContentInfo of type signed-data without
// verifying anything. [SignedData.Verify] then checks each signerInfo on
// its own and returns one [SignerResult] per signer (S11); there is no
// aggregate verdict. A SignedData without signerInfos yields an error of
// kind [ErrUnsigned] and a result whose Unsigned is set (S12). For a
// detached signature pass the content in [VerifyOptions].Detached;
// passing it for a signature that encapsulates content is an error
// ([ErrContent]), which is what S/MIME needs for S10.
//
//	sd, err := cms.ParseSignedData(der, nil)
//	if err != nil { ... }
//	res, err := sd.Verify(&cms.VerifyOptions{Detached: body, Certificates: fromKeystore})
//	if err != nil { ... } // no content, content twice, or unsigned
//	for _, s := range res.Signers {
//		if !s.Valid { report(s.Err); continue }
//		// s.Certificate still needs path validation, EKU and email
//		// checks, at the time of verification, not s.SigningTime (S13).
//	}
//
// Accepted algorithms (S14): SHA-256, SHA-384, SHA-512 digests; RSA
// PKCS#1 v1.5 (rsaEncryption or shaNNNWithRSAEncryption) and RSASSA-PSS
// with explicit parameters whose hash and MGF1 hash equal the digest,
// RSA keys of at least 2048 bits; ECDSA on P-256, P-384 and P-521; pure
// Ed25519 with signed attributes and SHA-512 (RFC 8419). SHA-1 and MD5
// give an error of kind [ErrWeakAlgorithm], short RSA keys [ErrWeakKey].
// With signed attributes, content-type must equal eContentType and
// message-digest must match; signing-time is reported, never trusted.
//
// The signer certificate is looked up by issuer and serial number or by
// subjectKeyIdentifier among the message's certificates and those given
// in [VerifyOptions].Certificates; nothing is fetched.
//
// [Sign] and [SignDetached] write DER SignedData for one or more
// [Signer]s with the signed attributes content-type, message-digest,
// signing-time (from [SignOptions].Now) and smimeCapabilities
// ([DefaultCapabilities]). RSA signs with PKCS#1 v1.5 and SHA-256 unless
// the Signer asks for PSS or another hash. [SignDetached] hashes its
// io.Reader as it streams; a streaming writer for encapsulated content
// can be added beside them without changing these signatures.
//
// # Errors
//
// Errors are *[Error] values carrying a [Kind]; the kinds are constant
// errors, so errors.Is(err, cms.ErrUnsigned) works. The package keeps no
// mutable state: algorithms, time and randomness come in per call.
package cms
