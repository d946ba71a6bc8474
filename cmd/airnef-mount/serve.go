package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/camera"
	"github.com/airnef-mount/airnef-mount/fusefs"
	"github.com/airnef-mount/airnef-mount/internal/service"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/tree"
)

// mounter mounts camera sessions.
type mounter struct {
	o      *options
	loc    *time.Location
	stdout io.Writer
	conn   *camera.Connector
	svc    *service.Notifier // readiness: background, systemd
	// detached is what stdout and stderr become once ready in the
	// background (service.Notifier.Ready).
	detached *os.File

	log, ptpLog, fuseLog, cacheLog *slog.Logger
}

// serveMode says how a mount ends.
type serveMode struct {
	// reconnect keeps the mount when the session is lost (files answer EIO
	// until camera.Connector.Reconnect brings it back); without, the mount
	// ends (--wait: the camera left).
	reconnect bool
	// leave, when closed, unmounts (--wait: the camera said byebye, or
	// --exec finished).
	leave <-chan struct{}
	// ready is called once mounted, with the mount point.
	ready func(mnt string)
	// execStatus, when set, tells the --exec command's outcome for the
	// import summary once the mount has ended.
	execStatus func() string
}

// serve mounts the camera of cs at mnt and serves it until the filesystem
// is unmounted from outside, ctx ends, mode.leave is closed, or (without
// mode.reconnect) the session is lost. It then unmounts, and ends the
// session (a Sony is put to sleep, unless --camera-sleep=false).
//
// Stopping runs in this order (issue 19): reads are refused and the ones in
// progress end (fusefs.Gate; the second stop aborts them), the filesystem
// is unmounted, the session ends gracefully (its transaction in flight
// finishes, then Sony's sleep or CloseSession), and only then is the rest
// stopped. The background work (warm listing, the watcher's polls,
// reconnection) therefore runs on a context of its own, not on ctx:
// cancelling it mid-transaction would break the session before its
// goodbye.
func (m *mounter) serve(ctx context.Context, cs *camera.Session, mnt string, mode serveMode) error {
	o, log := m.o, m.log
	work, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var cur atomic.Pointer[camera.Session]
	cur.Store(cs)
	endSession := func() {
		if s := cur.Swap(nil); s != nil {
			s.End(o.cameraSleep, stopWork)
		}
	}
	info := cs.Info
	tr := tree.New(tree.DeviceCamera(cs.Device), tree.Config{
		Location: m.loc, Logger: m.fuseLog, MaxObjects: o.maxObjects, Meta: m.metaCache(info),
		// A read cut by a lost session waits for the next as long as a
		// stalled one would (tree/resume.go).
		ResumeWithin: o.timeout,
	})
	defer tr.Close()
	storages, err := tr.List(ctx, tr.Root())
	if ctx.Err() != nil {
		endSession()
		return statusError(exitInterrupted)
	}
	if err != nil {
		endSession()
		return failErr("listing the storages of the camera at %s failed: %v; check that a card is in the camera", cs.Addr, err)
	}
	if len(storages) == 0 {
		log.Warn("the camera reports no card: the mount will be empty")
	}
	blocks, err := cache.New(cache.Config{Size: int64(o.cacheSize), BlockSize: int(o.blockSize), Logger: m.cacheLog}, tr.Source())
	if err != nil {
		endSession()
		return usageErr("%v", err)
	}
	defer blocks.Close()
	observeLink(cs, blocks)
	blocks.SetScheduler(cs.Device.Scheduler())
	// The top folders are listed while mounting, so first lookups find them
	// (and the cache its first round trips); a reconnection re-lists instead.
	stopWarm := warm(work, tr)
	defer stopWarm()

	var onNew func(string)
	if o.onNew != "" {
		r := newOnNewRunner(ctx, o.onNew, mnt, log)
		defer r.close()
		onNew = r.add
	}
	gate := fusefs.NewGate()
	var attaching atomic.Bool // a new session re-lists the card
	cfg := fusefs.Config{
		Tree: tr, Cache: blocks, Logger: m.fuseLog, OnNew: onNew, Gate: gate,
		UID: o.owner(), GID: o.group(), Umask: uint32(o.umask),
		Status: func() string {
			s := cur.Load()
			switch {
			case (s == nil || !tr.Connected()) && attaching.Load():
				return "reconnecting: listing the card again"
			case s == nil || !tr.Connected():
				return "disconnected: waiting for the camera"
			case s.PTP.Err() != nil:
				return "broken: " + s.PTP.Err().Error()
			}
			if tr.EventsLost() {
				return fmt.Sprintf("connected %s %s (event connection lost: new pictures found by listing folders again)", info.Manufacturer, info.Model)
			}
			return fmt.Sprintf("connected %s %s", info.Manufacturer, info.Model)
		},
	}
	// The desktop's part: thumbnails, the stats' camera and counters, the
	// import summary at the end.
	dt, err := startDesktop(o, mnt, tr, info, &cfg, log)
	if err != nil {
		endSession()
		return err
	}
	defer dt.close()
	// Events dropped in a flood, over every session of the mount.
	var droppedBefore atomic.Uint64
	more := cfg.MoreStats
	cfg.MoreStats = func() string {
		n := droppedBefore.Load()
		if s := cur.Load(); s != nil {
			n += s.PTP.DroppedEvents()
		}
		lostEvents := 0
		if tr.EventsLost() {
			lostEvents = 1
		}
		out := fmt.Sprintf("events_dropped %d\nevent_connection_lost %d\nresyncs %d\nreconnections %d\nreads_resumed %d\nlistings_resumed %d\n",
			n, lostEvents, tr.Resyncs(), tr.Reconnections(), tr.ReadsResumed(), tr.ListingsResumed())
		if more != nil {
			out = more() + out
		}
		return out
	}
	root, err := newRoot(ctx, o, tr, cfg, info, log)
	if err != nil {
		endSession()
		return err
	}
	if ctx.Err() != nil {
		endSession()
		return statusError(exitInterrupted)
	}
	srv, err := fusefs.Mount(mnt, root, fusefs.MountOptions{
		Source: m.source(info), AllowOther: o.allowOther, Debug: o.debug["fuse"], Logger: m.fuseLog,
	})
	if err != nil {
		endSession()
		return failErr("mounting at %s failed: %s; check that fuse3 is installed and that you may use /dev/fuse (mode 0666 on Debian, or be root)%s",
			mnt, strings.TrimSpace(err.Error()), allowOtherHint(o.allowOther))
	}
	m.announce(fmt.Sprintf("mounted %s %s (serial %s) at %s",
		mtp.Printable(info.Manufacturer), mtp.Printable(info.Model), mtp.Printable(info.SerialNumber), mnt))
	if mode.ready != nil {
		mode.ready(mnt)
	}

	// New pictures and deletions on the camera, while mounted.
	stopWatch := m.watch(work, tr, cs)
	defer func() { stopWatch() }()

	served := make(chan struct{})
	go func() {
		srv.Wait()
		close(served)
	}()
	// back delivers the sessions of a reconnection, one at a time;
	// attached, each one's re-listing (tree.Reconnect), which runs on its
	// own goroutine: the loop keeps noticing an unmount meanwhile.
	back := make(chan *camera.Session)
	type attachment struct {
		s   *camera.Session
		err error
	}
	attached := make(chan attachment, 1)
	rctx, stopReconnect := context.WithCancel(work)
	defer stopReconnect()
	lost := cs.PTP.Done()
	unmount, stopped := false, false
loop:
	for {
		select {
		case <-served:
			log.Info("unmounted", "mountpoint", mnt)
			break loop
		case <-ctx.Done():
			unmount, stopped = true, true
			break loop
		case <-mode.leave:
			log.Info("the camera left, or the command ended: unmounting", "mountpoint", mnt)
			unmount = true
			break loop
		case <-lost:
			lost = nil
			stopWatch()
			stopWatch = func() {}
			s := cur.Swap(nil)
			droppedBefore.Add(s.PTP.DroppedEvents())
			tr.Disconnect()
			log.Warn("the camera session was lost", "err", s.PTP.Err())
			s.PTP.Close()
			if !mode.reconnect {
				unmount = true
				break loop
			}
			go m.conn.Reconnect(rctx, s, back)
		case s := <-back:
			attaching.Store(true)
			// The cache takes its turns in the new session's
			// scheduler; the tree is disconnected until re-listed.
			observeLink(s, blocks)
			blocks.SetScheduler(s.Device.Scheduler())
			go func() { attached <- attachment{s, tr.Reconnect(rctx, tree.DeviceCamera(s.Device))} }()
		case a := <-attached:
			attaching.Store(false)
			s := a.s
			if a.err != nil {
				log.Warn("re-listing the card after reconnecting failed; waiting for the camera again", "err", a.err)
				s.Close(false)
				go m.conn.Reconnect(rctx, s, back)
				continue
			}
			cur.Store(s)
			lost = s.PTP.Done()
			stopWatch = m.watch(work, tr, s)
		}
	}
	var unmountErr error
	aborted := false
	if unmount {
		aborted, unmountErr = m.unmountNow(ctx, srv, mnt, gate, served, stopped)
	}
	// A re-listing in progress stops after its transaction in flight;
	// its session then ends as the mount's own does.
	if attaching.Load() {
		stopReconnect()
		if a := <-attached; a.err == nil {
			cur.Store(a.s)
		} else {
			a.s.End(o.cameraSleep, nil)
		}
	}
	// The session first, while nothing has been cancelled under it.
	endSession()
	stopReconnect()
	stopWatch()
	stopWatch = func() {}
	stopWork()
	dt.close()
	blocks.Close()
	tr.Close()
	if unmountErr != nil {
		return failErr("unmounting %s failed: %v; unmount it with fusermount3 -u -z %s", mnt, unmountErr, mnt)
	}
	dt.finish(ctx, log, mode.execStatus)
	if aborted {
		return statusError(exitInterrupted)
	}
	return nil
}

