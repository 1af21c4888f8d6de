package bench

import (
	"strings"
	"testing"
)

func TestMarkdownJudgesTargets(t *testing.T) {
	r := &Result{Backend: "sqlite", Docs: 1000000, ArchiveDocsPerS: 1200, FetchPerS: 2500, FetchP99ms: 9.5, ListP99ms: 25, LoggingCostPct: 10, PeakRSSMB: 510,
		ArchiveServerCPUms: 1.1, FetchServerCPUms: 0.3, ArchiveWritesPerCommit: 6.5, FetchWritesPerCommit: 4,
		VerifyOfCryptoFloor: 0.07, HTTPOfTLSOnly: 0.85,
		FetchOfFirstCheckpoint: 0.83, ListOfFirstCheckpoint: 0.6, ArchivePerCorePerS: 600, FetchPerCorePerS: 1250,
		Points: []Point{{Docs: 10000}, {Docs: 1000000, ArchiveDocsPerS: 1200, Fetch: Workload{ClientCPUms: 0.07}}}}
	pg := &Result{Backend: "postgres", Docs: 100000, FetchDatabaseCPUms: 0.25, Points: []Point{{Docs: 100000}}}
	md := Markdown(r, pg)
	for _, want := range []string{
		"| target | sqlite, 1,000,000 documents | postgres, 100,000 documents |",
		"| archive sustained ≥ 1000 documents/s | 1200 — met |",
		"| document fetches ≥ 8000 /s | 2500 — missed |",
		"| fetch p99 < 10.0 ms | 9.50 — met |",
		"| client's document list p99 < 20.0 ms | 25.0 — missed |",
		"| access logging cost ≤ 10.0 % | 10.0 — met |",
		"| server peak RSS < 500 MB | 510 — missed |",
		"| sqlite | 10,000 |",
		"| sqlite | 1,000,000 | 1200 |",
		"| sqlite | server | 1.10 | 0.30 |",
		"| 6.50 | 4.00 |",
		"| sqlite | load generator | 0.00 | 0.07 |",
		"| postgres | PostgreSQL | 0.00 | 0.25 |",
		"| verification ÷ crypto floor ≥ 0.25 | 0.07 — missed | not measured |",
		"| empty authenticated request ÷ TLS only ≥ 0.80 | 0.85 — met | not measured |",
		"| fetch at the last checkpoint ÷ at the first ≥ 0.80 | 0.83 — met | not measured |",
		"| list at the last checkpoint ÷ at the first ≥ 0.80 | 0.60 — missed | not measured |",
		"| durable archive transactions per core (Blaze: 169) ≥ 169/s | 600 — met | not measured |",
		"| fetches per core (Blaze: 2,036 reads) ≥ 2036/s | 1250 — missed | not measured |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the tables lack %q:\n%s", want, md)
		}
	}
}

// TestLoggedUnloggedColumns: a run that measured the log's price through
// the domain service shows those figures; an older run its server's.
func TestLoggedUnloggedColumns(t *testing.T) {
	now := &Result{Backend: "sqlite", FetchPerS: 800, ListPerS: 300,
		ServiceFetchPerS: 3639, ServiceFetchUnloggedPerS: 8958, ServiceListPerS: 986, ServiceListUnloggedPerS: 1638}
	old := &Result{Backend: "postgres", FetchPerS: 1232, FetchUnloggedPerS: 1379, ListPerS: 477, ListUnloggedPerS: 747}
	md := Markdown(now, old)
	for _, want := range []string{"| 3639 / 8958 | 986 / 1638 |", "| 1232 / 1379 | 477 / 747 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("the tables lack %q:\n%s", want, md)
		}
	}
}

