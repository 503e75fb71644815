#include "node/applier.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "paxos/membership.h"

namespace synod::node {
namespace {

size_t PayloadBytes(const Batch& batch) {
  size_t bytes = 0;
  for (const Command& c : batch.commands) bytes += c.payload.size();
  return bytes;
}

}  // namespace

Applier::Applier(LedgerApp* app, size_t inline_bytes)
    : app_(app), inline_bytes_(inline_bytes), thread_([this] { Run(); }) {}

Applier::~Applier() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

Result<Applier::Applied> Applier::ApplyOne(LedgerApp* app, Decision d) {
  Applied a;
  a.decision = std::move(d);
  const Decision& decision = a.decision;
  if (decision.slot <= app->applied_slot()) {
    a.skipped = true;
    return a;
  }
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
  // Checked again under the ledger's lock: the loop may install a snapshot past this slot
  // between the check above and the lock.
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!error_.ok()) return error_;
    if (!queue_.empty() || busy_ || PayloadBytes(*d.batch) > inline_bytes_) {
      queue_.push_back(std::move(d));
      wake_.notify_one();
      return Status::Ok();
    }
  }
  // The thread is idle and only this caller queues, so it stays idle while we apply.
  auto applied = ApplyOne(app_, std::move(d));
  if (!applied.ok()) return applied.status();
  done->push_back(std::move(applied.value()));
  return Status::Ok();
}

Status Applier::Collect(std::vector<Applied>* done) {
  std::lock_guard<std::mutex> lock(mu_);
  for (Applied& a : done_) done->push_back(std::move(a));
  done_.clear();
  return error_;
}

void Applier::DropThrough(Slot slot) {
  std::lock_guard<std::mutex> lock(mu_);
  while (!queue_.empty() && queue_.front().slot <= slot) queue_.pop_front();
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
    Decision d = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    auto applied = ApplyOne(app_, std::move(d));
    lock.lock();
    busy_ = false;
    if (!applied.ok()) {
      error_ = applied.status();
      continue;
    }
    done_.push_back(std::move(applied.value()));
  }
}

}  // namespace synod::node
