// Command arkisto is the national client data archive for social welfare
// services: see `arkisto --help` and the README.
package main

import (
	"os"

	"github.com/arkisto/arkisto/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
