//go:build unix

package imaptest

import (
	"os"
	"os/exec"
	"syscall"
)

// ownProcessGroup starts cmd in a process group of its own, so that
// terminate reaches the children Dovecot forks.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// terminate sends SIGTERM (SIGKILL when hard) to cmd's process group.
func terminate(cmd *exec.Cmd, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-cmd.Process.Pid, sig)
}

// Owner returns the user and group IDs that own path (-1, -1 when it
// cannot be read).
func Owner(path string) (uid, gid int) {
	st, err := os.Stat(path)
	if err != nil {
		return -1, -1
	}
	if s, ok := st.Sys().(*syscall.Stat_t); ok {
		return int(s.Uid), int(s.Gid)
	}
	return -1, -1
}
