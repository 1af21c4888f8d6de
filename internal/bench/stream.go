package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/progress"
)

// The generated documents are kept in one stream file, so that a run can
// archive N documents with memory that does not grow with N, and so that
// runs on SQLite and PostgreSQL archive the very same documents. Each
// record is a length-prefixed JSON meta followed by the length-prefixed
// document bytes.

// Meta is what the load generator needs to know about a document to ask
// for it later: who may read it and what to search it by.
type Meta struct {
	Org    int       `json:"org"` // index into the PKI's organisations
	ID     string    `json:"id"`
	Client string    `json:"client"` // identity code
	Case   string    `json:"case,omitempty"`
	Task   string    `json:"task,omitempty"` // service task code
	Date   time.Time `json:"date"`           // effective time
}

// streamManifest marks a complete stream file and records what made it.
type streamManifest struct {
	Version  int    `json:"version"`
	Docs     int    `json:"docs"`
	Clients  int    `json:"clients"`
	KeyType  string `json:"keyType"`
	Seed     uint64 `json:"seed"`
	Active   int    `json:"active"` // clients in progress at a time
	Bytes    int64  `json:"bytes"`
	Complete bool   `json:"complete"`
}

// streamVersion 2: clients get their documents a few at a time
// (gen.Options.PerClient) instead of all growing together.
const streamVersion = 2

// maxRecord bounds one stream record when reading it back: a damaged file
// must fail clearly, not allocate gigabytes.
const maxRecord = 64 << 20

type streamWriter struct {
	f *os.File
	w *bufio.Writer
	n int64
}

func (s *streamWriter) write(m *Meta, doc []byte) error {
	js, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var hdr [4]byte
	for _, part := range [][]byte{js, doc} {
		binary.BigEndian.PutUint32(hdr[:], uint32(len(part)))
		if _, err := s.w.Write(hdr[:]); err != nil {
			return err
		}
		if _, err := s.w.Write(part); err != nil {
			return err
		}
		s.n += int64(4 + len(part))
	}
	return nil
}

// streamReader reads a stream file record by record.
type streamReader struct {
	f *os.File
	r *bufio.Reader
}

func openStream(path string) (*streamReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	return &streamReader{f: f, r: bufio.NewReaderSize(f, 1<<20)}, nil
}

func (s *streamReader) Close() error { return s.f.Close() }

// next returns the next document, or io.EOF after the last.
func (s *streamReader) next() (*Meta, []byte, error) {
	js, err := s.part()
	if err != nil {
		return nil, nil, err
	}
	doc, err := s.part()
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return nil, nil, err
	}
	m := &Meta{}
	if err := json.Unmarshal(js, m); err != nil {
		return nil, nil, fmt.Errorf("document stream: a damaged record: %w", err)
	}
	return m, doc, nil
}

// nextMeta returns the next document's meta and skips its bytes.
func (s *streamReader) nextMeta() (*Meta, error) {
	js, err := s.part()
	if err != nil {
		return nil, err
	}
	var hdr [4]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxRecord {
		return nil, fmt.Errorf("document stream: a record of %d bytes; the file is damaged", n)
	}
	if _, err := s.r.Discard(int(n)); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	m := &Meta{}
	if err := json.Unmarshal(js, m); err != nil {
		return nil, fmt.Errorf("document stream: a damaged record: %w", err)
	}
	return m, nil
}

