package cli

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/arkisto/arkisto/internal/archive"
	"github.com/arkisto/arkisto/internal/codes"
	"github.com/arkisto/arkisto/internal/oid"
	"github.com/arkisto/arkisto/internal/progress"
)

// orgFlags are the organisation fields the add and set commands take.
type orgFlags struct {
	o                  archive.Organisation
	activeFrom, active string
	noRegister         bool
}

func (f *orgFlags) bind(cmd *cobra.Command, add bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.o.OID, "oid", "", "organisation OID (1.2.246.10.<business id>...)")
	fl.StringVar(&f.o.Name, "name", "", "name in Finnish")
	fl.StringVar(&f.o.NameSV, "name-sv", "", "name in Swedish")
	fl.StringVar(&f.o.NameEN, "name-en", "", "name in English")
	fl.StringVar(&f.o.BusinessID, "business-id", "", "business id (Y-tunnus), NNNNNNN-C")
	fl.StringVar(&f.o.Kind, "kind", "", "public (service organiser) or private (service provider)")
	fl.StringVar(&f.o.Parent, "parent", "", "OID of the parent organisation")
	fl.StringVar(&f.activeFrom, "active-from", "", "first day active, YYYY-MM-DD")
	fl.StringVar(&f.active, "active-to", "", "first day no longer active, YYYY-MM-DD")
	if add {
		fl.BoolVar(&f.noRegister, "no-register", false, "do not give the organisation a social welfare client register (type 1)")
	}
}

func parseDay(flag, s string) (*time.Time, error) {
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return nil, fmt.Errorf("%s: must be a date YYYY-MM-DD, is %q", flag, s)
	}
	return &t, nil
}

// merge applies the flags that were given to o and checks the result.
func (f *orgFlags) merge(cmd *cobra.Command, o *archive.Organisation) error {
	set := func(name string, dst *string, v string) {
		if cmd.Flags().Changed(name) {
			*dst = v
		}
	}
	set("name", &o.Name, f.o.Name)
	set("name-sv", &o.NameSV, f.o.NameSV)
	set("name-en", &o.NameEN, f.o.NameEN)
	set("business-id", &o.BusinessID, f.o.BusinessID)
	set("kind", &o.Kind, f.o.Kind)
	set("parent", &o.Parent, f.o.Parent)
	var err error
	if cmd.Flags().Changed("active-from") {
		if o.ActiveFrom, err = parseDay("--active-from", f.activeFrom); err != nil {
			return err
		}
	}
	if cmd.Flags().Changed("active-to") {
		if o.ActiveTo, err = parseDay("--active-to", f.active); err != nil {
			return err
		}
	}
	switch {
	case oid.Check(o.OID) != nil:
		return fmt.Errorf("--oid: %w", oid.Check(o.OID))
	case o.Name == "":
		return errors.New("--name: the organisation's name in Finnish is required")
	case o.Kind != archive.KindPublic && o.Kind != archive.KindPrivate:
		return fmt.Errorf("--kind: must be public (service organiser) or private (provider), is %q", o.Kind)
	case o.BusinessID != "" && oid.CheckBusinessID(o.BusinessID) != nil:
		return fmt.Errorf("--business-id: %w", oid.CheckBusinessID(o.BusinessID))
	case o.Parent != "" && oid.Check(o.Parent) != nil:
		return fmt.Errorf("--parent: %w", oid.Check(o.Parent))
	case o.Parent == o.OID:
		return errors.New("--parent: an organisation cannot be its own parent")
	case o.ActiveFrom != nil && o.ActiveTo != nil && !o.ActiveTo.After(*o.ActiveFrom):
		return errors.New("--active-to: must be after --active-from")
	}
	return nil
}

