package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestServerBinaryHasNoBenchmark: the shipped server carries neither the
// benchmark harness nor its plotting, font, image and PDF packages; they
// live in cmd/arkisto-bench.
func TestServerBinaryHasNoBenchmark(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go command is needed to list the server's packages")
		}
		t.Skip("no go command")
	}
	out, err := exec.Command(goCmd, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps listed %d packages: %q", len(deps), out)
	}
	banned := []string{
		"github.com/arkisto/arkisto/internal/bench",
		"gonum.org/", "codeberg.org/go-fonts/", "codeberg.org/go-latex/", "codeberg.org/go-pdf/",
		"git.sr.ht/~sbinet/gg", "github.com/ajstarks/svgo", "github.com/golang/freetype", "golang.org/x/image/",
		"runtime/pprof",
	}
	for _, d := range deps {
		for _, b := range banned {
			if d == b || strings.HasPrefix(d, b) {
				t.Errorf("the server binary depends on %s", d)
			}
		}
	}
}
