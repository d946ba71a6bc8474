# A third-party SSDP responder for discover_test.go: libgssdp (GSSDP 1.6)
# announces one resource on lo, answers M-SEARCH for it, and says byebye on
# SIGTERM. Run with Debian's /usr/bin/python3 (python3-gi, gir1.2-gssdp-1.6).
# Usage: announce.py ST USN LOCATION; prints "ready" once available.
import signal
import sys

import gi

gi.require_version("GSSDP", "1.6")
from gi.repository import GLib, GSSDP  # noqa: E402

st, usn, location = sys.argv[1:4]
client = GSSDP.Client.new_full("lo", None, 0, GSSDP.UDAVersion.VERSION_1_0)
group = GSSDP.ResourceGroup.new(client)
group.add_resource_simple(st, usn, location)
group.set_available(True)
loop = GLib.MainLoop()


def stop():
    group.set_available(False)  # sends ssdp:byebye
    GLib.timeout_add(500, loop.quit)
    return GLib.SOURCE_REMOVE


GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
print("ready", flush=True)
loop.run()
