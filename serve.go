package main

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"misetup/server"
	"misetup/server/store"
	"misetup/web"
)

func newServeCmd() *cobra.Command {
	var f serveFlags
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
			cfg, err := loadServeConfig(cmd, f)
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
			scfg.PublicURL = cfg.Serve.PublicURL
			scfg.TLSCert, scfg.TLSKey = cfg.Serve.TLSCert, cfg.Serve.TLSKey
			// The portal seals a sign-in waiting for its two-step code
			// with a key every process of a fleet shares: one derived
			// from the service's configured keys. A lone SQLite service
			// without configured keys draws one per start (such a
			// sign-in, five minutes at most, is typed again).
			var portalKey []byte
			if cfg.Keys.set() || store.IsPostgresDSN(cfg.Serve.DB) {
				keys, err := cfg.serverKeys()
				if err != nil {
					return err
				}
				portalKey = keys.HMAC
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
			portal, err := web.New(web.Options{API: op, PublicURL: cfg.Serve.PublicURL, Key: portalKey, Logger: logger})
			if err != nil {
				return err
			}
			op.SetPortal(portal)
			context.AfterFunc(ctx, op.Drain) // /readyz: 503 from SIGTERM on
			// With --ssh, the HTTP side stops after the SSH sessions have
			// drained: they sign out through it (sshserve.go).
			httpCtx, waitSSH, err := startSSH(ctx, sshSet, op, scfg.Metrics, logger)
			if err != nil {
				ln.Close()
				return err
			}
			// Serving starts first: the first answers (GET /v1/status)
			// do not wait for the store's opening to start, nor the log.
			served := make(chan error, 1)
			go func() { served <- op.Serve(httpCtx, ln) }()
			opened := make(chan func() error, 1)
			go func() {
				srv, closeFn, err := openServe(ctx, cfg, scfg)
				if err != nil {
					op.Open(nil, err)
					cancel(err)
					close(opened)
					return
				}
				op.Open(srv, nil)
				opened <- closeFn
			}()
			scheme := "http"
			if cfg.Serve.TLSCert != "" {
				scheme = "https"
			}
			logger.Info(fmt.Sprintf("misetup account service on %s://%s; the web portal is at %s/", scheme, ln.Addr(),
				cmp.Or(cfg.Serve.PublicURL, scheme+"://"+ln.Addr().String())),
				"store", redactDSN(cfg.Serve.DB), "courier", cfg.Serve.Courier)
			if cfg.Serve.Courier == "outbox" || cfg.Serve.Courier == "" {
				logger.Info(fmt.Sprintf("codes go to %s: read them with \"misetup outbox --follow\"", cfg.outboxPath()))
			}
			serveErr := errors.Join(<-served, waitSSH())
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
	cmd.Flags().StringVar(&f.addr, "addr", "127.0.0.1:8417", "address to listen on (env MISETUP_ADDR)")
	cmd.Flags().StringVar(&f.db, "db", "", "path of the SQLite file, or a postgres:// URL (env MISETUP_DB; default $XDG_DATA_HOME/misetup/misetup.db)")
	cmd.Flags().StringVar(&f.courier, "courier", "outbox", "how codes are delivered: outbox, smtp or webhook (env MISETUP_COURIER)")
	cmd.Flags().StringVar(&f.publicURL, "public-url", "", "the address people reach this service at, for the web portal and kiosk hand-off links (env MISETUP_PUBLIC_URL)")
	cmd.Flags().StringVar(&f.tlsCert, "tls-cert", "", "certificate file (PEM): serve HTTPS (with --tls-key; env MISETUP_TLS_CERT)")
	cmd.Flags().StringVar(&f.tlsKey, "tls-key", "", "private key file (PEM) of --tls-cert (env MISETUP_TLS_KEY)")
	addRuleFlags(cmd.Flags())
	sshf = addSSHFlags(cmd.Flags())
	cmd.AddCommand(newKeygenCmd())
	return cmd
}

// serveFlags are serve's own flags.
type serveFlags struct {
	addr, db, courier          string
	publicURL, tlsCert, tlsKey string
}

// openServe makes serve's folders and opens its service, both beside its
// first answers: a first start made six folders on the way to its first
// answer (bench/README.md).
func openServe(ctx context.Context, cfg *config, scfg server.Config) (*server.Server, func() error, error) {
	if err := cfg.makeDirs(); err != nil {
		return nil, nil, err
	}
	return cfg.openServiceWith(ctx, scfg, "")
}

// loadServeConfig is readConfig with serve's flags applied over it. It makes
// nothing: serve makes its folders as its store opens (openServe).
func loadServeConfig(cmd *cobra.Command, f serveFlags) (*config, error) {
	cfg, err := readConfig(cmd)
	if err != nil {
		return nil, err
	}
	fl := cmd.Flags()
	for name, set := range map[string]struct {
		dst *string
		v   string
	}{
		"addr": {&cfg.Serve.Addr, f.addr}, "db": {&cfg.Serve.DB, f.db}, "courier": {&cfg.Serve.Courier, f.courier},
		"public-url": {&cfg.Serve.PublicURL, f.publicURL}, "tls-cert": {&cfg.Serve.TLSCert, f.tlsCert}, "tls-key": {&cfg.Serve.TLSKey, f.tlsKey},
	} {
		if fl.Changed(name) {
			*set.dst = set.v
		}
	}
	if err := cfg.Rules.fromFlags(fl); err != nil {
		return nil, err
	}
	if err := cfg.Serve.checkWeb(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkWeb checks the public address and the TLS files, naming the
// setting at fault.
func (s *serveConfig) checkWeb() error {
	if s.PublicURL != "" {
		u, err := url.Parse(s.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
			return fmt.Errorf("public_url (--public-url, MISETUP_PUBLIC_URL): %q is not an address like https://store.example.com", s.PublicURL)
		}
		s.PublicURL = strings.TrimRight(s.PublicURL, "/")
	}
	if (s.TLSCert == "") != (s.TLSKey == "") {
		return errors.New("tls_cert and tls_key (--tls-cert, --tls-key): give both files, or neither")
	}
	if s.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(s.TLSCert, s.TLSKey); err != nil {
			return fmt.Errorf("tls_cert, tls_key: %w", err)
		}
	}
	return nil
}
