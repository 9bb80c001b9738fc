package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"
	"time"

	"tern/admin"
	"tern/config"
	"tern/httpd"
	"tern/server"
)

// operations are the admin operations the commands run: on the running
// server through its control socket (remote), or on the storage
// (admin.Service) when no server runs.
type operations interface {
	AddUsers(ctx context.Context, users []admin.NewUser) error
	DeleteUser(ctx context.Context, account string) error
	SetPassword(ctx context.Context, account, password string) error
	ListUsers(ctx context.Context, domain string) ([]string, error)
	Sessions(ctx context.Context) ([]admin.SessionInfo, error)
	Stats(ctx context.Context) (admin.Stats, error)
	Broadcast(ctx context.Context, b admin.Broadcast) (admin.BroadcastResult, error)
}

// dialTimeout bounds the connection attempt to the control socket.
const dialTimeout = 5 * time.Second

// storageUse is whether a command may run without the server, on the
// storage directly.
type storageUse int

const (
	// serverOnly commands need the running server.
	serverOnly storageUse = iota
	// existingStorage commands fall back to a database that exists.
	existingStorage
	// newStorage commands, which create accounts, may also create the
	// SQLite database, as on a first setup before ternd has run.
	newStorage
)

// connect returns the operations of the running server, or, when no
// server listens on the control socket and use allows it, of the
// storage. The caller calls close when done.
func (c *cli) connect(ctx context.Context, use storageUse) (ops operations, close func(), err error) {
	cfg, err := c.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	path := cfg.Path(httpd.SocketName)
	conn, err := net.DialTimeout("unix", path, dialTimeout)
	if err == nil {
		conn.Close()
		r := newRemote(path)
		return r, r.close, nil
	}
	if !notRunning(err) {
		return nil, nil, fmt.Errorf("connect to ternd at %s: %w; run ternctl as the user that runs ternd", path, err)
	}
	if use == serverOnly {
		return nil, nil, fmt.Errorf("ternd is not running (nothing listens on %s)", path)
	}
	if use == existingStorage && cfg.Storage.Backend != "postgres" {
		db := cfg.Path(cfg.Storage.SQLiteFile)
		if _, err := os.Stat(db); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("ternd is not running (nothing listens on %s) and there is no database at %s; give ternctl the server's configuration with -config FILE", path, db)
		}
	}
	return c.openStorage(ctx, cfg, path)
}

// notRunning reports whether a dial error means that no server listens:
// the socket file is missing, or left behind by a server that stopped.
func notRunning(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ECONNREFUSED)
}

// openStorage returns admin operations on the configured storage.
func (c *cli) openStorage(ctx context.Context, cfg *config.Config, socket string) (operations, func(), error) {
	st, err := server.OpenStore(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("ternd is not running (nothing listens on %s), and opening the storage failed: %w", socket, err)
	}
	fmt.Fprintf(c.stderr, "ternctl: ternd is not running (nothing listens on %s); using the %s storage directly\n", socket, cfg.Storage.Backend)
	svc := admin.New(st, admin.Options{
		Domains:           cfg.Server.Domains,
		Iterations:        cfg.Auth.SCRAMIterations,
		MinPasswordLength: cfg.Registration.MinPasswordLength,
		Hashes:            cfg.Auth.SCRAMHashes,
	})
	return svc, func() { st.Close() }, nil
}