func (a *app) orgCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "org", Short: "Onboarded organisations: controllers and service providers"}

	var addF orgFlags
	add := &cobra.Command{
		Use:   "add --oid OID --name NAME --kind public|private",
		Short: "Onboard an organisation, with a social welfare client register",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o := &archive.Organisation{OID: addF.o.OID}
			if err := addF.merge(cmd, o); err != nil {
				return err
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				var err error
				if addF.noRegister {
					err = adm.PutOrganisation(ctx, o)
				} else {
					err = adm.Onboard(ctx, o)
				}
				if err == nil {
					fmt.Fprintf(a.stdout, "organisation %s %q (%s) onboarded\n", o.OID, o.Name, o.Kind)
				}
				return err
			})
		},
	}
	addF.bind(add, true)

	var setF orgFlags
	set := &cobra.Command{
		Use:   "set --oid OID [--name ...] [--kind ...] ...",
		Short: "Change an organisation's details (only the flags given)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				o, err := adm.UpdateOrganisation(ctx, setF.o.OID, func(o *archive.Organisation) error { return setF.merge(cmd, o) })
				if errors.Is(err, archive.ErrNotFound) {
					return fmt.Errorf("--oid: organisation %s is not onboarded", setF.o.OID)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "organisation %s updated\n", o.OID)
				return nil
			})
		},
	}
	setF.bind(set, false)

	list := &cobra.Command{
		Use:   "list",
		Short: "List organisations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				return st.View(ctx, func(tx archive.Tx) error {
					orgs, err := tx.Organisations(ctx)
					tw := a.table(cmd)
					fmt.Fprintln(tw, "OID\tKIND\tBUSINESS ID\tACTIVE\tNAME")
					now := time.Now()
					for _, o := range orgs {
						active := "yes"
						if !o.ActiveAt(now) {
							active = "no"
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.OID, o.Kind, orDash(o.BusinessID), active, o.Name)
					}
					tw.Flush()
					return err
				})
			})
		},
	}

	var showOID string
	show := &cobra.Command{
		Use:   "show --oid OID",
		Short: "Show an organisation with its registers and systems",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				return st.View(ctx, func(tx archive.Tx) error {
					o, err := tx.Organisation(ctx, showOID)
					if errors.Is(err, archive.ErrNotFound) {
						return fmt.Errorf("--oid: organisation %s is not onboarded", showOID)
					}
					if err != nil {
						return err
					}
					w := a.stdout
					fmt.Fprintf(w, "organisation  %s\n", o.OID)
					fmt.Fprintf(w, "name          %s\n", o.Name)
					fmt.Fprintf(w, "name (sv)     %s\n", orDash(o.NameSV))
					fmt.Fprintf(w, "name (en)     %s\n", orDash(o.NameEN))
					fmt.Fprintf(w, "kind          %s\n", o.Kind)
					fmt.Fprintf(w, "business id   %s\n", orDash(o.BusinessID))
					fmt.Fprintf(w, "parent        %s\n", orDash(o.Parent))
					fmt.Fprintf(w, "active        %s – %s\n", dayOrDash(o.ActiveFrom), dayOrDash(o.ActiveTo))
					regs, err := tx.Registers(ctx)
					if err != nil {
						return err
					}
					for _, r := range regs {
						if r.Controller == o.OID {
							n, err := tx.CountDocuments(ctx, r.Controller, r.Type)
							if err != nil {
								return err
							}
							fmt.Fprintf(w, "register      %s (%s): %s%s\n", r.Type, codes.Register.Display(r.Type, "en"), progress.Plural(n, "document", "documents"), transferNote(r))
						}
					}
					systems, err := tx.Systems(ctx)
					for _, s := range systems {
						if s.Organisation == o.OID {
							fmt.Fprintf(w, "system        %s\n", s.Name)
						}
					}
					return err
				})
			})
		},
	}
	show.Flags().StringVar(&showOID, "oid", "", "organisation OID")
	cmd.AddCommand(add, set, jsonFlag(list), show)
	return cmd
}

func dayOrDash(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Format("2006-01-02")
}

func transferNote(r *archive.Register) string {
	if r.TransferredTo == "" {
		return ""
	}
	return fmt.Sprintf(", transferred to %s on %s", r.TransferredTo, dayOrDash(r.TransferredAt))
}

