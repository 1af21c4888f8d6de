package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
)

// tableWriter takes a list command's tab-separated lines, a header line
// first, and writes them as aligned columns or, with the command's --json
// flag, as one JSON array of objects keyed by the column names in lower
// case with underscores ("VALID UNTIL" is valid_until), in column order.
// A "-" (nothing) is an empty string in JSON.
type tableWriter struct {
	out  io.Writer
	tw   *tabwriter.Writer
	json bool
	buf  bytes.Buffer
}

// jsonFlag gives a list command the --json flag that table reads.
func jsonFlag(cmd *cobra.Command) *cobra.Command {
	cmd.Flags().Bool("json", false, "print one JSON array of objects instead of the table")
	return cmd
}

// table is the writer of a list command's rows.
func (a *app) table(cmd *cobra.Command) *tableWriter {
	asJSON, _ := cmd.Flags().GetBool("json") // false without the flag
	return &tableWriter{out: a.stdout, tw: tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0), json: asJSON}
}

func (t *tableWriter) Write(p []byte) (int, error) {
	if t.json {
		return t.buf.Write(p)
	}
	return t.tw.Write(p)
}

// Flush writes what was written.
func (t *tableWriter) Flush() error {
	if !t.json {
		return t.tw.Flush()
	}
	lines := strings.Split(strings.TrimSuffix(t.buf.String(), "\n"), "\n")
	var keys []string
	if len(lines) > 0 && lines[0] != "" {
		for _, h := range strings.Split(lines[0], "\t") {
			keys = append(keys, strings.ReplaceAll(strings.ToLower(strings.TrimSpace(h)), " ", "_"))
		}
		lines = lines[1:]
	}
	var out bytes.Buffer
	out.WriteString("[")
	for i, line := range lines {
		if i > 0 {
			out.WriteString(",")
		}
		out.WriteString("\n  {")
		for j, v := range strings.Split(line, "\t") {
			if j >= len(keys) {
				break
			}
			if j > 0 {
				out.WriteString(", ")
			}
			if v == "-" {
				v = ""
			}
			writeJSONString(&out, keys[j])
			out.WriteString(": ")
			writeJSONString(&out, v)
		}
		out.WriteString("}")
	}
	if len(lines) > 0 {
		out.WriteString("\n")
	}
	out.WriteString("]\n")
	_, err := t.out.Write(out.Bytes())
	return err
}

// writeJSONString writes s as a JSON string, not escaped for HTML: the
// output is for people and scripts.
func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)           // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}
