package mam

import (
	"context"
	"errors"
	"fmt"

	"tern/stanza"
	"tern/storage"
)

// Page is one page of query results.
type Page struct {
	// Messages are in chronological order, even when Flip is set.
	Messages []storage.ArchivedMessage
	// Complete is true when no more matches lie beyond the page in the
	// direction of the query.
	Complete bool
	// Count is the number of messages matching the query's filters,
	// ignoring RSM paging, or -1 when unknown.
	Count int
	// Index is the position of the page's first message among those
	// matches, counting from 0, or -1 when unknown.
	Index int
	// Flip sends the messages newest first.
	Flip bool
	// Backward is set when the query pages toward older messages (RSM
	// <before/>).
	Backward bool
}

// Run returns the page of o's archive that q selects. maxPage caps the
// page size and is the size of a page when q gives none. It returns
// item-not-found when an id in after-id, before-id, ids or the RSM
// <after/> or <before/> is not in the archive, as XEP-0313 requires.
func Run(ctx context.Context, a storage.Archive, o storage.Owner, q Query, maxPage int) (Page, error) {
	if err := checkIDs(ctx, a, o, q); err != nil {
		return Page{}, err
	}
	size := q.Max
	if size < 0 || size > maxPage {
		size = maxPage
	}
	sq := q.storageQuery()
	sq.Max = max(size, 1) // a page of 0 messages still needs the count
	res, err := a.QueryArchive(ctx, o, sq)
	if errors.Is(err, storage.ErrNotFound) {
		return Page{}, stanza.ItemNotFound.WithText("the archive has no message with that id")
	}
	if err != nil {
		return Page{}, fmt.Errorf("mam: query the archive of %s: %w", o, err)
	}
	p := Page{Messages: res.Messages, Complete: res.Complete, Count: res.Count, Index: -1, Flip: q.Flip, Backward: q.Last}
	if size == 0 {
		p.Messages = nil
		p.Complete = res.Count == 0
	}
	if err := p.position(ctx, a, o, q); err != nil {
		return Page{}, err
	}
	return p, nil
}

// storageQuery returns the storage query for q without its page size. Of
// two lower bounds it keeps the later id, of two upper bounds the earlier
// one, because archive ids sort in archive order.
func (q Query) storageQuery() storage.ArchiveQuery {
	after, before := q.AfterID, q.BeforeID
	if q.After > after {
		after = q.After
	}
	if q.Before != "" && (before == "" || q.Before < before) {
		before = q.Before
	}
	return storage.ArchiveQuery{
		With: q.With, Start: q.Start, End: q.End, IDs: q.IDs,
		AfterID: after, BeforeID: before, Last: q.Last,
	}
}

// checkIDs returns item-not-found unless every id that q names is in o's
// archive.
func checkIDs(ctx context.Context, a storage.Archive, o storage.Owner, q Query) error {
	want := map[string]bool{}
	for _, id := range append([]string{q.AfterID, q.BeforeID, q.After, q.Before}, q.IDs...) {
		if id != "" {
			want[id] = true
		}
	}
	if len(want) == 0 {
		return nil
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	res, err := a.QueryArchive(ctx, o, storage.ArchiveQuery{IDs: ids})
	if err != nil {
		return fmt.Errorf("mam: look up archive ids of %s: %w", o, err)
	}
	if len(res.Messages) != len(ids) {
		return stanza.ItemNotFound.WithText("the archive has no message with one of the requested ids")
	}
	return nil
}

// position sets Count to the size of the whole result set and Index to
// the page's place in it. The storage count covers the query as sent, RSM
// bounds included, so a query with an RSM bound needs a second count.
func (p *Page) position(ctx context.Context, a storage.Archive, o storage.Owner, q Query) error {
	if p.Count < 0 {
		return nil
	}
	bounded := p.Count // matches within the RSM bounds
	if q.After != "" || q.Before != "" {
		if err := p.countAll(ctx, a, o, q); err != nil {
			return err
		}
	}
	if len(p.Messages) == 0 {
		return nil
	}
	switch {
	case !q.Last && q.After == "":
		p.Index = 0
	case !q.Last:
		p.Index = p.Count - bounded
	case q.Before == "":
		p.Index = p.Count - len(p.Messages)
	case q.After == "":
		p.Index = bounded - len(p.Messages)
	}
	return nil
}

// countAll sets Count to the number of matches of q's filters, without
// its RSM bounds.
func (p *Page) countAll(ctx context.Context, a storage.Archive, o storage.Owner, q Query) error {
	q.After, q.Before, q.Last = "", "", false
	sq := q.storageQuery()
	sq.Max = 1
	res, err := a.QueryArchive(ctx, o, sq)
	if err != nil {
		return fmt.Errorf("mam: count the archive of %s: %w", o, err)
	}
	p.Count = res.Count
	return nil
}
