// Package codes is a code table for the tests of codenames.
package codes

import "time"

// Code is a wire code, named in hex when unknown.
type Code uint16

const (
	CodeA     Code = 0x1001 // described, not named: no -linecomment
	CodeB     Code = 0x1002
	CodeAlias Code = 0x1001
)

// Kind is an enumeration, named in decimal when unknown.
type Kind int

const (
	KindNone Kind = iota // none
	KindSome             // some
	_
	KindMore
)

// Imports are not needed to evaluate the constants.
var Tick = time.Second

// Label is not an integer type.
type Label string
