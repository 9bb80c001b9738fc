// Command ternctl administers a Tern server: it creates, deletes and lists
// accounts, changes passwords, shows sessions and counts, and broadcasts
// messages to users.
//
// ternctl reads the same configuration file as ternd and talks to the
// running server over the control socket <data_dir>/ternd.sock, which
// needs no token but only the server's own user (or root) can open. When
// no server runs, the account commands open the storage directly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"tern/config"
)

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

const usageText = `Usage: ternctl [-config FILE] COMMAND [ARGUMENTS]

Commands:
  user add JID             create an account; the password is read from
                           standard input, or prompted for on a terminal
  user add -f FILE         create the accounts listed in FILE ("-" for
                           standard input), one "JID PASSWORD" per line
  user delete JID          delete an account and everything it owns, and
                           disconnect its sessions
  user passwd JID          change an account's password (read as for add)
  user list [DOMAIN]       list the accounts of DOMAIN, or of every domain
  sessions                 list the sessions of the running server
  stats                    show the numbers of sessions and accounts
  broadcast [-offline] [-subject TEXT] [-domain DOMAIN] [MESSAGE]
                           send a message to every available session, or with
                           -offline to every account; MESSAGE is read from
                           standard input when not given
  help [COMMAND]           show this text, or the usage of COMMAND

Options:
  -config FILE   ternd's configuration file (default: ternd's built-in
                 defaults, with data in ./data)

ternctl talks to the running ternd through <data_dir>/ternd.sock. When no
server runs, the user commands change the storage directly.
`

// usageError reports a command line that ternctl cannot run.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(args []string, stdin *os.File, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("ternctl", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, usageText) }
	configPath := flags.String("config", "", "ternd's configuration file")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	c := &cli{configPath: *configPath, stdin: stdin, stdout: stdout, stderr: stderr}
	err := c.dispatch(ctx, flags.Args())
	var ue usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "ternctl: %s\nRun 'ternctl help' for usage.\n", ue.msg)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "ternctl: %v\n", err)
		return exitError
	}
}

// cli holds what every command needs.
type cli struct {
	configPath string
	stdin      *os.File
	stdout     io.Writer
	stderr     io.Writer
}

// dispatch runs the command named by args[0].
func (c *cli) dispatch(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageText)
		return usageError{"no command given"}
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		return c.help(args[1:])
	case "user":
		return c.user(ctx, args[1:])
	case "sessions":
		if len(args) != 1 {
			return usageError{"sessions takes no arguments"}
		}
		return c.sessions(ctx)
	case "stats":
		if len(args) != 1 {
			return usageError{"stats takes no arguments"}
		}
		return c.stats(ctx)
	case "broadcast":
		return c.broadcast(ctx, args[1:])
	}
	return usageError{fmt.Sprintf("unknown command %q", args[0])}
}

// help prints the usage of a command, or of ternctl.
func (c *cli) help(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, usageText)
		return nil
	}
	switch args[0] {
	case "user":
		fmt.Fprint(c.stdout, userUsage)
	case "broadcast":
		fmt.Fprint(c.stdout, broadcastUsage)
	default:
		return usageError{fmt.Sprintf("no help for %q; the commands with their own help are user and broadcast", args[0])}
	}
	return nil
}

// loadConfig reads the configuration as ternd does.
func (c *cli) loadConfig() (*config.Config, error) {
	if c.configPath == "" {
		return config.Default(), nil
	}
	return config.Load(c.configPath)
}