// stopGrace is how long a detached mount may take to end once its reads
// have: the programs that hold files open on it get EIO at their next read
// and close them.
const stopGrace = time.Second

// unmountNow unmounts srv's mount at mnt for a stop: new reads fail at once
// (fusefs.Gate), the reads in progress may finish, or fail when abortOf(ctx)
// is closed (the second Ctrl-C or SIGTERM), and then the mount goes,
// whatever is still open on it. told says the user asked (a signal): they
// are told how many reads they wait for. It reports whether reads were
// aborted.
func (m *mounter) unmountNow(ctx context.Context, srv *fuse.Server, mnt string, gate *fusefs.Gate, served <-chan struct{}, told bool) (aborted bool, err error) {
	log := m.log
	n := gate.Close()
	switch {
	case told && n > 0:
		log.Info(fmt.Sprintf("unmounting; %d reads in progress (Ctrl-C again to abort them)", n), "mountpoint", mnt)
	default:
		log.Info("unmounting", "mountpoint", mnt)
	}
	select {
	case <-gate.Idle():
	case <-served:
		return false, nil // unmounted from outside meanwhile
	case <-abortOf(ctx):
		aborted = true
		log.Info("aborting the reads in progress", "reads", gate.InProgress())
		gate.Abort()
		<-gate.Idle()
	}
	entry, _, _ := fusefs.MountAt(mnt) // its connection, for fusefs.Abort
	detached, err := fusefs.Stop(srv, mnt, m.fuseLog)
	if err != nil {
		return aborted, err
	}
	if !detached {
		<-served
		return aborted, nil
	}
	select {
	case <-served:
		return aborted, nil
	case <-time.After(stopGrace):
	}
	if entry.Ours() {
		if err := fusefs.Abort(entry.Dev); err != nil {
			m.fuseLog.Debug("cannot abort the detached mount's connection", "err", err)
		}
	}
	select {
	case <-served:
	case <-time.After(stopGrace):
		// The process ends soon, which ends the connection; under
		// --wait the mount lingers until its files are closed.
		log.Info("files are still open on the detached mount; they answer EIO until closed", "mountpoint", mnt)
	}
	return aborted, nil
}

