package upload

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// File names in the storage directory, all derived from a valid slot id:
// the content is stored as <id>, its metadata as <id>.json. The suffixes
// mark files being written, which a restart removes.
const (
	metaSuffix    = ".json"
	partSuffix    = ".part"
	tmpMetaSuffix = ".json.tmp"
)

// maxPendingSlots is how many slots one account may hold at once before
// it uploads to them.
const maxPendingSlots = 50

// Errors of the slot and file operations.
var (
	errSlotUnknown  = errors.New("the upload slot is unknown or expired")
	errSlotBusy     = errors.New("an upload to this slot is in progress")
	errStored       = errors.New("a file was already uploaded to this slot")
	errQuota        = errors.New("the upload quota is exceeded")
	errTooManySlots = fmt.Errorf("%d upload slots of this account are waiting for their upload; each expires %v after it was requested", maxPendingSlots, slotTimeout)
	errTooLarge     = errors.New("the body is larger than the size announced in the slot request")
	errTooShort     = errors.New("the body is shorter than the size announced in the slot request")
)

// fileMeta describes a file, in its JSON sidecar and in memory.
type fileMeta struct {
	// Owner is the bare JID of the account that uploaded the file.
	Owner       string    `json:"owner"`
	Filename    string    `json:"filename"`
	Size        int64     `json:"size"`
	ContentType string    `json:"content_type"`
	Created     time.Time `json:"created"`
	// Expires is when the file is deleted; zero keeps it.
	Expires time.Time `json:"expires,omitzero"`
}

func (m *fileMeta) expired(now time.Time) bool {
	return !m.Expires.IsZero() && !now.Before(m.Expires)
}

// slot is an upload slot handed out and not yet used.
type slot struct {
	id   string
	meta fileMeta
	// expires is when the slot can no longer be used for a PUT.
	expires   time.Time
	uploading bool
}

// store keeps the uploaded files in one directory, with an index of them
// and of the pending slots in memory.
type store struct {
	dir string
	log *slog.Logger

	mu    sync.Mutex
	files map[string]*fileMeta // by slot id; guarded by mu
	slots map[string]*slot     // by slot id; guarded by mu
}

// openStore creates dir if needed and indexes the files in it. It
// removes partial writes and content files without metadata, which an
// interrupted upload or deletion leaves behind, and ignores files whose
// names are not slot ids.
func openStore(dir string, log *slog.Logger) (*store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create upload directory: %w", err)
	}
	st := &store{dir: dir, log: log, files: make(map[string]*fileMeta), slots: make(map[string]*slot)}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read upload directory: %w", err)
	}
	content := map[string]bool{}
	for _, e := range entries {
		name := e.Name()
		switch {
		case strings.HasSuffix(name, partSuffix) && validSlotID(strings.TrimSuffix(name, partSuffix)),
			strings.HasSuffix(name, tmpMetaSuffix) && validSlotID(strings.TrimSuffix(name, tmpMetaSuffix)):
			st.remove(name)
		case strings.HasSuffix(name, metaSuffix) && validSlotID(strings.TrimSuffix(name, metaSuffix)):
			st.loadMeta(strings.TrimSuffix(name, metaSuffix))
		case validSlotID(name):
			content[name] = true
		}
	}
	for id := range content {
		if st.files[id] == nil {
			st.remove(id)
		}
	}
	return st, nil
}

// loadMeta indexes the file id when its sidecar is readable and its
// content file has the recorded size, and removes both otherwise.
func (st *store) loadMeta(id string) {
	data, err := os.ReadFile(st.path(id + metaSuffix))
	var meta fileMeta
	if err == nil {
		err = json.Unmarshal(data, &meta)
	}
	if err == nil {
		var fi os.FileInfo
		fi, err = os.Stat(st.path(id))
		if err == nil && fi.Size() != meta.Size {
			err = fmt.Errorf("the stored file has %d bytes but its metadata records %d", fi.Size(), meta.Size)
		}
	}
	if err != nil {
		st.log.Warn("removing an uploaded file with unusable metadata", "id", id, "err", err)
		st.remove(id + metaSuffix)
		st.remove(id)
		return
	}
	st.files[id] = &meta
}

// path returns the path of a file name in the directory. Callers pass
// only names built from a valid slot id.
func (st *store) path(name string) string { return filepath.Join(st.dir, name) }

