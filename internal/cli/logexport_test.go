package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/gen"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/storage"
)

// TestLogExport: the export holds exactly the controller's access-log and
// disclosure-log entries of the period (of one client with --client),
// newest first across both logs, in CSV and JSON, and is itself logged.
func TestLogExport(t *testing.T) {
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	cfg := storage.Config{DataDir: data}
	st, err := storage.Create(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	const (
		A, B    = "1.2.246.10.11111118.10.0", "1.2.246.10.22222226.10.0"
		outside = "1.2.246.10.33333339.10.0"
	)
	code := func(d, n int) string {
		c, err := hetu.Make(time.Date(1980, 1, d, 0, 0, 0, 0, time.UTC), n, '-')
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	x, y := hetu.OIDRoot+"|"+code(1, 902), hetu.OIDRoot+"|"+code(2, 903)
	badClient := code(3, 904)
	badClient = badClient[:len(badClient)-1] + string("0123456789ABCDEFHJKLMNPRSTUVWXY"[(strings.IndexByte("0123456789ABCDEFHJKLMNPRSTUVWXY", badClient[len(badClient)-1])+1)%31])
	day := func(s string, h int) time.Time {
		t0, err := time.ParseInLocation("2006-01-02", s, fitime.Location)
		if err != nil {
			t.Fatal(err)
		}
		return t0.Add(time.Duration(h) * time.Hour).UTC()
	}
	type want struct {
		log, client string
		at          time.Time
	}
	var all []want
	err = st.Update(ctx, func(tx archive.Tx) error {
		for _, o := range []string{A, B, outside} {
			if err := tx.PutOrganisation(ctx, &archive.Organisation{OID: o, Name: "Org " + o, Kind: archive.KindPublic}); err != nil {
				return err
			}
		}
		access := func(at time.Time, client, custodian, callerOrg string, outcome archive.Outcome) error {
			e := &archive.AccessEntry{At: at, ClientKey: client, Custodian: custodian, Outcome: outcome, Action: archive.ActionRead, Reason: "r",
				Caller: archive.Caller{System: "s", Organisation: callerOrg, Purpose: "1"}, Documents: []string{"1.2.3.4"}}
			all = append(all, want{"access:" + custodian + ":" + callerOrg + ":" + string(outcome), client, at})
			return tx.AppendAccess(ctx, e)
		}
		disclosure := func(at time.Time, client, discloser, recipient string) error {
			d := &archive.Disclosure{At: at, DisclosedAt: at, Source: archive.SourceArchive, ClientKey: client, Discloser: discloser, Recipient: recipient,
				Caller: archive.Caller{System: "s", Organisation: recipient, Purpose: "disclosure"}, GroundKind: archive.GroundConsent, Ground: "c1",
				Documents: []archive.DisclosedDocument{{ID: "1.2.3.5", GeneralType: "15", ServiceTasks: []string{"24"}}}}
			all = append(all, want{"disclosure:" + discloser + ":" + recipient, client, at})
			return tx.AppendDisclosure(ctx, d)
		}
		for _, step := range []error{
			access(day("2026-03-01", 10), x, A, A, archive.OutcomeAllowed), // A's own use
			disclosure(day("2026-03-02", 10), x, A, B),                     // A disclosed to B
			access(day("2026-03-03", 10), x, A, B, archive.OutcomeRefused), // B refused in A's register: A's
			access(day("2026-03-03", 11), y, B, A, archive.OutcomeAllowed), // A's system in B's register, allowed: A's
			access(day("2026-03-04", 10), y, B, A, archive.OutcomeRefused), // A refused in B's register: B's alone
			disclosure(day("2026-03-05", 10), y, B, A),                     // A received from B
			disclosure(day("2026-03-06", 10), x, B, outside),               // neither A's
			access(day("2026-03-07", 23), x, A, A, archive.OutcomeAllowed), // last day, late evening Finnish time
			access(day("2026-03-08", 0), x, A, A, archive.OutcomeAllowed),  // the day after
			access(day("2026-02-28", 23), x, A, A, archive.OutcomeAllowed), // the day before
		} {
			if step != nil {
				return step
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	inPeriod := func(w want) bool { return !w.at.Before(day("2026-03-01", 0)) && w.at.Before(day("2026-03-08", 0)) }
	mine := func(w want) bool {
		switch w.log {
		case "access:" + A + ":" + A + ":allowed", "access:" + A + ":" + B + ":refused", "access:" + B + ":" + A + ":allowed",
			"disclosure:" + A + ":" + B, "disclosure:" + B + ":" + A:
			return true
		}
		return false
	}
	expect := func(client string) []time.Time {
		var out []time.Time
		for i := len(all) - 1; i >= 0; i-- {
			w := all[i]
			if inPeriod(w) && mine(w) && (client == "" || w.client == client) {
				out = append(out, w.at)
			}
		}
		// newest first
		for i := 1; i < len(out); i++ {
			for j := i; j > 0 && out[j].After(out[j-1]); j-- {
				out[j], out[j-1] = out[j-1], out[j]
			}
		}
		return out
	}

	for _, tt := range []struct {
		name   string
		client string
	}{{"every client", ""}, {"one client", strings.TrimPrefix(x, hetu.OIDRoot+"|")}} {
		t.Run(tt.name+" csv", func(t *testing.T) {
			args := []string{"--data", data, "admin", "log", "export", "--controller", A, "--from", "2026-03-01", "--to", "2026-03-07", "--format", "csv"}
			clientKey := ""
			if tt.client != "" {
				args = append(args, "--client", tt.client)
				clientKey = hetu.OIDRoot + "|" + tt.client
			}
			exit, out, errs := run(t, args...)
			if exit != 0 {
				t.Fatalf("exit %d: %s", exit, errs)
			}
			if !strings.Contains(errs, "reaches back more than two years") == (time.Since(day("2026-03-01", 0)) > archive.TwoYears) {
				t.Errorf("the two-year note is wrong for this period: %q", errs)
			}
			rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) == 0 || rows[0][0] != "log" {
				t.Fatalf("no header: %q", out)
			}
			var got []time.Time
			for _, r := range rows[1:] {
				at, err := time.Parse(time.RFC3339Nano, r[2])
				if err != nil {
					t.Fatalf("row %v: %v", r, err)
				}
				if r[0] == "access" && r[5] == string(archive.ActionLogRead) {
					continue // an earlier export, logged
				}
				got = append(got, at)
				if clientKey != "" && r[3] != clientKey {
					t.Errorf("another client's entry: %v", r)
				}
			}
			want := expect(clientKey)
			if len(got) != len(want) {
				t.Fatalf("exported %d entries %v, want %d %v", len(got), got, len(want), want)
			}
			for i := range got {
				if !got[i].Equal(want[i]) {
					t.Errorf("entry %d at %v, want %v (newest first)", i, got[i], want[i])
				}
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		exit, out, errs := run(t, "--data", data, "admin", "log", "export", "--controller", A, "--from", "2026-03-02", "--to", "2026-03-02", "--format", "json")
		if exit != 0 {
			t.Fatalf("exit %d: %s", exit, errs)
		}
		var got []struct {
			Log   string          `json:"log"`
			Entry json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("not a JSON array: %v\n%s", err, out)
		}
		if len(got) != 1 || got[0].Log != "disclosure" {
			t.Fatalf("want the one disclosure of 2 March, got %s", out)
		}
		var d archive.Disclosure
		if err := json.Unmarshal(got[0].Entry, &d); err != nil || d.Discloser != A || d.Recipient != B || d.Ground != "c1" || len(d.Documents) != 1 {
			t.Errorf("disclosure entry %+v (%v)", d, err)
		}
	})
	t.Run("the export is logged", func(t *testing.T) {
		st, err := storage.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		var n int
		err = st.View(ctx, func(tx archive.Tx) error {
			es, err := tx.AccessLog(ctx, archive.AccessLogQuery{Organisation: A, Limit: 1000})
			for _, e := range es {
				if e.Action == archive.ActionLogRead && strings.HasPrefix(e.Details, "export ") && e.Custodian == A {
					n++
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("%d exports logged, want 3", n)
		}
	})
	for _, bad := range []struct {
		args []string
		want string
	}{
		{[]string{"--from", "2026-03-01", "--to", "2026-03-07"}, "--controller"},
		{[]string{"--controller", A, "--to", "2026-03-07"}, "--from"},
		{[]string{"--controller", A, "--from", "1.3.2026", "--to", "2026-03-07"}, "--from"},
		{[]string{"--controller", A, "--from", "2026-03-07", "--to", "2026-03-01"}, "--to"},
		{[]string{"--controller", A, "--from", "2026-03-01", "--to", "2026-03-07", "--client", badClient}, "--client"},
		{[]string{"--controller", A, "--from", "2026-03-01", "--to", "2026-03-07", "--format", "xml"}, "--format"},
		{[]string{"--controller", "1.2.246.10.44444444.10.0", "--from", "2026-03-01", "--to", "2026-03-07"}, "not an onboarded organisation"},
	} {
		exit, _, errs := run(t, append([]string{"--data", data, "admin", "log", "export"}, bad.args...)...)
		if exit == 0 || !strings.Contains(errs, bad.want) {
			t.Errorf("%v: exit %d, %q, want an error naming %s", bad.args, exit, errs, bad.want)
		}
	}
}

// TestGenRelationshipFor: gen --relationship-for writes one client
// relationship document of the named system's organisation with the
// existing client, and refuses an unknown system or a bad identity code.
func TestGenRelationshipFor(t *testing.T) {
	dir := t.TempDir()
	if code, out, errs := run(t, "gen", "--out", dir, "--count", "2", "--clients", "1", "--key", "p256"); code != 0 {
		t.Fatalf("gen: %s%s", out, errs)
	}
	world, err := gen.LoadPKI(filepath.Join(dir, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := hetu.Make(time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), 902, '-')
	if err != nil {
		t.Fatal(err)
	}
	org := world.Organisations[1]
	out2 := filepath.Join(dir, "rel")
	if code, out, errs := run(t, "gen", "--pki", filepath.Join(dir, "pki"), "--out", out2, "--relationship-for", client, "--system", org.SystemName); code != 0 {
		t.Fatalf("gen --relationship-for: %s%s", out, errs)
	}
	raw, err := os.ReadFile(filepath.Join(out2, "docs", "0000", "00000000.xml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, probs := cda.Read(raw, cda.Options{})
	if len(probs) > 0 {
		t.Fatalf("the document does not read: %v", probs)
	}
	if doc.DocumentGroup.Code != codes.GroupClientRelationship || doc.Custodian.OID != org.ControllerOID() || doc.Client.ID.Extension != client {
		t.Errorf("group %s, custodian %s, client %s; want a relationship document of %s with %s", doc.DocumentGroup.Code, doc.Custodian.OID, doc.Client.ID.Extension, org.ControllerOID(), client)
	}
	if _, err := os.Stat(filepath.Join(out2, "docs", "0000", "00000001.xml")); err == nil {
		t.Error("more than one document written")
	}
	for _, bad := range [][]string{
		{"--relationship-for", client, "--system", "no-such-system"},
		{"--relationship-for", client[:len(client)-1] + "X", "--system", org.SystemName},
	} {
		if code, _, errs := run(t, append([]string{"gen", "--pki", filepath.Join(dir, "pki"), "--out", filepath.Join(dir, "bad")}, bad...)...); code == 0 || errs == "" {
			t.Errorf("%v: exit %d", bad, code)
		}
	}
}
