// Grouped commits (see group_commit.h).
#include "controller/group_commit.h"

#include <vector>

#include "common/error.h"

namespace zhsm {

GroupCommit::GroupCommit(MetaStore& store, size_t max_group)
    : store_(store), max_group_(max_group == 0 ? 1 : max_group) {}

InodeAttr GroupCommit::commit(const CommitArgs& args) {
  Slot mine;
  mine.args = &args;
  std::unique_lock lock(mu_);
  queue_.push_back(&mine);
  while (!mine.done) {
    if (busy_) {  // another thread carries a group; ours may be in it, or in the next
      cv_.wait(lock);
      continue;
    }
    // This thread carries the next group: everything waiting, oldest first.
    busy_ = true;
    std::vector<Slot*> group;
    while (!queue_.empty() && group.size() < max_group_) {
      group.push_back(queue_.front());
      queue_.pop_front();
    }
    lock.unlock();
    std::vector<const CommitArgs*> batch;
    batch.reserve(group.size());
    for (const Slot* s : group) batch.push_back(s->args);
    std::vector<CommitOutcome> out;
    try {
      out = store_.commit_data_batch(batch);
    } catch (...) {
      out.assign(group.size(), CommitOutcome{std::nullopt, std::current_exception()});
    }
    lock.lock();
    for (size_t i = 0; i < group.size(); ++i) {
      group[i]->outcome = i < out.size() ? std::move(out[i]) : CommitOutcome{};
      if (!group[i]->outcome.attr && !group[i]->outcome.error)
        group[i]->outcome.error = std::make_exception_ptr(
            Error(Errc::internal, "commitData: the store gave no outcome for a commit"));
      group[i]->done = true;
    }
    ++counts_.groups;
    counts_.commits += group.size();
    busy_ = false;
    cv_.notify_all();
  }
  lock.unlock();
  if (mine.outcome.error) std::rethrow_exception(mine.outcome.error);
  return *mine.outcome.attr;
}

GroupCommit::Counts GroupCommit::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace zhsm
