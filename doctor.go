package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"misetup/api"
	"misetup/assets"
	"misetup/client"
	"misetup/flows"
	"misetup/ui"
)

// doctorFlags are the flags of `misetup doctor` and `misetup check`.
type doctorFlags struct {
	server, lang string
	asJSON       bool
	report       string // doctor only: where to write the support report
}

// doctorEnv is what a doctor run needs; tests fill it with a fake system.
type doctorEnv struct {
	cfg    *config
	flags  doctorFlags
	system flows.System
	out    io.Writer // the table or the JSON
	errOut io.Writer // notes (where the report went)
	width  int       // of the table; 80 when 0
}

func newDoctorCmd() *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Diagnose misetup without the wizard: service, clock, network, session, sync, storage, codes",
		Long: `doctor runs every troubleshooting check that needs no input and prints what it found:
the account service (reachable, versions), this device's clock and network, the saved
session, this device's Mi Cloud sync and Find Device settings, the storage, and the
delivery of the last verification code asked for here.

The exit status is 0 when everything is ok, 1 when something deserves a look and 2
when something is broken. --report writes a support report you can email: identifiers
are masked and it never holds a password, a code or a session token.`,
		Example: `  misetup doctor
  misetup doctor --json | jq '.[] | select(.status != "ok")'
  misetup doctor --report misetup-report.txt`,
		Args:         cobra.NoArgs,
		SilenceUsage: true, // a non-zero status is a finding, not a usage error
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLanguage(f.lang, "--lang"); err != nil {
				return err
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return runDoctor(cmd.Context(), doctorEnv{
				cfg: cfg, flags: f, system: flows.System{Root: "/", Hostname: os.Hostname},
				out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(),
			})
		},
	}
	addDoctorFlags(cmd, &f)
	cmd.Flags().StringVar(&f.report, "report", "", "write a support report (identifiers masked) to this file")
	return cmd
}

func newCheckCmd() *cobra.Command {
	var f doctorFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Run the requirements check without the wizard",
		Long: `check runs the wizard's requirements check (the guide's "Requirements Before Setting
Up"): the account service is reachable, this version is supported, the clock matches
the service's, and which network this device uses.

The exit status is 0 when everything is ok, 1 on warnings and 2 on failures.`,
		Example: `  misetup check
  misetup check --json`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkLanguage(f.lang, "--lang"); err != nil {
				return err
			}
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return runCheck(cmd.Context(), doctorEnv{
				cfg: cfg, flags: f, system: flows.System{Root: "/", Hostname: os.Hostname},
				out: cmd.OutOrStdout(), errOut: cmd.ErrOrStderr(),
			})
		},
	}
	addDoctorFlags(cmd, &f)
	return cmd
}

func addDoctorFlags(cmd *cobra.Command, f *doctorFlags) {
	cmd.Flags().BoolVar(&f.asJSON, "json", false, "print the findings as JSON: id, status (ok, warn, fail), finding, fix")
	cmd.Flags().StringVar(&f.server, "server", "", "the address of a misetup account service, an http:// or https:// URL (env MISETUP_SERVER); default: in-process")
	cmd.Flags().StringVar(&f.lang, "lang", "", "language of the findings: en or zh-CN (default from LANG)")
}

// doctorService is the service a doctor run talks to: the client, a probe
// without retries for the connection check, and how to close it.
type doctorService struct {
	client *client.Client
	probe  flows.StatusSource
	close  func()
}

