// ReleaseBatcher: the tokens of files this mount closed, released with the controller
// in the background and together. The kernel does not wait for a release anyway (it
// sends it after close() returned); gathering the ones that come within `delay` into one
// call saves the controller a request and PostgreSQL a statement for all but one of
// them. A batch goes when its first token has waited `delay`, or at once when `max`
// have gathered. What a late release costs: the token row lives a little longer (an
// unlinked file's data is reclaimed that much later; `zhsm-admin status` counts it).
//
// Thread-safe. The destructor sends what is pending and waits for the answer.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace zhsm::fuse {

class ReleaseBatcher {
 public:
  // Sends one batch (blocking; failures are its own to report). Called from the
  // batcher's thread, one batch at a time.
  using Send = std::function<void(const std::vector<uint64_t>&)>;

  ReleaseBatcher(Send send, std::chrono::milliseconds delay, size_t max);
  ~ReleaseBatcher();
  ReleaseBatcher(const ReleaseBatcher&) = delete;
  ReleaseBatcher& operator=(const ReleaseBatcher&) = delete;

  // Queues a token (0 is ignored).
  void add(uint64_t token_id);
  // Sends everything queued so far and returns once it has been sent.
  void flush();
  // Tokens queued or being sent.
  size_t pending();

 private:
  void loop();

  const Send send_;
  const std::chrono::milliseconds delay_;
  const size_t max_;
  std::mutex mu_;
  std::condition_variable wake_;   // the loop: work, a flush, or the end
  std::condition_variable sent_;   // flush(): a batch was sent
  std::vector<uint64_t> queue_;
  std::chrono::steady_clock::time_point first_;  // when queue_'s first token came
  size_t sending_ = 0;      // tokens of the batch being sent
  uint64_t flushes_ = 0;    // flush requests made
  uint64_t flushed_ = 0;    // flush requests done
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace zhsm::fuse
