package cli

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/fitime"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/progress"
)

func (a *app) logCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "log", Short: "The access log and the disclosure log"}
	var controller, client, from, to, format, out string
	export := &cobra.Command{
		Use:   "export --controller OID [--client ID] --from DATE --to DATE [--format csv|json] [--out FILE]",
		Short: "Export a controller's access-log and disclosure-log entries of a period",
		Long: `Writes the controller's access-log entries (about its registers, those of
registers transferred to it up to the transfer, and its own systems' allowed
actions) and its disclosure-log entries (what it disclosed or received, and
the disclosures it reported), newest first, for a data protection officer or
a client's log request (--client: an identity code, or root|extension of a
temporary identifier). --from and --to are days in Finnish time, both
included. csv has one row per entry; json is one array of
{"log":"access"|"disclosure","entry":{...}} objects. The export streams: its
memory does not grow with the log. The export itself is logged.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := exportQuery(controller, client, from, to)
			if err != nil {
				return err
			}
			if format != "csv" && format != "json" {
				return fmt.Errorf("--format: csv or json, not %q", format)
			}
			if time.Since(q.From) > archive.TwoYears {
				fmt.Fprintln(a.stderr, "note: the period reaches back more than two years; for a client's log request the law expects a special reason for that (Client Data Act 703/2023)")
			}
			var w io.Writer = a.stdout
			var f *os.File
			if out != "" && out != "-" {
				if f, err = os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
					return fmt.Errorf("--out: %w", err)
				}
				defer f.Close()
				w = f
			}
			bw := bufio.NewWriterSize(w, 64<<10)
			enc := newLogEncoder(format, bw)
			ctx := cmd.Context()
			bar := progress.New(a.stderr, "exporting", 0, "entries")
			var n int
			err = a.withAdmin(ctx, func(adm *archive.Admin) error {
				n, err = adm.ExportLog(ctx, q, func(r archive.LogRecord) error {
					bar.Add(1)
					return enc.write(r)
				})
				return err
			})
			bar.Finish()
			if err == nil {
				err = enc.close()
			}
			if err == nil {
				err = bw.Flush()
			}
			if err == nil && f != nil {
				err = f.Close()
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "exported %s\n", progress.Plural(n, "entry", "entries"))
			return nil
		},
	}
	f := export.Flags()
	f.StringVar(&controller, "controller", "", "the controller's organisation OID")
	f.StringVar(&client, "client", "", "one client's entries only: identity code, or root|extension")
	f.StringVar(&from, "from", "", "first day (YYYY-MM-DD, Finnish time)")
	f.StringVar(&to, "to", "", "last day, included (YYYY-MM-DD, Finnish time)")
	f.StringVar(&format, "format", "csv", "csv or json")
	f.StringVar(&out, "out", "", "write to this new file instead of standard output")
	cmd.AddCommand(export)
	return cmd
}

// exportQuery reads the export's flags.
func exportQuery(controller, client, from, to string) (archive.LogExport, error) {
	var q archive.LogExport
	if controller == "" {
		return q, errors.New("--controller: the controller's OID is required")
	}
	q.Controller = controller
	if client != "" {
		root, ext, ok := strings.Cut(client, "|")
		if !ok {
			root, ext = hetu.OIDRoot, client
		}
		id, err := hetu.ParseClientID(root, ext)
		if err != nil {
			return q, fmt.Errorf("--client: %w", err)
		}
		q.ClientKey = id.Key()
	}
	day := func(flag, s string) (time.Time, error) {
		if s == "" {
			return time.Time{}, fmt.Errorf("--%s: a day (YYYY-MM-DD) is required", flag)
		}
		t, err := time.ParseInLocation("2006-01-02", s, fitime.Location)
		if err != nil {
			return time.Time{}, fmt.Errorf("--%s: %q is not a day YYYY-MM-DD", flag, s)
		}
		return t, nil
	}
	var err error
	if q.From, err = day("from", from); err != nil {
		return q, err
	}
	last, err := day("to", to)
	if err != nil {
		return q, err
	}
	q.To = last.AddDate(0, 0, 1)
	if !q.To.After(q.From) {
		return q, errors.New("--to: the last day is before the first")
	}
	return q, nil
}

// logEncoder writes exported entries as CSV rows or JSON array elements.
type logEncoder struct {
	format string
	w      io.Writer
	c      *csv.Writer
	n      int
}

var logColumns = []string{"log", "id", "at", "client", "controller", "action", "outcome", "reason", "details",
	"caller_organisation", "system", "person", "person_name", "unit", "purpose", "justification",
	"documents", "service_tasks", "discloser", "recipient", "ground_kind", "ground", "source", "disclosed_at", "notice_id"}

func newLogEncoder(format string, w io.Writer) *logEncoder {
	e := &logEncoder{format: format, w: w}
	if format == "csv" {
		e.c = csv.NewWriter(w)
	}
	return e
}

func (e *logEncoder) write(r archive.LogRecord) error {
	if e.format == "json" {
		sep := ","
		if e.n == 0 {
			sep = "["
		}
		e.n++
		v := struct {
			Log   string `json:"log"`
			Entry any    `json:"entry"`
		}{"access", r.Access}
		if r.Disclosure != nil {
			v.Log, v.Entry = "disclosure", r.Disclosure
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(e.w, "%s\n%s", sep, b)
		return err
	}
	if e.n == 0 {
		if err := e.c.Write(logColumns); err != nil {
			return err
		}
	}
	e.n++
	return e.c.Write(logRow(r))
}

func (e *logEncoder) close() error {
	if e.format == "json" {
		if e.n == 0 {
			_, err := io.WriteString(e.w, "[]\n")
			return err
		}
		_, err := io.WriteString(e.w, "\n]\n")
		return err
	}
	if e.n == 0 {
		if err := e.c.Write(logColumns); err != nil {
			return err
		}
	}
	e.c.Flush()
	return e.c.Error()
}

// logRow is one CSV row in logColumns' order. Cells that a spreadsheet
// would take for a formula are quoted with a leading apostrophe.
func logRow(r archive.LogRecord) []string {
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	var row []string
	if a := r.Access; a != nil {
		c := a.Caller
		row = []string{"access", strconv.FormatInt(a.ID, 10), at(a.At), a.ClientKey, a.Custodian, string(a.Action), string(a.Outcome), a.Reason, a.Details,
			c.Organisation, c.System, c.Person, c.PersonName, c.Unit, c.Purpose, justificationOf(c),
			strings.Join(a.Documents, " "), "", "", "", "", "", "", "", ""}
	} else {
		d := r.Disclosure
		c := d.Caller
		var docs, tasks []string
		seen := map[string]bool{}
		for _, dd := range d.Documents {
			name := dd.ID
			if name == "" {
				name = strings.TrimSpace(dd.GeneralType + " " + dd.Description)
			}
			docs = append(docs, name)
			for _, t := range dd.ServiceTasks {
				if !seen[t] {
					seen[t] = true
					tasks = append(tasks, t)
				}
			}
		}
		row = []string{"disclosure", strconv.FormatInt(d.ID, 10), at(d.At), d.ClientKey, "", "", "", "", "",
			c.Organisation, c.System, c.Person, c.PersonName, c.Unit, c.Purpose, justificationOf(c),
			strings.Join(docs, " "), strings.Join(tasks, " "), d.Discloser, d.Recipient, d.GroundKind, d.Ground, string(d.Source), at(d.DisclosedAt), d.NoticeID}
	}
	for i, v := range row {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			row[i] = "'" + v
		}
	}
	return row
}

func justificationOf(c archive.Caller) string {
	if c.Justification == "" {
		return ""
	}
	return c.Justification + ": " + c.JustificationText
}
