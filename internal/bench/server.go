package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/arkisto/arkisto/internal/procstat"
)

// The archive under test runs as its own process, `arkisto-bench server`,
// so that its memory is measured apart from the load generator's and so
// that it is the same server an operator runs.

// ReadyPrefix starts the line the server prints when it accepts requests:
// "ready <FHIR address> <control address>".
const ReadyPrefix = "arkisto-bench-ready"

type child struct {
	cmd     *exec.Cmd
	addr    string // host:port of the FHIR door
	control string // host:port of the profiling control
	done    chan error
}

// startServer starts the archive server on the run's store and waits for
// it to accept requests.
func (b *run) startServer(ctx context.Context) (*child, error) {
	args := append([]string{}, b.cfg.ServerCommand[1:]...)
	args = append(args, "server")
	args = append(args, b.storeArgs()...)
	args = append(args, "--run", b.runDir, "--listen", "127.0.0.1:0",
		"--tls-cert", b.serverCert+".crt", "--tls-key", b.serverCert+".key")
	cmd := exec.Command(b.cfg.ServerCommand[0], args...)
	logf, err := os.OpenFile(b.runDir+"/server.log", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the archive server: %w", err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, ReadyPrefix+" ") {
				select {
				case ready <- line:
				default:
				}
			}
		}
	}()
	go func() { c.done <- cmd.Wait() }()
	select {
	case line := <-ready:
		f := strings.Fields(line)
		if len(f) != 3 {
			c.kill()
			return nil, fmt.Errorf("the archive server said %q", line)
		}
		c.addr, c.control = f[1], f[2]
	case err := <-c.done:
		return nil, fmt.Errorf("the archive server exited before it was ready (%v); see %s/server.log", err, b.runDir)
	case <-time.After(2 * time.Minute):
		c.kill()
		return nil, fmt.Errorf("the archive server was not ready within 2 minutes; see %s/server.log", b.runDir)
	case <-ctx.Done():
		c.kill()
		return nil, ctx.Err()
	}
	return c, nil
}

func (c *child) kill() {
	c.cmd.Process.Kill()
	<-c.done
}

// stop shuts the server down gracefully.
func (c *child) stop() error {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.done:
		return err
	case <-time.After(time.Minute):
		c.kill()
		return errors.New("the archive server did not stop within a minute")
	}
}

// peakRSS is the server's resident set high-water mark in bytes.
func (c *child) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM in /proc status")
}

// cpu is the CPU time the server has used so far.
func (c *child) cpu() (time.Duration, error) {
	return procstat.CPU(c.cmd.Process.Pid)
}

// databaseCPU is the CPU time PostgreSQL's processes on this machine have
// used, or 0 when the database is not on this machine: every process
// named postgres, with the backends that have exited (the postmaster's
// waited-for children).
func (b *run) databaseCPU() time.Duration {
	if b.backend != "postgres" || !b.localDatabase {
		return 0
	}
	d, err := procstat.Named("postgres")
	if err != nil {
		return 0
	}
	return d
}

// selfCPU is the CPU time this process (the load generator) has used.
func selfCPU() time.Duration {
	d, _ := procstat.Self()
	return d
}

// ServerStats are the server's counters that a benchmark reads between
// passes.
type ServerStats struct {
	Commits int64 `json:"commits"` // durable commits of the store
	Writes  int64 `json:"writes"`  // writes and access-log entries they held
}

// stats reads the server's counters.
func (c *child) stats() (ServerStats, error) {
	var s ServerStats
	resp, err := http.Get("http://" + c.control + "/stats")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("server stats: status %d", resp.StatusCode)
	}
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// profile starts a CPU profile of the server; the returned function
// stops it and writes it to path. The server writes no file itself.
func (c *child) profile(path string) (func() error, error) {
	call := func(what string) ([]byte, error) {
		resp, err := http.Post("http://"+c.control+"/cpu/"+what, "", nil)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("profile %s: status %d", what, resp.StatusCode)
		}
		return io.ReadAll(resp.Body)
	}
	if _, err := call("start"); err != nil {
		return nil, err
	}
	return func() error {
		b, err := call("stop")
		if err != nil {
			return err
		}
		return os.WriteFile(path, b, 0o644)
	}, nil
}
