package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/swiper-social/swiper/internal/domain/phone"
	"github.com/swiper-social/swiper/internal/domain/safety"
	"github.com/swiper-social/swiper/internal/platform/app"
)

// Moderation commands (API.md §3 "Safety and the account"): `reports list`,
// `reports resolve`, `ban`, `unban`. Each runs as its own process next to
// the servers (app.OpenModeration); every server sees the change on its
// next request.

const reportsUsage = "usage: swiper reports list [--status open|resolved|all]\n" +
	"       swiper reports resolve --id N --action dismiss|ban [--note TEXT]"

func runReports(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError{reportsUsage}
	}
	switch args[0] {
	case "-h", "--help":
		fmt.Fprintln(stdout, reportsUsage)
		return nil
	case "list":
		return runReportsList(ctx, load, args[1:], stdout)
	case "resolve":
		return runReportsResolve(ctx, load, args[1:], stdout)
	}
	return usageError{fmt.Sprintf("unknown reports command %q\n%s", args[0], reportsUsage)}
}

func runReportsList(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("reports list", flag.ContinueOnError)
	status := fs.String("status", "open", "open, resolved or all")
	if err := parseFlags(fs, "reports list [--status open|resolved|all]", args, stdout); err != nil {
		return err
	}
	if *status != "open" && *status != "resolved" && *status != "all" {
		return usageError{fmt.Sprintf("--status must be open, resolved or all, not %q", *status)}
	}
	m, err := openModeration(ctx, load)
	if err != nil {
		return err
	}
	defer m.Close()
	cases, err := m.ReportCases(ctx, *status)
	if err != nil {
		return err
	}
	writeCases(stdout, cases)
	return nil
}

// writeCases prints cases as a table, one line per reported user and status.
func writeCases(w io.Writer, cases []safety.Case) {
	if len(cases) == 0 {
		fmt.Fprintln(w, "no reports")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tPHONE\tREASONS\tREPORTERS\tREPORTS\tFIRST\tLAST\tSTATUS")
	for _, c := range cases {
		status := "open"
		if !c.Open {
			status = "resolved"
			if c.Resolution != "" {
				status += " (" + c.Resolution + ")"
			}
		}
		ph := phone.Mask(c.Phone)
		if !strings.HasPrefix(c.Phone, "+") {
			ph = "(deleted)"
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t%s\n", c.ID, c.UserID, ph, strings.Join(c.Reasons, ","),
			c.Reporters, c.Reports, c.First.Format(time.DateTime), c.Last.Format(time.DateTime), status)
	}
	_ = tw.Flush()
}

func runReportsResolve(ctx context.Context, load loader, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("reports resolve", flag.ContinueOnError)
	id := fs.Int64("id", 0, "the report's id (as `reports list` shows it)")
	action := fs.String("action", "", "dismiss (the user goes back into decks) or ban")
	note := fs.String("note", "", "why (kept with the reports)")
	if err := parseFlags(fs, "reports resolve --id N --action dismiss|ban [--note TEXT]", args, stdout); err != nil {
		return err
	}
	if *id < 1 {
		return usageError{"--id must be a report id (a positive integer; see `swiper reports list`)"}
	}
	if *action != safety.ActionDismiss && *action != safety.ActionBan {
		return usageError{fmt.Sprintf("--action must be dismiss or ban, not %q", *action)}
	}
	if utf8.RuneCountInString(*note) > safety.MaxNoteChars {
		return usageError{fmt.Sprintf("--note must be at most %d characters", safety.MaxNoteChars)}
	}
	m, err := openModeration(ctx, load)
	if err != nil {
		return err
	}
	defer m.Close()
	user, n, err := m.Resolve(ctx, *id, *action, *note)
	switch {
	case errors.Is(err, safety.ErrNoReport):
		return fmt.Errorf("there is no report %d", *id)
	case errors.Is(err, safety.ErrResolved):
		return fmt.Errorf("report %d and the other reports of its user are resolved already", *id)
	case err != nil:
		return err
	}
	verb := "dismissed"
	if *action == safety.ActionBan {
		verb = "resolved; the user is banned"
	}
	fmt.Fprintf(stdout, "user %d: %d open report(s) %s\n", user, n, verb)
	return nil
}

func runBan(ctx context.Context, load loader, args []string, stdout io.Writer, ban bool) error {
	name, synopsis := "unban", "unban --phone P"
	if ban {
		name, synopsis = "ban", "ban --phone P [--reason TEXT]"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	ph := fs.String("phone", "", "the user's phone number")
	var reason *string
	if ban {
		reason = fs.String("reason", "", "why (kept for operators)")
	}
	if err := parseFlags(fs, synopsis, args, stdout); err != nil {
		return err
	}
	if *ph == "" {
		return usageError{fmt.Sprintf("%s: --phone is required", name)}
	}
	e164, err := phone.Parse(*ph)
	if err != nil {
		return usageError{fmt.Sprintf("--phone %q is not a valid phone number", *ph)}
	}
	if ban && utf8.RuneCountInString(*reason) > safety.MaxBanReasonChars {
		return usageError{fmt.Sprintf("--reason must be at most %d characters", safety.MaxBanReasonChars)}
	}
	m, err := openModeration(ctx, load)
	if err != nil {
		return err
	}
	defer m.Close()
	var id int64
	if ban {
		id, err = m.BanPhone(ctx, e164, *reason)
	} else {
		id, err = m.UnbanPhone(ctx, e164)
	}
	if errors.Is(err, safety.ErrUnknownPhone) {
		return fmt.Errorf("no user is registered with phone %s", phone.Mask(e164))
	}
	if err != nil {
		return err
	}
	if ban {
		fmt.Fprintf(stdout, "user %d: banned; every session revoked\n", id)
	} else {
		fmt.Fprintf(stdout, "user %d: ban lifted (the revoked sessions stay revoked)\n", id)
	}
	return nil
}

func openModeration(ctx context.Context, load loader) (*app.Moderation, error) {
	cfg, log, err := load()
	if err != nil {
		return nil, err
	}
	return app.OpenModeration(ctx, cfg, log)
}
