package tree

import (
	"fmt"
	"strings"
	"testing"
)

func TestReadOrder(t *testing.T) {
	// A folder whose name order and inode order differ, as with hashed
	// inode numbers: by name A B C D E, by inode C(1) E(2) A(3) D(4) B(5).
	dir := &Object{Name: "100TEST", Kind: KindFolder, listed: true}
	other := &Object{Name: "101TEST", Kind: KindFolder, listed: true}
	inos := map[string]uint64{"A": 3, "B": 5, "C": 1, "D": 4, "E": 2}
	files := map[string]*Object{}
	for _, name := range []string{"A", "B", "C", "D", "E"} {
		o := &Object{Name: name, Ino: inos[name], Kind: KindFile, Size: 1000, parent: dir}
		dir.children = append(dir.children, o)
		files[name] = o
	}
	sub := &Object{Name: "SUB", Ino: 6, Kind: KindFolder, parent: dir}
	dir.children = append(dir.children, sub)
	z := &Object{Name: "Z", Ino: 7, Kind: KindFile, Size: 1000, parent: other}
	other.children = []*Object{z}
	files["Z"] = z
	tr := &Tree{}

	// Steps are space-separated: "1oC" process 1 opens C, "1fC" process 1
	// read C to its end. The last open of each process in want is asked
	// for its next file.
	tests := map[string]struct {
		steps string
		want  string // "PID:NEXT" per process asked ("-" none), and whether the last open copies
	}{
		"first file: no evidence":        {"1oC", "1:- no"},
		"read to its end, not moved on":  {"1oC 1fC", "1:- no"},
		"cp -r":                          {"1oC 1fC 1oE", "1:A yes"},
		"cp -r, on":                      {"1oC 1fC 1oE 1fE 1oA 1fA 1oD", "1:B yes"},
		"cp -r, last":                    {"1oC 1fC 1oE 1fE 1oA 1fA 1oD 1fD 1oB", "1:- yes"},
		"rsync":                          {"1oA 1fA 1oB", "1:C yes"},
		"rsync, skips what is read":      {"1oC 1fC 1oA 1fA 1oB", "1:D yes"},
		"neither order":                  {"1oA 1fA 1oE", "1:- no"},
		"peeks: never read to the end":   {"1oA 1oB 1oC", "1:- no"},
		"after a peek, out of order":     {"1oC 1fC 1oD 1oA", "1:- no"},
		"two copies, each its own order": {"1oC 2oA 1fC 2fA 1oE 2oB", "1:A yes 2:C yes"},
		"another process's evidence":     {"1oC 1fC 2oE", "2:- no"},
		"another folder":                 {"1oC 1fC 1oZ", "1:- no"},
		"reopened":                       {"1oC 1fC 1oE 1oE", "1:A yes"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var r ReadOrder
			last := map[uint32]string{}
			copies := map[uint32]bool{}
			for _, st := range strings.Fields(tc.steps) {
				var pid uint32
				var op, file string
				fmt.Sscanf(st, "%d", &pid)
				op, file = st[1:2], st[2:]
				switch op {
				case "o":
					copies[pid] = r.Opened(tr, pid, files[file])
					last[pid] = file
				case "f":
					r.Finished(pid, files[file])
				}
			}
			var got []string
			for _, w := range strings.Fields(tc.want) {
				if !strings.Contains(w, ":") {
					continue
				}
				var pid uint32
				fmt.Sscanf(w, "%d", &pid)
				next := "-"
				if obj, ok := r.Next(tr, pid, files[last[pid]]); ok {
					for n, f := range files {
						if CacheObject(f) == obj {
							next = n
						}
					}
				}
				yes := "no"
				if copies[pid] {
					yes = "yes"
				}
				got = append(got, fmt.Sprintf("%d:%s %s", pid, next, yes))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %q, want %q", g, tc.want)
			}
		})
	}
}

// TestReadOrderForgets checks that the processes remembered stay bounded.
func TestReadOrderForgets(t *testing.T) {
	dir := &Object{Name: "D", Kind: KindFolder, listed: true}
	a := &Object{Name: "A", Ino: 1, Kind: KindFile, parent: dir}
	b := &Object{Name: "B", Ino: 2, Kind: KindFile, parent: dir}
	dir.children = []*Object{a, b}
	var r ReadOrder
	for pid := range uint32(3 * maxProcs) {
		r.Finished(pid, a)
	}
	if n := len(r.procs); n > maxProcs {
		t.Fatalf("%d processes remembered, want at most %d", n, maxProcs)
	}
	last := uint32(3*maxProcs - 1)
	if !r.Opened(&Tree{}, last, b) {
		t.Error("the latest process was forgotten")
	}
}
