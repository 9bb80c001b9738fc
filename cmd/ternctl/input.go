package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode"

	"golang.org/x/term"

	"tern/admin"
)

// readPassword reads a password: on a terminal it prompts twice without
// echo, otherwise it reads the first line of stdin without its line
// ending.
func readPassword(stdin *os.File, prompt io.Writer) (string, error) {
	fd := int(stdin.Fd())
	if !term.IsTerminal(fd) {
		return readPasswordLine(stdin)
	}
	fmt.Fprint(prompt, "Password: ")
	first, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	fmt.Fprint(prompt, "Repeat password: ")
	second, err := term.ReadPassword(fd)
	fmt.Fprintln(prompt)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if string(first) != string(second) {
		return "", errors.New("the passwords do not match")
	}
	return string(first), nil
}

// readPasswordLine reads the first line of r, which must not be empty.
// It reads byte by byte so that nothing after the line is consumed.
func readPasswordLine(r io.Reader) (string, error) {
	var line []byte
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			line = append(line, buf[0])
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("read password from standard input: %w", err)
		}
	}
	password := strings.TrimSuffix(string(line), "\r")
	if password == "" {
		return "", errors.New("no password on standard input: write it as the first line")
	}
	return password, nil
}

// maxLine is the longest line parseUserLines accepts.
const maxLine = 64 << 10

// parseUserLines reads "JID PASSWORD" lines from r, which is called name
// in errors. The password is the rest of the line after the JID and the
// spaces that follow it, without trailing spaces. Blank lines and lines
// whose first non-space character is '#' are skipped.
func parseUserLines(r io.Reader, name string) ([]admin.NewUser, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var users []admin.NewUser
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.IndexFunc(line, unicode.IsSpace)
		if i < 0 {
			return nil, fmt.Errorf("%s:%d: missing password after the JID %q", name, n, line)
		}
		users = append(users, admin.NewUser{JID: line[:i], Password: strings.TrimSpace(line[i:])})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("%s lists no accounts", name)
	}
	return users, nil
}
