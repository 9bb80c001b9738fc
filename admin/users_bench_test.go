package admin

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"tern/storage/sqlite"
)

// BenchmarkAddUsers creates accounts in batches of 200 with the default
// 4096 PBKDF2 iterations, as "ternctl user add -f" does on SQLite. The
// ms/account figure is wall time on all CPUs.
func BenchmarkAddUsers(b *testing.B) {
	st, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "tern.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	svc := New(st, Options{Domains: []string{"example.com"}, Iterations: 4096})
	const batch = 200
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		users := make([]NewUser, batch)
		for j := range users {
			users[j] = NewUser{JID: fmt.Sprintf("u%d-%d@example.com", i, j), Password: "benchpass"}
		}
		if err := svc.AddUsers(context.Background(), users); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*batch), "ms/account")
}
