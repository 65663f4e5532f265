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
	"syscall"

	"charm.land/fang/v2"
	"github.com/spf13/cobra"

	"misetup/api"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := fang.Execute(ctx, newRootCmd(),
		fang.WithVersion(api.Version),
		fang.WithoutManpage(),
		fang.WithErrorHandler(func(w io.Writer, st fang.Styles, err error) {
			var ec exitCode
			if !errors.As(err, &ec) { // doctor and check have printed their findings already
				fang.DefaultErrorHandler(w, st, err)
			}
		}),
	)
	if err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			os.Exit(int(ec))
		}
		os.Exit(1)
	}
}

// exitCode is an error that only sets the process's exit status (doctor and
// check use 1 for warnings and 2 for failures, having printed their table).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func newRootCmd() *cobra.Command {
	var flags wizardFlags
	root := &cobra.Command{
		Use:   "misetup",
		Short: "Set up a Mi Account: sign in or create one, Mi Cloud sync and Find Device",
		Long: `misetup walks you through setting up a Mi Account, step by step: a requirements check,
creating an account or signing in with a verification code, choosing what Mi Cloud syncs,
and turning on Find Device.

With no server named it runs the account service in-process (SQLite under the XDG data dir)
and delivers verification codes to the local outbox: read them with "misetup outbox".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			return runWizard(cmd.Context(), cfg.wizardEnv(cmd, flags))
		},
	}
	root.PersistentFlags().String("config", "", "config file (default $XDG_CONFIG_HOME/misetup/config.toml)")
	root.Flags().StringVar(&flags.server, "server", "", "URL of a misetup account service (env MISETUP_SERVER); default: in-process")
	root.Flags().StringVar(&flags.lang, "lang", "", "language of the wizard: en or zh-CN (default from LANG)")
	root.Flags().BoolVar(&flags.accessible, "accessible", false, "plain prompts for screen readers, no full-screen UI (env ACCESSIBLE=1)")
	root.AddCommand(newServeCmd(), newOutboxCmd(), newCheckCmd(), newDoctorCmd())
	return root
}
