// Option parsing: zhsm's -o keys are taken out, everything else stays for
// libfuse, and the always-on options are added in front.
#define FUSE_USE_VERSION 35
#include <fuse_opt.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "client-fuse/mount_options.h"

namespace zhsm::fuse {
namespace {

struct Args {
  std::vector<std::string> words;
  std::vector<char*> argv;
  fuse_args args{};
  explicit Args(std::vector<std::string> w) : words(std::move(w)) {
    for (auto& s : words) argv.push_back(s.data());
    args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  }
  ~Args() { fuse_opt_free_args(&args); }
  std::string joined() const {
    std::string out;
    for (int i = 0; i < args.argc; ++i) out += std::string(args.argv[i]) + " ";
    return out;
  }
};

TEST(MountOptions, ParsesOwnKeysAndKeepsOthers) {
  Args a({"zhsm-fuse", "/mnt", "-o",
          "controller=10.0.0.1:7100,allow_other,attr_timeout=2.5,entry_timeout=0,log_level=debug,"
          "read_ahead_kb=4096,statahead=32,"
          "log_file=/tmp/x.log,metrics=127.0.0.1:0,port_file=/tmp/m.ports,release_delay_ms=5",
          "-f"});
  MountOptions o;
  EXPECT_EQ(parse_mount_options(&a.args, o), "");
  EXPECT_EQ(o.controller, "10.0.0.1:7100");
  EXPECT_DOUBLE_EQ(o.attr_timeout, 2.5);
  EXPECT_DOUBLE_EQ(o.entry_timeout, 0);
  EXPECT_EQ(o.read_ahead_kb, 4096u);
  EXPECT_EQ(o.statahead, 32u);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.log_file, "/tmp/x.log");
  EXPECT_EQ(o.metrics, "127.0.0.1:0");
  EXPECT_EQ(o.port_file, "/tmp/m.ports");
  EXPECT_EQ(o.release_delay_ms, 5u);
  std::string rest = a.joined();
  EXPECT_NE(rest.find("allow_other"), std::string::npos) << rest;
  EXPECT_NE(rest.find("/mnt"), std::string::npos) << rest;
  EXPECT_NE(rest.find("-f"), std::string::npos) << rest;
  EXPECT_NE(rest.find("default_permissions"), std::string::npos) << rest;
  EXPECT_NE(rest.find("subtype=zhsm"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("controller="), std::string::npos) << rest;
  EXPECT_EQ(rest.find("attr_timeout"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("metrics"), std::string::npos) << rest;
}

TEST(MountOptions, Defaults) {
  Args a({"zhsm-fuse", "/mnt", "-o", "controller=h:1"});
  MountOptions o;
  EXPECT_EQ(parse_mount_options(&a.args, o), "");
  EXPECT_DOUBLE_EQ(o.attr_timeout, 1.0);
  EXPECT_DOUBLE_EQ(o.entry_timeout, 1.0);
  EXPECT_EQ(o.read_ahead_kb, 4096u);
  EXPECT_EQ(o.statahead, 8u);
  EXPECT_EQ(o.log_level, "info");
  EXPECT_EQ(o.log_file, "");
  EXPECT_EQ(o.release_delay_ms, 20u);
}

TEST(MountOptions, ControllerRequired) {
  Args a({"zhsm-fuse", "/mnt"});
  MountOptions o;
  EXPECT_NE(parse_mount_options(&a.args, o), "");
}

TEST(MountOptions, BadTimeout) {
  Args a({"zhsm-fuse", "/mnt", "-o", "controller=h:1,attr_timeout=abc"});
  MountOptions o;
  EXPECT_NE(parse_mount_options(&a.args, o), "");
  Args b({"zhsm-fuse", "/mnt", "-o", "controller=h:1,entry_timeout=-1"});
  EXPECT_NE(parse_mount_options(&b.args, o), "");
}

TEST(MountOptions, BadReadAhead) {
  MountOptions o;
  for (const char* bad : {"read_ahead_kb=-1", "read_ahead_kb=1k", "read_ahead_kb=", "read_ahead_kb=2000000"}) {
    Args a({"zhsm-fuse", "/mnt", "-o", std::string("controller=h:1,") + bad});
    EXPECT_NE(parse_mount_options(&a.args, o), "") << bad;
  }
  Args z({"zhsm-fuse", "/mnt", "-o", "controller=h:1,read_ahead_kb=0"});
  EXPECT_EQ(parse_mount_options(&z.args, o), "");
  EXPECT_EQ(o.read_ahead_kb, 0u);
}

TEST(MountOptions, BadStatahead) {
  MountOptions o;
  for (const char* bad : {"statahead=-1", "statahead=x", "statahead="}) {
    Args a({"zhsm-fuse", "/mnt", "-o", std::string("controller=h:1,") + bad});
    EXPECT_NE(parse_mount_options(&a.args, o), "") << bad;
  }
  Args z({"zhsm-fuse", "/mnt", "-o", "controller=h:1,statahead=0"});
  EXPECT_EQ(parse_mount_options(&z.args, o), "");
  EXPECT_EQ(o.statahead, 0u);
}

TEST(MountOptions, ControllerNeedsPort) {
  Args a({"zhsm-fuse", "/mnt", "-o", "controller=justahost"});
  MountOptions o;
  EXPECT_NE(parse_mount_options(&a.args, o), "");
}

TEST(MountOptions, BadReleaseDelay) {
  for (const char* bad : {"release_delay_ms=-1", "release_delay_ms=x", "release_delay_ms=10001"}) {
    Args a({"zhsm-fuse", "/mnt", "-o", std::string("controller=h:1,") + bad});
    MountOptions o;
    EXPECT_NE(parse_mount_options(&a.args, o), "") << bad;
  }
}

TEST(MountOptions, MetricsNeedsPort) {
  Args a({"zhsm-fuse", "/mnt", "-o", "controller=h:1,metrics=justahost"});
  MountOptions o;
  EXPECT_NE(parse_mount_options(&a.args, o).find("metrics"), std::string::npos);
}

}  // namespace
}  // namespace zhsm::fuse
