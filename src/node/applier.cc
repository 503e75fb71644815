#include "node/applier.h"

#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "paxos/membership.h"

namespace synod::node {
namespace {

size_t PayloadBytes(const Batch& batch) {
  size_t bytes = 0;
  for (const Command& c : batch.commands) bytes += c.payload.size();
  return bytes;
}

}  // namespace

int NewEventFd() {
  const int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    spdlog::critical("applier: eventfd failed: {}", std::strerror(errno));
    std::abort();
  }
  return fd;
}

Applier::Applier(LedgerApp* app, size_t inline_bytes)
    : app_(app), inline_bytes_(inline_bytes), wake_fd_(NewEventFd()), thread_([this] { Run(); }) {}

Applier::~Applier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  ::close(wake_fd_);
}

void Applier::Signal() {
  const uint64_t one = 1;
  // Cannot fail short of a counter at 2^64-2 (Collect drains it) or a closed fd.
  (void)!::write(wake_fd_, &one, sizeof one);
}

// A slot at or below the applied one (applied before a restart, or inside a snapshot installed
// meanwhile) is skipped: LedgerApp::Apply checks under its lock.
Result<Applier::Applied> Applier::ApplyOne(LedgerApp* app, Decision d, size_t payload_bytes) {
  Applied a;
  a.decision = std::move(d);
  a.payload_bytes = payload_bytes;
  const Decision& decision = a.decision;
  const auto started = std::chrono::steady_clock::now();
  const Batch* batch = decision.batch.get();
  Batch ledger_batch;
  for (size_t i = 0; i < batch->commands.size(); ++i) {
    if (!IsMembershipPayload(batch->commands[i].payload)) a.index.push_back(i);
  }
  if (a.index.size() != batch->commands.size()) {
    ledger_batch.timestamp_ns = batch->timestamp_ns;
    for (size_t i : a.index) ledger_batch.commands.push_back(batch->commands[i]);
    batch = &ledger_batch;
  }
  auto results = app->Apply(decision.slot, *batch, &a.skipped);
  if (!results.ok()) {
    spdlog::error("applying slot {} failed: {}", decision.slot, results.status().ToString());
    return results.status();
  }
  if (a.skipped) return a;
  SYNOD_CHECK(results.value().size() == a.index.size());
  a.results = std::move(results.value());
  a.apply_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count();
  return a;
}

Status Applier::Submit(Decision d, std::vector<Applied>* done) {
  const size_t bytes = PayloadBytes(*d.batch);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    if (!queue_.empty() || busy_ || bytes > inline_bytes_) {
      queue_.emplace_back(std::move(d), bytes);
      wake_.notify_one();
      return Status::Ok();
    }
  }
  // The thread is idle and only this caller queues, so it stays idle while we apply.
  auto applied = ApplyOne(app_, std::move(d), bytes);
  if (!applied.ok()) return applied.status();
  done->push_back(std::move(applied.value()));
  return Status::Ok();
}

Status Applier::Collect(std::vector<Applied>* done) {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t count;
  while (::read(wake_fd_, &count, sizeof count) > 0) {
  }
  for (Applied& a : done_) done->push_back(std::move(a));
  done_.clear();
  return error_;
}

void Applier::DropThrough(Slot slot) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!queue_.empty() && queue_.front().first.slot <= slot) queue_.pop_front();
}

bool Applier::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty() && !busy_ && done_.empty();
}

void Applier::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || (!queue_.empty() && error_.ok()); });
    if (stop_) return;
    auto [d, bytes] = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    auto applied = ApplyOne(app_, std::move(d), bytes);
    lock.lock();
    busy_ = false;
    // Written under mu_, and Collect drains it under mu_ before taking done_: a result is
    // never left in done_ with the counter at zero.
    Signal();
    if (!applied.ok()) {
      error_ = applied.status();
      continue;
    }
    done_.push_back(std::move(applied.value()));
  }
}

}  // namespace synod::node
