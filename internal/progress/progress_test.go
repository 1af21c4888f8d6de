package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSize(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {512, "512 B"}, {1024, "1 KiB"}, {1536, "1.5 KiB"}, {64 << 20, "64 MiB"}, {67108864, "64 MiB"},
		{5<<30 + 1<<29, "5.5 GiB"}, {1 << 40, "1 TiB"},
	} {
		if got := Size(tt.n); got != tt.want {
			t.Errorf("Size(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestCountAndPlural(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := Count(n); got != want {
			t.Errorf("Count(%d) = %q, want %q", n, got, want)
		}
	}
	if got := Plural(1, "client", "clients"); got != "1 client" {
		t.Errorf("Plural(1) = %q", got)
	}
	if got := Plural(2000, "client", "clients"); got != "2,000 clients" {
		t.Errorf("Plural(2000) = %q", got)
	}
}

// syncBuffer is a bytes.Buffer safe for the bar's ticker.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRateIsBelievable: the rate is the count over the time the task ran,
// pauses left out, however the count arrives (one big Add after a long
// batch gave "1528273051 docs/s" with the earlier bar).
func TestRateIsBelievable(t *testing.T) {
	b := &Bar{w: &bytes.Buffer{}, what: "archiving", unit: "docs", total: 1000, start: time.Now().Add(-10 * time.Second)}
	b.Add(500)
	if got, want := b.Line(time.Now()), "archiving: 500 of 1,000 docs (50%), 50 docs/s, 10s left"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	// A pause of 10 s (a measurement between segments) is not counted.
	b.paused = 10 * time.Second
	b.start = b.start.Add(-10 * time.Second)
	if got, want := b.Line(time.Now()), "archiving: 500 of 1,000 docs (50%), 50 docs/s, 10s left"; got != want {
		t.Errorf("after a pause: line = %q, want %q", got, want)
	}
	// Nothing done yet: no rate, no estimate.
	b2 := &Bar{w: &bytes.Buffer{}, what: "x", unit: Bytes, total: 64 << 20, start: time.Now()}
	if got, want := b2.Line(time.Now()), "x: 0 B of 64 MiB (0%), - bytes/s"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
	b2.start = b2.start.Add(-2 * time.Second)
	b2.Add(32 << 20)
	if got, want := b2.Line(time.Now()), "x: 32 MiB of 64 MiB (50%), 16 MiB/s, 2s left"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestPlainAndTerminal(t *testing.T) {
	no, yes := false, true
	var plain syncBuffer
	b := NewWith(&plain, "moving documents", 10, "docs", Options{Terminal: &no, Interval: 5 * time.Millisecond})
	b.Add(4)
	time.Sleep(50 * time.Millisecond)
	b.Finish()
	b.Finish() // a second Finish writes nothing more
	out := plain.String()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) < 2 || strings.Contains(out, "\r") {
		t.Fatalf("plain output: %q", out)
	}
	if !strings.HasPrefix(lines[0], "moving documents: 4 of 10 docs (40%), ") {
		t.Errorf("plain periodic line: %q", lines[0])
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "moving documents: 4 docs in ") || !strings.HasSuffix(last, " docs/s)") {
		t.Errorf("plain final line: %q", last)
	}

	var tty syncBuffer
	b = NewWith(&tty, "gen", 10, "docs", Options{Terminal: &yes, Interval: 5 * time.Millisecond})
	b.Add(10)
	time.Sleep(50 * time.Millisecond)
	b.Pause()
	b.Resume()
	b.Finish()
	out = tty.String()
	if !strings.Contains(out, "\rgen: 10 of 10 docs (100%)") || !strings.HasSuffix(out, "\n") || strings.Count(out, "\n") != 1 {
		t.Errorf("terminal output: %q", out)
	}

	var nilBar *Bar
	nilBar.Add(1)
	nilBar.Finish()
	if New(nil, "quiet", 1, "docs") != nil {
		t.Error("a bar on no writer is not nil")
	}
}

// TestSetCountsFromFirstReport: a task that reports its totals after each
// batch (a resumed register transfer, 9,000 of 10,000 already moved) gets
// a rate of what this run did, not of everything since the first batch.
func TestSetCountsFromFirstReport(t *testing.T) {
	b := &Bar{w: &bytes.Buffer{}, what: "moving documents", unit: "docs", total: 10000, began: time.Now(), start: time.Now()}
	b.Set(9000)
	b.start = b.start.Add(-2 * time.Second)
	b.Set(9500)
	if got, want := b.Line(time.Now()), "moving documents: 9,500 of 10,000 docs (95%), 250 docs/s, 2s left"; got != want {
		t.Errorf("line = %q, want %q", got, want)
	}
}

func TestParseSize(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"64 MiB", 64 << 20, true}, {"64MiB", 64 << 20, true}, {"1.5 GiB", 3 << 29, true}, {"512", 512, true}, {"512 B", 512, true},
		{"67108864", 64 << 20, true}, {"", 0, false}, {"64 MB", 0, false}, {"-1", 0, false}, {"lots", 0, false},
	} {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v", tt.in, got, err)
		}
		if tt.ok {
			if back, err := ParseSize(Size(got)); err != nil || back != got {
				t.Errorf("ParseSize(Size(%d)) = %d, %v", got, back, err)
			}
		}
	}
}
