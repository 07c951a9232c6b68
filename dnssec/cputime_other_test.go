//go:build !unix

package dnssec

// cpuTime is not measured on this platform.
func cpuTime() int64 { return 0 }
