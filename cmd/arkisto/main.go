// Command arkisto is the national client data archive for social welfare
// services: see `arkisto --help` and the README.
package main

import (
	"os"
	"runtime/debug"

	"github.com/arkisto/arkisto/internal/cli"
)

// gcPercent is the garbage collector's target unless GOGC says otherwise.
// The server's live heap is small (tens of MB), so letting it grow three
// times over before collecting costs little memory and saves about a
// tenth of the CPU of every request (docs/benchmarks.md).
const gcPercent = 300

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
