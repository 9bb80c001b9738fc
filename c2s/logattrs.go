package c2s

import (
	"context"
	"log/slog"
	"slices"
)

// connHandler adds a connection's id and remote address, and attributes
// added later with WithAttrs, to the records it passes on. It does what
// Handler.WithAttrs does but keeps the values until a record is logged:
// the text and JSON handlers format attributes when WithAttrs is called,
// which would cost every connection half a kilobyte or more for loggers
// that usually log nothing below the Info level.
type connHandler struct {
	next         slog.Handler
	conn, remote string
	attrs        []slog.Attr
}

// connLogger returns a logger that adds the attributes conn and remote
// to every record of log.
func connLogger(log *slog.Logger, conn, remote string) *slog.Logger {
	return slog.New(&connHandler{next: log.Handler(), conn: conn, remote: remote})
}

func (h *connHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes on r with the handler's attributes before its own, in
// the order WithAttrs would have written them.
func (h *connHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(h.own()...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

// own returns the handler's attributes.
func (h *connHandler) own() []slog.Attr {
	return slices.Concat([]slog.Attr{slog.String("conn", h.conn), slog.String("remote", h.remote)}, h.attrs)
}

func (h *connHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.attrs = slices.Concat(h.attrs, attrs)
	return &c
}

// WithGroup applies the attributes kept so far, since those belong
// outside the group.
func (h *connHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.next.WithAttrs(h.own()).WithGroup(name)
}
