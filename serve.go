package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"misetup/server"
	"misetup/server/store"
)

func newServeCmd() *cobra.Command {
	var addr, db, cour string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the account service over HTTP",
		Long: `serve runs the misetup account service: registration with verification codes,
sign-in with lockout, sessions, devices, Mi Cloud sync settings and Find Device.

The store is SQLite under the XDG data dir unless --db names another file or a
postgres:// URL; several servers may share one PostgreSQL database and act as
one service. Codes go to the outbox (read them with "misetup outbox") unless
the courier is smtp or webhook. Every rule's number can be set in the config
file's [rules] table or with --rule key=value.

The service's keys (code hashes, TOTP encryption) come from the config file's
[keys] table or the environment, never from a flag. On SQLite, with none set,
the service makes its own on first start and keeps them in a 0600 file beside
the database; on PostgreSQL they must be set, the same on every server
("misetup serve keygen" prints a set).`,
		Example: `  misetup serve
  misetup serve --addr 127.0.0.1:9000 --db postgres://misetup@localhost/misetup
  MISETUP_COURIER=smtp MISETUP_SMTP_ADDR=mail.example.com:587 misetup serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadServeConfig(cmd, addr, db, cour)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()

			// What can be wrong with the configuration is found before
			// listening: the rules, the keys, the courier. Only the keys
			// file of a SQLite store is made later (its first start writes
			// and syncs it).
			scfg, err := cfg.Rules.apply(server.DefaultConfig())
			if err != nil {
				return err
			}
			if cfg.Keys.set() || store.IsPostgresDSN(cfg.Serve.DB) {
				if _, err := cfg.serverKeys(); err != nil {
					return err
				}
			}
			if _, err := cfg.courier(); err != nil {
				return err
			}
			var lc net.ListenConfig
			ln, err := lc.Listen(ctx, "tcp", cfg.Serve.Addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", cfg.Serve.Addr, err)
			}
			// Answer from now on; the store opens meanwhile (see
			// server.Opening), and a failure to open ends the process.
			ctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			op := server.NewOpening(scfg)
			opened := make(chan func() error, 1)
			go func() {
				srv, closeFn, err := cfg.openServiceWith(ctx, scfg, "")
				if err != nil {
					op.Open(nil, err)
					cancel(err)
					close(opened)
					return
				}
				op.Open(srv, nil)
				opened <- closeFn
			}()
			fmt.Fprintf(cmd.ErrOrStderr(), "misetup account service on http://%s (store %s, courier %s)\n",
				ln.Addr(), redactDSN(cfg.Serve.DB), cfg.Serve.Courier)
			if cfg.Serve.Courier == "outbox" || cfg.Serve.Courier == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "codes go to %s: read them with \"misetup outbox --follow\"\n", cfg.outboxPath())
			}
			serveErr := op.Serve(ctx, ln)
			closeFn, ok := <-opened
			if ok {
				serveErr = errors.Join(serveErr, closeFn())
			}
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				return cause // the store did not open
			}
			if serveErr != nil {
				return serveErr
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8417", "address to listen on (env MISETUP_ADDR)")
	cmd.Flags().StringVar(&db, "db", "", "path of the SQLite file, or a postgres:// URL (env MISETUP_DB; default $XDG_DATA_HOME/misetup/misetup.db)")
	cmd.Flags().StringVar(&cour, "courier", "outbox", "how codes are delivered: outbox, smtp or webhook (env MISETUP_COURIER)")
	addRuleFlags(cmd.Flags())
	cmd.AddCommand(newKeygenCmd())
	return cmd
}

// loadServeConfig is loadConfig with serve's flags applied over it.
func loadServeConfig(cmd *cobra.Command, addr, db, cour string) (*config, error) {
	cfg, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	fl := cmd.Flags()
	if fl.Changed("addr") {
		cfg.Serve.Addr = addr
	}
	if fl.Changed("db") {
		cfg.Serve.DB = db
	}
	if fl.Changed("courier") {
		cfg.Serve.Courier = cour
	}
	if err := cfg.Rules.fromFlags(fl); err != nil {
		return nil, err
	}
	return cfg, nil
}
