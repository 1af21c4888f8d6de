// Package progress is the one progress display of arkisto's long commands
// (gen, archive, admin backup, register transfer, the benchmark): a count
// with its total, a rate and an estimated time left, redrawn in place on
// a terminal and written as plain periodic lines otherwise (a log file, a
// CI job), and sizes in human units.
package progress

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bytes is the unit of a Bar that counts bytes: its counts and rates are
// shown as sizes (64 MiB, 12 MiB/s).
const Bytes = "bytes"

// Intervals between updates: a terminal line is redrawn often, a plain
// line is written now and then so that a log does not fill with them.
const (
	TerminalInterval = 200 * time.Millisecond
	PlainInterval    = 10 * time.Second
)

// Bar shows the progress of one task. Its methods are safe for concurrent
// use; a nil *Bar and a Bar on a nil writer do nothing.
type Bar struct {
	w        io.Writer
	what     string
	unit     string
	total    int64
	tty      bool
	interval time.Duration

	mu       sync.Mutex
	n        int64
	began    time.Time     // when the Bar was made: the time the final line gives
	start    time.Time     // when the rate's clock started
	base     int64         // the count then
	set      bool          // Set has been called
	paused   time.Duration // time spent paused, left out of the rate
	pausedAt time.Time     // zero unless paused
	width    int           // of the last terminal line, to blank it
	done     bool
	stop     chan struct{}
	stopped  chan struct{}
}

// Options adjust a Bar.
type Options struct {
	// Terminal forces the terminal (true) or plain (false) display; nil
	// decides by whether the writer is a terminal.
	Terminal *bool
	// Interval between updates; zero: TerminalInterval or PlainInterval.
	Interval time.Duration
}

// New starts a Bar for a task named what, counting unit (documents, or
// Bytes) up to total (0 when unknown), on w.
func New(w io.Writer, what string, total int64, unit string) *Bar {
	return NewWith(w, what, total, unit, Options{})
}

// NewWith is New with options.
func NewWith(w io.Writer, what string, total int64, unit string, o Options) *Bar {
	if w == nil {
		return nil
	}
	now := time.Now()
	b := &Bar{w: w, what: what, unit: unit, total: total, began: now, start: now, stop: make(chan struct{}), stopped: make(chan struct{})}
	if o.Terminal != nil {
		b.tty = *o.Terminal
	} else {
		b.tty = IsTerminal(w)
	}
	b.interval = o.Interval
	if b.interval <= 0 {
		b.interval = PlainInterval
		if b.tty {
			b.interval = TerminalInterval
		}
	}
	go b.tick()
	return b
}

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (b *Bar) tick() {
	defer close(b.stopped)
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.mu.Lock()
			if !b.done && b.pausedAt.IsZero() {
				b.draw(time.Now())
			}
			b.mu.Unlock()
		}
	}
}

// Add counts n more units done.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.n += n
	b.mu.Unlock()
}

// Set sets the count done, for a task that reports its totals. The rate
// counts from the first Set, so that work done before it (a resumed
// task's earlier runs, a first batch of unknown length) does not make it
// unbelievable.
func (b *Bar) Set(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	if !b.set {
		b.set = true
		b.start, b.base, b.paused = time.Now(), n, 0
	}
	b.n = n
	b.mu.Unlock()
}

// SetTotal changes the total, for a task that learns it as it goes.
func (b *Bar) SetTotal(total int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.total = total
	b.mu.Unlock()
}

// Above runs write, which writes other output (to the same terminal, say
// on standard output), with the terminal line erased and not redrawn
// until write returns; the next update draws it again below that output.
func (b *Bar) Above(write func()) {
	if b == nil {
		write()
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.blank()
	write()
}

// Pause stops the clock of the rate and blanks the terminal line (or, when
// plain, writes where the task stands), so that other output (a
// measurement between parts of the task) can be written.
func (b *Bar) Pause() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pausedAt.IsZero() {
		now := time.Now()
		if b.tty {
			b.blank()
		} else if !b.done {
			b.draw(now) // where the task stands, before the other output
		}
		b.pausedAt = now
	}
}

// Resume restarts the clock after Pause.
func (b *Bar) Resume() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.pausedAt.IsZero() {
		b.paused += time.Since(b.pausedAt)
		b.pausedAt = time.Time{}
	}
}

// Finish writes the final line: the count, the time taken and the rate.
func (b *Bar) Finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if b.done {
		b.mu.Unlock()
		return
	}
	b.done = true
	now := time.Now()
	if !b.pausedAt.IsZero() {
		b.paused += now.Sub(b.pausedAt)
		b.pausedAt = time.Time{}
	}
	b.blank()
	took := now.Sub(b.began)
	if !b.set {
		took = b.elapsed(now) // pauses left out
	}
	fmt.Fprintf(b.w, "%s: %s in %s (%s)\n", b.what, b.count(b.n), round(took), b.rate(b.n-b.base, b.elapsed(now)))
	b.mu.Unlock()
	close(b.stop)
	<-b.stopped
}

