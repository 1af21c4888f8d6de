// Command arkisto is the national client data archive for social welfare
// services: see `arkisto --help` and the README.
package main

import (
	"os"
	"runtime/debug"

	"github.com/arkisto/arkisto/internal/cli"
	"github.com/arkisto/arkisto/internal/server"
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(server.GCPercent) // see its comment
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