func (a *app) registerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "register", Short: "Controllers' registers, and moving them to a new controller"}
	var controller, typ string
	add := &cobra.Command{
		Use:   "add --controller OID [--type CODE]",
		Short: "Give a controller a register",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !codes.Register.Known(typ) {
				return fmt.Errorf("--type: register type must be one of code set %s (1: social welfare client register), is %q", codes.OIDRegister, typ)
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				err := adm.AddRegister(ctx, controller, typ)
				if errors.Is(err, archive.ErrNotFound) {
					return fmt.Errorf("--controller: organisation %s is not onboarded", controller)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "register %s of %s\n", typ, controller)
				return nil
			})
		},
	}
	add.Flags().StringVar(&controller, "controller", "", "controller OID")
	add.Flags().StringVar(&typ, "type", codes.RegisterSocialWelfareClient, "register type code")

	list := &cobra.Command{
		Use:   "list",
		Short: "List registers with their document counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				return st.View(ctx, func(tx archive.Tx) error {
					regs, err := tx.Registers(ctx)
					if err != nil {
						return err
					}
					tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "CONTROLLER\tTYPE\tDOCUMENTS\tTRANSFERRED TO")
					for _, r := range regs {
						n, err := tx.CountDocuments(ctx, r.Controller, r.Type)
						if err != nil {
							return err
						}
						fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", r.Controller, r.Type, n, orDash(r.TransferredTo))
					}
					tw.Flush()
					transfers, err := tx.Transfers(ctx)
					for _, t := range transfers {
						state := "unfinished: run the transfer again to resume"
						if t.FinishedAt != nil {
							state = "finished " + t.FinishedAt.Format("2006-01-02 15:04")
						}
						fmt.Fprintf(a.stdout, "transfer %d: register %s of %s to %s, effective %s: %d of %d documents moved, %s\n",
							t.ID, t.RegisterType, t.From, t.To, t.Effective.Format("2006-01-02"), t.Moved, t.Total, state)
					}
					return err
				})
			})
		},
	}

	var showController, showType string
	show := &cobra.Command{
		Use:   "show --controller OID [--type CODE]",
		Short: "Show a register",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				return st.View(ctx, func(tx archive.Tx) error {
					r, err := tx.Register(ctx, showController, showType)
					if errors.Is(err, archive.ErrNotFound) {
						return fmt.Errorf("--controller: %s has no register of type %s", showController, showType)
					}
					if err != nil {
						return err
					}
					n, err := tx.CountDocuments(ctx, r.Controller, r.Type)
					if err != nil {
						return err
					}
					fmt.Fprintf(a.stdout, "register %s (%s) of %s, since %s: %s%s\n",
						r.Type, codes.Register.Display(r.Type, "en"), r.Controller, r.AddedAt.Format("2006-01-02"), progress.Plural(n, "document", "documents"), transferNote(r))
					return nil
				})
			})
		},
	}
	show.Flags().StringVar(&showController, "controller", "", "controller OID")
	show.Flags().StringVar(&showType, "type", codes.RegisterSocialWelfareClient, "register type code")

	cmd.AddCommand(add, list, show, a.transferCmd())
	return cmd
}

