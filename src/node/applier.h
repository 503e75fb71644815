// Applier: applies decided slots to the ledger off the consensus loop.
//
// A slot is applied in one piece (its results and the applied slot are one RocksDB batch). A
// slot of 8,190 transfers takes about 55 ms of CPU, and 200-460 ms of wall time with three
// nodes and the load generator on two cores. Applied on the loop thread, it kept the leader
// from sending heartbeats for longer than the leader timeout: 14 leader terms in a quiet
// 10-minute transfer run (README "Node memory over 10 minutes"). Here a thread of its own
// applies the large slots, and the loop goes on receiving, persisting, sending and ticking
// meanwhile; it collects the results once per pass and answers the clients.
//
// A small slot (at most kInlineBytes of commands: a put, a few hundred KV requests) is applied
// at once on the caller's thread when nothing is queued or being applied, as before: its
// client is answered in the same pass, without a hand-over to the thread and back (put-1
// latency). Slots are applied in slot order either way: the inline path runs only when the
// thread has nothing to do, and only the caller queues.
//
// Membership commands (paxos/membership.h) are the core's: they are left out of what the
// ledger sees, and the ledger's results are mapped back to the batch's commands (`index`).
//
// An error of the ledger (a failed write) stops the thread; Collect returns it, and the node
// stops like on any storage error.
//
// The thread signals an eventfd (wake_fd()) whenever it has applied a slot or failed, so the
// loop can wait on it beside its sockets and collect at once, instead of polling.
//
// Submit, Collect, DropThrough and idle() are called from one thread (the loop).
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "node/ledger_app.h"
#include "paxos/message.h"

namespace synod::node {

class Applier {
 public:
  // Slots with at most this many payload bytes are applied inline when the thread is idle.
  static constexpr size_t kInlineBytes = 256 << 10;

  struct Applied {
    Decision decision;
    std::vector<size_t> index;         // Position in the batch of each result's command.
    std::vector<std::string> results;  // The ledger's results, one per index entry.
    uint64_t apply_ns = 0;
    size_t payload_bytes = 0;  // Of all the slot's commands, membership commands included.
    bool skipped = false;      // Applied before (a restart, or a snapshot installed meanwhile).
  };

  // `inline_bytes`: the largest slot applied inline (tests pass 0 to send every slot to the
  // thread).
  explicit Applier(LedgerApp* app, size_t inline_bytes = kInlineBytes);
  ~Applier();
  Applier(const Applier&) = delete;
  Applier& operator=(const Applier&) = delete;

  // Applies `d` now (inline, its outcome appended to *done) or queues it for the thread.
  Status Submit(Decision d, std::vector<Applied>* done);
  // Moves the thread's applied slots since the last call into *done, in slot order; the
  // thread's error, if it met one.
  Status Collect(std::vector<Applied>* done);
  // Forgets queued slots at or below `slot` (a snapshot about to be installed holds them).
  void DropThrough(Slot slot);
  // Nothing queued, nothing being applied, nothing left to collect.
  bool idle() const;
  // Readable once the thread has something for Collect (which drains it).
  int wake_fd() const { return wake_fd_; }

 private:
  static Result<Applied> ApplyOne(LedgerApp* app, Decision d, size_t payload_bytes);
  void Run();
  void Signal();  // Under mu_.

  LedgerApp* const app_;
  const size_t inline_bytes_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  const int wake_fd_;
  std::deque<std::pair<Decision, size_t>> queue_;  // With its payload bytes. Guarded by mu_,
                                                   // as are the fields below.
  std::vector<Applied> done_;
  bool busy_ = false;  // The thread is applying a slot it took off queue_.
  bool stop_ = false;
  Status error_;
  std::thread thread_;  // Last: started once the fields above exist.
};

}  // namespace synod::node
