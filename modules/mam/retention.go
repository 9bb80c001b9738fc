package mam

import (
	"context"
	"log/slog"
	"time"

	"tern/storage"
)

// ExpireEvery deletes the messages older than retention from every
// archive of a, once at the start and then once per interval, until ctx
// ends. Errors are logged and the next round tries again.
func ExpireEvery(ctx context.Context, a storage.Archive, retention, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ExpireOnce(ctx, a, time.Now().Add(-retention), log)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ExpireOnce deletes the messages archived before cutoff and logs how
// many it deleted. It returns that number, 0 after an error.
func ExpireOnce(ctx context.Context, a storage.Archive, cutoff time.Time, log *slog.Logger) int64 {
	n, err := a.ExpireArchive(ctx, cutoff)
	switch {
	case err != nil:
		log.Error("delete expired archived messages", "err", err, "cutoff", cutoff)
		return 0
	case n > 0:
		log.Info("deleted expired archived messages", "count", n, "cutoff", cutoff)
	}
	return n
}
