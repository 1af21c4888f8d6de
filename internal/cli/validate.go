package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/cda"
	"github.com/arkisto/arkisto/internal/hetu"
	"github.com/arkisto/arkisto/internal/pki"
	"github.com/arkisto/arkisto/internal/problem"
	"github.com/arkisto/arkisto/internal/progress"
	"github.com/arkisto/arkisto/internal/storage"
	"github.com/arkisto/arkisto/internal/xmldsig"
	"github.com/arkisto/arkisto/internal/xmlsafe"
)

type validateResult struct {
	File       string           `json:"file"`
	Acceptable bool             `json:"acceptable"`
	Error      string           `json:"error,omitempty"` // the file could not be read
	Problems   problem.List     `json:"problems,omitempty"`
	Header     *cda.Header      `json:"header,omitempty"`
	Signatures []xmldsig.Result `json:"signatures,omitempty"`
	report     *xmldsig.Report
}

func (a *app) validateCmd() *cobra.Command {
	var trustFiles, crlFiles []string
	var asJSON, showIdentity bool
	var maxBytes int64
	cmd := &cobra.Command{
		Use:   "validate [--trust-ca FILE]... [--crl FILE]... FILE|DIR...",
		Short: "Check documents as the archive would: structure, fields, signatures, signed content",
		Long: `Inspects each CDA document as the archive does on submission (the same
code): prints its metadata summary or every field-level error, and says for
each signature whether it is cryptographically valid and whether its signer
chains to a given CA (--trust-ca, repeatable; the archive's own trust anchors
are used too when the data directory holds an archive). A signature whose
certificate a CRL revokes (--crl, repeatable, signed by a given CA; and the
archive's imported CRLs) is refused, whatever its time. A directory is
walked for .xml files, as archive does.

What validate cannot check needs the archive and the submitter: whether the
signer chains to a CA the archive trusts (shown, not judged), whether a
system signature is the custodian's or the submitter's, and whether the
register and the access rights exist.

The client's identity code is masked and the client's name left out, in text
and in --json, unless --show-identity is given.

Exit status 0 only when every document is acceptable; 1 otherwise.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in, haveRoots, err := a.validationInspector(cmd.Context(), trustFiles, crlFiles, maxBytes)
			if err != nil {
				return err
			}
			ok := true
			var results []validateResult
			for _, f := range expandLenient(args) {
				r := validateFile(f, in, maxBytes)
				if !showIdentity {
					r.mask()
				}
				if !r.Acceptable {
					ok = false
				}
				if asJSON {
					results = append(results, r)
				} else {
					printValidation(a.stdout, &r, haveRoots)
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false) // for people and scripts, not for a web page
				if err := enc.Encode(results); err != nil {
					return err
				}
			}
			if !ok {
				return exitError{1}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&trustFiles, "trust-ca", nil, "PEM or DER certificate(s) of a CA to check signer chains against (repeatable)")
	cmd.Flags().StringArrayVar(&crlFiles, "crl", nil, "PEM or DER CRL of a given CA: signatures by the certificates it revokes are refused (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON")
	cmd.Flags().BoolVar(&showIdentity, "show-identity", false, "print the client's full identity code and name (masked by default)")
	cmd.Flags().Int64Var(&maxBytes, "max-bytes", xmlsafe.DefaultMaxBytes, "document size limit in bytes")
	a.storageFlags(cmd.Flags())
	return cmd
}

// expandLenient lists the files named, walking directories for .xml files
// in name order as expand does; a name that cannot be read stays in the
// list, for validateFile to say why.
func expandLenient(args []string) []string {
	var out []string
	for _, arg := range args {
		files, err := expand([]string{arg})
		if err != nil || len(files) == 0 {
			out = append(out, arg) // validateFile says what is wrong with it
			continue
		}
		out = append(out, files...)
	}
	return out
}

// mask hides the client's identity: the identity code as the text output
// shows it, and the name and birth time, which the summary never shows.
func (r *validateResult) mask() {
	if r.Header == nil {
		return
	}
	h := *r.Header
	h.Client = cda.Client{ID: h.Client.ID, Gender: h.Client.Gender}
	if h.Client.ID.Root == hetu.OIDRoot {
		h.Client.ID.Extension = hetu.Mask(h.Client.ID.Extension)
	}
	r.Header = &h
}

// validationTrust combines --trust-ca files with the archive's anchors, and
// --crl files with the archive's revocations, if an archive exists in the
// data directory. Nothing is created.
func (a *app) validationInspector(ctx context.Context, files, crlFiles []string, maxBytes int64) (*archive.Inspector, bool, error) {
	roots, revoked, err := a.validationTrust(ctx, files, crlFiles)
	if err != nil {
		return nil, false, err
	}
	in := &archive.Inspector{MaxBytes: maxBytes, Roots: roots, ChainsNotJudged: true, Revoked: archive.RevocationLookup(revoked)}
	return in, roots != nil, nil
}

func (a *app) validationTrust(ctx context.Context, files, crlFiles []string) (*x509.CertPool, map[string]time.Time, error) {
	var pool *x509.CertPool
	var anchors []*x509.Certificate
	revoked := map[string]time.Time{}
	add := func(c *x509.Certificate) {
		if pool == nil {
			pool = x509.NewCertPool()
		}
		pool.AddCert(c)
		anchors = append(anchors, c)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		certs, err := pki.ParseCerts(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range certs {
			add(c)
		}
	}
	st, err := storage.Open(ctx, a.storageConfig())
	switch {
	case errors.Is(err, storage.ErrNoArchive):
		// No archive to take trust anchors and revocations from: the
		// --trust-ca and --crl files only.
	case err != nil:
		return nil, nil, err
	default:
		defer st.Close()
		err = st.View(ctx, func(tx archive.Tx) error {
			certs, err := tx.TrustAnchors(ctx)
			if err != nil {
				return err
			}
			for _, c := range certs {
				add(c)
			}
			list, err := tx.RevokedCerts(ctx)
			for k, at := range archive.RevocationIndex(list) {
				revoked[k] = at
			}
			return err
		})
		if err != nil {
			return nil, nil, err
		}
	}
	for _, f := range crlFiles {
		if err := readCRL(f, anchors, revoked); err != nil {
			return nil, nil, err
		}
	}
	return pool, revoked, nil
}

// readCRL adds a CRL's revocations once its signature checks out against
// one of the anchors: an unsigned list could make any signer look revoked.
func readCRL(file string, anchors []*x509.Certificate, into map[string]time.Time) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	crl, err := pki.ParseCRL(data)
	if err != nil {
		return fmt.Errorf("--crl %s: %w", file, err)
	}
	if archive.CRLIssuer(crl, anchors) == nil {
		return fmt.Errorf("--crl %s: the CRL is not signed by a CA given with --trust-ca or trusted by the archive", file)
	}
	for k, at := range archive.RevocationIndex(archive.CRLRevocations(crl)) {
		into[k] = at
	}
	return nil
}

// validateFile inspects one file as the archive inspects a submitted
// document (archive.Inspector).
func validateFile(path string, in *archive.Inspector, maxBytes int64) validateResult {
	r := validateResult{File: path}
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		r.Error = fmt.Sprintf("%s is a directory without .xml files", path)
		return r
	}
	data, err := readLimited(path, maxBytes)
	var tooBig *tooLargeError
	switch {
	case errors.As(err, &tooBig):
		r.Problems.Add(xmlsafe.RuleTooLarge, "/", "%v", err)
		return r
	case err != nil:
		r.Error = fmt.Sprintf("cannot read %s: %v", path, unwrapPath(err))
		return r
	}
	ch := in.Inspect(data)
	r.Problems = ch.Problem
	if ch.Doc == nil {
		return r
	}
	h := ch.Doc.Header
	r.Header = &h
	r.report = ch.Report
	r.Signatures = ch.Report.Signatures
	for i := range r.Signatures {
		r.Signatures[i].Certificate = nil
	}
	r.Acceptable = len(r.Problems) == 0
	return r
}

// unwrapPath drops the path an *fs.PathError repeats.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// tooLargeError is a file larger than the document size limit.
type tooLargeError struct{ max int64 }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("file is larger than the limit of %s", progress.Size(e.max))
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, &tooLargeError{max}
	}
	return data, nil
}

func printValidation(w io.Writer, r *validateResult, haveRoots bool) {
	verdict := "ACCEPTABLE"
	if !r.Acceptable {
		verdict = "NOT ACCEPTABLE"
	}
	fmt.Fprintf(w, "%s: %s\n", r.File, verdict)
	if r.Error != "" {
		fmt.Fprintf(w, "  %s\n", r.Error)
	}
	if h := r.Header; h != nil && h.ID != "" {
		// mask has masked the identity code unless the full one was asked for.
		client := h.Client.ID.Root
		if h.Client.ID.Root == hetu.OIDRoot {
			client += " " + h.Client.ID.Extension
		}
		if name := strings.TrimSpace(strings.Join(append(slices.Clone(h.Client.Name.Given), h.Client.Name.Family), " ")); name != "" {
			client += " (" + name + ")"
		}
		effective := "-" // missing: its error is below
		if !h.EffectiveTime.IsZero() {
			effective = h.EffectiveTime.Format("2006-01-02 15:04:05 -0700")
		}
		fmt.Fprintf(w, "  document       %s version %d (set %s)\n", h.ID, h.Version, h.SetID)
		fmt.Fprintf(w, "  effective      %s\n", effective)
		fmt.Fprintf(w, "  client         %s\n", client)
		fmt.Fprintf(w, "  custodian      %s %s\n", h.Custodian.OID, h.Custodian.Name)
		fmt.Fprintf(w, "  register       %s  group %s  service task %s\n", h.Register.Code, h.DocumentGroup.Code, orDash(h.ServiceTask.Code))
		fmt.Fprintf(w, "  type           %s / %s %s\n", orDash(h.GeneralType.Code), orDash(h.SpecificType.Code), h.SpecificType.Display)
		if h.Case.ID != "" {
			fmt.Fprintf(w, "  case           %s  unit %s\n", h.Case.ID, h.Case.ServiceUnit.OID)
		}
		if h.ClientRelationshipID != "" {
			fmt.Fprintf(w, "  relationship   %s\n", h.ClientRelationshipID)
		}
		if h.Replaces != nil {
			fmt.Fprintf(w, "  replaces       %s version %d\n", h.Replaces.ID, h.Replaces.Version)
		}
	}
	if r.report != nil {
		for _, s := range r.report.Signatures {
			fmt.Fprintf(w, "  signature %d   %s, signer %s (%s)\n", s.Index, cryptoVerdict(s), orDash(s.SignerID), s.SignerName)
			switch {
			case s.Problems.Has(xmldsig.RuleRevoked):
				fmt.Fprintf(w, "                signer's certificate REVOKED by a CRL\n")
			case !haveRoots:
				fmt.Fprintf(w, "                chain not checked: no --trust-ca given\n")
			case s.Trusted:
				fmt.Fprintf(w, "                chains to a trusted CA (judged at %s)\n", s.Timestamp.UTC().Format("2006-01-02T15:04:05Z"))
			default:
				fmt.Fprintf(w, "                does NOT chain to a given CA\n")
			}
		}
	}
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  error %s at %s: %s\n", p.Code, p.Path, p.Message)
	}
}

func cryptoVerdict(s xmldsig.Result) string {
	if !s.Valid {
		return "cryptographically INVALID"
	}
	return fmt.Sprintf("%s, cryptographically valid (%s form)", s.Type, s.Form)
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
