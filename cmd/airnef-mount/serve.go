package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/airnef-mount/airnef-mount/cache"
	"github.com/airnef-mount/airnef-mount/fusefs"
	"github.com/airnef-mount/airnef-mount/mtp"
	"github.com/airnef-mount/airnef-mount/ssdp"
)

// mounter mounts camera sessions.
type mounter struct {
	o      *options
	loc    *time.Location
	stdout io.Writer
	conn   *connector

	log, ptpLog, fuseLog, cacheLog *slog.Logger
}

// serveMode says how a mount ends.
type serveMode struct {
	// reconnect keeps the mount when the session is lost: files answer
	// EIO until the camera is back (it announces itself again, or for a
	// camera that does not announce itself, answers again), and the tree
	// is re-attached to the new session. Without it a lost session ends
	// the mount (--wait: the camera left).
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
func (m *mounter) serve(ctx context.Context, cs *camSession, mnt string, mode serveMode) error {
	o, log := m.o, m.log
	var cur atomic.Pointer[camSession]
	cur.Store(cs)
	endSession := func() {
		if s := cur.Swap(nil); s != nil {
			s.close(o.timeout, o.cameraSleep, log)
		}
	}
	info := cs.info
	tree := fusefs.NewTree(fusefs.DeviceCamera(cs.dev), fusefs.TreeConfig{
		Location: m.loc, Logger: m.fuseLog, MaxObjects: o.maxObjects, Meta: m.metaCache(info),
	})
	defer tree.Close()
	storages, err := tree.List(ctx, tree.Root())
	if err != nil {
		endSession()
		return failErr("listing the storages of the camera at %s failed: %v; check that a card is in the camera", cs.addr, err)
	}
	if len(storages) == 0 {
		log.Warn("the camera reports no card: the mount will be empty")
	}
	blocks, err := cache.New(cache.Config{Size: int64(o.cacheSize), BlockSize: int(o.blockSize), Logger: m.cacheLog}, tree.Source())
	if err != nil {
		endSession()
		return usageErr("%v", err)
	}
	defer blocks.Close()
	observeLink(cs, blocks)
	// The warm listing lists the top folders while the filesystem is
	// being mounted, so the first lookups find them listed (and the cache
	// has round trips to size its first requests from). It is not started
	// again after a reconnection: Reconnect lists again what was listed,
	// the rest is listed when opened.
	stopWarm := warm(ctx, tree)
	defer stopWarm()

	var onNew func(string)
	if o.onNew != "" {
		r := newOnNewRunner(ctx, o.onNew, mnt, log)
		defer r.close()
		onNew = r.add
	}
	cfg := fusefs.Config{
		Tree: tree, Cache: blocks, Logger: m.fuseLog, OnNew: onNew,
		Status: func() string {
			s := cur.Load()
			switch {
			case s == nil || !tree.Connected():
				return "disconnected: waiting for the camera"
			case s.sess.Err() != nil:
				return "broken: " + s.sess.Err().Error()
			}
			return fmt.Sprintf("connected %s %s", info.Manufacturer, info.Model)
		},
	}
	// The desktop's part: thumbnails, the stats' camera and counters, the
	// import summary at the end.
	dt, err := startDesktop(o, mnt, tree, info, &cfg, log)
	if err != nil {
		endSession()
		return err
	}
	defer dt.close()
	root, err := newRoot(ctx, o, tree, cfg, info, log)
	if err != nil {
		endSession()
		return err
	}
	srv, err := fusefs.Mount(mnt, root, fusefs.MountOptions{
		AllowOther: o.allowOther, Debug: o.debug["fuse"], Logger: m.fuseLog,
	})
	if err != nil {
		endSession()
		return failErr("mounting at %s failed: %s; check that fuse3 is installed and that you may use /dev/fuse (mode 0666 on Debian, or be root)%s",
			mnt, strings.TrimSpace(err.Error()), allowOtherHint(o.allowOther))
	}
	fmt.Fprintf(m.stdout, "mounted %s %s (serial %s) at %s\n", info.Manufacturer, info.Model, info.SerialNumber, mnt)
	if mode.ready != nil {
		mode.ready(mnt)
	}

	// New pictures and deletions on the camera, while mounted.
	stopWatch := m.watch(ctx, tree, cs)
	defer func() { stopWatch() }()

	served := make(chan struct{})
	go func() {
		srv.Wait()
		close(served)
	}()
	// back delivers the sessions of a reconnection, one at a time.
	back := make(chan *camSession)
	rctx, stopReconnect := context.WithCancel(ctx)
	defer stopReconnect()
	lost := cs.sess.Done()
	unmount := false
loop:
	for {
		select {
		case <-served:
			log.Info("unmounted", "mountpoint", mnt)
			break loop
		case <-ctx.Done():
			unmount = true
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
			tree.Disconnect()
			log.Warn("the camera session was lost", "err", s.sess.Err())
			s.sess.Close()
			if !mode.reconnect {
				unmount = true
				break loop
			}
			go m.reconnect(rctx, s, back)
		case s := <-back:
			if err := tree.Reconnect(ctx, fusefs.DeviceCamera(s.dev)); err != nil {
				log.Warn("re-listing the card after reconnecting failed; waiting for the camera again", "err", err)
				s.close(o.timeout, false, log)
				go m.reconnect(rctx, s, back)
				continue
			}
			observeLink(s, blocks)
			cur.Store(s)
			lost = s.sess.Done()
			stopWatch = m.watch(ctx, tree, s)
		}
	}
	stopReconnect()
	stopWatch()
	stopWatch = func() {}
	if unmount {
		log.Info("unmounting", "mountpoint", mnt)
		detached, err := fusefs.Unmount(srv, mnt, m.fuseLog)
		if err != nil {
			blocks.Close()
			tree.Close()
			endSession()
			return failErr("unmounting %s failed: %v; unmount it with fusermount3 -u -z %s", mnt, err, mnt)
		}
		if detached {
			log.Warn("the mount was busy: detached it; airnef-mount ends when the last file open on it is closed")
		}
		<-served
	}
	dt.close()
	blocks.Close()
	tree.Close()
	endSession()
	dt.finish(ctx, log, mode.execStatus)
	return nil
}

// metaCache opens the metadata cache of the camera info describes, or
// returns nil with --metadata-cache=false. The file is named by the
// camera's model and its own serial (leading zeros kept, as status shows
// it).
func (m *mounter) metaCache(info *mtp.DeviceInfo) *fusefs.MetaCache {
	if !m.o.metadataCache {
		return nil
	}
	dir := fusefs.CacheDir()
	if dir == "" {
		m.log.Warn("no cache directory (set XDG_CACHE_HOME or HOME): every mount lists the card from the camera")
		return nil
	}
	cam := fusefs.CameraID{Model: strings.TrimSpace(info.Model), Serial: strings.TrimSpace(info.SerialNumber)}
	return fusefs.OpenMetaCache(dir, cam, m.o.maxObjects, m.fuseLog)
}

// watch applies, until the returned function is called (it waits for the
// watcher to end), the changes the camera of session s reports: new
// pictures appear in tree, deleted ones disappear. How they are learnt
// depends on the camera (fusefs.WatchFor).
func (m *mounter) watch(ctx context.Context, tree *fusefs.Tree, s *camSession) func() {
	cfg := fusefs.WatchFor(s.dev, s.sess.Events())
	m.log.Info("watching the camera for new pictures", "by", cfg.Mechanism())
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tree.Watch(wctx, cfg)
	}()
	return func() {
		cancel()
		<-done
	}
}

