package testkit

// TB is the part of testing.TB that MustStart uses, so that this package
// does not import "testing".
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// MustStart builds a hierarchy with opts, signs it and serves it on
// 127.0.0.1 until the test ends, failing the test on any error.
func MustStart(t TB, opts *Options) (*Hierarchy, *Server) {
	t.Helper()
	h, err := New(opts)
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	s, err := h.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatalf("testkit: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return h, s
}
