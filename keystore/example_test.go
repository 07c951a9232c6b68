package keystore_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/securemail/securemail/keystore"
)

func Example() {
	dir, _ := os.MkdirTemp("", "keystore-example")
	defer os.RemoveAll(dir)
	s, err := keystore.Open(filepath.Join(dir, "keys"), nil)
	if err != nil {
		log.Fatal(err)
	}
	res, err := s.Generate(keystore.GenerateRequest{
		Email:      "alice@example.org",
		PGP:        true,
		Passphrase: []byte("correct horse battery staple"),
	})
	if err != nil {
		log.Fatal(err)
	}
	e, _ := s.Pinned(keystore.PGP, "Alice@Example.org")
	fmt.Println(res[0].Status, e.Kind, e.Algorithm, e.Source, e.Secret, e.Protected, e.Fingerprint == res[0].Fingerprint)
	// Output: new pgp ed25519 generated true true true
}
