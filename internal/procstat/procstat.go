// Package procstat reads CPU time from Linux's /proc for the benchmarks:
// the archive server's, PostgreSQL's processes' and the caller's own.
package procstat

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

var errUnreadable = errors.New("unreadable /proc stat")

// CPU is the CPU time a process has used, with that of its children that
// have exited and been waited for (a PostgreSQL postmaster's backends).
func CPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name in parentheses may hold spaces; fields follow it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errUnreadable
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 15 {
		return 0, errUnreadable
	}
	// utime, stime, cutime and cstime, fields 14 to 17 of the line, in
	// clock ticks (USER_HZ, 100 on Linux).
	var ticks int64
	for _, s := range f[11:15] {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, errUnreadable
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// Named is the CPU time of every process on this machine whose command is
// name, with their waited-for children's; processes that go away while
// being read are left out.
func Named(name string) (time.Duration, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var sum time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(comm)) != name {
			continue
		}
		if d, err := CPU(pid); err == nil {
			sum += d
		}
	}
	return sum, nil
}

// Self is the CPU time this process has used, user and system.
func Self() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
