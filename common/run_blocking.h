// run_blocking(): runs a blocking function (PostgreSQL, disk) on a thread pool and
// resumes the calling coroutine on its own executor with the result (or the
// exception it threw).
//
// A rule for every coroutine in zhsm: GCC 12 destroys some temporaries of a co_await
// full-expression twice (a lambda with non-trivial captures, a std::function or a
// std::string built inside the expression). So run_blocking takes the function by
// reference and creates no such temporary, and callers name function objects first:
//   auto work = [&] { ... };
//   auto result = co_await run_blocking(pool, work);
// `pool` is a thread pool or an executor of one (a strand on a pool runs the
// functions given to it one at a time, in the order given).
// Lambdas that capture only references or pointers are trivially destructible and
// safe inline; anything owning memory must be named before the co_await.
#pragma once

#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "common/asio.h"

namespace zhsm {

template <class Executor, class F>
awaitable<std::invoke_result_t<F&>> run_blocking(Executor pool, F& fn) {
  using R = std::invoke_result_t<F&>;
  using Slot = std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>;
  Slot result{};
  std::exception_ptr error;
  // Everything the pool task touches lives in this coroutine's frame, which stays
  // suspended until the task hands the handler back to the caller's executor.
  auto initiate = [pool, &fn, &result, &error](auto handler) {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(pool, [&fn, &result, &error, handler = std::move(handler),
                      work = std::move(work)]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
          result = true;
        } else {
          result.emplace(fn());
        }
      } catch (...) {
        error = std::current_exception();
      }
      auto executor = work.get_executor();
      asio::dispatch(executor, std::move(handler));
      work.reset();
    });
  };
  co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(initiate,
                                                                        asio::use_awaitable);
  if (error) std::rethrow_exception(error);
  if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

template <class F>
awaitable<std::invoke_result_t<F&>> run_blocking(asio::thread_pool& pool, F& fn) {
  return run_blocking(pool.get_executor(), fn);
}

}  // namespace zhsm
