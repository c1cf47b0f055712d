// Unit tests of the file resolve chain rule language: parsing, its errors, the canonical
// form and its round trip, and the evaluation of chains for one file.
#include <gtest/gtest.h>

#include <random>

#include "controller/chain.h"

namespace zhsm {
namespace {

ChainRule parsed(std::string_view text) {
  ParsedRule p = parse_rule(text);
  EXPECT_TRUE(p.rule) << text << ": word " << p.error.word << ": " << p.error.message;
  return p.rule.value_or(ChainRule{});
}

RuleError failed(std::string_view text) {
  ParsedRule p = parse_rule(text);
  EXPECT_FALSE(p.rule) << text << " parsed as " << (p.rule ? format_rule(*p.rule) : "");
  return p.error;
}

// ---- parsing -----------------------------------------------------------------------------

TEST(ChainParse, EveryAttribute) {
  ChainRule r = parsed("size > 1G use tier:hdd");
  EXPECT_EQ(r.attr, ChainAttr::kSize);
  EXPECT_EQ(r.op, ChainOp::kGreater);
  EXPECT_EQ(r.number, uint64_t{1} << 30);
  EXPECT_EQ(r.action, ChainAction::kUse);
  EXPECT_EQ(r.target, "tier:hdd");

  r = parsed("path ~ /home/* use fs1-b1");
  EXPECT_EQ(r.attr, ChainAttr::kPath);
  EXPECT_EQ(r.op, ChainOp::kGlob);
  EXPECT_EQ(r.text_value, "/home/*");
  EXPECT_EQ(r.number, 0u);

  r = parsed("name !~ \"*.tmp\" skip any");
  EXPECT_EQ(r.attr, ChainAttr::kName);
  EXPECT_EQ(r.op, ChainOp::kNotGlob);
  EXPECT_EQ(r.text_value, "*.tmp");
  EXPECT_EQ(r.action, ChainAction::kSkip);
  EXPECT_EQ(r.target, "any");

  r = parsed("age >= 7d jump cold");
  EXPECT_EQ(r.attr, ChainAttr::kAge);
  EXPECT_EQ(r.op, ChainOp::kGreaterEq);
  EXPECT_EQ(r.number, 7u * 86400);
  EXPECT_EQ(r.action, ChainAction::kJump);
  EXPECT_EQ(r.target, "cold");

  r = parsed("atime < 12h use any");
  EXPECT_EQ(r.attr, ChainAttr::kAtime);
  EXPECT_EQ(r.op, ChainOp::kLess);
  EXPECT_EQ(r.number, 12u * 3600);

  r = parsed("accesses <= 100 use tier:ssd");
  EXPECT_EQ(r.attr, ChainAttr::kAccesses);
  EXPECT_EQ(r.op, ChainOp::kLessEq);
  EXPECT_EQ(r.number, 100u);

  r = parsed("uid = 1000 use any");
  EXPECT_EQ(r.attr, ChainAttr::kUid);
  EXPECT_EQ(r.op, ChainOp::kEqual);
  EXPECT_EQ(r.number, 1000u);

  r = parsed("gid != 0 use any");
  EXPECT_EQ(r.attr, ChainAttr::kGid);
  EXPECT_EQ(r.op, ChainOp::kNotEqual);
  EXPECT_EQ(r.number, 0u);
  EXPECT_EQ(parsed("uid = 4294967295 use any").number, 4294967295u);
}

TEST(ChainParse, NoConditionAndEveryDestination) {
  ChainRule r = parsed("use tier:ssd");
  EXPECT_EQ(r.attr, ChainAttr::kNone);
  EXPECT_EQ(r,
            (ChainRule{ChainAttr::kNone, ChainOp::kEqual, "", 0, ChainAction::kUse, "tier:ssd"}));
  EXPECT_EQ(parsed("use any").target, "any");
  EXPECT_EQ(parsed("use fs1-b1").target, "fs1-b1");
  EXPECT_EQ(parsed("skip fs_2.b-3").target, "fs_2.b-3");
  EXPECT_EQ(parsed("skip tier:hdd").action, ChainAction::kSkip);
  EXPECT_EQ(parsed("jump cold.v2").action, ChainAction::kJump);
  EXPECT_EQ(parsed("  \t use   any  ").target, "any");
}

TEST(ChainParse, GlobOperatorsAndPlainStrings) {
  EXPECT_EQ(parsed("name = a.txt use any").op, ChainOp::kEqual);
  EXPECT_EQ(parsed("path != /x use any").op, ChainOp::kNotEqual);
  EXPECT_EQ(parsed("name ~ * use any").op, ChainOp::kGlob);
}

TEST(ChainParse, Quotes) {
  EXPECT_EQ(parsed("name ~ \"my file*\" use any").text_value, "my file*");
  EXPECT_EQ(parsed("name ~ \"a\\\"b\" use any").text_value, "a\"b");
  EXPECT_EQ(parsed("name ~ \"a\\\\b\" use any").text_value, "a\\b");
  EXPECT_EQ(parsed("name ~ \"a\\*b\" use any").text_value, "a\\*b");  // a glob's own escape
  EXPECT_EQ(parsed("name ~ pre\"fix mid\"dle use any").text_value, "prefix middle");
  EXPECT_EQ(parsed("name = \"\" use any").text_value, "");
  EXPECT_EQ(parsed("path ~ a\\b use any").text_value, "a\\b");  // unquoted: as written
}

uint64_t size_of(const std::string& value) { return parsed("size = " + value + " use any").number; }
uint64_t age_of(const std::string& value) { return parsed("age = " + value + " use any").number; }

TEST(ChainParse, Sizes) {
  EXPECT_EQ(size_of("0"), 0u);
  EXPECT_EQ(size_of("4096"), 4096u);
  EXPECT_EQ(size_of("10K"), 10240u);
  EXPECT_EQ(size_of("10k"), 10240u);
  EXPECT_EQ(size_of("10KiB"), 10240u);
  EXPECT_EQ(size_of("1.5M"), 1572864u);
  EXPECT_EQ(size_of("2m"), 2u << 20);
  EXPECT_EQ(size_of("2MiB"), 2u << 20);
  EXPECT_EQ(size_of("2G"), uint64_t{2} << 30);
  EXPECT_EQ(size_of("2g"), uint64_t{2} << 30);
  EXPECT_EQ(size_of("3GiB"), uint64_t{3} << 30);
  EXPECT_EQ(size_of("1T"), uint64_t{1} << 40);
  EXPECT_EQ(size_of("1t"), uint64_t{1} << 40);
  EXPECT_EQ(size_of("1TiB"), uint64_t{1} << 40);
  EXPECT_EQ(size_of("1P"), uint64_t{1} << 50);
  EXPECT_EQ(size_of("1PiB"), uint64_t{1} << 50);
  EXPECT_EQ(size_of("0.001K"), 1u);   // 1.024 rounds to 1
  EXPECT_EQ(size_of("0.0005K"), 1u);  // 0.512 rounds half up
  EXPECT_EQ(size_of("0.0004K"), 0u);  // 0.4096
  EXPECT_EQ(size_of("1.5"), 2u);      // bytes round half up too
  EXPECT_EQ(size_of("1.50000000000000000000000000G"), uint64_t{3} << 29);  // zeros are free
  EXPECT_EQ(size_of("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(size_of("0000000000000000000000001K"), 1024u);
  EXPECT_EQ(size_of("16383P"), uint64_t{16383} << 50);
}

TEST(ChainParse, Ages) {
  EXPECT_EQ(age_of("0"), 0u);
  EXPECT_EQ(age_of("0s"), 0u);
  EXPECT_EQ(age_of("30s"), 30u);
  EXPECT_EQ(age_of("10m"), 600u);
  EXPECT_EQ(age_of("12h"), 43200u);
  EXPECT_EQ(age_of("7d"), 604800u);
  EXPECT_EQ(age_of("2w"), 1209600u);
  EXPECT_EQ(age_of("1.5h"), 5400u);
  EXPECT_EQ(parsed("atime > 3d use any").number, 3u * 86400);
}

// ---- errors ------------------------------------------------------------------------------

void expect_error(std::string_view text, size_t word, std::string_view message) {
  RuleError e = failed(text);
  EXPECT_EQ(e.word, word) << text;
  EXPECT_EQ(e.message, message) << text;
}

TEST(ChainParse, Errors) {
  expect_error("sise > 1G use any", 1,
               "unknown attribute 'sise' (expected size, path, name, age, atime, accesses, uid, "
               "gid, or an action: use, skip, jump)");
  expect_error("", 0, "empty rule (expected e.g. 'size > 1G use tier:hdd' or 'use any')");
  expect_error(" \t ", 0, "empty rule (expected e.g. 'size > 1G use tier:hdd' or 'use any')");
  expect_error("size", 2, "missing operator after 'size' (expected <, <=, >, >=, = or !=)");
  expect_error("name", 2, "missing operator after 'name' (expected ~, !~, = or !=)");
  expect_error("size => 1G use any", 2, "unknown operator '=>' (expected <, <=, >, >=, = or !=)");
  expect_error("size ~ 1G use any", 2, "'~' needs a path or name attribute");
  expect_error("age !~ 1d use any", 2, "'!~' needs a path or name attribute");
  expect_error("path < /a use any", 2, "'<' does not apply to path (expected ~, !~, = or !=)");
  expect_error("size >", 3, "missing value after '>' (a size, e.g. 4096, 10K, 1.5M, 2G)");
  expect_error("age >", 3, "missing value after '>' (an age, e.g. 30s, 10m, 12h, 7d, 2w)");
  expect_error("name ~", 3, "missing value after '~' (a name glob, e.g. \"*.log\")");
  expect_error("size > 12Q use any", 3, "'12Q' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > 1KB use any", 3, "'1KB' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > kiB use any", 3, "'kiB' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > 1kiB use any", 3, "'1kiB' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > -1 use any", 3, "'-1' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > 1. use any", 3, "'1.' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > .5K use any", 3, "'.5K' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > 1.2.3K use any", 3,
               "'1.2.3K' is not a size (examples: 4096, 10K, 1.5M, 2G)");
  expect_error("size > 18446744073709551616 use any", 3,
               "size '18446744073709551616' is too large (more than 2^64-1 bytes)");
  expect_error("size > 16384P use any", 3, "size '16384P' is too large (more than 2^64-1 bytes)");
  expect_error("size > 99999999999999999999999P use any", 3,
               "size '99999999999999999999999P' is too large (more than 2^64-1 bytes)");
  expect_error("age > 12 use any", 3,
               "'12' is not an age (a number with s, m, h, d or w, e.g. 30s, 10m, 12h, 7d, 2w; "
               "or 0)");
  expect_error("age > 1y use any", 3,
               "'1y' is not an age (a number with s, m, h, d or w, e.g. 30s, 10m, 12h, 7d, 2w; "
               "or 0)");
  expect_error("age > 1H use any", 3,
               "'1H' is not an age (a number with s, m, h, d or w, e.g. 30s, 10m, 12h, 7d, 2w; "
               "or 0)");
  expect_error("atime > 99999999999999999999w use any", 3,
               "age '99999999999999999999w' is too large");
  expect_error("accesses > 1K use any", 3,
               "'1K' is not an access count (a whole number, e.g. 0, 5, 1000)");
  expect_error("uid = root use any", 3, "'root' is not a uid (a whole number, e.g. 0, 5, 1000)");
  expect_error("gid = 4294967296 use any", 3,
               "'4294967296' is too large for a gid (at most 4294967295)");
  expect_error("accesses = 18446744073709551616 use any", 3,
               "'18446744073709551616' is too large for an access count (at most "
               "18446744073709551615)");
  expect_error("size > 1G", 4, "missing action after the condition (expected use, skip or jump)");
  expect_error("size > 1G put any", 4, "unknown action 'put' (expected use, skip or jump)");
  expect_error("size > 1G use", 5,
               "missing destination after 'use' (a backend name, tier:LABEL or any)");
  expect_error("skip", 2, "missing destination after 'skip' (a backend name, tier:LABEL or any)");
  expect_error("jump", 2, "missing chain name after 'jump'");
  expect_error("use tier:", 2, "'tier:' needs a tier label, e.g. tier:hdd");
  expect_error("use tier:h/d", 2,
               "'h/d' is not a tier label (letters, digits, '.', '_' and '-' only)");
  expect_error("use fs/1", 2,
               "'fs/1' is not a destination (a backend name of letters, digits, '.', '_' and "
               "'-', tier:LABEL or any)");
  expect_error("use \"a b\"", 2,
               "'a b' is not a destination (a backend name of letters, digits, '.', '_' and "
               "'-', tier:LABEL or any)");
  expect_error("jump tier:x", 2,
               "'tier:x' is not a chain name (letters, digits, '.', '_' and '-' only)");
  expect_error("size > 1G use any now", 6, "unexpected 'now' after the end of the rule");
  expect_error("use any any", 3, "unexpected 'any' after the end of the rule");
  expect_error("name ~ \"abc use any", 3, "unterminated quote (a closing \" is missing)");
  expect_error("Size > 1G use any", 1,
               "unknown attribute 'Size' (expected size, path, name, age, atime, accesses, uid, "
               "gid, or an action: use, skip, jump)");
}

TEST(ChainParse, DescribeError) {
  std::string text = "size > 12Q use tier:hdd";
  RuleError e = failed(text);
  EXPECT_EQ(describe_rule_error(text, e),
            "size > 12Q use tier:hdd\n"
            "       ^^^\n"
            "word 3: '12Q' is not a size (examples: 4096, 10K, 1.5M, 2G)");

  text = "sise > 1G use any";
  EXPECT_EQ(describe_rule_error(text, failed(text)),
            "sise > 1G use any\n"
            "^^^^\n"
            "word 1: " +
                failed(text).message);

  // A missing word: the caret sits just past the end.
  text = "size > 1G use";
  EXPECT_EQ(describe_rule_error(text, failed(text)),
            "size > 1G use\n"
            "              ^\n"
            "word 5: missing destination after 'use' (a backend name, tier:LABEL or any)");

  // Quotes belong to the word; tabs stay tabs so the caret lines up.
  text = "name\t~ \"a b\" use fs/1";
  EXPECT_EQ(describe_rule_error(text, failed(text)),
            "name\t~ \"a b\" use fs/1\n"
            "    \t            ^^^^\n"
            "word 5: " +
                failed(text).message);
  text = "name ~ \"a b\" use fs/1";
  EXPECT_EQ(describe_rule_error(text, RuleError{"x", 3}),
            "name ~ \"a b\" use fs/1\n"
            "       ^^^^^\n"
            "word 3: x");

  // Multi-byte characters take one column.
  text = "name ~ \xc3\xa9t\xc3\xa9 usse any";
  EXPECT_EQ(describe_rule_error(text, failed(text)),
            text + "\n" + "           ^^^^\n" +
                "word 4: unknown action 'usse' (expected use, skip or jump)");

  // Word 0: the whole rule.
  EXPECT_EQ(describe_rule_error("  use any", RuleError{"x", 0}), "  use any\n  ^^^^^^^\nx");
  EXPECT_EQ(describe_rule_error("", failed("")), "\n^\n" + failed("").message);
}

// ---- format and round trips --------------------------------------------------------------

TEST(ChainFormat, Canonical) {
  auto canon = [](std::string_view text) { return format_rule(parsed(text)); };
  EXPECT_EQ(canon("size > 1073741824 use tier:hdd"), "size > 1G use tier:hdd");
  EXPECT_EQ(canon("size > 1024M use tier:hdd"), "size > 1G use tier:hdd");
  EXPECT_EQ(canon("size >= 1.5G use any"), "size >= 1536M use any");
  EXPECT_EQ(canon("size < 1000 use any"), "size < 1000 use any");
  EXPECT_EQ(canon("size < 0K use any"), "size < 0 use any");
  EXPECT_EQ(canon("size = 18446744073709551615 use any"), "size = 18446744073709551615 use any");
  EXPECT_EQ(canon("age >= 168h use any"), "age >= 1w use any");
  EXPECT_EQ(canon("age >= 90m use any"), "age >= 90m use any");
  EXPECT_EQ(canon("atime > 86400s use any"), "atime > 1d use any");
  EXPECT_EQ(canon("age > 0s use any"), "age > 0 use any");
  EXPECT_EQ(canon("age > 61s use any"), "age > 61s use any");
  EXPECT_EQ(canon("  use    any "), "use any");
  EXPECT_EQ(canon("name ~ \"*.log\" use any"), "name ~ *.log use any");
  EXPECT_EQ(canon("name ~ \"a b\" use any"), "name ~ \"a b\" use any");
  EXPECT_EQ(canon("name = \"\" use any"), "name = \"\" use any");
  EXPECT_EQ(canon("name ~ \"a\\\"b\\\\c\" use any"), "name ~ \"a\\\"b\\\\c\" use any");
  EXPECT_EQ(canon("path ~ a\\b use any"), "path ~ a\\b use any");
  EXPECT_EQ(canon("uid = 007 use any"), "uid = 7 use any");
}

// Random valid rules: each formats to a text that parses back to the same rule, and the
// canonical text is a fixed point.
TEST(ChainFormat, RoundTripProperty) {
  std::mt19937_64 rng(12345);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::string glob_chars = "ab*?[]/.\\\" \t-_~!=<>Z9\xc3\xa9";
  const std::string name_chars = "abcXYZ019._-";
  auto random_name = [&] {
    std::string s;
    size_t n = 1 + pick(8);
    for (size_t i = 0; i < n; ++i) s += name_chars[pick(name_chars.size())];
    return s;
  };
  auto random_number = [&](uint64_t unit) -> uint64_t {
    switch (pick(4)) {
      case 0: return rng();
      case 1: return pick(5000);
      case 2: return (rng() % (UINT64_MAX / unit)) * unit;
      default: return pick(100) * unit;
    }
  };
  const uint64_t size_units[] = {1, 1024, 1 << 20, 1 << 30, uint64_t{1} << 40, uint64_t{1} << 50};
  const uint64_t age_units[] = {1, 60, 3600, 86400, 604800};
  const ChainOp number_ops[] = {ChainOp::kLess,      ChainOp::kLessEq, ChainOp::kGreater,
                                ChainOp::kGreaterEq, ChainOp::kEqual,  ChainOp::kNotEqual};
  const ChainOp glob_ops[] = {ChainOp::kGlob, ChainOp::kNotGlob, ChainOp::kEqual,
                              ChainOp::kNotEqual};
  for (int i = 0; i < 20000; ++i) {
    ChainRule r;
    r.attr = static_cast<ChainAttr>(pick(9));
    switch (r.attr) {
      case ChainAttr::kNone: break;
      case ChainAttr::kPath:
      case ChainAttr::kName: {
        r.op = glob_ops[pick(4)];
        size_t n = pick(10);
        for (size_t k = 0; k < n; ++k) r.text_value += glob_chars[pick(glob_chars.size())];
        break;
      }
      case ChainAttr::kSize:
        r.op = number_ops[pick(6)];
        r.number = random_number(size_units[pick(6)]);
        break;
      case ChainAttr::kAge:
      case ChainAttr::kAtime:
        r.op = number_ops[pick(6)];
        r.number = random_number(age_units[pick(5)]);
        break;
      case ChainAttr::kAccesses:
        r.op = number_ops[pick(6)];
        r.number = random_number(1);
        break;
      case ChainAttr::kUid:
      case ChainAttr::kGid:
        r.op = number_ops[pick(6)];
        r.number = random_number(1) & 0xffffffff;
        break;
    }
    r.action = static_cast<ChainAction>(pick(3));
    if (r.action == ChainAction::kJump) {
      r.target = random_name();
    } else {
      switch (pick(3)) {
        case 0: r.target = "any"; break;
        case 1: r.target = "tier:" + random_name(); break;
        default: r.target = random_name(); break;
      }
    }
    std::string text = format_rule(r);
    ParsedRule p = parse_rule(text);
    ASSERT_TRUE(p.rule) << text << ": " << p.error.message;
    ASSERT_EQ(*p.rule, r) << text;
    ASSERT_EQ(format_rule(*p.rule), text);
  }
}

// Random texts of rule-ish words: parsing never fails badly, an accepted text's canonical
// form parses back to the same rule, and a rejected one names a word that exists or the
// one right after the last.
TEST(ChainFormat, RandomTextsProperty) {
  std::mt19937_64 rng(777);
  const std::vector<std::string> vocab = {
      "size",     "path",  "name", "age",     "atime", "accesses", "uid",  "gid",  "<",
      "<=",       ">",     ">=",   "=",       "!=",    "~",        "!~",   "1G",   "1.5M",
      "0",        "7d",    "12",   "\"a b\"", "*.log", "use",      "skip", "jump", "any",
      "tier:hdd", "tier:", "fs1",  "cold",    "\"",    "x\\\"",    "1e3",  "\t"};
  for (int i = 0; i < 20000; ++i) {
    std::string text;
    size_t n = rng() % 7;
    for (size_t k = 0; k < n; ++k) text += (k ? " " : "") + vocab[rng() % vocab.size()];
    ParsedRule p = parse_rule(text);
    if (p.rule) {
      ParsedRule again = parse_rule(format_rule(*p.rule));
      ASSERT_TRUE(again.rule) << text;
      ASSERT_EQ(*again.rule, *p.rule) << text;
    } else {
      ASSERT_FALSE(p.error.message.empty()) << text;
      ASSERT_LE(p.error.word, n + 1) << text;
      std::string shown = describe_rule_error(text, p.error);
      ASSERT_EQ(std::count(shown.begin(), shown.end(), '\n'),
                2 + std::count(text.begin(), text.end(), '\n'))
          << text;
    }
  }
}

// ---- glob --------------------------------------------------------------------------------

TEST(ChainGlob, Semantics) {
  EXPECT_TRUE(chain_glob_match("/home/*", "/home/a/b/c.txt"));  // '*' crosses '/'
  EXPECT_TRUE(chain_glob_match("*.log", "/var/log/x.log"));
  EXPECT_FALSE(chain_glob_match("*.log", "/var/log/x.log.1"));
  EXPECT_TRUE(chain_glob_match("?.txt", "a.txt"));
  EXPECT_FALSE(chain_glob_match("?.txt", "ab.txt"));
  EXPECT_TRUE(chain_glob_match("[ab]*", "bz"));
  EXPECT_TRUE(chain_glob_match("*", ".hidden"));
  EXPECT_TRUE(chain_glob_match("a\\*b", "a*b"));
  EXPECT_FALSE(chain_glob_match("a\\*b", "axb"));
  EXPECT_FALSE(chain_glob_match("/home", "/home/a"));  // the whole text
}

// ---- evaluation --------------------------------------------------------------------------

Uuid id_of(uint8_t n) {
  Uuid id;
  id.bytes[15] = n;
  return id;
}

// Backend `n` named NAME on server `server` (a small number) of tier TIER.
BackendFacts backend(uint8_t n, std::string name, std::string tier, uint8_t server,
                     uint64_t free_bytes = 1000) {
  BackendFacts b;
  b.id = id_of(n);
  b.name = std::move(name);
  b.tier = std::move(tier);
  b.server = id_of(100 + server);
  b.server_name = "fs" + std::to_string(server);
  b.free_bytes = free_bytes;
  return b;
}

Chain chain(std::string name, uint32_t copies, std::vector<std::string> rules) {
  Chain c{std::move(name), copies, {}};
  for (const auto& text : rules) c.rules.push_back(parsed(text));
  return c;
}

std::map<std::string, Chain> chains(std::vector<Chain> list) {
  std::map<std::string, Chain> out;
  for (auto& c : list) out.emplace(c.name, std::move(c));
  return out;
}

FileFacts file(uint64_t size = 100, std::string path = "/data/a.txt") {
  FileFacts f;
  f.size = size;
  f.path = std::move(path);
  f.name = f.path.substr(f.path.rfind('/') + 1);
  return f;
}

// The names of the chosen backends.
std::vector<std::string> chosen(const Evaluation& ev, const std::vector<BackendFacts>& backends) {
  std::vector<std::string> out;
  for (const Uuid& id : ev.backends)
    for (const auto& b : backends)
      if (b.id == id) out.push_back(b.name);
  return out;
}

using Names = std::vector<std::string>;

TEST(ChainEval, OneCopy) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "ssd", 1), backend(2, "fs2-b1", "hdd", 2)};
  auto cs = chains({chain("default", 1, {"size > 1G use tier:hdd", "use tier:ssd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(100), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs1-b1"});
  EXPECT_TRUE(ev.complete());
  EXPECT_EQ(ev.chain, "default");
  EXPECT_EQ(ev.copies, 1u);
  ASSERT_EQ(ev.steps.size(), 2u);
  EXPECT_EQ(ev.steps[0].chain, "default");
  EXPECT_EQ(ev.steps[0].position, 1u);
  EXPECT_EQ(ev.steps[0].rule, "size > 1G use tier:hdd");
  EXPECT_FALSE(ev.steps[0].matched);
  EXPECT_EQ(ev.steps[0].outcome, "no match (size is 100)");
  EXPECT_TRUE(ev.steps[1].matched);
  EXPECT_EQ(ev.steps[1].outcome, "copy on fs1-b1");

  ev = evaluate_chains(cs, "default", file(uint64_t{2} << 30), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs2-b1"});
  EXPECT_EQ(ev.steps.size(), 1u);  // stops once the copy is placed
  EXPECT_TRUE(ev.complete());
}

TEST(ChainEval, TwoCopiesOnTwoServersEvenWhenOneServerHasMoreFreeSpace) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "hdd", 1, 9000),
                                  backend(2, "fs1-b2", "hdd", 1, 8000),
                                  backend(3, "fs2-b1", "hdd", 2, 100)};
  auto cs = chains({chain("default", 2, {"use tier:hdd", "use tier:hdd", "use tier:hdd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), (Names{"fs1-b1", "fs2-b1"}));
  EXPECT_TRUE(ev.complete());
  EXPECT_EQ(ev.steps.size(), 2u);
}

TEST(ChainEval, SameServerOnlyWhenNoOtherServerCanTakeOne) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "hdd", 1, 100),
                                  backend(2, "fs1-b2", "hdd", 1, 900)};
  auto cs = chains({chain("default", 2, {"use any", "use any"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), (Names{"fs1-b2", "fs1-b1"}));
  EXPECT_TRUE(ev.complete());
  EXPECT_EQ(ev.steps[1].outcome, "copy on fs1-b1 (shares server fs1: no other server can take it)");

  // Another server that is offline does not count as one that can take a copy.
  bs.push_back(backend(3, "fs2-b1", "hdd", 2, 5000));
  bs.back().usable = false;
  bs.back().unusable_why = "server fs2 is offline";
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), (Names{"fs1-b2", "fs1-b1"}));
  EXPECT_TRUE(ev.complete());
}

TEST(ChainEval, NMatchesAreNCopies) {
  std::vector<BackendFacts> bs = {backend(1, "a", "ssd", 1), backend(2, "b", "hdd", 2),
                                  backend(3, "c", "hdd", 3)};
  auto cs = chains({chain(
      "default", 3,
      {"use tier:ssd", "name ~ *.txt use tier:hdd", "size > 1M use tier:hdd", "use tier:hdd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(ev.backends.size(), 3u);
  EXPECT_TRUE(ev.complete());
  EXPECT_EQ(ev.steps.size(), 4u);
  EXPECT_FALSE(ev.steps[2].matched);
}

TEST(ChainEval, Skip) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "hdd", 1, 9000),
                                  backend(2, "fs2-b1", "hdd", 2, 100)};
  auto cs = chains({chain("default", 1, {"skip fs1-b1", "use tier:hdd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs2-b1"});
  EXPECT_EQ(ev.steps[0].outcome, "skip fs1-b1");
  EXPECT_TRUE(ev.complete());

  // A skipped backend named by `use` is a problem, not a silent substitute.
  cs = chains({chain("default", 1, {"skip tier:hdd", "use fs1-b1", "use any"})});
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(ev.steps[0].outcome, "skip fs1-b1, fs2-b1");
  EXPECT_EQ(ev.steps[1].outcome, "no usable backend for fs1-b1 (fs1-b1: skipped)");
  EXPECT_EQ(ev.steps[2].outcome, "no usable backend for any (fs1-b1: skipped; fs2-b1: skipped)");
  EXPECT_TRUE(ev.backends.empty());
  EXPECT_EQ(ev.problems,
            (Names{"chain default rule 2 (use fs1-b1): no usable backend (fs1-b1: skipped)",
                   "chain default rule 3 (use any): no usable backend (fs1-b1: skipped; fs2-b1: "
                   "skipped)",
                   "chain default wants 1 copy, the rules place 0"}));
  EXPECT_FALSE(ev.complete());

  // A skip whose condition fails skips nothing; skipping nothing is no problem.
  cs = chains({chain("default", 1, {"size > 1G skip fs2-b1", "skip nosuch", "use fs2-b1"})});
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs2-b1"});
  EXPECT_EQ(ev.steps[1].outcome, "skip nosuch: backend 'nosuch' does not exist");
  EXPECT_TRUE(ev.complete());
}

TEST(ChainEval, Jump) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "ssd", 1), backend(2, "fs2-b1", "hdd", 2),
                                  backend(3, "fs3-b1", "archive", 3)};
  auto cs = chains({chain("default", 1, {"skip fs3-b1", "age > 30d jump cold", "use tier:ssd"}),
                    chain("cold", 2, {"use tier:hdd", "use any"})});
  FileFacts f = file();
  f.age_s = 31 * 86400;
  Evaluation ev = evaluate_chains(cs, "default", f, bs);
  // Never returns; copies now come from `cold`; the skip still holds.
  EXPECT_EQ(chosen(ev, bs), (Names{"fs2-b1", "fs1-b1"}));
  EXPECT_EQ(ev.chain, "default");
  EXPECT_EQ(ev.copies, 2u);
  ASSERT_EQ(ev.steps.size(), 4u);
  EXPECT_EQ(ev.steps[1].outcome, "jump to cold");
  EXPECT_EQ(ev.steps[2].chain, "cold");
  EXPECT_EQ(ev.steps[2].position, 1u);
  EXPECT_TRUE(ev.complete());

  f.age_s = 30 * 86400;  // not older than 30d
  ev = evaluate_chains(cs, "default", f, bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs1-b1"});
  EXPECT_EQ(ev.steps[1].outcome, "no match (age is 30d)");
  EXPECT_EQ(ev.copies, 1u);
}

TEST(ChainEval, JumpLoopAndMissingChain) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "ssd", 1)};
  auto cs = chains(
      {chain("default", 1, {"jump a"}), chain("a", 1, {"size < 1 use any", "jump default"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(ev.problems,
            (Names{"chain a rule 2 (jump default): jump loop (default -> a -> default)",
                   "chain a wants 1 copy, the rules place 0"}));
  EXPECT_EQ(ev.steps.back().outcome, "jump to default: loop");
  EXPECT_FALSE(ev.complete());

  cs = chains({chain("self", 1, {"jump self"})});
  ev = evaluate_chains(cs, "self", file(), bs);
  EXPECT_EQ(ev.problems.front(), "chain self rule 1 (jump self): jump loop (self -> self)");

  cs = chains({chain("default", 1, {"jump nosuch", "use any"})});
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(ev.steps.size(), 1u);  // evaluation stops
  EXPECT_EQ(ev.steps[0].outcome, "jump to nosuch: no such chain");
  EXPECT_EQ(ev.problems, (Names{"chain default rule 1 (jump nosuch): chain 'nosuch' does not exist",
                                "chain default wants 1 copy, the rules place 0"}));

  ev = evaluate_chains(cs, "missing", file(), bs);
  EXPECT_EQ(ev.problems, Names{"chain 'missing' does not exist"});
  EXPECT_TRUE(ev.steps.empty());
  EXPECT_FALSE(ev.complete());
}

TEST(ChainEval, UnusableBackendsAreReportedNeverSubstituted) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "ssd", 1), backend(2, "fs3-b1", "hdd", 3)};
  bs[1].usable = false;
  bs[1].unusable_why = "server fs3 is offline";

  auto cs = chains({chain("default", 1, {"use tier:hdd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_TRUE(ev.backends.empty());
  EXPECT_EQ(ev.steps[0].outcome, "no usable backend for tier:hdd (fs3-b1: server fs3 is offline)");
  EXPECT_EQ(ev.problems,
            (Names{"chain default rule 1 (use tier:hdd): no usable backend (fs3-b1: server fs3 is "
                   "offline)",
                   "chain default wants 1 copy, the rules place 0"}));
  EXPECT_FALSE(ev.complete());

  cs = chains({chain("default", 1, {"use fs3-b1", "use fs1-b1"})});
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs1-b1"});  // a later rule may still place the copy
  EXPECT_EQ(ev.problems, Names{"chain default rule 1 (use fs3-b1): no usable backend (fs3-b1: "
                               "server fs3 is offline)"});
  EXPECT_FALSE(ev.complete());  // the unmet rule keeps the old copy from being dropped

  bs[1].unusable_why = "";
  bs[0].usable = false;
  bs[0].unusable_why = "full";
  cs = chains({chain("default", 1, {"use any"})});
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(ev.problems.front(),
            "chain default rule 1 (use any): no usable backend (fs1-b1: full; fs3-b1: unusable)");

  cs = chains({chain("default", 1, {"use nosuch", "use tier:tape"})});
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(ev.steps[0].outcome, "backend 'nosuch' does not exist");
  EXPECT_EQ(ev.problems,
            (Names{"chain default rule 1 (use nosuch): backend 'nosuch' does not exist",
                   "chain default rule 2 (use tier:tape): tier tape has no backend",
                   "chain default wants 1 copy, the rules place 0"}));
  cs = chains({chain("default", 1, {"use any"})});
  ev = evaluate_chains(cs, "default", file(), {});
  EXPECT_EQ(ev.problems.front(), "chain default rule 1 (use any): there is no backend");
}

TEST(ChainEval, TierPicksAUsableBackendWithoutAProblem) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "hdd", 1, 9000),
                                  backend(2, "fs2-b1", "hdd", 2, 100)};
  bs[0].usable = false;
  bs[0].unusable_why = "server fs1 is offline";
  auto cs = chains({chain("default", 1, {"use tier:hdd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs2-b1"});
  EXPECT_TRUE(ev.problems.empty());
  EXPECT_TRUE(ev.complete());
}

TEST(ChainEval, NeverTwoCopiesOnOneBackend) {
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "hdd", 1)};
  auto cs = chains({chain("default", 2, {"use fs1-b1", "use fs1-b1"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs1-b1"});
  EXPECT_EQ(ev.problems,
            (Names{"chain default rule 2 (use fs1-b1): no usable backend (fs1-b1: already chosen)",
                   "chain default wants 2 copies, the rules place 1"}));
}

TEST(ChainEval, PreferenceOrder) {
  // holds_current beats more free space (sticky), but not failure domains.
  std::vector<BackendFacts> bs = {backend(1, "fs1-b1", "hdd", 1, 9000),
                                  backend(2, "fs2-b1", "hdd", 2, 100)};
  bs[1].holds_current = true;
  auto cs = chains({chain("default", 1, {"use tier:hdd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), Names{"fs2-b1"});
  EXPECT_EQ(ev.steps[0].outcome, "copy on fs2-b1 (holds a current copy)");

  bs.push_back(backend(3, "fs2-b2", "hdd", 2, 50));
  bs.back().holds_current = true;
  cs = chains({chain("default", 2, {"use tier:hdd", "use tier:hdd"})});
  ev = evaluate_chains(cs, "default", file(), bs);
  EXPECT_EQ(chosen(ev, bs), (Names{"fs2-b1", "fs1-b1"}));  // not fs2-b2: same server

  // Then the lowest load, then the lowest UUID; the input order does not matter.
  std::vector<BackendFacts> even = {backend(7, "z", "hdd", 1, 500), backend(5, "y", "hdd", 2, 500),
                                    backend(6, "x", "hdd", 3, 500)};
  cs = chains({chain("default", 1, {"use any"})});
  EXPECT_EQ(chosen(evaluate_chains(cs, "default", file(), even), even), Names{"y"});
  std::reverse(even.begin(), even.end());
  EXPECT_EQ(chosen(evaluate_chains(cs, "default", file(), even), even), Names{"y"});
  for (auto& b : even) b.load = b.name == "z" ? 0.5 : b.name == "x" ? 0.7 : 0.9;
  EXPECT_EQ(chosen(evaluate_chains(cs, "default", file(), even), even), Names{"z"});

  // About equally free (within a quarter of a power of two): the load decides; clearly
  // more free space wins however loaded.
  std::vector<BackendFacts> near = {backend(1, "roomy-busy", "hdd", 1, 1100),
                                    backend(2, "idle", "hdd", 2, 1030),
                                    backend(3, "half", "hdd", 3, 600)};
  near[0].load = 40;
  near[1].load = 1;
  EXPECT_EQ(chosen(evaluate_chains(cs, "default", file(), near), near), Names{"idle"});
  near[2].load = 0;
  near[1].free_bytes = 700;
  EXPECT_EQ(chosen(evaluate_chains(cs, "default", file(), near), near), Names{"roomy-busy"});
}

TEST(ChainEval, ConditionsAtBoundaries) {
  std::vector<BackendFacts> bs = {backend(1, "b", "hdd", 1)};
  auto matches = [&](const std::string& rule, const FileFacts& f) {
    auto cs = chains({chain("c", 1, {rule})});
    return evaluate_chains(cs, "c", f, bs).steps.at(0).matched;
  };
  FileFacts f = file(uint64_t{1} << 30, "/home/ann/docs/report final.pdf");
  EXPECT_FALSE(matches("size > 1G use any", f));
  EXPECT_TRUE(matches("size >= 1G use any", f));
  EXPECT_TRUE(matches("size <= 1G use any", f));
  EXPECT_FALSE(matches("size < 1G use any", f));
  EXPECT_TRUE(matches("size = 1024M use any", f));
  EXPECT_FALSE(matches("size != 1G use any", f));
  EXPECT_TRUE(matches("size > 1073741823 use any", f));

  f.age_s = 7 * 86400;
  f.atime_s = 3600;
  EXPECT_FALSE(matches("age > 7d use any", f));
  EXPECT_TRUE(matches("age >= 1w use any", f));
  EXPECT_TRUE(matches("age > 604799s use any", f));
  EXPECT_TRUE(matches("atime <= 1h use any", f));
  EXPECT_FALSE(matches("atime < 60m use any", f));
  EXPECT_TRUE(matches("age > 0 use any", f));

  f.accesses = 5;
  f.uid = 1000;
  f.gid = 100;
  EXPECT_TRUE(matches("accesses >= 5 use any", f));
  EXPECT_FALSE(matches("accesses > 5 use any", f));
  EXPECT_TRUE(matches("uid = 1000 use any", f));
  EXPECT_FALSE(matches("uid != 1000 use any", f));
  EXPECT_TRUE(matches("gid < 101 use any", f));

  EXPECT_TRUE(matches("path ~ /home/* use any", f));  // '*' crosses '/'
  EXPECT_TRUE(matches("path ~ *.pdf use any", f));
  EXPECT_FALSE(matches("path ~ /home/*/docs use any", f));
  EXPECT_TRUE(matches("path !~ /srv/* use any", f));
  EXPECT_FALSE(matches("path !~ /home/* use any", f));
  EXPECT_TRUE(matches("name ~ \"report *\" use any", f));
  EXPECT_TRUE(matches("name ~ *.pdf use any", f));
  EXPECT_FALSE(matches("name ~ docs* use any", f));  // the last component only
  EXPECT_TRUE(matches("name !~ *.tmp use any", f));
  EXPECT_TRUE(matches("name = \"report final.pdf\" use any", f));
  EXPECT_FALSE(matches("name = *.pdf use any", f));  // = is a plain comparison
  EXPECT_TRUE(matches("name != *.pdf use any", f));
}

TEST(ChainEval, CopiesReachedByEarlierChainStopAtJump) {
  std::vector<BackendFacts> bs = {backend(1, "a", "ssd", 1), backend(2, "b", "hdd", 2)};
  auto cs = chains({chain("default", 2, {"use tier:ssd", "jump one", "use any"}),
                    chain("one", 1, {"use tier:hdd"})});
  Evaluation ev = evaluate_chains(cs, "default", file(), bs);
  // `one` wants one copy and `default` already placed it.
  EXPECT_EQ(chosen(ev, bs), Names{"a"});
  EXPECT_EQ(ev.copies, 1u);
  EXPECT_EQ(ev.steps.size(), 2u);
  EXPECT_TRUE(ev.complete());
}

}  // namespace
}  // namespace zhsm
