// The one way zhsm code includes Boost.Asio. Boost 1.74's awaitable.hpp uses
// std::exchange without including <utility>, so it must come first; C++20
// coroutine support (co_spawn, use_awaitable) comes along.
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace zhsm {
namespace asio = boost::asio;
using asio::awaitable;
using asio::ip::tcp;
}  // namespace zhsm
