// Data objects behind the mount: a file larger than the chunk size is stored as
// several objects; `zhsm-admin file info PATH --json` lists each with uuid,
// sha256 and copies; every copy exists on a backend at ROOT/aa/bb/rest-of-uuid
// with a head ("ZHSMOBJ1", length, ObjectHead) that names the object, its file
// and index, and whose sha256 matches the data after the 4096-byte head block,
// the controller's record and the bytes written through the mount. Also: small
// files stay inline, an overwrite produces a new version, and the objects of
// deleted or truncated-away data leave the backends.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "common/sha256.h"
#include "test/integration/cluster.h"
#include "test/integration/objects.h"
#include "test/integration/syscalls.h"

namespace zhsm::test {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr auto kGarbageCollected = std::chrono::seconds(60);

class DataObjects : public MountTest {
 protected:
  // Checks every chunk of `info` against `data` (the file's content) and against
  // the object files on the backends.
  void check_chunks(const FileInfo& info, const std::string& data) {
    ASSERT_GT(info.chunk_size, 0u) << info.raw.dump(2);
    uint64_t expect_chunks = (data.size() + info.chunk_size - 1) / info.chunk_size;
    ASSERT_EQ(info.chunks.size(), expect_chunks) << info.raw.dump(2);
    auto chunks = info.chunks;
    std::sort(chunks.begin(), chunks.end(), [](auto& a, auto& b) { return a.index < b.index; });
    std::set<Uuid> uuids;
    for (size_t i = 0; i < chunks.size(); ++i) {
      const ChunkInfo& c = chunks[i];
      SCOPED_TRACE("chunk " + std::to_string(c.index) + " " + c.uuid.str());
      EXPECT_EQ(c.index, i);
      EXPECT_TRUE(uuids.insert(c.uuid).second) << "two chunks share a UUID";
      uint64_t offset = i * info.chunk_size;
      uint64_t size = std::min<uint64_t>(info.chunk_size, data.size() - offset);
      EXPECT_EQ(c.size, size);
      std::string want_sha = sha256_hex(data, offset, size);
      EXPECT_EQ(c.sha256, want_sha) << "file info sha256 is not the SHA-256 of the chunk's bytes";
      ASSERT_FALSE(c.copies.empty()) << "no copies listed";
      size_t current = 0;
      for (const auto& copy : c.copies)
        if (copy.state.empty() || copy.state == "current") ++current;
      EXPECT_GE(current, 1u) << "no current copy";
      auto paths = find_object_copies(cluster(), c.uuid);
      EXPECT_EQ(paths.size(), current) << "object files on the backends vs current copies in file info";
      for (const auto& path : paths) {
        SCOPED_TRACE(path.lexically_relative(cluster().dir()).string());
        // The copy is listed under the backend it lies on (DIR/backends/fsK holds fsK-b1).
        std::string backend_name;
        for (int k = 1; k <= cluster().fileservers(); ++k)
          if (path.string().rfind(cluster().backend_dir(k).string() + "/", 0) == 0)
            backend_name = "fs" + std::to_string(k) + "-b1";
        bool listed = false;
        for (const auto& copy : c.copies) listed |= copy.backend_name == backend_name;
        EXPECT_TRUE(listed) << "a copy lies on " << backend_name << " but file info does not list it";
        StoredObject o = read_stored_object(path);
        ASSERT_EQ(o.error, "");
        EXPECT_EQ(o.uuid, c.uuid) << "head uuid";
        if (info.fsid) {
          EXPECT_EQ(o.owner, *info.fsid) << "head owner is not the file's FSID";
        }
        EXPECT_EQ(o.index, c.index) << "head index";
        if (c.version) {
          EXPECT_EQ(o.version, c.version) << "head version";
        }
        EXPECT_EQ(o.size, size) << "head size";
        EXPECT_EQ(o.data_bytes, size) << "bytes after the head block";
        EXPECT_EQ(o.file_size, kObjectHeadBlock + size);
        EXPECT_EQ(o.head_sha256, want_sha) << "head sha256";
        EXPECT_EQ(o.data_sha256, want_sha) << "SHA-256 of the stored data";
      }
    }
  }
};

TEST_F(DataObjects, MultiChunkFileOnBackends) {
  fs::path f = mount_dir_ / "forty";
  std::string data = pattern_bytes(0x40, 40 * kMiB);
  ASSERT_TRUE(write_file(f, data));
  FileInfo info = file_info(cluster(), f);
  EXPECT_EQ(info.size, data.size());
  EXPECT_FALSE(info.is_inline);
  struct stat st {};
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(info.ino, st.st_ino) << "file info ino vs stat st_ino";
  ASSERT_LT(info.chunk_size, data.size()) << "the test needs a file larger than one chunk";
  check_chunks(info, data);
}

// zhsm-admin takes a path on a mount as well as a namespace path.
TEST_F(DataObjects, FileInfoAcceptsAMountPath) {
  fs::path f = mount_dir_ / "by-mount-path";
  ASSERT_TRUE(write_file(f, "x"));
  auto r = cluster().admin({"file", "info", f.string(), "--json"});
  ASSERT_TRUE(r.ok()) << r.describe();
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  struct stat st {};
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j.value("ino", uint64_t{0}), st.st_ino);
}