// openDoctorService connects to the remote service, or opens the embedded
// one. An embedded service that cannot open is not an error: the checks
// report it.
func openDoctorService(ctx context.Context, cfg *config) doctorService {
	ua := client.WithUserAgent("misetup-doctor/" + api.Version)
	if cfg.Server != "" {
		return doctorService{
			client: client.New(cfg.Server, ua),
			probe:  client.New(cfg.Server, ua, client.WithRetries(0), client.WithTimeout(2*time.Second)),
			close:  func() {},
		}
	}
	srv, closeFn, err := cfg.openService(ctx, cfg.serviceLog())
	if err != nil {
		err = fmt.Errorf("%w: %w", flows.ErrServiceNotStarted, err)
		down := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			unavailableAnswer(w, "the built-in account service could not start")
		})
		return doctorService{
			client: client.New("", client.WithHandler(down), ua, client.WithRetries(0)),
			probe:  failedStatus{err},
			close:  func() {},
		}
	}
	return doctorService{
		client: client.New("", client.WithHandler(srv), ua),
		probe:  client.New("", client.WithHandler(srv), ua, client.WithRetries(0)),
		close:  func() { _ = closeFn() },
	}
}

// failedStatus answers every status probe with the reason the embedded
// service did not open.
type failedStatus struct{ err error }

func (f failedStatus) Status(context.Context) (api.Status, error) { return api.Status{}, f.err }

func unavailableAnswer(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusServiceUnavailable)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{Error: &api.Error{Code: api.CodeUnavailable, Message: msg}})
}

func (e doctorEnv) catalog() *assets.Catalog {
	lang := e.flags.lang
	if lang == "" {
		lang = e.cfg.Lang
	}
	if lang == "" {
		lang = localeOf(os.Environ())
	}
	return assets.MustLoad(assets.MatchLanguage(lang))
}

// lookup is tr.T with the service's name as the argument "server" of
// every text ("The account service (http://…) cannot be reached.").
func (e doctorEnv) lookup(tr *assets.Catalog) func(string, ...any) string {
	server := e.cfg.Server
	if server == "" {
		server = tr.T("common.builtin_service")
	}
	return func(key string, args ...any) string {
		return tr.T(key, append(append([]any{}, args...), "server", server)...)
	}
}

func (e doctorEnv) checker(probe flows.StatusSource) flows.Checker {
	return flows.Checker{Status: probe, System: e.system, ClientVersion: api.Version, Server: e.cfg.Server}
}

// runDoctor runs the doctor, prints the findings, writes the report when
// asked, and returns the exit status as an exitCode (nil when all is ok).
func runDoctor(ctx context.Context, e doctorEnv) error {
	if e.flags.server != "" {
		e.cfg.Server = e.flags.server
	}
	svc := openDoctorService(ctx, e.cfg)
	defer svc.close()
	files := flows.Files{Dir: e.cfg.stateDir}
	doc := flows.Doctor{
		Checker:  e.checker(svc.probe),
		Service:  svc.client,
		Sessions: files,
		DeviceID: files.DeviceID,
		StateDir: e.cfg.stateDir,
		Progress: files,
	}
	res := doc.Run(ctx)
	tr := e.catalog()
	if err := e.print(res.Report, tr); err != nil {
		return err
	}
	if e.flags.report != "" {
		dev := e.system.Device()
		info := flows.ReportInfo{
			Created: time.Now(), Version: api.Version, Platform: runtime.GOOS + "/" + runtime.GOARCH,
			Server: e.cfg.Server, Account: res.Account,
			Device: strings.Join(nonEmpty(dev.Name, dev.Model, dev.OS), " · "),
		}
		if err := writeReportFile(e.flags.report, res.Report, info, e.lookup(tr)); err != nil {
			return err
		}
		fmt.Fprintln(e.errOut, tr.T("doctor.cli.report_written", "path", e.flags.report))
	}
	return statusOf(res.Report)
}

// runCheck runs the requirements check alone.
func runCheck(ctx context.Context, e doctorEnv) error {
	if e.flags.server != "" {
		e.cfg.Server = e.flags.server
	}
	svc := openDoctorService(ctx, e.cfg)
	defer svc.close()
	r := flows.CommandLineFixes(e.checker(svc.probe).All(ctx))
	if err := e.print(r, e.catalog()); err != nil {
		return err
	}
	return statusOf(r)
}

// statusOf is the exit status of a report: nil when all is ok, 1 for
// warnings, 2 for failures.
func statusOf(r flows.Report) error {
	switch r.Worst() {
	case flows.LevelFail:
		return exitCode(2)
	case flows.LevelWarn:
		return exitCode(1)
	}
	return nil
}

