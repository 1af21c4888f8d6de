package archivetest

import (
	"context"
	"log/slog"
	"slices"
	"sync"
)

// OperatorLog is an slog handler that records the messages of the
// operator's log, for tests of what the archive tells its operator.
type OperatorLog struct {
	mu   sync.Mutex
	msgs []record
}

type record struct {
	level slog.Level
	msg   string
}

func (l *OperatorLog) Enabled(context.Context, slog.Level) bool { return true }

func (l *OperatorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	l.msgs = append(l.msgs, record{r.Level, r.Message})
	l.mu.Unlock()
	return nil
}

func (l *OperatorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *OperatorLog) WithGroup(string) slog.Handler      { return l }

// Messages returns the messages logged at min or above, in order.
func (l *OperatorLog) Messages(min slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, r := range l.msgs {
		if r.level >= min {
			out = append(out, r.msg)
		}
	}
	return out
}

// Errors returns the messages logged at ERROR.
func (l *OperatorLog) Errors() []string { return l.Messages(slog.LevelError) }

// Has reports whether msg was logged at any level.
func (l *OperatorLog) Has(msg string) bool {
	return slices.Contains(l.Messages(slog.LevelDebug-4), msg)
}
