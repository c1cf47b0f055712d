// RequestStats: how often each operation ran and for how long in all, counted without a
// lock (a FUSE request must not wait for another's bookkeeping, nor allocate for it).
// Operations are named by string literals, whose address is the key: the same name
// spelled in two places may take two slots, which rows() adds up. Up to kSlots names;
// later ones are counted as "other". Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace zhsm::fuse {

class RequestStats {
 public:
  // `name` must live as long as this (a string literal).
  void add(const char* name, std::chrono::steady_clock::duration took) noexcept;

  struct Row {
    std::string name;
    uint64_t count = 0;
    double seconds = 0;
  };
  // One row per name, in the order the names were first counted.
  std::vector<Row> rows() const;

  static constexpr size_t kSlots = 64;

 private:
  struct Slot {
    std::atomic<const char*> name{nullptr};
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> ns{0};
  };
  std::array<Slot, kSlots> slots_;
  Slot other_;
};

}  // namespace zhsm::fuse
