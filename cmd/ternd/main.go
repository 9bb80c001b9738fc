// Command ternd is the Tern XMPP server. With no -config it serves the
// domain localhost from ./data with embedded SQLite and a self-signed
// certificate, so a first run needs no setup.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"tern/config"
	"tern/server"

	_ "tern/modules/all"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ternd:", err)
		os.Exit(1)
	}
}

func run() error {
	configPath := flag.String("config", "", "path of the TOML configuration file (default: built-in defaults)")
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: ternd takes only flags, such as -config FILE", flag.Arg(0))
	}

	cfg := config.Default()
	if *configPath != "" {
		var err error
		if cfg, err = config.Load(*configPath); err != nil {
			return err
		}
	}
	log := newLogger(cfg)
	slog.SetDefault(log)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := srv.Start(); err != nil {
		shutdown(srv, cfg, log)
		return err
	}
	log.Info("ternd started", "domains", cfg.Server.Domains, "storage", cfg.Storage.Backend, "data_dir", cfg.Server.DataDir)
	go reloadOnHangup(ctx, srv, log)
	<-ctx.Done()
	log.Info("shutting down")
	return shutdown(srv, cfg, log)
}

func shutdown(srv *server.Server, cfg *config.Config, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Server.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("stopped")
	return nil
}

// reloadOnHangup reloads the certificates on SIGHUP, so renewed
// certificates take effect without a restart that would drop sessions.
func reloadOnHangup(ctx context.Context, srv *server.Server, log *slog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			if err := srv.ReloadCertificates(); err != nil {
				log.Error("reload certificates failed; keeping the current ones", "err", err)
				continue
			}
			log.Info("certificates reloaded")
		}
	}
}

func newLogger(cfg *config.Config) *slog.Logger {
	var level slog.Level
	switch cfg.Server.LogLevel {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Server.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
