// File resolve chains: the rule language and its evaluation (doc/architecture.md, "File
// resolve chains"). A chain is an ordered list of rules; a rule is an optional condition
// (attribute, operator, value) and an action (use a destination, skip a destination, jump
// to another chain). Evaluating the chains for one file gives the backends its data should
// live on, a trace of every rule looked at (for `zhsm-admin why`), and the problems that kept
// a rule from being met. Pure: no clock, no I/O; the caller supplies the facts.
//
// Written form of a rule, one line, words separated by blanks:
//
//   [ATTRIBUTE OPERATOR VALUE] ACTION TARGET
//
//   ATTRIBUTE  size | path | name | age | atime | accesses | uid | gid
//   OPERATOR   < <= > >= = != | ~ (glob match) | !~ (glob does not match)
//   VALUE      size: 0, 4096, 10K, 1.5M, 2G, 1T, 1P (powers of 1024; k m g t p and
//              KiB MiB GiB TiB PiB also; decimals are rounded half up to whole bytes)
//              age, atime: 30s, 10m, 12h, 7d, 2w (time since mtime, since atime; a unit is
//              required except for 0)
//              accesses, uid, gid: a non-negative integer
//              path, name: a glob (fnmatch; in `path`, `*` also matches '/');
//              quote it with "..." when it holds blanks; inside quotes \" is a quote,
//              \\ a backslash, and any other backslash stays (a glob's own escape, \*)
//   ACTION     use DEST | skip DEST | jump CHAIN
//   DEST       a backend name | tier:LABEL | any
//
// Without a condition the rule always matches: `use tier:ssd`. Globs take only ~ and !~,
// and = and != compare them as plain strings; numbers take every operator but ~ and !~.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/uuid.h"

namespace zhsm {

enum class ChainAttr { kNone, kSize, kPath, kName, kAge, kAtime, kAccesses, kUid, kGid };
enum class ChainOp { kLess, kLessEq, kGreater, kGreaterEq, kEqual, kNotEqual, kGlob, kNotGlob };
enum class ChainAction { kUse, kSkip, kJump };

struct ChainRule {
  ChainAttr attr = ChainAttr::kNone;  // kNone: no condition, always matches
  ChainOp op = ChainOp::kEqual;
  std::string text_value;  // path and name: the glob or string
  uint64_t number = 0;     // size in bytes; age and atime in seconds; accesses, uid, gid
  ChainAction action = ChainAction::kUse;
  std::string target;      // use/skip: "any", "tier:LABEL" or a backend name; jump: a chain

