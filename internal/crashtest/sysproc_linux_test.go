package crashtest

import "syscall"

// sysProcAttr kills the server if the test process dies without cleaning
// up (a test timeout, say).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
