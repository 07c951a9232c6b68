// Command securemail reads and writes OpenPGP and S/MIME mail, manages the
// keys for it, and checks who really sent a message. This file is wiring
// only: flags, files and exit codes; the work is done by the packages.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	// A command runs for milliseconds and allocates mostly what it keeps
	// (the key index): collecting less often makes listing 10,000 keys
	// markedly faster and costs little memory.
	debug.SetGCPercent(400)
	os.Exit(securemailMain())
}

// securemailMain runs the command line and returns the exit code (CLI.md).
func securemailMain() int {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr}
	return c.run(os.Args[1:])
}
