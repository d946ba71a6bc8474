package tree

import (
	"testing"
)

func TestReadOrder(t *testing.T) {
	// A folder whose name order and inode order differ, as with hashed
	// inode numbers: by name A B C D E, by inode C(1) E(2) A(3) D(4) B(5).
	dir := &Object{Name: "100TEST", Kind: KindFolder, listed: true}
	inos := map[string]uint64{"A": 3, "B": 5, "C": 1, "D": 4, "E": 2}
	files := map[string]*Object{}
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		o := &Object{Name: name, Ino: inos[name], Kind: KindFile, Size: 1000, parent: dir}
		dir.children = append(dir.children, o)
		files[name] = o
	}
	sub := &Object{Name: "SUB", Ino: 6, Kind: KindFolder, parent: dir}
	dir.children = append(dir.children, sub)
	tr := &Tree{}

	tests := map[string]struct {
		opens string // files opened, in order
		next  string // the guess after the last ("" none)
	}{
		"first file: inode order":   {"C", "E"},
		"cp -r":                     {"CE", "A"},
		"cp -r, last":               {"CEADB", ""},
		"rsync":                     {"AB", "C"},
		"rsync, skips what is read": {"CAB", "D"},
		"neither order: no guess":   {"AE", ""},
		"back to inode order":       {"BEA", "D"},
		"name order again":          {"BCD", "E"},
		"reopen keeps the guess":    {"CEE", "A"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var r ReadOrder
			for _, c := range tc.opens {
				r.Opened(tr, files[string(c)])
			}
			last := files[tc.opens[len(tc.opens)-1:]]
			got, ok := r.Next(tr, last)
			switch {
			case tc.next == "" && ok:
				t.Errorf("guessed inode %d, want no guess", got.ID)
			case tc.next != "" && (!ok || got.ID != files[tc.next].Ino):
				t.Errorf("guessed %v (%v), want %s (inode %d)", got, ok, tc.next, files[tc.next].Ino)
			}
		})
	}
}
