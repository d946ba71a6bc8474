package camera

import (
	"context"
	"log/slog"
	"time"

	"github.com/airnef-mount/airnef-mount/mtp"
)

// ClockTolerance is how far the camera's clock may be off this computer's
// before --sync-clock sets it (Airnef's 5 s).
const ClockTolerance = 5 * time.Second

// SyncClock sets the camera's clock to now (--sync-clock), once per
// session, as Airnef does: a camera whose DeviceInfo lists the DateTime
// property (0x5011) has it read and set when it is more than
// ClockTolerance off, in the camera's time zone loc; a Canon EOS, whose
// clock cannot be read that way, always gets its UTC time (0xD17C) through
// its own SetDevicePropValue (0x9110); any other camera is left alone.
// New shots are told from old ones by their capture time, so a camera
// clock that is wrong dates them wrong. It logs what it did and never
// fails: a camera that refuses keeps its clock and the mount goes on.
func SyncClock(ctx context.Context, d *mtp.Device, now time.Time, loc *time.Location, log *slog.Logger) {
	info := d.Info()
	switch {
	case info.SupportsProp(mtp.DevicePropDateTime):
		cur, err := d.DateTime(ctx)
		if err != nil {
			log.Warn("--sync-clock: reading the camera's clock failed; it is left as it is", "err", err)
			return
		}
		at, ok := mtp.ParseDate(cur, loc)
		if ok {
			off := at.Sub(now)
			if off.Abs() <= ClockTolerance {
				log.Info("--sync-clock: the camera's clock is right", "camera", cur, "off", off.Round(time.Second))
				return
			}
		}
		want := now.In(loc)
		if err := d.SetDateTime(ctx, want); err != nil {
			log.Warn("--sync-clock: the camera refused to set its clock; it is left as it is", "camera", cur, "err", err)
			return
		}
		log.Info("--sync-clock: set the camera's clock", "was", cur, "now", mtp.FormatDate(want))
	case d.Vendor() == mtp.VendorCanon && info.Supports(mtp.OpCanonEOSSetDevicePropValue):
		if err := d.CanonEOSSetUTCTime(ctx, now); err != nil {
			log.Warn("--sync-clock: the Canon refused to set its clock; it is left as it is", "err", err)
			return
		}
		log.Info("--sync-clock: set the Canon's clock (its UTC time)", "now", now.UTC().Format(time.RFC3339))
	default:
		log.Info("--sync-clock: this camera does not let a computer set its clock (no DateTime property); it is left as it is")
	}
}
