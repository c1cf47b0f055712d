// Unit tests of the controller's command line and TOML configuration.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.h"
#include "controller/config.h"

namespace zhsm {
namespace {

TEST(Config, DefaultsMatchTheOperatorGuide) {
  auto r = parse_config({"zhsm-controller", "--cluster-key", "k"});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->listen, "127.0.0.1:7100");
  EXPECT_EQ(r.config->db, "dbname=zhsm");
  EXPECT_EQ(r.config->db_threads, 4u);
  EXPECT_EQ(r.config->chunk_size, 16777216u);
  EXPECT_EQ(r.config->inline_max, 65536u);
  EXPECT_EQ(r.config->token_lifetime_s, 300u);
  EXPECT_EQ(r.config->heartbeat_timeout_s, 10u);
  EXPECT_EQ(r.config->meta_cache, 32768u);
  EXPECT_EQ(r.config->inline_cache_mib, 64u);
  EXPECT_EQ(r.config->dir_lease_ms, 5000u);
  EXPECT_EQ(r.config->log_level, "info");
  EXPECT_TRUE(r.config->metrics.empty());
}

TEST(Config, FlagsParse) {
  auto r = parse_config({"zhsm-controller", "--cluster-key", "k", "--listen", "0.0.0.0:0",
                         "--db", "host=/tmp dbname=x", "--db-threads", "8", "--chunk-size",
                         "1048576", "--inline-max", "4096", "--token-lifetime", "60",
                         "--heartbeat-timeout", "5", "--metrics", "127.0.0.1:0", "--port-file",
                         "p", "--log-level", "debug", "--log-file", "l", "--meta-cache", "0",
                         "--inline-cache", "0"});
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->listen, "0.0.0.0:0");
  EXPECT_EQ(r.config->meta_cache, 0u);
  EXPECT_EQ(r.config->inline_cache_mib, 0u);
  EXPECT_EQ(r.config->db_threads, 8u);
  EXPECT_EQ(r.config->chunk_size, 1048576u);
  EXPECT_EQ(r.config->inline_max, 4096u);
  EXPECT_EQ(r.config->token_lifetime_s, 60u);
  EXPECT_EQ(r.config->heartbeat_timeout_s, 5u);
  EXPECT_EQ(r.config->port_file, "p");
  EXPECT_EQ(r.config->log_file, "l");
}

TEST(Config, MissingKeyAndBadValuesAreUsageErrors) {
  EXPECT_EQ(parse_config({"zhsm-controller"}).exit_code, 2);
  EXPECT_FALSE(parse_config({"zhsm-controller", "--cluster-key", "k", "--chunk-size", "1000"})
                   .config);
  EXPECT_FALSE(parse_config({"zhsm-controller", "--cluster-key", "k", "--db-threads", "0"}).config);
  EXPECT_FALSE(parse_config({"zhsm-controller", "--cluster-key", "k", "--bogus"}).config);
  EXPECT_FALSE(
      parse_config({"zhsm-controller", "--cluster-key", "k", "--inline-cache", "65537"}).config);
  EXPECT_FALSE(
      parse_config({"zhsm-controller", "--cluster-key", "k", "--dir-lease-ms", "100"}).config);
  EXPECT_FALSE(
      parse_config({"zhsm-controller", "--cluster-key", "k", "--dir-lease-ms", "60001"}).config);
  auto off = parse_config({"zhsm-controller", "--cluster-key", "k", "--dir-lease-ms", "0"});
  ASSERT_TRUE(off.config);
  EXPECT_EQ(off.config->dir_lease_ms, 0u);
}

TEST(Config, TomlKeysAreTheFlagNames) {
  ControllerConfig c;
  apply_toml(c,
             "listen = \"127.0.0.1:0\"\ncluster-key = \"key\"\ndb-threads = 2\n"
             "log-level = \"debug\"\nheartbeat-timeout = 3\ninline-cache = 8\n",
             "test.toml");
  EXPECT_EQ(c.listen, "127.0.0.1:0");
  EXPECT_EQ(c.cluster_key, "key");
  EXPECT_EQ(c.db_threads, 2u);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.heartbeat_timeout_s, 3u);
  EXPECT_EQ(c.inline_cache_mib, 8u);
  EXPECT_THROW(apply_toml(c, "nonsense = 1\n", "t"), Error);
  EXPECT_THROW(apply_toml(c, "db-threads = \"two\"\n", "t"), Error);
  EXPECT_THROW(apply_toml(c, "db-threads = -1\n", "t"), Error);
  EXPECT_THROW(apply_toml(c, "listen = \n", "t"), Error);
}

TEST(Config, FlagsWinOverTheConfigFile) {
  char path[] = "/tmp/zhsm-controller-config-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  std::string text = "cluster-key = \"from-file\"\ndb-threads = 3\nlisten = \"127.0.0.1:1\"\n";
  ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  ::close(fd);
  auto r = parse_config({"zhsm-controller", "--config", path, "--listen", "127.0.0.1:2"});
  ::unlink(path);
  ASSERT_TRUE(r.config);
  EXPECT_EQ(r.config->cluster_key, "from-file");
  EXPECT_EQ(r.config->db_threads, 3u);
  EXPECT_EQ(r.config->listen, "127.0.0.1:2");
  EXPECT_EQ(parse_config({"zhsm-controller", "--config", "/nonexistent/zhsm.toml"}).exit_code, 2);
}

TEST(Config, RedactsPasswords) {
  EXPECT_EQ(redact_conninfo("host=x password=secret dbname=z"), "host=x password=*** dbname=z");
  EXPECT_EQ(redact_conninfo("postgresql://u:secret@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_conninfo("dbname=zhsm"), "dbname=zhsm");
}

}  // namespace
}  // namespace zhsm
