package dnssec

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/securemail/securemail/internal/testkit"
)

// The signed hierarchy all tests of the package share: building it
// (keys, signatures) is the slow part, and it is read-only once served.
var (
	kitOnce sync.Once
	kitH    *testkit.Hierarchy
	kitS    *testkit.Server
	kitErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if kitS != nil {
		kitS.Close()
	}
	os.Exit(code)
}

func kit(t testing.TB) (*testkit.Hierarchy, *testkit.Server) {
	t.Helper()
	kitOnce.Do(func() {
		kitH, kitErr = testkit.New(nil)
		if kitErr == nil {
			kitS, kitErr = kitH.Serve("127.0.0.1:0")
		}
	})
	if kitErr != nil {
		t.Fatalf("testkit: %v", kitErr)
	}
	return kitH, kitS
}

// kitOptions are Options for a resolver that asks the shared hierarchy
// and trusts its anchor, at the hierarchy's signing time.
func kitOptions(t testing.TB) *Options {
	h, s := kit(t)
	anchors, err := h.AnchorRRs()
	if err != nil {
		t.Fatal(err)
	}
	now := h.Now()
	return &Options{
		Server:  s.Addr(),
		Anchors: anchors,
		Now:     func() time.Time { return now },
		Timeout: 2 * time.Second,
	}
}

func kitResolver(t testing.TB, edit ...func(*Options)) *Resolver {
	t.Helper()
	opts := kitOptions(t)
	for _, e := range edit {
		e(opts)
	}
	r, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
