package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"text/tabwriter"
	"time"

	"tern/admin"
)

const userUsage = `Usage:
  ternctl user add JID          password from standard input, or prompted
  ternctl user add -f FILE      FILE ("-" for standard input) lists one
                                account per line as "JID PASSWORD"; the
                                password is the rest of the line without
                                surrounding spaces. Blank lines and lines
                                starting with # are skipped. The accounts
                                are created all or none.
  ternctl user delete JID
  ternctl user passwd JID       password read as for add
  ternctl user list [DOMAIN]
`

// user runs a "user" subcommand.
func (c *cli) user(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, userUsage)
		return usageError{"user needs a subcommand: add, delete, passwd or list"}
	}
	switch args[0] {
	case "add":
		return c.userAdd(ctx, args[1:])
	case "delete":
		account, err := oneJID("user delete", args[1:])
		if err != nil {
			return err
		}
		return c.withOps(ctx, existingStorage, func(ops operations) error {
			if err := ops.DeleteUser(ctx, account); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "deleted %s\n", account)
			return nil
		})
	case "passwd":
		return c.userPasswd(ctx, args[1:])
	case "list":
		return c.userList(ctx, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, userUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown user subcommand %q", args[0])}
}

// withOps runs f on the operations of the server or the storage.
func (c *cli) withOps(ctx context.Context, use storageUse, f func(operations) error) error {
	ops, closeOps, err := c.connect(ctx, use)
	if err != nil {
		return err
	}
	defer closeOps()
	return f(ops)
}

// oneJID returns the single JID argument of command.
func oneJID(command string, args []string) (string, error) {
	if len(args) != 1 {
		return "", usageError{fmt.Sprintf("%s takes one JID, got %d arguments", command, len(args))}
	}
	return args[0], nil
}

func (c *cli) userAdd(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("user add", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // run prints the error, Usage the help
	flags.Usage = func() { fmt.Fprint(c.stderr, userUsage) }
	file := flags.String("f", "", `file of "JID PASSWORD" lines, or "-" for standard input`)
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}
	if *file != "" {
		if flags.NArg() != 0 {
			return usageError{"user add -f takes no JID arguments"}
		}
		return c.userAddFile(ctx, *file)
	}
	account, err := oneJID("user add", flags.Args())
	if err != nil {
		return err
	}
	password, err := readPassword(c.stdin, c.stderr)
	if err != nil {
		return err
	}
	return c.withOps(ctx, newStorage, func(ops operations) error {
		if err := ops.AddUsers(ctx, []admin.NewUser{{JID: account, Password: password}}); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created %s\n", account)
		return nil
	})
}

// userAddFile creates the accounts listed in the file name.
func (c *cli) userAddFile(ctx context.Context, name string) error {
	var r io.Reader = c.stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("read accounts: %w", err)
		}
		defer f.Close()
		r = f
	} else {
		name = "standard input"
	}
	users, err := parseUserLines(r, name)
	if err != nil {
		return err
	}
	return c.withOps(ctx, newStorage, func(ops operations) error {
		start := time.Now()
		if err := ops.AddUsers(ctx, users); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "created %d accounts in %v\n", len(users), time.Since(start).Round(time.Millisecond))
		return nil
	})
}

func (c *cli) userPasswd(ctx context.Context, args []string) error {
	account, err := oneJID("user passwd", args)
	if err != nil {
		return err
	}
	password, err := readPassword(c.stdin, c.stderr)
	if err != nil {
		return err
	}
	return c.withOps(ctx, existingStorage, func(ops operations) error {
		if err := ops.SetPassword(ctx, account, password); err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "changed the password of %s\n", account)
		return nil
	})
}

func (c *cli) userList(ctx context.Context, args []string) error {
	if len(args) > 1 {
		return usageError{fmt.Sprintf("user list takes at most one domain, got %d arguments", len(args))}
	}
	domain := ""
	if len(args) == 1 {
		domain = args[0]
	}
	return c.withOps(ctx, existingStorage, func(ops operations) error {
		users, err := ops.ListUsers(ctx, domain)
		if err != nil {
			return err
		}
		for _, u := range users {
			fmt.Fprintln(c.stdout, u)
		}
		return nil
	})
}

// sessions lists the running server's sessions.
func (c *cli) sessions(ctx context.Context) error {
	return c.withOps(ctx, serverOnly, func(ops operations) error {
		list, err := ops.Sessions(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			fmt.Fprintln(c.stdout, "no sessions")
			return nil
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "JID\tPRIORITY\tAVAILABLE\tADDRESS")
		for _, s := range list {
			addr := s.Address
			if addr == "" {
				addr = "-"
			}
			fmt.Fprintf(tw, "%s\t%d\t%t\t%s\n", s.JID, s.Priority, s.Available, addr)
		}
		return tw.Flush()
	})
}

// stats prints the counts of sessions and accounts.
func (c *cli) stats(ctx context.Context) error {
	return c.withOps(ctx, existingStorage, func(ops operations) error {
		st, err := ops.Stats(ctx)
		if err != nil {
			return err
		}
		if st.Running {
			fmt.Fprintf(c.stdout, "sessions: %d\n", st.Sessions)
		} else {
			fmt.Fprintln(c.stdout, "sessions: unknown, ternd is not running")
		}
		for _, d := range slices.Sorted(maps.Keys(st.Accounts)) {
			fmt.Fprintf(c.stdout, "accounts on %s: %d\n", d, st.Accounts[d])
		}
		return nil
	})
}
