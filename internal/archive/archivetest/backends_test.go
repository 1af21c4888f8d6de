package archivetest_test

import (
	"testing"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/archive/archivetest"
	"github.com/arkisto/arkisto/internal/storetest"
)

// TestBehaviour runs the domain behaviour suite on every backend.
func TestBehaviour(t *testing.T) {
	storetest.Run(t, func(t *testing.T, b storetest.Backend) {
		archivetest.Run(t, func(t *testing.T) archive.Store { return b.Open(t) })
	})
}