  bool operator==(const ChainRule&) const = default;
};

// A parse failure: what is wrong and the 1-based word it is about (0 = the whole rule; one
// past the last word = a word that is missing).
struct RuleError {
  std::string message;  // e.g. "unknown attribute 'sise' (expected size, path, ...)"
  size_t word = 0;
};

// Parses one rule in its written form. Never throws.
struct ParsedRule {
  std::optional<ChainRule> rule;
  RuleError error;  // when !rule
};
ParsedRule parse_rule(std::string_view text);

// The canonical written form: parse_rule(format_rule(r)).rule == r. Sizes and ages are
// written in the largest unit that divides them exactly ("size > 1G", "age >= 7d").
std::string format_rule(const ChainRule& rule);

// A parse failure as the tools print it, three lines joined by '\n' (no final newline): the
// rule, a caret line under the bad word ("^^^^"; one '^' past the end for a missing word),
// and "word N: MESSAGE" (just MESSAGE for word 0).
std::string describe_rule_error(std::string_view text, const RuleError& error);

struct Chain {
  std::string name;
  uint32_t copies = 1;  // wanted copies: evaluation stops once this many were placed
  std::vector<ChainRule> rules;
  // Striping: the first copy of data object i of a file goes, among the backends the
  // first `use` may choose and none of which holds a copy yet, to the (i mod stripe)-th
  // best, so a large file's objects spread over up to `stripe` backends.
  uint32_t stripe = 1;
  uint32_t ack = 1;  // a close of a file evaluated from this chain waits for this many copies
};

// What evaluation knows of a file.
struct FileFacts {
  uint64_t size = 0;
  std::string path;       // absolute inside the namespace, "/a/b"
  std::string name;       // last component of path
  uint64_t age_s = 0;     // seconds since mtime
  uint64_t atime_s = 0;   // seconds since atime
  uint64_t accesses = 0;  // opens over the controller's access window
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t chunk_index = 0;  // the data object evaluated (for striping)
};

// What evaluation knows of a backend.
struct BackendFacts {
  Uuid id;
  std::string name;
  std::string tier;
  Uuid server;
  std::string server_name;
  bool usable = true;        // its server is live (or asleep / in maintenance: data stays);
                             // false: the backend cannot take a new copy now
  std::string unusable_why;  // "server fs2 is offline", "full", ... (when !usable)
  uint64_t free_bytes = 0;
  double load = 0;           // data requests in progress: among about equally free backends, lower wins
  bool holds_current = false;  // already holds a current copy of the object in question
  bool holds_copy = false;     // holds an outdated one (updated in place: cheaper than anew)
};

struct EvalStep {
  std::string chain;
  uint32_t position = 0;  // 1-based
  std::string rule;       // format_rule of it
  bool matched = false;
  std::string outcome;    // "copy on fs2-b1", "skip fs1-b1", "jump to cold",
                          // "no usable backend for tier:hdd (fs3-b1: server fs3 is offline)", ...
};

struct Evaluation {
  std::string chain;            // where evaluation started
  uint32_t copies = 0;          // copies wanted (of the chain evaluation ended in)
  uint32_t ack = 1;             // copies a close waits for (of that chain; at most copies)
  std::vector<Uuid> backends;   // the chosen backends, in the order the rules chose them
  std::vector<EvalStep> steps;
  std::vector<std::string> problems;  // a `use` that found no usable backend, a jump to a
                                      // missing chain or a loop, fewer copies than wanted
  // True when every wanted copy got a backend and no rule had a problem: only then may a
  // copy outside `backends` be dropped.
  bool complete() const { return problems.empty() && backends.size() >= copies; }
};

// Evaluates chain `start` (looked up in `chains` by name) for one file over `backends`.
// Rules, in order: a rule whose condition fails is passed over; `skip DEST` excludes the
// backends DEST names for the rest of the evaluation; `jump CHAIN` continues with CHAIN's
// rules (never returning; a chain reached twice is a loop: a problem, evaluation stops);
// `use DEST` adds one backend among those DEST names that are usable, not skipped and not
// chosen yet, preferring in order: one on a server that holds no chosen backend yet
// (failure domains: two copies share a server only when no other server can take one);
// one that already holds a current copy (data does not move for a change in free space);
// one that holds an outdated copy (brought up to date in place);
// the most free bytes, compared in classes a quarter of a power of two wide; among about
// equally free ones the lowest load; then the most free bytes; the lowest UUID. A `use`
// that finds none records a
// problem and never falls back to a backend DEST does not name. Evaluation stops when the
// wanted number of copies (`copies` of the chain being evaluated) is reached or the rules
// run out; then fewer copies than wanted is a problem too ("chain X wants 2 copies, the
// rules place 1", X the chain evaluation ended in). A missing `start` chain is a problem
// (copies stays 0). A jump to a missing chain is a problem and evaluation stops there. A
// `use` naming only skipped or already chosen backends is a problem like an unusable one;
// a `skip` that names no backend is not.
Evaluation evaluate_chains(const std::map<std::string, Chain>& chains, const std::string& start,
                           const FileFacts& file, const std::vector<BackendFacts>& backends);

// Glob match as rules use it (fnmatch without FNM_PATHNAME: `*` also matches '/').
bool chain_glob_match(std::string_view pattern, std::string_view text);

}  // namespace zhsm
