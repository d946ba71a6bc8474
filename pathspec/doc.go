// Package pathspec implements Airnef's renaming language, used by
// --dirnamespec and --filenamespec to name the directories and files a
// camera's pictures appear under. It is pure: Parse checks a spec once at
// start-up, and Spec.Expand turns it into a name for one file's Meta,
// without I/O, locks or clocks.
//
// What it is not for: it does not decide where a file goes, resolve name
// collisions, or create directories; SplitDirs and CheckFilename only say
// how an expanded string splits into path components and whether a name is
// usable.
//
// # The language
//
// A spec is text with specifiers between two '@'. The text is copied;
// "@@" is a literal '@'. A specifier is a name with up to three optional
// ':'-separated fields, @name:start:end:options@:
//
//	@capturedate@       yyyymmdd            20150924
//	@capturedate_m@     month, mm           09
//	@capturedate_d@     day, dd             24
//	@capturedate_y@     year, yyyy          2015
//	@capturedate_dow@   day of week         4 (Monday=1 .. Sunday=7)
//	@capturedate_woy@   week of year, ww    38 (Monday first; days before
//	                                           the first Monday are week 00)
//	@capturedate_M@     month name          September (also _month)
//	@capturedate_DOW@   day name            Thursday  (also _dayofweek)
//	@capturedate_S@     season              Fall      (also _season)
//	@capturetime@       hhmmss              140513
//	@capturetime_h@ _m@ _s@  hh, mm, ss     14, 05, 13
//	@dldate@ ... @dltime_s@  the same for the download (mount) time
//	@filename@          file name           DSC_0014.NEF
//	@filename_root@     without extension   DSC_0014
//	@filename_ext@      extension, no dot   NEF
//	@capturefilename@ (_root, _ext)  the camera's name of the file
//	@camerafolder@      camera folder       100D7200
//	@slotnumber@        card slot           1
//	@cameramake@        make                Nikon
//	@cameramodel@       model               D7200
//	@cameraserial@      serial number       35551323
//	@dlnum@             nth file this session, 4 digits          0045
//	@dlnum_lifetime@    nth file from this camera, 4 digits      5345
//
// Seasons go by day of the year: 80-171 Spring, 172-263 Summer, 264-354
// Fall, the rest Winter. Names are English whatever the locale.
//
// Names match exactly first, then ignoring case, as in Airnef 1.1 (which
// lower-cases them). The 09/24/15 seed spells month name, day name and
// season capturedate_M, _DOW and _S; Airnef 1.1 shipped _month, _dayofweek
// and _season, and reads capturedate_M as capturedate_m. Both work: the
// exact seed spelling is the name, any other case of capturedate_m or _dow
// is the number (@CaptureDate_M@ is "09").
//
// start and end select characters (not bytes) as a Python slice does:
// @filename:4:8@ is "0014", @filename:-3:@ "NEF", @filename:-3:-2@ "N"; a
// negative index counts from the end, an empty one means the start or the
// end, and out-of-range ones clamp. options is any of u (upper case), l
// (lower case) and c (capitalize: first character upper, the rest lower),
// applied in that order; other letters are ignored, as in Airnef 1.1.
// @cameramake:::u@ is "NIKON".
//
// @replace~old~new@ replaces every "old" in what the spec has produced so
// far (everything before it, not after); @replacere~pattern~new@ does the
// same with Python's re.sub, translated to Go's regexp: \1 .. \99, \g<1>
// and \g<name> in the replacement refer to groups, and pattern syntax Go
// cannot run (back-references, look-around) is a parse error. pyre.go lists
// every difference from Python. Neither takes subscripts; neither can
// contain '@' (it ends the specifier) nor a third '~'. Airnef 1.1 wanted
// them in lower case; any case works here.
//
// Airnef 1.1's @path@ and @pf@ (the local output directory, and it joined
// with the file name) are not supported: a mount has no such path.
//
// # Errors
//
// Parse returns a *SyntaxError for an unterminated '@', an unknown name,
// a non-integer subscript, more than three fields, a replace without a
// search string or replacement or with too many '~' fields, and a
// replacere pattern or replacement that does not translate. Its message
// names the specifier and its 0-based character position:
//
//	pathspec: unknown specifier "@capturedat@" at position 5
//
// # Paths
//
// Expand returns the raw string. For --dirnamespec, SplitDirs splits it on
// '/' and '\' and drops empty, "." and ".." components. For
// --filenamespec, ParseFilename rejects at start-up a spec whose own text
// writes a separator, and CheckFilename rejects an expanded name that is
// empty or contains one (Airnef 1.1 makes that check per file, at download
// time, and exits).
//
// # Differences from the seed's examples
//
// The seed (and Airnef 1.1's help) gives
// "@cameraserial@@replace~35551323~Main Camera@_@dlnum@@filename_ext@" as
// making "Main Camera_0001.NEF"; since @filename_ext@ has no dot (the
// seed's own table, and Airnef 1.1's code) it makes "Main Camera_0001NEF",
// and "…@dlnum@.@filename_ext@" makes the stated name. Likewise its
// "@cameramodel@\@cameramake@\@cameraserial@" makes D7200\Nikon\35551323,
// not the Nikon\D7200\35551323 its text describes. The tests pin both.
package pathspec
