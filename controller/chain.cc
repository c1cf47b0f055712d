// File resolve chains (see chain.h): the rule language's parser, its canonical formatter,
// the error display the tools print, and the evaluation of chains for one file.
#include "controller/chain.h"

#include <fnmatch.h>

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace zhsm {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// ---- words -------------------------------------------------------------------------------

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// One word of a rule: its text with quotes removed and escapes applied, and where it sits in
// the rule's text ([begin, end), quotes included).
struct Word {
  std::string text;
  size_t begin = 0;
  size_t end = 0;
};

struct Words {
  std::vector<Word> words;
  std::optional<RuleError> error;  // an unterminated quote (the word still has its span)
};

// Splits on blanks. A "..." section may sit anywhere in a word and keeps blanks; inside it
// \" is a quote and \\ a backslash, and any other backslash stays as written (so a glob's
// own escapes such as \* pass through).
Words split_words(std::string_view text) {
  Words out;
  size_t i = 0;
  while (i < text.size()) {
    if (is_blank(text[i])) {
      ++i;
      continue;
    }
    Word w;
    w.begin = i;
    bool in_quote = false;
    while (i < text.size() && (in_quote || !is_blank(text[i]))) {
      char c = text[i];
      if (c == '"') {
        in_quote = !in_quote;
        ++i;
      } else if (in_quote && c == '\\' && i + 1 < text.size() &&
                 (text[i + 1] == '"' || text[i + 1] == '\\')) {
        w.text += text[i + 1];
        i += 2;
      } else {
        w.text += c;
        ++i;
      }
    }
    w.end = i;
    out.words.push_back(std::move(w));
    if (in_quote && !out.error)
      out.error = RuleError{"unterminated quote (a closing \" is missing)", out.words.size()};
  }
  return out;
}

bool is_name(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool needs_quotes(std::string_view s) {
  return s.empty() ||
         std::any_of(s.begin(), s.end(), [](char c) { return is_blank(c) || c == '"'; });
}

std::string quote_if_needed(std::string_view s) {
  if (!needs_quotes(s)) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// ---- numbers -----------------------------------------------------------------------------

enum class NumberParse { kOk, kMalformed, kOverflow };

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "D+" or "D+.D+" times `unit`, rounded half up to a whole number.
NumberParse parse_scaled(std::string_view text, uint64_t unit, uint64_t& out) {
  size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (!all_digits(whole)) return NumberParse::kMalformed;
  if (dot != std::string_view::npos && !all_digits(frac)) return NumberParse::kMalformed;
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  if (frac.size() > 18) return NumberParse::kMalformed;  // more precision than bytes need

  unsigned __int128 value = 0;
  for (char c : whole) {
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > kMax) return NumberParse::kOverflow;
  }
  value *= unit;
  if (!frac.empty()) {
    unsigned __int128 numerator = 0, denominator = 1;
    for (char c : frac) {
      numerator = numerator * 10 + static_cast<unsigned>(c - '0');
      denominator *= 10;
    }
    value += (numerator * unit + denominator / 2) / denominator;
  }
  if (value > kMax) return NumberParse::kOverflow;
  out = static_cast<uint64_t>(value);
  return NumberParse::kOk;
}

struct Unit {
  const char* suffix;
  uint64_t factor;
};

constexpr std::array<Unit, 5> kSizeUnits = {{{"P", uint64_t{1} << 50},
                                             {"T", uint64_t{1} << 40},
                                             {"G", uint64_t{1} << 30},
                                             {"M", uint64_t{1} << 20},
                                             {"K", uint64_t{1} << 10}}};
constexpr std::array<Unit, 5> kAgeUnits = {
    {{"w", 604800}, {"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}}};

// The factor a size suffix stands for; 0 when it is none. K, k and KiB alike (powers of 1024).
uint64_t size_factor(std::string_view suffix) {
  if (suffix.empty()) return 1;
  if (suffix.size() != 1 && !(suffix.size() == 3 && suffix.substr(1) == "iB")) return 0;
  if (suffix.size() == 3 && !(suffix[0] >= 'A' && suffix[0] <= 'Z')) return 0;  // kiB: no
  char c = static_cast<char>(suffix[0] >= 'a' ? suffix[0] - 'a' + 'A' : suffix[0]);
  for (const Unit& u : kSizeUnits)
    if (u.suffix[0] == c) return u.factor;
  return 0;
}

uint64_t age_factor(std::string_view suffix) {
  for (const Unit& u : kAgeUnits)
    if (suffix == u.suffix) return u.factor;
  return 0;
}

size_t number_prefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.')) ++i;
  return i;
}

// The largest unit that divides `v` exactly; plain digits when none does.
std::string with_unit(uint64_t v, const std::array<Unit, 5>& units) {
  if (v == 0) return "0";
  for (const Unit& u : units)
    if (v % u.factor == 0) return fmt::format("{}{}", v / u.factor, u.suffix);
  return std::to_string(v);
}

std::string format_size(uint64_t bytes) { return with_unit(bytes, kSizeUnits); }
std::string format_age(uint64_t seconds) { return with_unit(seconds, kAgeUnits); }

// ---- attributes, operators, actions ------------------------------------------------------

struct AttrName {
  const char* word;
  ChainAttr attr;
};
constexpr std::array<AttrName, 8> kAttrs = {{{"size", ChainAttr::kSize},
                                             {"path", ChainAttr::kPath},
                                             {"name", ChainAttr::kName},
                                             {"age", ChainAttr::kAge},
                                             {"atime", ChainAttr::kAtime},
                                             {"accesses", ChainAttr::kAccesses},
                                             {"uid", ChainAttr::kUid},
                                             {"gid", ChainAttr::kGid}}};

struct OpName {
  const char* word;
  ChainOp op;
};
constexpr std::array<OpName, 8> kOps = {{{"<", ChainOp::kLess},
                                         {"<=", ChainOp::kLessEq},
                                         {">", ChainOp::kGreater},
                                         {">=", ChainOp::kGreaterEq},
                                         {"=", ChainOp::kEqual},
                                         {"!=", ChainOp::kNotEqual},
                                         {"~", ChainOp::kGlob},
                                         {"!~", ChainOp::kNotGlob}}};

const char* attr_word(ChainAttr a) {
  for (const auto& n : kAttrs)
    if (n.attr == a) return n.word;
  return "";
}

const char* op_word(ChainOp o) {
  for (const auto& n : kOps)
    if (n.op == o) return n.word;
  return "?";
}

const char* action_word(ChainAction a) {
  switch (a) {
    case ChainAction::kUse: return "use";
    case ChainAction::kSkip: return "skip";
    case ChainAction::kJump: return "jump";
  }
  return "?";
}

std::optional<ChainAction> parse_action(std::string_view w) {
  if (w == "use") return ChainAction::kUse;
  if (w == "skip") return ChainAction::kSkip;
  if (w == "jump") return ChainAction::kJump;
  return std::nullopt;
}

bool is_glob_attr(ChainAttr a) { return a == ChainAttr::kPath || a == ChainAttr::kName; }
bool is_glob_op(ChainOp o) { return o == ChainOp::kGlob || o == ChainOp::kNotGlob; }

const char* ops_for(ChainAttr a) {
  return is_glob_attr(a) ? "~, !~, = or !=" : "<, <=, >, >=, = or !=";
}

std::string value_hint(ChainAttr a) {
  switch (a) {
    case ChainAttr::kSize: return "a size, e.g. 4096, 10K, 1.5M, 2G";
    case ChainAttr::kPath: return "a path glob, e.g. \"/home/*\"";
    case ChainAttr::kName: return "a name glob, e.g. \"*.log\"";
    case ChainAttr::kAge:
    case ChainAttr::kAtime: return "an age, e.g. 30s, 10m, 12h, 7d, 2w";
    default: return "a whole number, e.g. 0, 5, 1000";
  }
}

RuleError error_at(size_t word, std::string message) { return RuleError{std::move(message), word}; }

// Parses the value word of a condition into `rule` (whose attr is set); an error otherwise.
std::optional<RuleError> parse_value(const Word& w, size_t index, ChainRule& rule) {
  const std::string& s = w.text;
  switch (rule.attr) {
    case ChainAttr::kPath:
    case ChainAttr::kName: rule.text_value = s; return std::nullopt;
    case ChainAttr::kSize: {
      size_t n = number_prefix(s);
      uint64_t factor = size_factor(std::string_view(s).substr(n));
      NumberParse r = factor ? parse_scaled(std::string_view(s).substr(0, n), factor, rule.number)
                             : NumberParse::kMalformed;
      if (r == NumberParse::kOverflow)
        return error_at(index, fmt::format("size '{}' is too large (more than 2^64-1 bytes)", s));
      if (r != NumberParse::kOk)
        return error_at(index,
                        fmt::format("'{}' is not a size (examples: 4096, 10K, 1.5M, 2G)", s));
      return std::nullopt;
    }
    case ChainAttr::kAge:
    case ChainAttr::kAtime: {
      size_t n = number_prefix(s);
      std::string_view suffix = std::string_view(s).substr(n);
      NumberParse r = NumberParse::kMalformed;
      if (suffix.empty()) {
        if (all_digits(s) && s.find_first_not_of('0') == std::string::npos) {
          rule.number = 0;
          r = NumberParse::kOk;
        }
      } else if (uint64_t factor = age_factor(suffix)) {
        r = parse_scaled(std::string_view(s).substr(0, n), factor, rule.number);
      }
      if (r == NumberParse::kOverflow)
        return error_at(index, fmt::format("age '{}' is too large", s));
      if (r != NumberParse::kOk)
        return error_at(index,
                        fmt::format("'{}' is not an age (a number with s, m, h, d or w, e.g. "
                                    "30s, 10m, 12h, 7d, 2w; or 0)",
                                    s));
      return std::nullopt;
    }
    case ChainAttr::kAccesses:
    case ChainAttr::kUid:
    case ChainAttr::kGid: {
      const char* what = rule.attr == ChainAttr::kAccesses ? "an access count"
                         : rule.attr == ChainAttr::kUid    ? "a uid"
                                                           : "a gid";
      uint64_t limit = rule.attr == ChainAttr::kAccesses ? kMax : uint64_t{0xffffffff};
      if (!all_digits(s))
        return error_at(index,
                        fmt::format("'{}' is not {} (a whole number, e.g. 0, 5, 1000)", s, what));
      if (parse_scaled(s, 1, rule.number) != NumberParse::kOk || rule.number > limit)
        return error_at(index,
                        fmt::format("'{}' is too large for {} (at most {})", s, what, limit));
      return std::nullopt;
    }
    case ChainAttr::kNone: break;
  }
  return error_at(index, "internal: a value without an attribute");
}

// Parses ACTION TARGET starting at word `at` (0-based) into `rule`.
std::optional<RuleError> parse_action_words(const std::vector<Word>& words, size_t at,
                                            bool after_condition, ChainRule& rule) {
  if (at >= words.size())
    return error_at(at + 1, "missing action after the condition (expected use, skip or jump)");
  auto action = parse_action(words[at].text);
  if (!action) {
    if (after_condition)
      return error_at(
          at + 1, fmt::format("unknown action '{}' (expected use, skip or jump)", words[at].text));
    return error_at(at + 1,
                    fmt::format("unknown attribute '{}' (expected size, path, name, age, atime, "
                                "accesses, uid, gid, or an action: use, skip, jump)",
                                words[at].text));
  }
  rule.action = *action;
  const char* verb = action_word(*action);
  size_t t = at + 1;
  if (t >= words.size()) {
    if (*action == ChainAction::kJump) return error_at(t + 1, "missing chain name after 'jump'");
    return error_at(t + 1, fmt::format("missing destination after '{}' (a backend name, "
                                       "tier:LABEL or any)",
                                       verb));
  }
  const std::string& target = words[t].text;
  if (*action == ChainAction::kJump) {
    if (!is_name(target))
      return error_at(t + 1, fmt::format("'{}' is not a chain name (letters, digits, '.', '_' "
                                         "and '-' only)",
                                         target));
  } else if (target.starts_with("tier:")) {
    std::string_view label = std::string_view(target).substr(5);
    if (label.empty()) return error_at(t + 1, "'tier:' needs a tier label, e.g. tier:hdd");
    if (!is_name(label))
      return error_at(t + 1, fmt::format("'{}' is not a tier label (letters, digits, '.', '_' "
                                         "and '-' only)",
                                         label));
  } else if (target != "any" && !is_name(target)) {
    return error_at(t + 1, fmt::format("'{}' is not a destination (a backend name of letters, "
                                       "digits, '.', '_' and '-', tier:LABEL or any)",
                                       target));
  }
  rule.target = target;
  if (t + 1 < words.size())
    return error_at(t + 2,
                    fmt::format("unexpected '{}' after the end of the rule", words[t + 1].text));
  return std::nullopt;
}

// Display width of bytes (UTF-8: continuation bytes take no column).
size_t columns(std::string_view s) {
  return static_cast<size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

}  // namespace

// ---- parse, format, describe -------------------------------------------------------------

ParsedRule parse_rule(std::string_view text) {
  ParsedRule out;
  Words split = split_words(text);
  if (split.error) {
    out.error = *split.error;
    return out;
  }
  const std::vector<Word>& words = split.words;
  if (words.empty()) {
    out.error = error_at(0, "empty rule (expected e.g. 'size > 1G use tier:hdd' or 'use any')");
    return out;
  }
  ChainRule rule;
  std::optional<RuleError> error;
  auto attr = std::find_if(kAttrs.begin(), kAttrs.end(),
                           [&](const AttrName& a) { return words[0].text == a.word; });
  if (attr == kAttrs.end()) {
    error = parse_action_words(words, 0, false, rule);
  } else {
    rule.attr = attr->attr;
    const char* aw = attr->word;
    auto op = words.size() > 1
                  ? std::find_if(kOps.begin(), kOps.end(),
                                 [&](const OpName& o) { return words[1].text == o.word; })
                  : kOps.end();
    if (words.size() < 2) {
      error = error_at(
          2, fmt::format("missing operator after '{}' (expected {})", aw, ops_for(rule.attr)));
    } else if (op == kOps.end()) {
      error = error_at(
          2, fmt::format("unknown operator '{}' (expected {})", words[1].text, ops_for(rule.attr)));
    } else if (is_glob_op(op->op) && !is_glob_attr(rule.attr)) {
      error = error_at(2, fmt::format("'{}' needs a path or name attribute", op->word));
    } else if (is_glob_attr(rule.attr) && !is_glob_op(op->op) && op->op != ChainOp::kEqual &&
               op->op != ChainOp::kNotEqual) {
      error = error_at(2, fmt::format("'{}' does not apply to {} (expected {})", op->word, aw,
                                      ops_for(rule.attr)));
    } else if (words.size() < 3) {
      rule.op = op->op;
      error = error_at(
          3, fmt::format("missing value after '{}' ({})", op->word, value_hint(rule.attr)));
    } else {
      rule.op = op->op;
      error = parse_value(words[2], 3, rule);
      if (!error) error = parse_action_words(words, 3, true, rule);
    }
  }
  if (error)
    out.error = *error;
  else
    out.rule = std::move(rule);
  return out;
}

std::string format_rule(const ChainRule& rule) {
  std::string out;
  if (rule.attr != ChainAttr::kNone) {
    std::string value;
    switch (rule.attr) {
      case ChainAttr::kPath:
      case ChainAttr::kName: value = quote_if_needed(rule.text_value); break;
      case ChainAttr::kSize: value = format_size(rule.number); break;
      case ChainAttr::kAge:
      case ChainAttr::kAtime: value = format_age(rule.number); break;
      default: value = std::to_string(rule.number); break;
    }
    out = fmt::format("{} {} {} ", attr_word(rule.attr), op_word(rule.op), value);
  }
  out += fmt::format("{} {}", action_word(rule.action), rule.target);
  return out;
}

std::string describe_rule_error(std::string_view text, const RuleError& error) {
  std::vector<Word> words = split_words(text).words;
  size_t from = 0, width = 1;
  bool gap = false;  // one more column before the caret: it marks a word after the end
  if (error.word >= 1 && error.word <= words.size()) {
    const Word& w = words[error.word - 1];
    from = w.begin;
    width = std::max<size_t>(1, columns(text.substr(w.begin, w.end - w.begin)));
  } else if (error.word == 0 && !words.empty()) {
    from = words.front().begin;
    width = std::max<size_t>(1, columns(text.substr(from, words.back().end - from)));
  } else if (error.word > words.size()) {
    from = text.size();
    gap = !text.empty() && !is_blank(text.back());
  }
  std::string caret;
  for (char c : text.substr(0, from)) {
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80) continue;
    caret += c == '\t' ? '\t' : ' ';
  }
  if (gap) caret += ' ';
  caret.append(width, '^');
  std::string where = error.word ? fmt::format("word {}: ", error.word) : std::string();
  return fmt::format("{}\n{}\n{}{}", text, caret, where, error.message);
}

bool chain_glob_match(std::string_view pattern, std::string_view text) {
  std::string p(pattern), t(text);
  return fnmatch(p.c_str(), t.c_str(), 0) == 0;
}

// ---- evaluation --------------------------------------------------------------------------

namespace {

bool compare(uint64_t have, ChainOp op, uint64_t want) {
  switch (op) {
    case ChainOp::kLess: return have < want;
    case ChainOp::kLessEq: return have <= want;
    case ChainOp::kGreater: return have > want;
    case ChainOp::kGreaterEq: return have >= want;
    case ChainOp::kEqual: return have == want;
    case ChainOp::kNotEqual: return have != want;
    default: return false;  // globs do not apply to numbers
  }
}

bool compare_text(const std::string& have, ChainOp op, const std::string& want) {
  switch (op) {
    case ChainOp::kGlob: return chain_glob_match(want, have);
    case ChainOp::kNotGlob: return !chain_glob_match(want, have);
    case ChainOp::kEqual: return have == want;
    case ChainOp::kNotEqual: return have != want;
    default: return false;  // order does not apply to globs
  }
}

bool condition_holds(const ChainRule& r, const FileFacts& f) {
  switch (r.attr) {
    case ChainAttr::kNone: return true;
    case ChainAttr::kSize: return compare(f.size, r.op, r.number);
    case ChainAttr::kPath: return compare_text(f.path, r.op, r.text_value);
    case ChainAttr::kName: return compare_text(f.name, r.op, r.text_value);
    case ChainAttr::kAge: return compare(f.age_s, r.op, r.number);
    case ChainAttr::kAtime: return compare(f.atime_s, r.op, r.number);
    case ChainAttr::kAccesses: return compare(f.accesses, r.op, r.number);
    case ChainAttr::kUid: return compare(f.uid, r.op, r.number);
    case ChainAttr::kGid: return compare(f.gid, r.op, r.number);
  }
  return false;
}

// The file's value of the attribute a rule tests, for "no match (...)" in a trace.
std::string fact_text(const ChainRule& r, const FileFacts& f) {
  switch (r.attr) {
    case ChainAttr::kSize: return fmt::format("size is {}", format_size(f.size));
    case ChainAttr::kPath: return fmt::format("path is {}", f.path);
    case ChainAttr::kName: return fmt::format("name is {}", f.name);
    case ChainAttr::kAge: return fmt::format("age is {}", format_age(f.age_s));
    case ChainAttr::kAtime: return fmt::format("atime is {}", format_age(f.atime_s));
    case ChainAttr::kAccesses: return fmt::format("accesses is {}", f.accesses);
    case ChainAttr::kUid: return fmt::format("uid is {}", f.uid);
    case ChainAttr::kGid: return fmt::format("gid is {}", f.gid);
    case ChainAttr::kNone: break;
  }
  return "";
}

bool names(const std::string& dest, const BackendFacts& b) {
  if (dest == "any") return true;
  if (dest.starts_with("tier:")) return b.tier == std::string_view(dest).substr(5);
  return b.name == dest;
}

// What a destination naming no backend at all is called in a problem.
std::string names_nothing(const std::string& dest) {
  if (dest == "any") return "there is no backend";
  if (dest.starts_with("tier:")) return fmt::format("tier {} has no backend", dest.substr(5));
  return fmt::format("backend '{}' does not exist", dest);
}

bool by_name(const BackendFacts* a, const BackendFacts* b) {
  return a->name != b->name ? a->name < b->name : a->id < b->id;
}

class Evaluator {
 public:
  Evaluator(const std::map<std::string, Chain>& chains, const FileFacts& file,
            const std::vector<BackendFacts>& backends)
      : chains_(chains), file_(file), backends_(backends) {}

  Evaluation run(const std::string& start) {
    ev_.chain = start;
    auto it = chains_.find(start);
    if (it == chains_.end()) {
      ev_.problems.push_back(fmt::format("chain '{}' does not exist", start));
      return std::move(ev_);
    }
    const Chain* chain = &it->second;
    const Chain* last = chain;  // the chain evaluation ended in
    std::vector<std::string> path = {chain->name};
    while (chain) {
      ev_.copies = chain->copies;
      ev_.ack = std::min(std::max<uint32_t>(chain->ack, 1), chain->copies);
      stripe_ = std::max<uint32_t>(chain->stripe, 1);
      const Chain* next = nullptr;
      bool stop = false;
      for (size_t i = 0; i < chain->rules.size() && !stop && !next; ++i) {
        if (ev_.backends.size() >= chain->copies) break;
        const ChainRule& rule = chain->rules[i];
        EvalStep step{chain->name, static_cast<uint32_t>(i + 1), format_rule(rule), false, ""};
        step.matched = condition_holds(rule, file_);
        if (!step.matched) {
          step.outcome = fmt::format("no match ({})", fact_text(rule, file_));
        } else if (rule.action == ChainAction::kSkip) {
          step.outcome = skip(rule.target);
        } else if (rule.action == ChainAction::kUse) {
          step.outcome = use(step, rule.target);
        } else {
          auto target = chains_.find(rule.target);
          if (target == chains_.end()) {
            step.outcome = fmt::format("jump to {}: no such chain", rule.target);
            problem(step, fmt::format("chain '{}' does not exist", rule.target));
            stop = true;
          } else if (std::find(path.begin(), path.end(), rule.target) != path.end()) {
            path.push_back(rule.target);
            step.outcome = fmt::format("jump to {}: loop", rule.target);
            problem(step, fmt::format("jump loop ({})", fmt::join(path, " -> ")));
            stop = true;
          } else {
            step.outcome = fmt::format("jump to {}", rule.target);
            path.push_back(rule.target);
            next = &target->second;
          }
        }
        ev_.steps.push_back(std::move(step));
      }
      last = chain;
      if (stop) break;
      chain = next;
    }
    if (ev_.backends.size() < ev_.copies)
      ev_.problems.push_back(fmt::format("chain {} wants {} {}, the rules place {}", last->name,
                                         ev_.copies, ev_.copies == 1 ? "copy" : "copies",
                                         ev_.backends.size()));
    return std::move(ev_);
  }

 private:
  void problem(const EvalStep& step, const std::string& what) {
    ev_.problems.push_back(
        fmt::format("chain {} rule {} ({}): {}", step.chain, step.position, step.rule, what));
  }

  std::string skip(const std::string& dest) {
    std::vector<const BackendFacts*> named;
    for (const BackendFacts& b : backends_)
      if (names(dest, b)) {
        named.push_back(&b);
        skipped_.insert(b.id);
      }
    if (named.empty()) return fmt::format("skip {}: {}", dest, names_nothing(dest));
    std::sort(named.begin(), named.end(), by_name);
    std::vector<std::string> list;
    for (const auto* b : named) list.push_back(b->name);
    return fmt::format("skip {}", fmt::join(list, ", "));
  }

  bool chosen(const Uuid& id) const {
    return std::find(ev_.backends.begin(), ev_.backends.end(), id) != ev_.backends.end();
  }

  std::string use(const EvalStep& step, const std::string& dest) {
    std::vector<const BackendFacts*> named, eligible;
    for (const BackendFacts& b : backends_)
      if (names(dest, b)) named.push_back(&b);
    if (named.empty()) {
      problem(step, names_nothing(dest));
      return names_nothing(dest);
    }
    std::sort(named.begin(), named.end(), by_name);
    std::vector<std::string> why;
    for (const auto* b : named) {
      if (chosen(b->id))
        why.push_back(fmt::format("{}: already chosen", b->name));
      else if (skipped_.contains(b->id))
        why.push_back(fmt::format("{}: skipped", b->name));
      else if (!b->usable)
        why.push_back(
            fmt::format("{}: {}", b->name, b->unusable_why.empty() ? "unusable" : b->unusable_why));
      else
        eligible.push_back(b);
    }
    if (eligible.empty()) {
      std::string reasons = fmt::format("{}", fmt::join(why, "; "));
      problem(step, fmt::format("no usable backend ({})", reasons));
      return fmt::format("no usable backend for {} ({})", dest, reasons);
    }
    auto shares_server = [&](const BackendFacts* b) { return used_servers_.contains(b->server); };
    // Free space by classes a quarter of a power of two wide: backends about equally free
    // are told apart by their load first, then by the exact free space.
    auto free_class = [](const BackendFacts* b) -> int {
      if (b->free_bytes == 0) return 0;
      const int width = std::bit_width(b->free_bytes);
      const int next2 = width >= 3 ? static_cast<int>((b->free_bytes >> (width - 3)) & 3) : 0;
      return width * 4 + next2;
    };
    auto better = [&](const BackendFacts* a, const BackendFacts* b) {
      if (shares_server(a) != shares_server(b)) return !shares_server(a);
      if (a->holds_current != b->holds_current) return a->holds_current;
      if (a->holds_copy != b->holds_copy) return a->holds_copy;
      if (free_class(a) != free_class(b)) return free_class(a) > free_class(b);
      if (a->load != b->load) return a->load < b->load;
      if (a->free_bytes != b->free_bytes) return a->free_bytes > b->free_bytes;
      return a->id < b->id;
    };
    const BackendFacts* best = *std::min_element(eligible.begin(), eligible.end(), better);
    // Striping: a first copy that is not there yet goes to one of the `stripe` best
    // backends, by the object's index (in UUID order, so the spread does not follow
    // the small changes of free space between one object and the next).
    auto holds = [](const BackendFacts* b) { return b->holds_current || b->holds_copy; };
    if (stripe_ > 1 && ev_.backends.empty() && std::none_of(eligible.begin(), eligible.end(), holds)) {
      std::vector<const BackendFacts*> order = eligible;
      std::sort(order.begin(), order.end(), better);
      order.resize(std::min<size_t>(stripe_, order.size()));
      std::sort(order.begin(), order.end(),
                [](const BackendFacts* a, const BackendFacts* b) { return a->id < b->id; });
      best = order[file_.chunk_index % order.size()];
    }
    std::string outcome = fmt::format("copy on {}", best->name);
    if (shares_server(best))
      outcome += fmt::format(" (shares server {}: no other server can take it)", best->server_name);
    else if (best->holds_current)
      outcome += " (holds a current copy)";
    else if (best->holds_copy)
      outcome += " (holds an outdated copy)";
    ev_.backends.push_back(best->id);
    used_servers_.insert(best->server);
    return outcome;
  }

  const std::map<std::string, Chain>& chains_;
  const FileFacts& file_;
  const std::vector<BackendFacts>& backends_;
  Evaluation ev_;
  std::set<Uuid> skipped_;
  std::set<Uuid> used_servers_;
  uint32_t stripe_ = 1;  // of the chain being evaluated
};

}  // namespace

Evaluation evaluate_chains(const std::map<std::string, Chain>& chains, const std::string& start,
                           const FileFacts& file, const std::vector<BackendFacts>& backends) {
  return Evaluator(chains, file, backends).run(start);
}

}  // namespace zhsm
