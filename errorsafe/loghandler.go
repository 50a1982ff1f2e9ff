package errorsafe

import (
	"context"
	"log/slog"
)

// LogHandler returns an [log/slog.Handler] that adds the request ID of the
// record's context as the attribute "request_id" before passing the record to
// h, so that every record an application logs with a request's context
// (slog.InfoContext(r.Context(), …)) can be found from the ID a user quotes.
// Records without a request ID in their context, and records that already
// carry a top-level "request_id" attribute (such as the errorsafe records
// themselves), or whose logger was given one with [log/slog.Logger.With]
// since its last group, are passed on unchanged. Like every attribute a
// handler adds, it lands in the innermost group opened with
// [log/slog.Logger.WithGroup]. The result is safe for concurrent use when h
// is. LogHandler panics if h is nil.
func LogHandler(h slog.Handler) slog.Handler {
	if h == nil {
		panic("errorsafe: nil slog.Handler")
	}
	return &idHandler{h: h}
}

type idHandler struct {
	h slog.Handler
	// has: a "request_id" attribute was given to WithAttrs since the
	// last group was opened, where the one Handle adds would land. (Found
	// in review: only the record's own attributes were looked at, so a
	// logger.With("request_id", …) wrote the key twice in one object.)
	has bool
}

func (l *idHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return l.h.Enabled(ctx, level)
}

func (l *idHandler) Handle(ctx context.Context, r slog.Record) error {
	id := RequestIDFrom(ctx)
	if id == "" || l.has {
		return l.h.Handle(ctx, r)
	}
	has := false
	r.Attrs(func(a slog.Attr) bool {
		has = a.Key == "request_id"
		return !has
	})
	if !has {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return l.h.Handle(ctx, r)
}

func (l *idHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	has := l.has
	for _, a := range attrs {
		has = has || a.Key == "request_id"
	}
	return &idHandler{h: l.h.WithAttrs(attrs), has: has}
}

func (l *idHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return l
	}
	return &idHandler{h: l.h.WithGroup(name)}
}
