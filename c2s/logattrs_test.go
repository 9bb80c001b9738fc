package c2s

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestConnLoggerMatchesWith(t *testing.T) {
	cases := []struct {
		name string
		log  func(base *slog.Logger)
	}{
		{"attributes then record", func(base *slog.Logger) {
			connLogger(base, "c1", "r").Info("hello", "k", 1)
		}},
		{"nested With", func(base *slog.Logger) {
			connLogger(base, "c1", "r").With("resource", "res").Warn("bye", "n", 2)
		}},
		{"group", func(base *slog.Logger) {
			connLogger(base, "c1", "r").WithGroup("g").Info("grouped", "x", 3)
		}},
	}
	want := []string{
		"level=INFO msg=hello conn=c1 remote=r k=1",
		"level=WARN msg=bye conn=c1 remote=r resource=res n=2",
		"level=INFO msg=grouped conn=c1 remote=r g.x=3",
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			base := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{
				ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
					if a.Key == slog.TimeKey && len(groups) == 0 {
						return slog.Attr{}
					}
					return a
				},
			}))
			tc.log(base)
			if got := strings.TrimSpace(out.String()); got != want[i] {
				t.Errorf("logged %q, want %q", got, want[i])
			}
		})
	}
}

func TestConnLoggerLevel(t *testing.T) {
	var out bytes.Buffer
	base := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	connLogger(base, "c1", "r").Debug("hidden")
	if out.Len() != 0 {
		t.Errorf("debug record written below the level: %q", out.String())
	}
}