// doctorFinding is one finding as --json prints it.
type doctorFinding struct {
	ID      string `json:"id"`
	Status  string `json:"status"` // ok, warn or fail
	Finding string `json:"finding"`
	Fix     string `json:"fix"`
}

// print writes the findings as a table or, with --json, as a JSON array.
func (e doctorEnv) print(r flows.Report, tr *assets.Catalog) error {
	if e.flags.asJSON {
		out := make([]doctorFinding, 0, len(r.Findings))
		for _, f := range r.Findings {
			out = append(out, doctorFinding{ID: f.Check, Status: f.Level.String(), Finding: f.Msg.Render(e.lookup(tr)), Fix: f.Fix.Render(e.lookup(tr))})
		}
		enc := json.NewEncoder(e.out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fmt.Errorf("print findings: %w", err)
		}
		return nil
	}
	_, err := io.WriteString(e.out, findingsTable(r, tr, e.lookup(tr), e.width))
	if err != nil {
		return fmt.Errorf("print findings: %w", err)
	}
	return nil
}

// findingsTable lays the findings out for a terminal: a mark that reads
// without colour (✓ ! ✗), the check's name, the finding, and the fix under
// it; wrapped to width.
func findingsTable(r flows.Report, tr *assets.Catalog, lookup func(string, ...any) string, width int) string {
	if width <= 0 {
		width = 80
	}
	lw := 0
	for _, f := range r.Findings {
		lw = max(lw, ansi.StringWidth(tr.T("doctor.check."+f.Check)))
	}
	indent := 2 + 2 + lw + 2
	textW := max(width-indent, 20)
	pad := strings.Repeat(" ", indent)
	var b strings.Builder
	counts := map[flows.Level]int{}
	for _, f := range r.Findings {
		counts[f.Level]++
		label := tr.T("doctor.check." + f.Check)
		lines := strings.Split(wrapText(f.Msg.Render(lookup), textW), "\n")
		b.WriteString("  " + levelMark(f.Level) + " " + label + strings.Repeat(" ", lw-ansi.StringWidth(label)+2) + lines[0] + "\n")
		for _, l := range lines[1:] {
			b.WriteString(pad + l + "\n")
		}
		if fix := f.Fix.Render(lookup); fix != "" {
			for _, l := range strings.Split(wrapText("→ "+fix, textW), "\n") {
				b.WriteString(pad + l + "\n")
			}
		}
	}
	b.WriteString("\n")
	switch {
	case counts[flows.LevelFail]+counts[flows.LevelWarn] == 0:
		b.WriteString(tr.T("doctor.cli.all_ok") + "\n")
	default:
		b.WriteString(tr.T("doctor.cli.summary", "fail", counts[flows.LevelFail], "warn", counts[flows.LevelWarn], "ok", counts[flows.LevelOK]) + "\n")
	}
	return b.String()
}

// wrapText wraps as the wizard does (ui.WrapText): Chinese between words,
// never with punctuation alone at the start of a line.
func wrapText(s string, w int) string { return strings.Join(ui.WrapText(s, w), "\n") }

func levelMark(l flows.Level) string {
	switch l {
	case flows.LevelWarn:
		return "!"
	case flows.LevelFail:
		return "✗"
	}
	return "✓"
}

// writeReportFile writes the support report, readable by the user only.
func writeReportFile(path string, r flows.Report, info flows.ReportInfo, lookup func(string, ...any) string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("support report: %w", err)
	}
	werr := flows.WriteReport(f, r, info, func(t flows.Text) string { return t.Render(lookup) })
	if cerr := f.Close(); werr == nil && cerr != nil {
		werr = fmt.Errorf("support report: %w", cerr)
	}
	if werr != nil {
		return errors.Join(werr, os.Remove(path))
	}
	return nil
}

func nonEmpty(s ...string) []string {
	out := s[:0:0]
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
