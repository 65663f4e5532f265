package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	var sshf *sshFlags
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
  MISETUP_COURIER=smtp MISETUP_SMTP_ADDR=mail.example.com:587 misetup serve
  misetup serve --ssh 127.0.0.1:2222 --ssh-authorized-keys /etc/misetup/terminals --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadServeConfig(cmd, addr, db, cour)
			if err != nil {
				return err
			}
			sshSet, logFormat, err := sshf.apply(cmd.Flags(), cfg) // sshconfig.go
			if err != nil {
				return err
			}
			logger := newLogger(logFormat, cmd.ErrOrStderr())
			slog.SetDefault(logger)
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
			scfg.Logger, scfg.Metrics = logger, server.NewMetrics()
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
			context.AfterFunc(ctx, op.Drain) // /readyz: 503 from SIGTERM on
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
			logger.Info(fmt.Sprintf("misetup account service on http://%s", ln.Addr()),
				"store", redactDSN(cfg.Serve.DB), "courier", cfg.Serve.Courier)
			if cfg.Serve.Courier == "outbox" || cfg.Serve.Courier == "" {
				logger.Info(fmt.Sprintf("codes go to %s: read them with \"misetup outbox --follow\"", cfg.outboxPath()))
			}
			// With --ssh, the HTTP side stops after the SSH sessions have
			// drained: they sign out through it (sshserve.go).
			httpCtx, waitSSH, err := startSSH(ctx, sshSet, op, scfg.Metrics, logger)
			if err != nil {
				ln.Close()
				return err
			}
			serveErr := errors.Join(op.Serve(httpCtx, ln), waitSSH())
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
			logger.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8417", "address to listen on (env MISETUP_ADDR)")
	cmd.Flags().StringVar(&db, "db", "", "path of the SQLite file, or a postgres:// URL (env MISETUP_DB; default $XDG_DATA_HOME/misetup/misetup.db)")
	cmd.Flags().StringVar(&cour, "courier", "outbox", "how codes are delivered: outbox, smtp or webhook (env MISETUP_COURIER)")
	addRuleFlags(cmd.Flags())
	sshf = addSSHFlags(cmd.Flags())
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
