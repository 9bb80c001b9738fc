package c2s

import (
	"context"
	"log/slog"
	"slices"
)

// attrHandler adds attributes to the records it passes on, like
// Handler.WithAttrs, but keeps them as values until a record is logged.
// The text and JSON handlers format attributes when WithAttrs is called,
// which costs every connection about half a kilobyte for loggers that
// usually log nothing below the Info level.
type attrHandler struct {
	next  slog.Handler
	attrs []slog.Attr
}

// withAttrs returns a logger that adds attrs to every record of log.
func withAttrs(log *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	if h, ok := log.Handler().(attrHandler); ok {
		return slog.New(h.WithAttrs(attrs))
	}
	return slog.New(attrHandler{next: log.Handler(), attrs: attrs})
}

func (h attrHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// Handle passes on r with the handler's attributes before its own, in
// the order WithAttrs would have written them.
func (h attrHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	out.AddAttrs(h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h attrHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return attrHandler{next: h.next, attrs: slices.Concat(h.attrs, attrs)}
}

// WithGroup applies the attributes kept so far, since those belong
// outside the group.
func (h attrHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.next.WithAttrs(h.attrs).WithGroup(name)
}
