package thumbnail

import "strings"

// FileURI returns the file:// URI of the absolute path p exactly as GLib's
// g_filename_to_uri writes it: the cache is keyed by the MD5 of that
// string, so one escaped character more or less and no file manager
// finds the thumbnail. Bytes are escaped as %XX (upper-case hex) unless
// they are ASCII letters, digits or one of -_.!~*'()/&=:@+$, (GLib's
// UNSAFE_PATH set).
func FileURI(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len("file://") + len(p))
	b.WriteString("file://")
	for i := 0; i < len(p); i++ {
		c := p[i]
		if pathSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// pathSafe reports whether GLib leaves byte c unescaped in a path.
func pathSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.!~*'()/&=:@+$,", c) >= 0
}
