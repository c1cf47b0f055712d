// Tests of the file server's settings: flags, the --config file, and which wins.
#include <fstream>

#include <gtest/gtest.h>

#include "common/error.h"
#include "fileserver/config.h"
#include "fileserver/test_dir.h"

namespace zhsm::fileserver {
namespace {

std::optional<int> parse(std::vector<const char*> args, FileserverConfig& c) {
  args.insert(args.begin(), "zhsm-fileserver");
  return parse_config(static_cast<int>(args.size()), args.data(), c);
}

TEST(ConfigTest, BackendSpecs) {
  auto b = parse_backend_spec("fast:ssd:/srv/a:b");
  EXPECT_EQ(b.name, "fast");
  EXPECT_EQ(b.tier, "ssd");
  EXPECT_EQ(b.path, "/srv/a:b");
  EXPECT_THROW(parse_backend_spec("fast:/srv"), Error);
  EXPECT_THROW(parse_backend_spec("fast::/srv"), Error);
}

TEST(ConfigTest, FlagsAndDefaults) {
  FileserverConfig c;
  EXPECT_FALSE(parse({"--cluster-key", "k", "--state-dir", "s", "--backend", "a:ssd:x",
                      "--backend", "b:hdd:y", "--name", "fs1"},
                     c));
  EXPECT_EQ(c.name, "fs1");
  EXPECT_EQ(c.listen, "127.0.0.1:0");
  EXPECT_EQ(c.controller, "127.0.0.1:7100");
  EXPECT_EQ(c.io_threads, 4);
  EXPECT_EQ(c.copy_tasks, 2);
  ASSERT_EQ(c.backends.size(), 2u);
  EXPECT_EQ(c.backends[1].tier, "hdd");
}

TEST(ConfigTest, MissingRequiredSettings) {
  FileserverConfig c;
  EXPECT_THROW(parse({"--state-dir", "s", "--backend", "a:ssd:x"}, c), Error);
  FileserverConfig d;
  EXPECT_THROW(parse({"--cluster-key", "k", "--state-dir", "s"}, d), Error);
  FileserverConfig e;
  EXPECT_THROW(parse({"--cluster-key", "k", "--state-dir", "s", "--backend", "a:ssd:x",
                      "--backend", "a:hdd:y"},
                     e),
               Error);
}

TEST(ConfigTest, FileFillsWhatFlagsLeaveOpen) {
  ScopedTestDir dir("zhsm-config-test");
  auto file = dir.path() / "fs.toml";
  std::ofstream(file) << "name = \"from-file\"\n"
                         "listen = \"127.0.0.1:7200\"\n"
                         "cluster-key = \"/k\"\n"
                         "state-dir = \"/s\"\n"
                         "backend = [\"a:ssd:/x\", \"b:hdd:/y\"]\n"
                         "io-threads = 8\n"
                         "copy-tasks = 3\n"
                         "log-level = \"debug\"\n";
  FileserverConfig c;
  EXPECT_FALSE(parse({"--config", file.c_str(), "--listen", "127.0.0.1:7300"}, c));
  EXPECT_EQ(c.name, "from-file");
  EXPECT_EQ(c.listen, "127.0.0.1:7300");  // the flag wins
  EXPECT_EQ(c.cluster_key, "/k");
  EXPECT_EQ(c.io_threads, 8);
  EXPECT_EQ(c.copy_tasks, 3);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.backends.size(), 2u);

  std::ofstream(file) << "colour = \"blue\"\n";
  FileserverConfig d;
  try {
    parse({"--config", file.c_str(), "--cluster-key", "k", "--state-dir", "s", "--backend",
           "a:ssd:x"},
          d);
    ADD_FAILURE() << "unknown key accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("colour"), std::string::npos);
  }
}

}  // namespace
}  // namespace zhsm::fileserver
