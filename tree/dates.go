package tree

import "time"

// A folder's date is its own (the camera's capture or modification date,
// or a Sony folder's name), else its newest entry's: a file's date, a
// subfolder's by the same rule. Card roots and the mount root have no own
// date: theirs is always their newest entry's. So no folder shows 1970,
// and the dates are the same on every mount (rsync -a sets them).

// dateOf is o's date as its parent sees it: its own, else (a directory)
// the newest below it known so far; zero when there is none. t.mu must be
// held.
func dateOf(o *Object) time.Time {
	if !o.Mtime.Equal(Epoch) {
		return o.Mtime
	}
	return o.newest
}

// datesChangedLocked recomputes the newest entry date of dir, whose
// entries changed, and of the directories above it as far as it changes
// what they see. t.mu must be held.
func (t *Tree) datesChangedLocked(dir *Object) {
	for d := dir; d != nil; d = d.parent {
		var newest time.Time
		for _, c := range d.children {
			if m := dateOf(c); m.After(newest) {
				newest = m
			}
		}
		if newest.Equal(d.newest) {
			return
		}
		before := dateOf(d)
		d.newest = newest
		if dateOf(d).Equal(before) {
			return // d has a date of its own: those above see no change
		}
	}
}

// DirTime is directory dir's date: its own, else its newest entry's as far
// as it has been listed. ok is false when neither is known yet (a folder
// without a date of its own, not listed, or holding nothing dated): the
// caller shows a stand-in, and asks again later.
func (t *Tree) DirTime(dir *Object) (mtime time.Time, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := dateOf(dir)
	return m, !m.IsZero()
}

// DatedByEntries reports whether dir's date comes from its entries, so it
// may change as more is listed or shot.
func (dir *Object) DatedByEntries() bool { return dir.Mtime.Equal(Epoch) }
