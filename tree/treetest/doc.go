// Package treetest is the in-memory camera and the sample cards that the
// tests of packages tree, renamed and fusefs share. Only tests import it.
package treetest