// remove deletes a file of the directory and logs a failure other than
// its absence.
func (st *store) remove(name string) {
	if err := os.Remove(st.path(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		st.log.Warn("remove upload file", "file", name, "err", err)
	}
}

// reserve creates a slot for meta that can be used until expires. quota
// limits the bytes of stored files and pending slots of meta.Owner; zero
// means no limit.
func (st *store) reserve(meta fileMeta, quota int64, now, expires time.Time) (string, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.pruneSlots(now)
	pending, used := 0, int64(0)
	for _, s := range st.slots {
		if s.meta.Owner == meta.Owner {
			pending++
			used += s.meta.Size
		}
	}
	if pending >= maxPendingSlots {
		return "", errTooManySlots
	}
	for _, f := range st.files {
		if f.Owner == meta.Owner && !f.expired(now) {
			used += f.Size
		}
	}
	if quota > 0 && used+meta.Size > quota {
		return "", errQuota
	}
	id := newSlotID()
	st.slots[id] = &slot{id: id, meta: meta, expires: expires}
	return id, nil
}

// pruneSlots deletes the slots that expired unused. The caller holds mu.
func (st *store) pruneSlots(now time.Time) {
	for id, s := range st.slots {
		if !s.uploading && !now.Before(s.expires) {
			delete(st.slots, id)
		}
	}
}

// begin marks the slot id as being uploaded to and returns a copy of it.
// A slot takes one upload at a time, and none once a file is stored.
func (st *store) begin(id string, now time.Time) (slot, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.files[id] != nil {
		return slot{}, errStored
	}
	s := st.slots[id]
	if s == nil || !now.Before(s.expires) {
		return slot{}, errSlotUnknown
	}
	if s.uploading {
		return slot{}, errSlotBusy
	}
	s.uploading = true
	return *s, nil
}

// abort makes the slot id available again after a failed upload.
func (st *store) abort(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if s := st.slots[id]; s != nil {
		s.uploading = false
	}
}

// save writes exactly s.meta.Size bytes from body as the content of slot
// s, then its metadata, and indexes the file. The slot must have been
// returned by begin. On failure it removes what it wrote and the slot
// stays usable until it expires.
func (st *store) save(s slot, body io.Reader, meta fileMeta) (err error) {
	defer func() {
		if err != nil {
			st.remove(s.id + partSuffix)
			st.remove(s.id + tmpMetaSuffix)
			st.abort(s.id)
		}
	}()
	if err := st.writeContent(s, body); err != nil {
		return err
	}
	data, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := writeSynced(st.path(s.id+tmpMetaSuffix), data); err != nil {
		return err
	}
	if err := os.Rename(st.path(s.id+partSuffix), st.path(s.id)); err != nil {
		return err
	}
	if err := os.Rename(st.path(s.id+tmpMetaSuffix), st.path(s.id+metaSuffix)); err != nil {
		st.remove(s.id)
		return err
	}
	st.mu.Lock()
	delete(st.slots, s.id)
	st.files[s.id] = &meta
	st.mu.Unlock()
	return nil
}

// writeContent copies body to the slot's partial file and checks that it
// had exactly the announced size.
func (st *store) writeContent(s slot, body io.Reader) error {
	f, err := os.OpenFile(st.path(s.id+partSuffix), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(body, s.meta.Size+1))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		return err
	case n > s.meta.Size:
		return errTooLarge
	case n < s.meta.Size:
		return errTooShort
	}
	return nil
}

// writeSynced writes data to a new file at path and flushes it to disk.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// file returns the metadata of the stored file id unless it expired.
func (st *store) file(id string, now time.Time) (fileMeta, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	m := st.files[id]
	if m == nil || m.expired(now) {
		return fileMeta{}, false
	}
	return *m, true
}

// removeExpired deletes the files that expired by now and the slots
// that expired unused. It returns the number of files deleted.
func (st *store) removeExpired(now time.Time) int {
	st.mu.Lock()
	st.pruneSlots(now)
	var ids []string
	for id, m := range st.files {
		if m.expired(now) {
			ids = append(ids, id)
			delete(st.files, id)
		}
	}
	st.mu.Unlock()
	for _, id := range ids {
		// Metadata first: content without metadata is removed at the
		// next start if this is interrupted.
		st.remove(id + metaSuffix)
		st.remove(id)
	}
	return len(ids)
}
