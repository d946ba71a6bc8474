package pathspec

import (
	"errors"
	"fmt"
)

// SyntaxError reports a spec that cannot be parsed, or a filename spec that
// would put a path separator in every name. Parse and ParseFilename return
// it as *SyntaxError.
type SyntaxError struct {
	// Pos is the 0-based character (rune) position in the spec of the '@'
	// opening the offending specifier, or of the offending character in
	// literal text. Airnef 1.1 reports the same number ("at character #N").
	Pos int
	// Spec is the offending text: the whole specifier including its two
	// '@', or, for an unterminated one, from its '@' to the end of the spec.
	Spec string
	// Msg says what is wrong, such as "unknown specifier".
	Msg string
	// Err is the underlying cause when there is one: the regexp package's
	// error for a bad replacere pattern, or what is wrong with a replacere
	// replacement. It may be nil.
	Err error
}

func (e *SyntaxError) Error() string {
	s := fmt.Sprintf("pathspec: %s %q at position %d", e.Msg, e.Spec, e.Pos)
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying cause, if any.
func (e *SyntaxError) Unwrap() error { return e.Err }

// Errors returned by CheckFilename for an expanded file name that cannot be
// used as one.
var (
	// ErrEmptyName: the name is empty. Airnef 1.1 stops with "--filenamespec
	// resulted in an empty filename".
	ErrEmptyName = errors.New("pathspec: empty file name")
	// ErrSeparator: the name contains '/' or '\'. Airnef 1.1 stops with
	// "--filenamespec can not have a path or path characters in it".
	ErrSeparator = errors.New("pathspec: path separator in file name")
	// ErrReservedName: the name is "." or "..", or contains a NUL byte,
	// none of which a Linux directory entry can be.
	ErrReservedName = errors.New("pathspec: reserved file name")
)
