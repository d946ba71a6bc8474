package fusefs

import "github.com/hanwen/go-fuse/v2/fs"

// The go-fuse interfaces each node implements, checked at compile time in
// one place (gocryptfs node_api_check.go): a method with a wrong signature
// would otherwise be silently ignored and the default answer used.

var _ = (fs.InodeEmbedder)((*dirNode)(nil))
var _ = (fs.NodeGetattrer)((*dirNode)(nil))
var _ = (fs.NodeLookuper)((*dirNode)(nil))
var _ = (fs.NodeOpendirer)((*dirNode)(nil))
var _ = (fs.NodeReaddirer)((*dirNode)(nil))
var _ = (fs.NodeStatfser)((*dirNode)(nil))
var _ = (fs.NodeSetattrer)((*dirNode)(nil))
var _ = (fs.NodeMkdirer)((*dirNode)(nil))
var _ = (fs.NodeMknoder)((*dirNode)(nil))
var _ = (fs.NodeLinker)((*dirNode)(nil))
var _ = (fs.NodeSymlinker)((*dirNode)(nil))
var _ = (fs.NodeCreater)((*dirNode)(nil))
var _ = (fs.NodeUnlinker)((*dirNode)(nil))
var _ = (fs.NodeRmdirer)((*dirNode)(nil))
var _ = (fs.NodeRenamer)((*dirNode)(nil))
var _ = (fs.NodeSetxattrer)((*dirNode)(nil))
var _ = (fs.NodeRemovexattrer)((*dirNode)(nil))

var _ = (fs.InodeEmbedder)((*fileNode)(nil))
var _ = (fs.NodeGetattrer)((*fileNode)(nil))
var _ = (fs.NodeOpener)((*fileNode)(nil))
var _ = (fs.NodeReader)((*fileNode)(nil))
var _ = (fs.NodeStatfser)((*fileNode)(nil))
var _ = (fs.NodeWriter)((*fileNode)(nil))
var _ = (fs.NodeSetattrer)((*fileNode)(nil))
var _ = (fs.NodeAllocater)((*fileNode)(nil))
var _ = (fs.NodeSetxattrer)((*fileNode)(nil))
var _ = (fs.NodeRemovexattrer)((*fileNode)(nil))

var _ = (fs.InodeEmbedder)((*ctlDirNode)(nil))
var _ = (fs.NodeGetattrer)((*ctlDirNode)(nil))
var _ = (fs.NodeLookuper)((*ctlDirNode)(nil))
var _ = (fs.NodeReaddirer)((*ctlDirNode)(nil))

var _ = (fs.InodeEmbedder)((*ctlFileNode)(nil))
var _ = (fs.NodeGetattrer)((*ctlFileNode)(nil))
var _ = (fs.NodeOpener)((*ctlFileNode)(nil))
var _ = (fs.NodeReader)((*ctlFileNode)(nil))
var _ = (fs.NodeWriter)((*ctlFileNode)(nil))
var _ = (fs.NodeSetattrer)((*ctlFileNode)(nil))

var _ = (fs.InodeEmbedder)((*renDirNode)(nil))
var _ = (fs.NodeGetattrer)((*renDirNode)(nil))
var _ = (fs.NodeLookuper)((*renDirNode)(nil))
var _ = (fs.NodeReaddirer)((*renDirNode)(nil))
var _ = (fs.NodeStatfser)((*renDirNode)(nil))
var _ = (fs.NodeSetattrer)((*renDirNode)(nil))
var _ = (fs.NodeMkdirer)((*renDirNode)(nil))
var _ = (fs.NodeMknoder)((*renDirNode)(nil))
var _ = (fs.NodeLinker)((*renDirNode)(nil))
var _ = (fs.NodeSymlinker)((*renDirNode)(nil))
var _ = (fs.NodeCreater)((*renDirNode)(nil))
var _ = (fs.NodeUnlinker)((*renDirNode)(nil))
var _ = (fs.NodeRmdirer)((*renDirNode)(nil))
var _ = (fs.NodeRenamer)((*renDirNode)(nil))
var _ = (fs.NodeSetxattrer)((*renDirNode)(nil))
var _ = (fs.NodeRemovexattrer)((*renDirNode)(nil))

var _ = (fs.InodeEmbedder)((*renFileNode)(nil))
var _ = (fs.NodeGetattrer)((*renFileNode)(nil))
var _ = (fs.NodeOpener)((*renFileNode)(nil))
var _ = (fs.NodeReader)((*renFileNode)(nil))

var _ = (fs.InodeEmbedder)((*cameraRootNode)(nil))
var _ = (fs.NodeGetattrer)((*cameraRootNode)(nil))
var _ = (fs.NodeLookuper)((*cameraRootNode)(nil))
var _ = (fs.NodeReaddirer)((*cameraRootNode)(nil))

var _ = (fs.InodeEmbedder)((*ctlLinkNode)(nil))
var _ = (fs.NodeGetattrer)((*ctlLinkNode)(nil))
var _ = (fs.NodeReadlinker)((*ctlLinkNode)(nil))