func (a *app) transferCmd() *cobra.Command {
	var from, to, typ, effective, operator string
	var batch int
	cmd := &cobra.Command{
		Use:   "transfer --from OID --to OID [--register CODE] --effective DATE",
		Short: "Move a register, with every document in it, to a new controller",
		Long: `Moves the register of type --register (default 1, the social welfare client
register) from one controller to another, as when municipalities' social
welfare moved to the wellbeing services counties in 2023. The old register
stops taking documents at once; every document moves to the new controller
while keeping its original custodian in its header; client relationships and
the register access rights they grant move with it. The new controller's
systems then read the documents and the old controller's do not.

The transfer commits in batches with its progress, shows a progress bar and
totals, and is logged. Interrupted (Ctrl-C, a crash), it resumes where it
stopped when run again with the same arguments.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if oid.Check(from) != nil {
				return fmt.Errorf("--from: %v", oid.Check(from))
			}
			if oid.Check(to) != nil {
				return fmt.Errorf("--to: %v", oid.Check(to))
			}
			eff, err := parseDay("--effective", effective)
			if err != nil {
				return err
			}
			if eff == nil {
				return errors.New("--effective: the date the new controller takes over is required, YYYY-MM-DD")
			}
			ctx := cmd.Context()
			svc, st, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			// The total is known after the first batch; a resumed
			// transfer's rate counts from where this run started.
			var bar *progress.Bar
			tr, err := svc.Transfer(ctx, archive.TransferRequest{
				From: from, To: to, RegisterType: typ, Effective: *eff, Batch: batch,
				Operator: archive.Caller{System: "arkisto admin", Organisation: to, Person: operator, Purpose: codes.UsageOwnRegister},
				Progress: func(moved, total int) {
					if bar == nil {
						bar = progress.New(a.stderr, "moving documents", int64(total), "docs")
					}
					bar.SetTotal(int64(total))
					bar.Set(int64(moved))
				},
			})
			bar.Finish()
			if tr != nil {
				fmt.Fprintf(a.stdout, "transfer %d: register %s of %s to %s, effective %s: %d of %d documents moved\n",
					tr.ID, tr.RegisterType, tr.From, tr.To, tr.Effective.Format("2006-01-02"), tr.Moved, tr.Total)
			}
			if errors.Is(err, context.Canceled) {
				return fmt.Errorf("interrupted; run the same command again to resume")
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "OID of the controller the register leaves")
	f.StringVar(&to, "to", "", "OID of the new controller")
	f.StringVar(&typ, "type", codes.RegisterSocialWelfareClient, "register type code")
	// --register was this flag's first name; register add and show say --type.
	f.StringVar(&typ, "register", codes.RegisterSocialWelfareClient, "register type code")
	if err := f.MarkDeprecated("register", "use --type, as register add and show do"); err != nil {
		panic(err)
	}
	f.StringVar(&effective, "effective", "", "the day the new controller takes over, YYYY-MM-DD")
	f.StringVar(&operator, "operator", "", "who runs the transfer, for the log")
	f.IntVar(&batch, "batch", 1000, "documents per transaction")
	return cmd
}

func (a *app) archivistCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "archivist", Short: "Which persons are archivists of which controllers"}
	var person, name, controller string
	add := &cobra.Command{
		Use:   "add --person ID --controller OID [--name NAME]",
		Short: "Make a person an archivist of a controller",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if person == "" {
				return errors.New("--person: the person's identifier is required")
			}
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				err := adm.AddArchivist(ctx, &archive.Archivist{Person: person, Name: name, Controller: controller})
				if errors.Is(err, archive.ErrNotFound) {
					return fmt.Errorf("--controller: organisation %s is not onboarded", controller)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s is an archivist of %s\n", person, controller)
				return nil
			})
		},
	}
	add.Flags().StringVar(&person, "person", "", "the person's identifier (registration number or user id)")
	add.Flags().StringVar(&name, "name", "", "the person's name")
	add.Flags().StringVar(&controller, "controller", "", "controller OID")
	var rmPerson, rmController string
	remove := &cobra.Command{
		Use:   "remove --person ID --controller OID",
		Short: "End a person's archivist assignment",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withAdmin(ctx, func(adm *archive.Admin) error {
				ok, err := adm.RemoveArchivist(ctx, rmPerson, rmController)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("--person: %s is not an archivist of %s", rmPerson, rmController)
				}
				fmt.Fprintf(a.stdout, "%s is no longer an archivist of %s\n", rmPerson, rmController)
				return nil
			})
		},
	}
	remove.Flags().StringVar(&rmPerson, "person", "", "the person's identifier")
	remove.Flags().StringVar(&rmController, "controller", "", "controller OID")
	var listController string
	list := &cobra.Command{
		Use:   "list [--controller OID]",
		Short: "List archivist assignments",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return a.withStore(ctx, func(st archive.Store) error {
				return st.View(ctx, func(tx archive.Tx) error {
					as, err := tx.Archivists(ctx)
					tw := a.table(cmd)
					fmt.Fprintln(tw, "CONTROLLER\tPERSON\tNAME\tSINCE")
					for _, x := range as {
						if listController == "" || x.Controller == listController {
							fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", x.Controller, x.Person, orDash(x.Name), x.AddedAt.Format("2006-01-02"))
						}
					}
					tw.Flush()
					return err
				})
			})
		},
	}
	list.Flags().StringVar(&listController, "controller", "", "only this controller's archivists")
	cmd.AddCommand(add, remove, jsonFlag(list))
	return cmd
}
