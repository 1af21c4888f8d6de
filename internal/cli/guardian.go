package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/hetu"
)

// guardianCmd keeps the guardianships of minors, standing in for the
// population register: a guardian acts for the child in the citizen view.
// Identity codes are printed to standard output only, never logged.
func (a *app) guardianCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "guardian", Short: "Who are the guardians of which minors (for the citizen view; stands in for the population register)"}
	var guardian, child, childName string
	add := &cobra.Command{
		Use:   "add --guardian ID --child ID [--child-name NAME]",
		Short: "Record that a person is a minor's guardian, from now",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				err := adm.AddGuardian(ctx, &archive.Guardianship{Guardian: guardian, Child: child, ChildName: childName})
				if errors.Is(err, archive.ErrConflict) {
					return errors.New("--child: the person is the child's guardian already")
				}
				if err != nil {
					return guardianFlagError(err)
				}
				fmt.Fprintf(a.stdout, "%s is a guardian of %s\n", guardian, child)
				return nil
			})
		},
	}
	add.Flags().StringVar(&guardian, "guardian", "", "the guardian's personal identity code")
	add.Flags().StringVar(&child, "child", "", "the minor's personal identity code")
	add.Flags().StringVar(&childName, "child-name", "", "the minor's name, shown to the guardian in the citizen view")
	var rmGuardian, rmChild string
	remove := &cobra.Command{
		Use:   "remove --guardian ID --child ID",
		Short: "End a guardianship (it stays listed, with its end)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				ok, err := adm.RemoveGuardian(ctx, rmGuardian, rmChild)
				if err != nil {
					return guardianFlagError(err)
				}
				if !ok {
					// No identity code on stderr, which may reach a log.
					return errors.New("--guardian: the person is not a guardian of the child (no guardianship of the two is in force)")
				}
				fmt.Fprintf(a.stdout, "%s is no longer a guardian of %s\n", rmGuardian, rmChild)
				return nil
			})
		},
	}
	remove.Flags().StringVar(&rmGuardian, "guardian", "", "the guardian's personal identity code")
	remove.Flags().StringVar(&rmChild, "child", "", "the minor's personal identity code")
	var listGuardian, listChild string
	var all bool
	list := &cobra.Command{
		Use:   "list [--guardian ID] [--child ID] [--all]",
		Short: "List guardianships in force (with --all, ended ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, f := range []struct{ flag, v string }{{"--guardian", listGuardian}, {"--child", listChild}} {
				if f.v != "" && !hetu.Valid(f.v) {
					return fmt.Errorf("%s: not a valid personal identity code", f.flag)
				}
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				gs, err := adm.Guardianships(ctx, archive.GuardianshipQuery{Guardian: listGuardian, Child: listChild})
				if err != nil {
					return err
				}
				tw := a.table(cmd)
				fmt.Fprintln(tw, "GUARDIAN\tCHILD\tCHILD NAME\tFROM\tUNTIL")
				for _, g := range gs {
					if !all && !g.Until.IsZero() {
						continue
					}
					until := "-"
					if !g.Until.IsZero() {
						until = g.Until.Format("2006-01-02")
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", g.Guardian, g.Child, orDash(g.ChildName), g.From.Format("2006-01-02"), until)
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listGuardian, "guardian", "", "only this guardian's")
	list.Flags().StringVar(&listChild, "child", "", "only this child's")
	list.Flags().BoolVar(&all, "all", false, "ended guardianships too")
	cmd.AddCommand(add, remove, jsonFlag(list))
	return cmd
}

// guardianFlagError names the flag of each problem: --guardian or --child.
func guardianFlagError(err error) error {
	var ae *archive.Error
	if !errors.As(err, &ae) || len(ae.Problems) == 0 {
		return err
	}
	var parts []string
	for _, p := range ae.Problems {
		parts = append(parts, fmt.Sprintf("--%s: %s (%s)", p.Path, p.Message, p.Code))
	}
	return errors.New(strings.Join(parts, "; "))
}
