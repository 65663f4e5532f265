// Command misetup is a terminal setup wizard for a Mi Account, and the
// account service it talks to. main is wiring only: commands and flags, XDG
// paths and the config file; it builds the client, the wizard or the server.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"

	"misetup/api"
)

func main() {
	if isVersion(os.Args[1:]) {
		// Answered before any command is built: scripts and package
		// managers call it most, and building the commands first costs a
		// cold process a tenth of its time (bench/README.md).
		_, _ = io.WriteString(os.Stdout, versionLine())
		return
	}
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// isVersion reports whether args ask for the version only, as cobra
// understands it on the root command.
func isVersion(args []string) bool {
	return len(args) == 1 && (args[0] == "--version" || args[0] == "-v")
}

// versionLine is what misetup --version prints, the same line as cobra's
// own (TestVersionFastPath).
func versionLine() string { return "misetup version " + api.Version + "\n" }

// run runs misetup with args and its standard streams, and returns the
// exit status (tests call it as the binary would be called).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	// Help, the doctor's table, the outbox: lines without the trailing
	// spaces fang pads its help with. The wizard writes to stdout itself.
	out := newTrimWriter(stdout)
	defer out.Flush()
	root.SetOut(out)
	errOut := newTrimWriter(stderr)
	defer errOut.Flush()
	root.SetErr(errOut)
	err := fang.Execute(ctx, root,
		fang.WithVersion(api.Version),
		fang.WithoutManpage(), // misetup man, below, is a visible command
		fang.WithErrorHandler(func(w io.Writer, st fang.Styles, err error) {
			var ec exitCode
			if !errors.As(err, &ec) { // doctor and check have printed their findings already
				fang.DefaultErrorHandler(w, st, sentence{err})
			}
		}),
	)
	if err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		return 1
	}
	return 0
}

// sentence is an error as fang prints it, which ends it with a period: the
// period the service's message ends with is left out ("… ended or
// unknown.." said misetup cloud sync).
type sentence struct{ error }

func (e sentence) Error() string { return strings.TrimRight(e.error.Error(), ".") }
func (e sentence) Unwrap() error { return e.error }

// exitCode is an error that only sets the process's exit status (doctor and
// check use 1 for warnings and 2 for failures, having printed their table).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// runWizardCmd runs the wizard (misetup) or the account hub (misetup
// account) with the settings of the flags, the environment and the config
// file.
func runWizardCmd(cmd *cobra.Command, flags wizardFlags, hub bool) error {
	kiosk, _ := cmd.Flags().GetBool("kiosk")
	if err := checkLanguage(flags.lang, "--lang"); err != nil {
		return err
	}
	cfg, err := loadConfig(cmd)
	if err != nil {
		return err
	}
	env := cfg.wizardEnv(cmd, flags)
	if err := checkLanguage(env.Lang, "the language setting (MISETUP_LANG or lang in the config file)"); err != nil {
		return err
	}
	env.Hub = hub
	var kioskID string
	if kiosk {
		kioskID = cfg.Kiosk.kioskID()
		env.Kiosk = &kioskEnv{terminal: cfg.Kiosk.kioskTerminal, id: kioskID, store: cfg.Kiosk.Store}
	}
	defaults := cfg.Defaults
	if flags.answers != "" {
		answers, err := loadAnswers(flags.answers)
		if err != nil {
			return err
		}
		defaults = defaults.over(answers) // the file named beats the config's [defaults], key by key
	}
	if env.Defaults, err = defaults.ui(kioskID); err != nil {
		return err
	}
	return runWizard(cmd.Context(), env)
}

// wizardFlagSet defines the flags of the commands that draw the wizard's
// screens (misetup, misetup account).
func wizardFlagSet(cmd *cobra.Command, flags *wizardFlags) {
	cmd.Flags().StringVar(&flags.server, "server", "", "the address of a misetup account service, an http:// or https:// URL (env MISETUP_SERVER); default: in-process")
	cmd.Flags().StringVar(&flags.lang, "lang", "", "language of the wizard: en or zh-CN (env MISETUP_LANG; default: the one chosen last, else from LANG)")
	cmd.Flags().StringVar(&flags.answers, "answers", "", "a TOML file of the store's answers, pre-filled and marked as the store's: the keys of [defaults] in the config file (lang, region, sync_categories, wifi_only, find_device, device_name)")
	cmd.Flags().BoolVar(&flags.accessible, "accessible", false, "plain prompts for screen readers, no full-screen UI (env ACCESSIBLE=1; also when there is no terminal)")
}

func newRootCmd() *cobra.Command {
	var flags wizardFlags
	root := &cobra.Command{
		Use:   "misetup",
		Short: "Set up a Mi Account: sign in or create one, Mi Cloud sync and Find Device",
		Long: `misetup walks you through setting up a Mi Account, step by step: a requirements check,
creating an account or signing in with a verification code, choosing what Mi Cloud syncs,
and turning on Find Device.

With no server named it runs the account service in-process (SQLite under the XDG data dir)
and delivers verification codes to the local outbox: read them with "misetup outbox".
Without a terminal (a pipe, a script) it asks plain questions, as with --accessible.`,
		Example: `  misetup
  misetup --lang zh-CN
  misetup --server http://127.0.0.1:8417
  misetup --accessible`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWizardCmd(cmd, flags, false)
		},
	}
	root.PersistentFlags().String("config", "", "config file (default $XDG_CONFIG_HOME/misetup/config.toml)")
	wizardFlagSet(root, &flags)
	root.Flags().Bool("kiosk", false, "kiosk mode for a store terminal: nothing of a customer is kept, idle customers are asked and reset, leaving needs the staff PIN (misetup kiosk pin)")
	root.AddCommand(newServeCmd(), newAccountCmd(), newAgentCmd(), newCloudCmd(), newKioskCmd(), newOutboxCmd(), newCheckCmd(), newDoctorCmd(), newManCmd())
	return root
}
