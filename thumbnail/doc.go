// Package thumbnail writes thumbnails into the freedesktop.org thumbnail
// cache ($XDG_CACHE_HOME/thumbnails), so that file managers show pictures
// of a mounted camera's files without reading them.
//
// File managers (GIO, Nautilus, Thunar, Dolphin's KIO) look a thumbnail up
// by the MD5 of the file's URI and trust it when its Thumb::URI and
// Thumb::MTime text chunks match the file. Making one themselves means
// reading the whole file, seconds per RAW over WiFi; the camera has a
// thumbnail of a few KiB ready (PTP GetThumb). This package turns such a
// thumbnail into a cache entry: it scales it to the "normal" size (at
// most 128 pixels), writes it as PNG with the text chunks the
// specification requires, atomically and with mode 0600, and tells a
// valid entry from a stale one. When the camera keeps none, Embedded
// finds the thumbnail a JPEG or TIFF-based RAW file carries with a few
// ranged reads. The bytes come from a camera: nothing is decoded whose
// header says it would take more than MaxDecodeBytes, and scaling holds
// only the output.
//
// It knows nothing of cameras or FUSE: a Job carries a function that
// fetches the thumbnail's bytes, and Maker runs Jobs in the background.
//
// Specification: https://specifications.freedesktop.org/thumbnail-spec/
package thumbnail
