package postgres_test

import (
	"encoding/hex"

	"github.com/arkisto/arkisto/internal/archive"
)

type archiveTx = archive.Tx

func hexOf(b []byte) string { return hex.EncodeToString(b) }
