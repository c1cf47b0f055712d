// Metrics in Prometheus text format, served over HTTP at /metrics by every daemon.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/asio.h"

namespace zhsm {

// A registry of counters and gauges. Thread-safe.
class Metrics {
 public:
  // Declares a metric once: type is "counter" or "gauge".
  void describe(const std::string& name, const std::string& type, const std::string& help);
  // Adds to a counter; `labels` is the inside of {...}, e.g. `op="lookup"`.
  void add(const std::string& name, double value = 1, const std::string& labels = "");
  // Sets a gauge.
  void set(const std::string& name, double value, const std::string& labels = "");
  // Runs before each render, to refresh gauges that are cheaper to read on demand.
  void on_scrape(std::function<void(Metrics&)> fn);
  // The whole registry in Prometheus text exposition format.
  std::string render();

 private:
  struct Family {
    std::string type;
    std::string help;
    std::map<std::string, double> values;  // labels -> value
  };
  std::mutex mu_;  // guards families_ and scrapers_
  std::map<std::string, Family> families_;
  std::vector<std::function<void(Metrics&)>> scrapers_;
};

// A minimal HTTP/1.0 server answering GET /metrics (anything else: 404).
class MetricsServer {
 public:
  MetricsServer(asio::io_context& io, std::string bind, Metrics& metrics);
  ~MetricsServer();
  void start();  // throws if the address cannot be bound
  uint16_t port() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace zhsm
