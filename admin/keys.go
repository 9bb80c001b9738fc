package admin

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"mellium.im/xmpp/jid"

	"tern/c2s/sasl"
	"tern/storage"
)

// deriveAccounts builds the account records for jids[i] with password
// users[i].Password, deriving the SCRAM keys of the given hash families on
// GOMAXPROCS goroutines. It stops at the first error or when ctx ends.
func deriveAccounts(ctx context.Context, jids []jid.JID, users []NewUser, iterations int, hashes []string) ([]storage.Account, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	now := time.Now()
	accounts := make([]storage.Account, len(jids))
	next := make(chan int)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		cancel()
	}
	for range min(runtime.GOMAXPROCS(0), len(jids)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				keys, err := sasl.NewKeys(users[i].Password, iterations, hashes)
				if err != nil {
					fail(fmt.Errorf("derive keys for %s: %w", jids[i], err))
					continue
				}
				accounts[i] = storage.Account{Owner: owner(jids[i]), Keys: keys, CreatedAt: now}
			}
		}()
	}
	feed(ctx, next, len(jids))
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("derive keys: %w", err)
	}
	return accounts, nil
}

// feed sends 0..n-1 on next until ctx ends, then closes next.
func feed(ctx context.Context, next chan<- int, n int) {
	defer close(next)
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			return
		}
	}
}
