package tree

// Held is what the tree holds now: its objects (folders and files, the
// storages' directories included, the root not), and of them the files
// and their bytes. Unlike ObjectsListed it counts each object once,
// however often it was listed again (reconnections, events), and forgets
// the deleted ones.
func (t *Tree) Held() (objects, files int, bytes int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range t.byIno {
		if o.Kind == KindFile {
			files++
			bytes += o.Size
		}
	}
	return len(t.byIno) - 1, files, bytes
}