TEST_F(DataObjects, SmallFileStaysInline) {
  fs::path f = mount_dir_ / "small";
  ASSERT_TRUE(write_file(f, "inline data"));
  FileInfo info = file_info(cluster(), f);
  EXPECT_TRUE(info.is_inline) << info.raw.dump(2);
  EXPECT_TRUE(info.chunks.empty()) << info.raw.dump(2);
  EXPECT_EQ(info.size, 11u);
}

TEST_F(DataObjects, OverwriteMakesANewVersion) {
  fs::path f = mount_dir_ / "rewritten";
  std::string data = pattern_bytes(0x41, 20 * kMiB);
  ASSERT_TRUE(write_file(f, data));
  FileInfo before = file_info(cluster(), f);
  ASSERT_GE(before.chunks.size(), 2u) << before.raw.dump(2);
  auto by_index = [](FileInfo info) {
    std::sort(info.chunks.begin(), info.chunks.end(), [](auto& a, auto& b) { return a.index < b.index; });
    return info.chunks;
  };
  auto old_chunks = by_index(before);
  const uint64_t at = before.chunk_size + 4096;  // inside chunk 1
  int fd = ::open(f.c_str(), O_WRONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::pwrite(fd, "overwritten", 11, static_cast<off_t>(at)), 11);
  ASSERT_EQ(::close(fd), 0) << errno_text(errno);
  data.replace(at, 11, "overwritten");
  FileInfo after = file_info(cluster(), f);
  auto new_chunks = by_index(after);
  ASSERT_EQ(new_chunks.size(), old_chunks.size());
  EXPECT_EQ(new_chunks[0].uuid, old_chunks[0].uuid) << "an untouched chunk changed";
  EXPECT_EQ(new_chunks[0].version, old_chunks[0].version) << "an untouched chunk changed";
  EXPECT_GT(new_chunks[1].version, old_chunks[1].version) << "the written chunk kept its version";
  EXPECT_NE(new_chunks[1].sha256, old_chunks[1].sha256);
  check_chunks(after, data);
  if (new_chunks[1].uuid != old_chunks[1].uuid) {
    EXPECT_TRUE(eventually([&] { return find_object_copies(cluster(), old_chunks[1].uuid).empty(); },
                           kGarbageCollected, std::chrono::milliseconds(500)))
        << "the replaced object " << old_chunks[1].uuid.str() << " stays on the backends";
  }
  EXPECT_TRUE(file_text(f) == data);
}

TEST_F(DataObjects, DeletedFileLeavesTheBackends) {
  fs::path f = mount_dir_ / "doomed";
  ASSERT_TRUE(write_file(f, pattern_bytes(0x42, 20 * kMiB)));
  FileInfo info = file_info(cluster(), f);
  ASSERT_FALSE(info.chunks.empty()) << info.raw.dump(2);
  for (const auto& c : info.chunks)
    ASSERT_FALSE(find_object_copies(cluster(), c.uuid).empty()) << c.uuid.str() << " not on any backend";
  ASSERT_EQ(::unlink(f.c_str()), 0);
  EXPECT_TRUE(eventually([&] {
    for (const auto& c : info.chunks)
      if (!find_object_copies(cluster(), c.uuid).empty()) return false;
    return true;
  }, kGarbageCollected, std::chrono::milliseconds(500)))
      << "objects of a deleted file still on the backends after " << kGarbageCollected.count() << " s";
}

TEST_F(DataObjects, TruncatedAwayChunksLeaveTheBackends) {
  fs::path f = mount_dir_ / "cut";
  std::string data = pattern_bytes(0x43, 40 * kMiB);
  ASSERT_TRUE(write_file(f, data));
  FileInfo before = file_info(cluster(), f);
  ASSERT_GE(before.chunks.size(), 2u) << before.raw.dump(2);
  const uint64_t cut = before.chunk_size / 2;
  ASSERT_EQ(::truncate(f.c_str(), static_cast<off_t>(cut)), 0) << errno_text(errno);
  FileInfo after = file_info(cluster(), f);
  EXPECT_EQ(after.size, cut);
  ASSERT_EQ(after.chunks.size(), 1u) << after.raw.dump(2);
  EXPECT_LE(after.chunks[0].size, cut) << "chunk 0 still claims bytes past the cut";
  for (const auto& c : before.chunks) {
    if (c.index == 0) continue;
    EXPECT_TRUE(eventually([&] { return find_object_copies(cluster(), c.uuid).empty(); },
                           kGarbageCollected, std::chrono::milliseconds(500)))
        << "chunk " << c.index << " (" << c.uuid.str() << ") stays on the backends after truncation";
  }
  EXPECT_TRUE(file_text(f) == data.substr(0, cut));
}

}  // namespace
}  // namespace zhsm::test