// A camera that does not announce itself is dialled again after its
// session was lost, first after reconnectFirst, then at doubling intervals
// up to reconnectMax: a camera back from a WiFi drop is found within a
// second or two, one switched off for the night is not dialled every few
// seconds.
const (
	reconnectFirst = time.Second
	reconnectMax   = 30 * time.Second
)

// reconnect waits for the camera of the lost session old to come back and
// sends the new session on back (unless ctx ends first). A Sony is only
// dialled when it announces itself again: in the same Send to Computer it
// never answers a second Init Command Request, so dialling it blindly would
// only hang; the user presses Send to Computer again and the camera
// announces itself. Any camera that announces itself is also taken then;
// one that does not (Nikon) is dialled every few seconds.
func (m *mounter) reconnect(ctx context.Context, old *camSession, back chan<- *camSession) {
	host, _, err := net.SplitHostPort(old.addr)
	if err != nil {
		host = old.addr
	}
	since := time.Now()
	announced := make(chan struct{}, 1)
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	// Only cameras that announce themselves are watched for: SSDP is
	// never sent on the network for the others.
	watch := old.vendor == mtp.VendorSony || old.vendor == mtp.VendorCanon
	go func() {
		if !watch {
			return
		}
		err := ssdp.Watch(wctx, ssdp.Config{Interfaces: m.o.ssdpInterfaces(), Logger: m.ptpLog}, func(a ssdp.Announcement) {
			if a.Kind == ssdp.AnnounceAlive && !a.Camera.Smartphone && a.Camera.Host == host && a.Time.After(since) {
				select {
				case announced <- struct{}{}:
				default:
				}
			}
		})
		if err != nil && wctx.Err() == nil {
			m.log.Warn("cannot watch for the camera's announcements", "err", err)
		}
	}()
	var (
		tick  <-chan time.Time
		timer *time.Timer
		delay = reconnectFirst
	)
	if old.vendor != mtp.VendorSony {
		timer = time.NewTimer(delay)
		defer timer.Stop()
		tick = timer.C
	}
	// again schedules the next dial, later than the last one.
	again := func() {
		if timer != nil {
			delay = min(2*delay, reconnectMax)
			timer.Reset(delay)
		}
	}
	m.log.Info("waiting for the camera to come back (for a Sony: choose Send to Computer on it again)", "addr", old.addr)
	for {
		select {
		case <-ctx.Done():
			return
		case <-announced:
		case <-tick:
		}
		s, err := m.conn.connect(ctx, old.addr, old.vendor)
		if err != nil {
			again()
			m.log.Info("reconnecting failed; waiting again", "err", err, "next_try", delay)
			continue
		}
		if !old.same(s.info) {
			m.log.Warn("another camera answered at the address; waiting for the one mounted", "model", s.info.Model, "serial", s.info.SerialNumber)
			s.close(m.o.timeout, false, m.log)
			again()
			continue
		}
		select {
		case back <- s:
			m.log.Info("camera back", "addr", old.addr)
		case <-ctx.Done():
			s.close(m.o.timeout, false, m.log)
		}
		return
	}
}

// observeLink passes the session's operations to the cache as round trips
// for its link estimate (cache.Cache.ObserveRoundTrip): the listing's
// small operations measure the round trip before the first file is read.
func observeLink(cs *camSession, blocks *cache.Cache) {
	cs.sess.Observe(func(_ mtp.OpCode, n int64, d time.Duration) { blocks.ObserveRoundTrip(n, d) })
}

// warm runs the tree's warm listing (fusefs.Tree.Warm) until it is done or
// the returned function is called, which waits for it to end.
func warm(ctx context.Context, tree *fusefs.Tree) func() {
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