func (s *streamReader) part() ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(s.r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxRecord {
		return nil, fmt.Errorf("document stream: a record of %d bytes; the file is damaged", n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return b, nil
}

// ensureStream returns the path of a complete stream of docs documents
// for the PKI, generating it unless an earlier run left one.
func ensureStream(ctx context.Context, dir string, world *gen.PKI, cfg *Config) (string, error) {
	name := fmt.Sprintf("docs-%d-%d-a%d-%s-%d", cfg.Docs, cfg.Clients, cfg.activeClients(), cfg.KeyType, cfg.Seed)
	path := filepath.Join(dir, name+".stream")
	manPath := filepath.Join(dir, name+".json")
	want := streamManifest{Version: streamVersion, Docs: cfg.Docs, Clients: cfg.Clients, KeyType: string(cfg.KeyType), Seed: cfg.Seed, Active: cfg.activeClients(), Complete: true}
	if b, err := os.ReadFile(manPath); err == nil {
		var have streamManifest
		if json.Unmarshal(b, &have) == nil {
			if fi, err := os.Stat(path); err == nil && have.Complete && fi.Size() == have.Bytes {
				have.Bytes = 0
				if have == want {
					cfg.logf("reusing %d generated documents in %s", cfg.Docs, path)
					return path, nil
				}
			}
		}
	}
	os.Remove(manPath)
	n, err := generate(ctx, path, world, cfg)
	if err != nil {
		return "", err
	}
	want.Bytes = n
	b, _ := json.MarshalIndent(want, "", "  ")
	// Written last: an interrupted generation is generated again.
	if err := os.WriteFile(manPath, b, 0o600); err != nil {
		return "", err
	}
	return path, nil
}

// activeClients is how many clients are in progress at a time in the
// stream: four per concurrent request, so that a client's next document
// is far behind its previous one (as Config.check requires of Clients).
func (c *Config) activeClients() int { return 4 * c.Concurrency }

// generate writes the stream with one generator per core, each with its
// share of the clients. A client's documents come from one generator, in
// its order, so that originals precede their replacements in the file.
//
// Each client gets its share of the documents (Docs/Clients) with only a
// few clients in progress at a time: at every checkpoint of a run almost
// every client archived so far has all its documents, so that listing a
// client's documents reads a page of the same size at 10,000 documents
// as at 1,000,000, and the checkpoints compare. (With every client started
// first, a client listed at the first checkpoint of a million-document
// run had one document, at the last twenty.)
func generate(ctx context.Context, path string, world *gen.PKI, cfg *Config) (int64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sw := &streamWriter{f: f, w: bufio.NewWriterSize(f, 1<<20)}
	orgIndex := map[*gen.Organisation]int{}
	for i, o := range world.Organisations {
		orgIndex[o] = i
	}
	workers := min(runtime.GOMAXPROCS(0), cfg.Clients, cfg.Docs)
	type out struct {
		m   *Meta
		doc []byte
	}
	ch := make(chan out, 256)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var genErr error
	var once sync.Once
	now := time.Now()
	for w := range workers {
		docs := cfg.Docs/workers + btoi(w < cfg.Docs%workers)
		clients := cfg.Clients/workers + btoi(w < cfg.Clients%workers)
		perClient := (docs + clients - 1) / clients
		active := (cfg.activeClients() + workers - 1) / workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := gen.New(world, gen.Options{Seed: cfg.Seed*1000 + uint64(w) + 1, Clients: clients, ReplaceEvery: 10, StrippedEvery: 50, Now: now,
				PerClient: perClient, Active: active})
			for range docs {
				d, err := g.Next()
				if err != nil {
					once.Do(func() { genErr = err; cancel() })
					return
				}
				h := d.Header
				m := &Meta{Org: orgIndex[d.Org], ID: h.ID, Client: h.Client.ID.Extension, Case: h.Case.ID, Task: h.ServiceTask.Code, Date: h.EffectiveTime}
				select {
				case ch <- out{m, d.XML}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { wg.Wait(); close(ch) }()
	bar := cfg.bar(cfg.Docs, "generating signed documents", "docs")
	written := 0
	var werr error
	for o := range ch {
		if werr == nil {
			werr = sw.write(o.m, o.doc)
			if werr != nil {
				cancel()
			}
		}
		written++
		bar.Add(1)
	}
	bar.Finish()
	if genErr != nil {
		return 0, fmt.Errorf("generate documents: %w", genErr)
	}
	if werr != nil {
		return 0, fmt.Errorf("write %s: %w", path, werr)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if written != cfg.Docs {
		return 0, fmt.Errorf("generated %d documents, want %d", written, cfg.Docs)
	}
	if err := sw.w.Flush(); err != nil {
		return 0, err
	}
	return sw.n, f.Sync()
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bar returns a progress display on the configured writer (nil, which
// does nothing, when quiet) counting unit up to total.
func (c *Config) bar(total int, what, unit string) *progress.Bar {
	return progress.New(c.Progress, what, int64(total), unit)
}