// elapsed is the time the task has run, pauses left out.
func (b *Bar) elapsed(now time.Time) time.Duration {
	el := now.Sub(b.start) - b.paused
	if !b.pausedAt.IsZero() {
		el -= now.Sub(b.pausedAt)
	}
	return el
}

// Line is the progress line at now: what, count of total, percentage,
// rate and the time left.
func (b *Bar) Line(now time.Time) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.line(now)
}

func (b *Bar) line(now time.Time) string {
	el := b.elapsed(now)
	var s strings.Builder
	s.WriteString(b.what)
	s.WriteString(": ")
	if b.total > 0 {
		fmt.Fprintf(&s, "%s of %s (%d%%)", b.figure(b.n), b.count(b.total), b.n*100/b.total)
	} else {
		s.WriteString(b.count(b.n))
	}
	s.WriteString(", ")
	done := b.n - b.base
	s.WriteString(b.rate(done, el))
	if b.total > 0 && done > 0 && b.n < b.total && el > 0 {
		left := time.Duration(float64(el) * float64(b.total-b.n) / float64(done))
		s.WriteString(", ")
		s.WriteString(round(left))
		s.WriteString(" left")
	}
	return s.String()
}

func (b *Bar) draw(now time.Time) {
	l := b.line(now)
	if b.tty {
		pad := max(0, b.width-len(l))
		fmt.Fprintf(b.w, "\r%s%s", l, strings.Repeat(" ", pad))
		b.width = len(l)
	} else {
		fmt.Fprintln(b.w, l)
	}
}

// blank erases the terminal line.
func (b *Bar) blank() {
	if b.tty && b.width > 0 {
		fmt.Fprintf(b.w, "\r%s\r", strings.Repeat(" ", b.width))
		b.width = 0
	}
}

// figure is a count without its unit.
func (b *Bar) figure(n int64) string {
	if b.unit == Bytes {
		return Size(n)
	}
	return Count(n)
}

// count is a count with its unit.
func (b *Bar) count(n int64) string {
	if b.unit == Bytes || b.unit == "" {
		return b.figure(n)
	}
	return Count(n) + " " + b.unit
}

// rate is n over el per second: a believable figure, or "-" before
// there is one.
func (b *Bar) rate(n int64, el time.Duration) string {
	unit := b.unit
	if unit == "" {
		unit = "items"
	}
	if n <= 0 || el < 10*time.Millisecond {
		return "- " + unit + "/s"
	}
	r := float64(n) / el.Seconds()
	if b.unit == Bytes {
		return Size(int64(r)) + "/s"
	}
	if r < 10 {
		return strconv.FormatFloat(r, 'f', 1, 64) + " " + unit + "/s"
	}
	return Count(int64(r+0.5)) + " " + unit + "/s"
}

// round shows a duration to the second, or to the tenth below ten seconds.
func round(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// Count writes n with thousands separated: 1,234,567.
func Count(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out strings.Builder
	if neg {
		out.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out.WriteByte(',')
		}
		out.WriteRune(c)
	}
	return out.String()
}

// Size writes a byte count in binary units: 512 B, 1.5 KiB, 64 MiB.
// Whole numbers lose their decimals, so that limits read as set.
func Size(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	f := float64(n)
	i := -1
	for ; (f >= unit || f <= -unit) && i < 5; i++ {
		f /= unit
	}
	s := strconv.FormatFloat(f, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTPE"[i]) + "iB"
}

// Plural is n with its noun, singular for one: "1 client", "2 clients".
func Plural(n int, singular, plural string) string {
	if n == 1 {
		return "1 " + singular
	}
	return Count(int64(n)) + " " + plural
}

// ParseSize reads a size as Size writes it, or a plain count of bytes:
// "64 MiB", "64MiB", "1.5 GiB", "512", "512 B".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	for i, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if v, ok := strings.CutSuffix(t, u); ok {
			t, mult = strings.TrimSpace(v), int64(1)<<(10*(i+1))
			break
		}
	}
	if mult == 1 {
		t = strings.TrimSpace(strings.TrimSuffix(t, "B"))
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f < 0 || f*float64(mult) > 1<<62 {
		return 0, fmt.Errorf("%q is not a size: write bytes or KiB, MiB, GiB, TiB, such as 64MiB", s)
	}
	return int64(f * float64(mult)), nil
}
