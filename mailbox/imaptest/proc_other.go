//go:build !unix

package imaptest

import "os/exec"

func ownProcessGroup(*exec.Cmd) {}

func terminate(cmd *exec.Cmd, _ bool) { _ = cmd.Process.Kill() }

// Owner returns -1, -1: file owners are a Unix notion.
func Owner(string) (uid, gid int) { return -1, -1 }
