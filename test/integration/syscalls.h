// Small syscall helpers for the POSIX tests: whole-buffer reads and writes on
// a descriptor, readable renderings of bytes and stat results for transcripts,
// and directory listings.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

#include "test/integration/cluster.h"

namespace zhsm::test {

// `size` deterministic pseudo-random bytes.
std::string pattern_bytes(uint64_t seed, size_t size);

// Writes all of `data` at the current offset; returns bytes written or -1 (errno set).
long write_all(int fd, const std::string& data);
// pwrite of all of `data` at `offset`; returns bytes written or -1 (errno set).
long pwrite_all(int fd, const std::string& data, off_t offset);
// Creates or truncates `path` (mode 0644), writes `data` and closes it; returns bytes
// written, or -1 (errno set) when open, write or close fails.
long put(const fs::path& path, const std::string& data);
// Reads up to `size` bytes at `offset` (short only at end of file); nullopt-like
// "<errno NAME>" text when a read fails.
std::string pread_text(int fd, size_t size, off_t offset);
// The whole content of `path`, or "<errno NAME>" when open or read fails.
std::string file_text(const fs::path& path);

// Short rendering of bytes for a transcript: short printable data as is (with
// escapes), anything longer as size and SHA-256.
std::string show(const std::string& bytes);

// "type=reg mode=0644 nlink=1 uid=0 gid=0 size=12" or "<errno NAME>" (lstat).
std::string stat_line(const fs::path& path, bool follow = false);
std::string stat_line(const struct stat& st);

// Names in a directory (readdir, without "." and ".."), with how often each came.
std::map<std::string, int> list_dir(const fs::path& path, std::string* error = nullptr);

std::string errno_text(int err);

}  // namespace zhsm::test