// source is the mount's source, as df and file managers show it: the
// camera ("Nikon D7200": the make's first word, then the model unless it
// names the make); as mount(8) and fstab give it (an address, auto) when
// mounted that way, as sshfs does, since mount -a compares the two.
func (m *mounter) source(info *mtp.DeviceInfo) string {
	if m.o.source != "" {
		return fusefs.SourceName(m.o.source)
	}
	mk, _, _ := strings.Cut(strings.TrimSpace(info.Manufacturer), " ")
	model := strings.TrimSpace(info.Model)
	name := model
	if !strings.HasPrefix(strings.ToLower(model), strings.ToLower(mk)) {
		name = mk + " " + model
	}
	return fusefs.SourceName(name)
}

// metaCache opens the metadata cache of the camera info describes, or
// returns nil with --metadata-cache=false. The file is named by the
// camera's model and its own serial (leading zeros kept, as status shows
// it).
func (m *mounter) metaCache(info *mtp.DeviceInfo) *tree.MetaCache {
	if !m.o.metadataCache {
		return nil
	}
	dir := tree.CacheDir()
	if dir == "" {
		m.log.Warn("no cache directory (set XDG_CACHE_HOME or HOME): every mount lists the card from the camera")
		return nil
	}
	cam := tree.CameraID{Model: strings.TrimSpace(info.Model), Serial: strings.TrimSpace(info.SerialNumber)}
	return tree.OpenMetaCache(dir, cam, m.o.maxObjects, m.fuseLog)
}

// watch applies, until the returned function is called (it waits for the
// watcher to end), the changes the camera of session s reports: new
// pictures appear in tree, deleted ones disappear. How they are learnt
// depends on the camera (tree.WatchFor).
func (m *mounter) watch(ctx context.Context, tr *tree.Tree, s *camera.Session) func() {
	cfg := tree.WatchFor(s.Device, s.PTP.Events())
	if cfg.Events != nil {
		cfg.Dropped = s.PTP.DroppedEvents
	}
	m.log.Info("watching the camera for new pictures", "by", cfg.Mechanism())
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr.Watch(wctx, cfg)
	}()
	return func() {
		cancel()
		<-done
	}
}

// observeLink passes the session's operations to the cache as round trips
// for its link estimate (cache.Cache.ObserveRoundTrip): the listing's
// small operations measure the round trip before the first file is read.
func observeLink(cs *camera.Session, blocks *cache.Cache) {
	cs.PTP.Observe(func(_ mtp.OpCode, n int64, d time.Duration) { blocks.ObserveRoundTrip(n, d) })
}

// warm runs the tree's warm listing (tree.Tree.Warm) until it is done or
// the returned function is called, which waits for it to end.
func warm(ctx context.Context, tree *tree.Tree) func() {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tree.Warm(wctx)
	}()
	return func() {
		cancel()
		<-done
	}
}
