// Raising the kernel's readahead for this mount. The kernel takes the smaller of
// the FUSE init's max_readahead and its default for a new device (128 KiB), so a
// sequential read reached zhsm-fuse as 128 KiB requests, one file-server call each.
// The device's read_ahead_kb in sysfs lifts that limit; it needs root, and is
// best effort: a mount without it works, only slower on sequential reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zhsm::fuse {

// The "MAJOR:MINOR" of the newest mount at `mountpoint` (an absolute, canonical
// path) in the text of /proc/self/mountinfo, or nothing. Mount points there escape
// space, tab, newline and backslash as octal (\040 ...). Pure.
std::optional<std::string> mount_device_of(std::string_view mountinfo, std::string_view mountpoint);

// Sets the readahead of the mount at `mountpoint` to `kib` KiB (0: leaves the
// kernel's). Logs one line saying what it did or why not; never throws. Call once
// the mount exists; it does not touch the mount itself (no FUSE request).
void set_readahead(const std::string& mountpoint, unsigned kib);

}  // namespace zhsm::fuse
