package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"tern/storage"
)

var accountsMigration = migration{
	version: 1,
	name:    "accounts",
	stmts: []string{
		`CREATE TABLE accounts (
			domain     TEXT NOT NULL,
			local      TEXT NOT NULL,
			created_at INTEGER NOT NULL, -- microseconds since the Unix epoch
			PRIMARY KEY (domain, local)
		)`,
		`CREATE TABLE account_keys (
			domain     TEXT NOT NULL,
			local      TEXT NOT NULL,
			position   INTEGER NOT NULL, -- index in Account.Keys
			hash       TEXT NOT NULL,
			salt       BLOB NOT NULL,
			iterations INTEGER NOT NULL,
			stored_key BLOB NOT NULL,
			server_key BLOB NOT NULL,
			PRIMARY KEY (domain, local, position),
			FOREIGN KEY (domain, local) REFERENCES accounts (domain, local) ON DELETE CASCADE
		)`,
	},
	ownerTables: []string{"account_keys"},
}

var (
	insertAccountSQL = writeSQL(`INSERT INTO accounts (domain, local, created_at)
		VALUES (?, ?, ?) ON CONFLICT (domain, local) DO NOTHING`)
	insertKeySQL = writeSQL(`INSERT INTO account_keys
		(domain, local, position, hash, salt, iterations, stored_key, server_key)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	deleteKeysSQL    = writeSQL(`DELETE FROM account_keys WHERE domain = ? AND local = ?`)
	accountExistsSQL = writeSQL(`SELECT COUNT(*) FROM accounts WHERE domain = ? AND local = ?`)
	deleteAccountSQL = writeSQL(`DELETE FROM accounts WHERE domain = ? AND local = ?`)
	deleteOwnedSQL   = deleteOwnedQueries()

	getAccountSQL = readSQL(`SELECT a.created_at, k.hash, k.salt, k.iterations, k.stored_key, k.server_key
		FROM accounts a LEFT JOIN account_keys k ON k.domain = a.domain AND k.local = a.local
		WHERE a.domain = ? AND a.local = ? ORDER BY k.position`)
	listAccountsSQL  = readSQL(`SELECT local FROM accounts WHERE domain = ? ORDER BY local`)
	countAccountsSQL = readSQL(`SELECT COUNT(*) FROM accounts WHERE domain = ?`)
)

// deleteOwnedQueries returns one DELETE for each table whose rows belong to
// an account.
func deleteOwnedQueries() []string {
	var qs []string
	for _, table := range ownerTables() {
		qs = append(qs, writeSQL("DELETE FROM "+table+" WHERE domain = ? AND local = ?"))
	}
	return qs
}

// CreateAccount implements storage.Accounts.
func (s *Store) CreateAccount(ctx context.Context, a storage.Account) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error { return createAccount(tx, a) })
	if err != nil {
		return fmt.Errorf("sqlite: create account %s: %w", a.Owner, err)
	}
	return nil
}

// CreateAccounts stores many accounts in one transaction, which saves a
// commit per account over calling CreateAccount for each (compare
// BenchmarkCreateAccount and BenchmarkCreateAccounts). Either every account
// is stored or none is: if one of them exists, or one appears twice, it
// returns an error wrapping storage.ErrExists that names it.
func (s *Store) CreateAccounts(ctx context.Context, accounts []storage.Account) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		for _, a := range accounts {
			if err := createAccount(tx, a); err != nil {
				return fmt.Errorf("%s: %w", a.Owner, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: create accounts: %w", err)
	}
	return nil
}

// createAccount inserts a and its keys.
func createAccount(tx *stmtTx, a storage.Account) error {
	created := a.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}
	n, err := tx.exec(insertAccountSQL, a.Domain, a.Local, created.UnixMicro())
	if err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrExists
	}
	return insertKeys(tx, a.Owner, a.Keys)
}

// insertKeys stores keys in their order.
func insertKeys(tx *stmtTx, o storage.Owner, keys []storage.ScramKey) error {
	for i, k := range keys {
		_, err := tx.exec(insertKeySQL, o.Domain, o.Local, i, k.Hash,
			blob(k.Salt), k.Iterations, blob(k.StoredKey), blob(k.ServerKey))
		if err != nil {
			return err
		}
	}
	return nil
}

// GetAccount implements storage.Accounts.
func (s *Store) GetAccount(ctx context.Context, o storage.Owner) (storage.Account, error) {
	a, err := s.getAccount(ctx, o)
	if err != nil {
		return storage.Account{}, fmt.Errorf("sqlite: get account %s: %w", o, err)
	}
	return a, nil
}

func (s *Store) getAccount(ctx context.Context, o storage.Owner) (storage.Account, error) {
	rows, err := s.query(ctx, getAccountSQL, o.Domain, o.Local)
	if err != nil {
		return storage.Account{}, err
	}
	defer rows.Close()
	a := storage.Account{Owner: o}
	found := false
	for rows.Next() {
		var created int64
		var hash sql.NullString
		var k storage.ScramKey
		var iterations sql.NullInt64
		if err := rows.Scan(&created, &hash, &k.Salt, &iterations, &k.StoredKey, &k.ServerKey); err != nil {
			return storage.Account{}, err
		}
		found = true
		a.CreatedAt = fromMicros(created)
		if hash.Valid {
			k.Hash, k.Iterations = hash.String, int(iterations.Int64)
			a.Keys = append(a.Keys, k)
		}
	}
	if err := rows.Err(); err != nil {
		return storage.Account{}, err
	}
	if !found {
		return storage.Account{}, storage.ErrNotFound
	}
	return a, nil
}

// SetKeys implements storage.Accounts.
func (s *Store) SetKeys(ctx context.Context, o storage.Owner, keys []storage.ScramKey) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		if err := requireAccount(tx, o); err != nil {
			return err
		}
		if _, err := tx.exec(deleteKeysSQL, o.Domain, o.Local); err != nil {
			return err
		}
		return insertKeys(tx, o, keys)
	})
	if err != nil {
		return fmt.Errorf("sqlite: set keys of %s: %w", o, err)
	}
	return nil
}

// requireAccount returns storage.ErrNotFound unless o has an account.
func requireAccount(tx *stmtTx, o storage.Owner) error {
	row, err := tx.queryRow(accountExistsSQL, o.Domain, o.Local)
	if err != nil {
		return err
	}
	var n int
	if err := row.Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return storage.ErrNotFound
	}
	return nil
}

// DeleteAccount implements storage.Accounts. It removes the account's rows
// from every table that a migration lists in ownerTables.
func (s *Store) DeleteAccount(ctx context.Context, o storage.Owner) error {
	err := s.writeTx(ctx, func(tx *stmtTx) error {
		n, err := tx.exec(deleteAccountSQL, o.Domain, o.Local)
		if err != nil {
			return err
		}
		if n == 0 {
			return storage.ErrNotFound
		}
		for _, q := range deleteOwnedSQL {
			if _, err := tx.exec(q, o.Domain, o.Local); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlite: delete account %s: %w", o, err)
	}
	return nil
}

// ListAccounts implements storage.Accounts. SQLite compares TEXT in byte
// order by default, which is the order the interface requires.
func (s *Store) ListAccounts(ctx context.Context, domain string) ([]string, error) {
	locals, err := s.listAccounts(ctx, domain)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list accounts of %s: %w", domain, err)
	}
	return locals, nil
}

func (s *Store) listAccounts(ctx context.Context, domain string) ([]string, error) {
	rows, err := s.query(ctx, listAccountsSQL, domain)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var locals []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			return nil, err
		}
		locals = append(locals, l)
	}
	return locals, rows.Err()
}

// CountAccounts implements storage.Accounts.
func (s *Store) CountAccounts(ctx context.Context, domain string) (int, error) {
	var n int
	if err := s.queryRow(ctx, countAccountsSQL, domain).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count accounts of %s: %w", domain, err)
	}
	return n, nil
}
