package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"

	"tern/admin"
)

const broadcastUsage = `Usage:
  ternctl broadcast [-offline] [-subject TEXT] [-domain DOMAIN] [MESSAGE]

Sends MESSAGE from the server to its users; without MESSAGE arguments the
message is read from standard input. The arguments are joined by spaces.

  -offline        send to every account instead of every available session;
                  accounts with no session get the message when they next
                  log in
  -subject TEXT   the message's subject
  -domain DOMAIN  only the users of DOMAIN (default: every domain)

The server must be running.
`

// maxMessageInput bounds a message read from standard input, which is
// the largest request body the server takes for a broadcast.
const maxMessageInput = 64 << 10

// broadcast sends a message to the users of the running server.
func (c *cli) broadcast(ctx context.Context, args []string) error {
	flags := flag.NewFlagSet("broadcast", flag.ContinueOnError)
	flags.SetOutput(io.Discard) // run prints the error, Usage the help
	flags.Usage = func() { fmt.Fprint(c.stderr, broadcastUsage) }
	offline := flags.Bool("offline", false, "send to every account, also those offline")
	subject := flags.String("subject", "", "the message's subject")
	domain := flags.String("domain", "", "only the users of this domain")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err.Error()}
	}

	body := strings.Join(flags.Args(), " ")
	if flags.NArg() == 0 {
		var err error
		if body, err = c.readMessage(); err != nil {
			return err
		}
	}
	if strings.TrimSpace(body) == "" {
		return usageError{"broadcast needs a message, as arguments or on standard input"}
	}

	b := admin.Broadcast{Body: body, Subject: *subject, Offline: *offline, Domain: *domain}
	return c.withOps(ctx, serverOnly, func(ops operations) error {
		res, err := ops.Broadcast(ctx, b)
		if err != nil {
			return err
		}
		noun := "session"
		if b.Offline {
			noun = "account"
		}
		if res.Recipients != 1 {
			noun += "s"
		}
		fmt.Fprintf(c.stdout, "sent to %d %s\n", res.Recipients, noun)
		return nil
	})
}

// readMessage reads the message from standard input, without the final
// line ending.
func (c *cli) readMessage() (string, error) {
	if term.IsTerminal(int(c.stdin.Fd())) {
		fmt.Fprintln(c.stderr, "Type the message, then press Ctrl-D on a line of its own.")
	}
	data, err := io.ReadAll(io.LimitReader(c.stdin, maxMessageInput+1))
	if err != nil {
		return "", fmt.Errorf("read message from standard input: %w", err)
	}
	if len(data) > maxMessageInput {
		return "", fmt.Errorf("the message on standard input is longer than %d bytes", maxMessageInput)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}
