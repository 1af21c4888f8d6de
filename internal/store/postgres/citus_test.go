package postgres_test

import (
	"bufio"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/arkisto/arkisto/internal/store/postgres"
)

type planEntry struct {
	kind, column, colocate string
}

// readPlan reads the citus-plan block of docs/scaling.md.
func readPlan(t *testing.T) map[string]planEntry {
	f, err := os.Open("../../../docs/scaling.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	plan := map[string]planEntry{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "```citus-plan":
			in = true
		case in && line == "```":
			in = false
		case in && line != "":
			w := strings.Fields(line)
			e := planEntry{kind: w[0]}
			if len(w) > 2 {
				e.column = w[2]
			}
			if len(w) > 4 && w[3] == "colocated-with" {
				e.colocate = w[4]
			}
			plan[w[1]] = e
		}
	}
	if len(plan) == 0 {
		t.Fatal("docs/scaling.md has no citus-plan block")
	}
	return plan
}

// TestSchemaMatchesScalingPlan checks the migrated schema against the plan
// in docs/scaling.md: every table is in the plan; distributed tables carry
// their distribution column; every primary key and unique constraint on a
// distributed table includes it; foreign keys between distributed tables
// include it on both sides.
func TestSchemaMatchesScalingPlan(t *testing.T) {
	ctx := context.Background()
	url := dbURL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	plan := readPlan(t)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, tb := range tables {
		have[tb] = true
		if _, ok := plan[tb]; !ok {
			t.Errorf("table %s is not in the citus-plan of docs/scaling.md", tb)
		}
	}
	for tb, e := range plan {
		if !have[tb] {
			t.Errorf("docs/scaling.md plans table %s, which the schema does not have", tb)
			continue
		}
		if e.kind != "distributed" {
			continue
		}
		var hasCol bool
		conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)`, tb, e.column).Scan(&hasCol)
		if !hasCol {
			t.Errorf("distributed table %s has no distribution column %s", tb, e.column)
		}
		if e.colocate != "" && plan[e.colocate].column != e.column {
			t.Errorf("%s is colocated with %s but distributed by another column", tb, e.colocate)
		}
		// Unique and primary keys must include the distribution column.
		cons, err := conn.Query(ctx, `SELECT c.conname, c.contype::text, array_agg(a.attname::text)
			FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY(c.conkey)
			WHERE c.conrelid = (current_schema() || '.' || $1)::regclass AND c.contype IN ('p', 'u', 'f')
			GROUP BY c.conname, c.contype`, tb)
		if err != nil {
			t.Fatal(err)
		}
		for cons.Next() {
			var name, typ string
			var cols []string
			if err := cons.Scan(&name, &typ, &cols); err != nil {
				t.Fatal(err)
			}
			found := false
			for _, c := range cols {
				found = found || c == e.column
			}
			if !found {
				t.Errorf("constraint %s on %s (%v) does not include the distribution column %s", name, tb, cols, e.column)
			}
		}
		cons.Close()
	}
	// Foreign keys between distributed tables point at colocated tables.
	fks, err := conn.Query(ctx, `SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c
		WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace`)
	if err != nil {
		t.Fatal(err)
	}
	for fks.Next() {
		var from, to string
		if err := fks.Scan(&from, &to); err != nil {
			t.Fatal(err)
		}
		from, to = unqualify(from), unqualify(to)
		pf, pt := plan[from], plan[to]
		if pf.kind == "distributed" && pt.kind == "distributed" && pf.column != pt.column {
			t.Errorf("foreign key %s -> %s joins tables distributed by different columns", from, to)
		}
		if pf.kind == "reference" && pt.kind == "distributed" {
			t.Errorf("reference table %s refers to distributed %s", from, to)
		}
	}
}

func unqualify(s string) string {
	if i := strings.LastIndex(s, "."); i >= 0 {
		return s[i+1:]
	}
	return s
}

// TestScalingSQLMatchesPlan: the distribution SQL in docs/scaling.md does
// to every table what the citus-plan says, and nothing else. Local tables
// are left alone.
func TestScalingSQLMatchesPlan(t *testing.T) {
	plan := readPlan(t)
	doc, err := os.ReadFile("../../../docs/scaling.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```sql\nCREATE EXTENSION citus;")
	if !ok {
		t.Fatal("docs/scaling.md has no distribution SQL")
	}
	block, _, _ := strings.Cut(rest, "```")
	ref := regexp.MustCompile(`^SELECT create_reference_table\('(\w+)'\);$`)
	dist := regexp.MustCompile(`^SELECT create_distributed_table\('(\w+)', '(\w+)'(?:, colocate_with => '(\w+)'|, shard_count => \d+)\);$`)
	done := map[string]planEntry{}
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		if m := ref.FindStringSubmatch(line); m != nil {
			done[m[1]] = planEntry{kind: "reference"}
		} else if m := dist.FindStringSubmatch(line); m != nil {
			done[m[1]] = planEntry{kind: "distributed", column: m[2], colocate: m[3]}
		} else {
			t.Errorf("unexpected line in the distribution SQL: %q", line)
		}
	}
	for tb, want := range plan {
		got, ok := done[tb]
		switch {
		case want.kind == "local" && ok:
			t.Errorf("the SQL distributes %s, which the plan keeps local", tb)
		case want.kind == "local":
		case !ok:
			t.Errorf("the SQL leaves out %s (%s in the plan)", tb, want.kind)
		case got != want:
			t.Errorf("the SQL makes %s %+v, the plan %+v", tb, got, want)
		}
	}
	for tb := range done {
		if _, ok := plan[tb]; !ok {
			t.Errorf("the SQL names %s, which the plan does not", tb)
		}
	}
}
