// Command smimecms is a tiny driver over smime/cms for bench/smime.sh: one
// CMS operation per process, stdin to stdout, DER on the wire, keys and
// certificates in PEM files. It is a benchmark harness, not a user tool.
//
//	smimecms sign    -cert C -key K [-opaque]      < content > sig.der
//	smimecms verify  -ca CA [-content FILE]        < sig.der [> content]
//	smimecms encrypt -cert C [-cbc] [-pkcs1]       < content > env.ber
//	smimecms decrypt -cert C -key K                < env.ber > content
//
// sign writes a detached signature unless -opaque; verify checks the
// signature and then the signer's chain to CA with the emailProtection EKU,
// as openssl cms -verify -CAfile does. encrypt defaults to AES-256-GCM
// (AuthEnvelopedData) with RSA-OAEP; -cbc selects AES-256-CBC
// (EnvelopedData), -pkcs1 RSA PKCS#1 v1.5 key transport. encrypt and
// decrypt stream (cms.EncryptTo, cms.DecryptTo): encrypt writes BER with
// indefinite lengths, like openssl cms -encrypt -stream, and decrypt reads
// DER or BER.
package main

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/securemail/securemail/smime/cms"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: smimecms sign|verify|encrypt|decrypt [flags]")
		os.Exit(2)
	}
	op := os.Args[1]
	fs := flag.NewFlagSet(op, flag.ExitOnError)
	certFile := fs.String("cert", "", "PEM certificate")
	keyFile := fs.String("key", "", "PEM private key (PKCS#8 or PKCS#1)")
	caFile := fs.String("ca", "", "PEM trust anchors (verify)")
	contentFile := fs.String("content", "", "detached content (verify)")
	opaque := fs.Bool("opaque", false, "encapsulate the content (sign)")
	cbc := fs.Bool("cbc", false, "AES-256-CBC EnvelopedData instead of AES-256-GCM (encrypt)")
	pkcs1 := fs.Bool("pkcs1", false, "RSA PKCS#1 v1.5 key transport instead of OAEP (encrypt)")
	fs.Parse(os.Args[2:])

	out := bufio.NewWriterSize(os.Stdout, 1<<16)
	var err error
	switch op {
	case "sign":
		err = sign(out, *certFile, *keyFile, *opaque)
	case "verify":
		err = verify(out, *caFile, *contentFile)
	case "encrypt":
		err = encrypt(out, *certFile, *cbc, *pkcs1)
	case "decrypt":
		err = decrypt(out, *certFile, *keyFile)
	default:
		err = fmt.Errorf("unknown operation %q", op)
	}
	if err == nil {
		err = out.Flush()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "smimecms:", err)
		os.Exit(1)
	}
}

func pemBlocks(file, typ string) ([][]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var ders [][]byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if typ == "" || blk.Type == typ {
			ders = append(ders, blk.Bytes)
		}
	}
	if len(ders) == 0 {
		return nil, fmt.Errorf("%s: no PEM %s", file, typ)
	}
	return ders, nil
}

func loadCert(file string) (*x509.Certificate, error) {
	ders, err := pemBlocks(file, "CERTIFICATE")
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(ders[0])
}

func loadKey(file string) (crypto.Signer, error) {
	ders, err := pemBlocks(file, "")
	if err != nil {
		return nil, err
	}
	var k any
	if k, err = x509.ParsePKCS8PrivateKey(ders[0]); err != nil {
		if k, err = x509.ParsePKCS1PrivateKey(ders[0]); err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: %T is not a signing key", file, k)
	}
	return s, nil
}

// readInput reads all of stdin, into a buffer of the right size when stdin
// is a regular file (no doubling growth for big inputs).
func readInput() ([]byte, error) {
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
		buf := make([]byte, 0, fi.Size()+1)
		w := bytes.NewBuffer(buf)
		_, err := w.ReadFrom(os.Stdin)
		return w.Bytes(), err
	}
	return io.ReadAll(os.Stdin)
}

func sign(out io.Writer, certFile, keyFile string, opaque bool) error {
	cert, err := loadCert(certFile)
	if err != nil {
		return err
	}
	key, err := loadKey(keyFile)
	if err != nil {
		return err
	}
	signers := []cms.Signer{{Certificate: cert, Key: key}}
	var der []byte
	if opaque {
		content, err := readInput()
		if err != nil {
			return err
		}
		der, err = cms.Sign(content, signers, nil)
		if err != nil {
			return err
		}
	} else if der, err = cms.SignDetached(bufio.NewReaderSize(os.Stdin, 1<<16), signers, nil); err != nil {
		return err
	}
	_, err = out.Write(der)
	return err
}

func verify(out io.Writer, caFile, contentFile string) error {
	msg, err := readInput()
	if err != nil {
		return err
	}
	sd, err := cms.ParseSignedData(msg, nil)
	if err != nil {
		return err
	}
	opts := &cms.VerifyOptions{}
	if contentFile != "" {
		f, err := os.Open(contentFile)
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Detached = bufio.NewReaderSize(f, 1<<16)
	}
	res, err := sd.Verify(opts)
	if err != nil {
		return err
	}
	roots := x509.NewCertPool()
	if caFile != "" {
		ders, err := pemBlocks(caFile, "CERTIFICATE")
		if err != nil {
			return err
		}
		for _, d := range ders {
			c, err := x509.ParseCertificate(d)
			if err != nil {
				return err
			}
			roots.AddCert(c)
		}
	}
	inter := x509.NewCertPool()
	for _, c := range sd.Certificates {
		inter.AddCert(c)
	}
	for _, s := range res.Signers {
		if !s.Valid {
			return fmt.Errorf("signer %d: %w", s.Index, s.Err)
		}
		if _, err := s.Certificate.Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			CurrentTime:   time.Now(),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		}); err != nil {
			return fmt.Errorf("signer %d: %w", s.Index, err)
		}
	}
	if sd.Encapsulated {
		_, err = out.Write(sd.Content)
	}
	return err
}

func encrypt(out io.Writer, certFile string, cbc, pkcs1 bool) error {
	cert, err := loadCert(certFile)
	if err != nil {
		return err
	}
	opts := &cms.EncryptOptions{Algorithm: cms.AES256GCM, RSAPadding: cms.RSAPaddingOAEP}
	if cbc {
		opts.Algorithm = cms.AES256CBC
	}
	if pkcs1 {
		opts.RSAPadding = cms.RSAPaddingPKCS1v15
	}
	// Streams: BER with indefinite lengths, as openssl cms -stream.
	return cms.EncryptTo(out, os.Stdin, []*x509.Certificate{cert}, opts)
}

func decrypt(out io.Writer, certFile, keyFile string) error {
	cert, err := loadCert(certFile)
	if err != nil {
		return err
	}
	key, err := loadKey(keyFile)
	if err != nil {
		return err
	}
	// Streams DER or BER; nothing is written before the content is
	// authenticated (the ciphertext is spooled).
	_, err = cms.DecryptTo(out, os.Stdin, cert, key, nil)
	return err
}
