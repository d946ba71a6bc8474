package fusefs

import "github.com/airnef-mount/airnef-mount/tree"

// ListedFile is a file a reader has just listed: its path in the mount
// (from the mount's root, no leading slash, as the reader sees it, renamed
// or under .camera/) and the camera's object.
type ListedFile struct {
	Path   string
	Object *tree.Object
}

// reportListed passes the files a readdir has just listed to the Listed
// hook, if any.
func (f *filesystem) reportListed(files []ListedFile) {
	if f.listed == nil || len(files) == 0 {
		return
	}
	f.listed(files)
}
