package procstat

import (
	"os"
	"testing"
	"time"
)

func self(t *testing.T) time.Duration {
	d, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestCPU: the CPU time read from /proc grows by what the process
// burns, as its own rusage says (the tick is 10 ms).
func TestCPU(t *testing.T) {
	before, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self0 := self(t)
	x := 0
	for self(t)-self0 < 200*time.Millisecond {
		for i := range 100000 {
			x += i
		}
	}
	after, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	burnt := self(t) - self0
	if got := after - before; got < burnt-50*time.Millisecond || got > burnt+50*time.Millisecond {
		t.Fatalf("/proc says %v used, rusage %v (x=%d)", got, burnt, x)
	}
}

// TestNamed: this test binary's own CPU time is counted under its name.
func TestNamed(t *testing.T) {
	comm, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	name := string(comm[:len(comm)-1])
	own, err := CPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	all, err := Named(name)
	if err != nil {
		t.Fatal(err)
	}
	if all < own {
		t.Fatalf("processes named %q used %v, this one alone %v", name, all, own)
	}
	none, err := Named("no such command \x00")
	if err != nil || none != 0 {
		t.Fatalf("no process: %v, %v", none, err)
	}
}