// TestScaleFigures: reads at the last checkpoint against the first, and
// the archive's rates per core of the machine.
func TestScaleFigures(t *testing.T) {
	r := &Result{Machine: Machine{CPUs: 2}, Points: []Point{
		{Docs: 10000, Fetch: Workload{PerS: 3000}, List: Workload{PerS: 1000}},
		{Docs: 100000, Fetch: Workload{PerS: 100}, List: Workload{PerS: 100}},
		{Docs: 1000000, ArchiveDocsPerS: 1200, Fetch: Workload{PerS: 2500}, List: Workload{PerS: 600}},
	}}
	r.ArchiveDocsPerS = 1201
	r.finish()
	if r.FetchOfFirstCheckpoint != 0.83 || r.ListOfFirstCheckpoint != 0.6 || r.ArchivePerCorePerS != 601 || r.FetchPerCorePerS != 1250 {
		t.Errorf("fetch %v, list %v of the first checkpoint; %v archived and %v fetched a core",
			r.FetchOfFirstCheckpoint, r.ListOfFirstCheckpoint, r.ArchivePerCorePerS, r.FetchPerCorePerS)
	}
	one := &Result{Machine: Machine{CPUs: 2}, Points: []Point{{Docs: 10000, Fetch: Workload{PerS: 3000}}}}
	one.finish()
	if one.FetchOfFirstCheckpoint != 0 || one.ListOfFirstCheckpoint != 0 {
		t.Errorf("one checkpoint compared with itself: %v, %v", one.FetchOfFirstCheckpoint, one.ListOfFirstCheckpoint)
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1000000: "1,000,000", 10000000: "10,000,000"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestCountTicks: the plot's data-size axis labels each power of ten the
// way the tables write counts, and only those.
func TestCountTicks(t *testing.T) {
	var labels []string
	n := 0
	for _, tk := range (countTicks{}).Ticks(10000, 1000000) {
		n++
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got := strings.Join(labels, " "); got != "10,000 100,000 1,000,000" {
		t.Errorf("labels %q", got)
	}
	if n != 19 { // 1–9 × 10⁴, 1–9 × 10⁵, 10⁶
		t.Errorf("%d ticks, want 19", n)
	}
}

// TestDisclosureBesideSearch: the disclosure workload's figures and their
// ratios to own-use search, in the flat results and in a table of their
// own, which results without the workload (older runs) do not get.
func TestDisclosureBesideSearch(t *testing.T) {
	r := &Result{Backend: "postgres", Docs: 10000, DisclosureClients: 50, Points: []Point{{
		Docs:                   10000,
		Search:                 Workload{PerS: 800, P99ms: 12, ServerCPUms: 1.5, DatabaseCPUms: 0.5, WritesPerCommit: 8},
		Disclosure:             Workload{PerS: 400, P99ms: 30, ServerCPUms: 3, DatabaseCPUms: 1.5, WritesPerCommit: 1.2},
		DisclosedDocsPerClient: 19.5,
	}}}
	r.finish()
	if r.DisclosurePerS != 400 || r.DisclosureOfSearch != 0.5 || r.DisclosureCPUOfSearch != 2 || r.DisclosedDocsPerClient != 19.5 ||
		r.DisclosureDatabaseCPUms != 1.5 || r.SearchWritesPerCommit != 8 || r.DisclosureWritesPerCommit != 1.2 {
		t.Errorf("flat figures: %+v", r)
	}
	md := Markdown(r)
	for _, want := range []string{
		"| backend | documents | consenting clients | documents disclosed per client | search/s | disclosure/s | disclosure ÷ search |",
		"| postgres | 10,000 | 50 | 19.5 | 800 | 400 | 0.50 | 12.0 | 30.0 | 1.50 | 3.00 | 2.00 | 8.00 | 1.20 |",
		"| postgres | 10,000 | PostgreSQL CPU ms | | | | | | | 0.50 | 1.50 | 3.00 | | |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the tables lack %q:\n%s", want, md)
		}
	}
	old := &Result{Backend: "sqlite", Docs: 10000, Points: []Point{{Docs: 10000, Search: Workload{PerS: 800}}}}
	old.finish()
	if md := Markdown(old); strings.Contains(md, "disclosure") || old.DisclosureOfSearch != 0 {
		t.Errorf("a run without the disclosure workload has its table or ratio:\n%s", md)
	}
}
