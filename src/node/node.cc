#include "node/node.h"

#include <malloc.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>
#include <random>

#include "ledger/results.h"
#include "net/screen.h"
#include "paxos/hash.h"
#include "paxos/limits.h"
#include "paxos/membership.h"

namespace synod::node {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int64_t kFetchRetryMs = 1000;
constexpr int kTicksPerPassMax = 4;
constexpr int kFetchRetriesMax = 10;
constexpr size_t kServedSnapshotsMax = 2;
constexpr int64_t kInvalidReportMs = 10000;
constexpr int64_t kMemoryReportMs = 1000;
// A loop pass longer than this (after its poll) is reported: at 40 % of the default leader
// timeout (100 ticks of 5 ms), followers that miss heartbeats for a few such passes elect anew.
constexpr auto kSlowPass = std::chrono::milliseconds(200);
// A snapshot in place is also due after this many bytes of commands, so that the decided log
// a node holds in memory stays bounded when slots are large (a slot of 8,190 transfers is
// about a megabyte). Small, so that the log held above the last snapshot swings by little:
// a snapshot in place costs one synced write whatever the state's size.
constexpr uint64_t kSnapshotEveryBytes = 8 << 20;
// The log above a snapshot file is kept until no peer fetched from it for this long.
constexpr int64_t kServedPinMs = 30'000;
// Payload bytes the leader packs into one slot: one client request of 8,190 transfers at most.
// A slot is applied in one piece (its results and the applied slot are one RocksDB batch), so
// its size bounds how long a loop pass can be kept from the network. With slots of up to
// 8 MiB (four such requests) one apply took 150-470 ms on a busy machine, and with the other
// work of the pass, followers missed heartbeats for the 500 ms leader timeout: 31 ballots in a
// 10-minute transfer run (bench/memory.sh, README "Node memory over 10 minutes").
constexpr size_t kSlotBytes = limits::kPayloadBytesMax;
// The leader timeout of a real node: 1 s at the default 5 ms tick, like etcd's default
// election timeout (the core's default, 100 ticks, stays for the simulator). Under sustained
// bulk load three nodes share one disk with their flushes and compactions, and a synced write
// then takes 250-500 ms now and then; the leader sends no heartbeat meanwhile, and with a
// 500 ms timeout that started an election several times a minute (bench/memory.sh, 29
// leader terms in 10 minutes with the apply thread; README "Node memory over 10 minutes").
constexpr uint32_t kLeaderTimeoutTicks = 200;

uint64_t ElapsedNs(Clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - since).count();
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

uint64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Per-ledger totals as a JSON array; 128-bit sums as strings of digits.
std::string LedgersJson(const ledger::InvariantReport& report) {
  std::string out = "[";
  for (const ledger::LedgerTotals& t : report.ledgers) {
    if (out.size() > 1) out += ",";
    out += "{\"ledger\":" + std::to_string(t.ledger) +
           ",\"accounts\":" + std::to_string(t.accounts) + ",\"debits_posted\":\"" +
           ledger::IdToString(t.debits_posted) + "\",\"credits_posted\":\"" +
           ledger::IdToString(t.credits_posted) + "\",\"debits_pending\":\"" +
           ledger::IdToString(t.debits_pending) + "\",\"credits_pending\":\"" +
           ledger::IdToString(t.credits_pending) +
           "\",\"balanced\":" + (t.balanced() ? "true" : "false") + "}";
  }
  return out + "]";
}

}  // namespace

uint64_t ClusterIdOf(const net::ClusterSpec& spec) {
  const uint64_t h = Fnv1a64(spec.ToString());
  return h == 0 ? 1 : h;
}

Result<std::unique_ptr<Node>> Node::Open(NodeOptions options) {
  if (options.cluster.Find(options.id) == nullptr) {
    return Status::InvalidArgument("node id " + std::to_string(options.id) +
                                   " is not in the cluster spec " + options.cluster.ToString());
  }
  if (options.seed == 0) options.seed = std::random_device{}() | 1;
  if (!options.metrics) {
    options.metrics =
        std::make_shared<NodeMetrics>(options.id, options.cluster.Ids(), options.data_dir);
  }
  std::unique_ptr<Node> node(new Node(std::move(options)));
  if (Status s = node->Recover(); !s.ok()) return s;
  return node;
}

// Opens the data dir, rebuilds the ledger from its tables (or from the persisted snapshot when
// the tables lag it or an install was interrupted), starts the core and the sockets.
Status Node::Recover() {
  storage::StoreOptions so;
  so.data_dir = options_.data_dir;
  so.cluster_id = options_.cluster_id != 0 ? options_.cluster_id : ClusterIdOf(options_.cluster);
  so.adopt_cluster_id = options_.cluster_id == 0;
  so.node_id = options_.id;
  auto store = storage::RocksLogStore::Open(so);
  if (!store.ok()) return store.status();
  store_ = std::move(store.value());
  auto recovered = store_->Recover();
  if (!recovered.ok()) return recovered.status();
  RecoveredState& r = recovered.value();
  if (Status s = CheckClusterId(so.cluster_id, r.joined); !s.ok()) return s;
  app_ = std::make_unique<LedgerApp>(store_.get());
  applier_ = std::make_unique<Applier>(app_.get(), options_.apply_inline_bytes);
  backup_ = std::make_unique<BackupSource>(options_.id, app_.get(), metrics_.get());
  Status opened = app_->Open();
  const Snapshot& snap = r.snapshot;
  auto ref = ParseRef(snap.data ? *snap.data : std::string());
  if (!ref.ok()) return ref.status();
  // Files for peers do not outlive the process; a received one stays until a snapshot in
  // place replaces it.
  DropReceivedFiles(ref.value().kind == SnapshotRef::Kind::kFile ? ref.value().file : "");
  if (snap.slot > 0 && (!opened.ok() || app_->applied_slot() < snap.slot)) {
    spdlog::info("installing the persisted snapshot at slot {}", snap.slot);
    if (Status s = InstallSnapshot(snap); !s.ok()) return s;
  } else if (!opened.ok()) {
    return Status::Corruption("ledger tables unreadable and no snapshot to restore: " +
                              opened.ToString());
  }
  spdlog::info(
      "node {} recovered: joined={} promised={} accepted={} decided={} snapshot={} "
      "applied={}",
      options_.id, r.joined, r.promised.ToString(), r.accepted.size(), r.decided.size(), snap.slot,
      app_->applied_slot());
  CoreConfig config;
  config.self = options_.id;
  config.members = options_.cluster.Ids();
  for (const net::NodeAddress& a : options_.cluster.nodes) {
    config.addresses[a.id] = a.host + ":" + std::to_string(a.port);
  }
  config.seed = options_.seed;
  config.window = options_.window;
  config.batch_bytes = kSlotBytes;
  config.incarnation = store_->meta().incarnation;
  config.leader_timeout_ticks = kLeaderTimeoutTicks;
  config.planted_bug = options_.testing_core_bug;
  core_ = std::make_unique<Core>(config, std::move(r));
  role_ = core_->role();  // Log only changes from here on.
  auto transport = net::Transport::Start(options_.id, options_.cluster, options_.security);
  if (!transport.ok()) return transport.status();
  transport_ = std::move(transport.value());
  Ready ready;
  core_->Start(&ready);
  return Flush(ready);
}

// The data dir's cluster id (ARCHITECTURE.md: a node refuses another cluster's data dir). The
// id is derived from --cluster when the data dir is created. Once the node joined, the
// configuration on disk decides and --cluster may name members added since, so a data dir
// with another id opens (and says so); one that never joined must match --cluster.
Status Node::CheckClusterId(uint64_t expected, bool joined) const {
  const uint64_t stored = store_->meta().cluster_id;
  if (stored == expected) return Status::Ok();
  if (options_.cluster_id != 0 || !joined) {
    return Status::InvalidArgument(
        "data dir " + options_.data_dir + " belongs to cluster id " + std::to_string(stored) +
        ", not cluster id " + std::to_string(expected) +
        (options_.cluster_id != 0 ? std::string(" (given)")
                                  : " (of --cluster " + options_.cluster.ToString() +
                                        "); it never joined that cluster"));
  }
  spdlog::info(
      "node {}: data dir of cluster id {} (made with an earlier --cluster); --cluster {} hashes "
      "to {}: the configuration on disk decides",
      options_.id, stored, options_.cluster.ToString(), expected);
  return Status::Ok();
}

Status Node::Run(const std::atomic<bool>& stop) {
  const auto tick = std::chrono::milliseconds(options_.tick_ms);
  auto next_tick = Clock::now() + tick;
  std::vector<net::Transport::Inbound> inbound;
  while (!stop.load(std::memory_order_relaxed)) {
    // Rounded up: a wait truncated to 0 ms would spin on poll for the last millisecond of
    // every tick (a fifth of a core per idle node at the 5 ms default).
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_tick - Clock::now());
    inbound.clear();
    // The apply thread's eventfd ends the wait too: its slots are answered as soon as applied.
    transport_->Poll(std::max<int>(0, wait.count()), 4096, &inbound, applier_->wake_fd());
    const auto pass_started = Clock::now();
    pass_ = {};
    Ready ready;
    bool took_read = false;
    for (auto& in : inbound) {
      if (in.envelope.from != kClientEndpoint) metrics_->ObservePeer(in.envelope);
      if (Intercept(in, &ready)) continue;
      if (auto* inv = std::get_if<InvokeMsg>(&in.envelope.body)) {
        if (TakeRead(*inv, in.routing_id)) {
          took_read = true;
          continue;
        }
        Remember(inv->command, in.routing_id);
        if (options_.testing_early_ack) PlantedEarlyAck(inv->command, in.routing_id);
      }
      core_->Step(in.envelope, &ready);
    }
    if (took_read) core_->ConfirmLeadership(reads_.back().after, &ready);
    RetryFetch();
    ReportInvalidFrames();
    const auto now = Clock::now();
    // After a stall (a long apply or snapshot) time skips ahead instead of being replayed as a
    // burst of ticks: a burst would time the leader out before its waiting heartbeats are read.
    if (now - next_tick > kTicksPerPassMax * tick) next_tick = now - kTicksPerPassMax * tick;
    for (; next_tick <= now; next_tick += tick) core_->Tick(WallNs(), &ready);
    if (Status s = Flush(ready); !s.ok()) return s;
    if (Status s = ServeReads(); !s.ok()) return s;
    PublishMetrics();
    ReportSlowPass(pass_started);
  }
  spdlog::info("node {} stopping", options_.id);
  return Status::Ok();
}

Status Node::Flush(Ready& ready) {
  if (!ready.to_persist.empty()) {
    // Messages that report nothing this node's acceptor persists leave before the fsync, so
    // that a leader's followers write their copy while the leader writes its own.
    SendBeforePersist(&ready.messages);
    const auto started = Clock::now();
    Status s = store_->Persist(ready.to_persist);
    const uint64_t persist_ns = ElapsedNs(started);
    metrics_->ObserveFsync(persist_ns);
    pass_.persist_ns += persist_ns;
    if (!s.ok()) {
      spdlog::error("node {}: write failed, no longer acting as an acceptor: {}", options_.id,
                    s.ToString());
      return s;
    }
  }
  for (Envelope& e : ready.messages) Route(e);
  // Queued slots below a snapshot being installed are in it; the one being applied, if any,
  // is too (the core installs only above what it handed out), and Install waits for it.
  if (ready.install) applier_->DropThrough(ready.install->slot);
  if (ready.install && ready.install->slot > app_->applied_slot()) {
    if (Status s = InstallSnapshot(*ready.install); !s.ok()) return s;
    spdlog::info("node {} installed a snapshot at slot {}", options_.id, ready.install->slot);
  }
  const auto apply_started = Clock::now();
  std::vector<Applier::Applied> applied;
  for (Decision& d : ready.decisions) {
    if (Status s = applier_->Submit(std::move(d), &applied); !s.ok()) return s;
  }
  pass_.apply_ns += ElapsedNs(apply_started);
  if (Status s = applier_->Collect(&applied); !s.ok()) return s;
  for (const Applier::Applied& a : applied) Answer(a);
  AnswerMembership(ready);
  LogRoleChange();
  LogMembership();
  FollowConfigs();
  if (Status s = backup_->Poll(); !s.ok()) return s;
  // A snapshot in place flushes its own Ready (a nested Flush that counts its own persist,
  // apply and snapshot time): count here only what the nested one did not.
  const auto snapshot_started = Clock::now();
  const uint64_t counted = pass_.persist_ns + pass_.apply_ns + pass_.snapshot_ns;
  Status s = MaybeSnapshot();
  const uint64_t nested = pass_.persist_ns + pass_.apply_ns + pass_.snapshot_ns - counted;
  pass_.snapshot_ns += ElapsedNs(snapshot_started) - nested;
  return s;
}

// Answers the clients waiting here for the commands of an applied slot.
void Node::Answer(const Applier::Applied& a) {
  if (a.skipped) return;  // Applied before a restart or inside an installed snapshot.
  const Batch& batch = *a.decision.batch;
  metrics_->ObserveApplied(batch, a.apply_ns);
  applied_bytes_since_snapshot_ += a.payload_bytes;
  const NodeId leader = core_->replica().leader();
  for (size_t j = 0; j < a.index.size(); ++j) {
    const Command& c = batch.commands[a.index[j]];
    auto it = waiting_.find({c.client_id, c.request_id});
    if (it == waiting_.end()) continue;
    InvokedMsg reply{c.client_id, c.request_id, true, a.results[j], leader};
    metrics_->ObserveReply(it->second.kind, reply);
    transport_->Send({options_.id, kClientEndpoint, std::move(reply)}, it->second.routing_id);
    waiting_.erase(it);
  }
}

// The core's answers to membership commands: the waiting client gets the JSON as its result
// (ok: the cluster answered, whether it made the change or refused it).
void Node::AnswerMembership(const Ready& ready) {
  const NodeId leader = core_->replica().leader();
  for (const auto& [key, answer] : ready.membership_results) {
    auto it = waiting_.find(key);
    if (it == waiting_.end()) continue;
    InvokedMsg reply{key.first, key.second, true, answer, leader};
    metrics_->ObserveReply(it->second.kind, reply);
    transport_->Send({options_.id, kClientEndpoint, std::move(reply)}, it->second.routing_id);
    waiting_.erase(it);
  }
}

// Snapshots (snapshot_files.h). Every snapshot_every_slots applied slots, or kSnapshotEveryBytes
// of commands, the node takes a snapshot in place: the core records (synced) that the state at
// the applied slot is in the ledger tables, which that synced write makes durable, and
// compacts the log below it. That costs one fsync however large the state, so the log in
// memory and on disk stays bounded by the interval, not by the state.
//
// A peer that needs a snapshot (a Welcome) gets a file: the node encodes its applied state at
// that moment on another thread and answers Welcomes once the file is ready (the peer asks
// again meanwhile). While a file is encoded or fetched from, snapshots in place go no further
// than its slot, so the decisions after it stay here for the peer to catch up with.
Status Node::MaybeSnapshot() {
  if (Status s = PollServedFile(); !s.ok()) return s;
  const Slot applied = app_->applied_slot();
  const Slot last = core_->replica().snapshot().slot;
  // The configuration history is pruned at the snapshot (a Welcome carries it from there):
  // many membership changes since the last one make a snapshot due, so that the history stays
  // well inside what a peer accepts (limits::kConfigHistoryMax).
  const bool history_long =
      core_->configs().size() > limits::kConfigHistoryMax / 2 && applied > last;
  const bool due = applied >= last + options_.snapshot_every_slots ||
                   applied_bytes_since_snapshot_ >= kSnapshotEveryBytes || history_long;
  if (!due) return Status::Ok();
  Slot slot = applied;
  if (ServedFilePinned()) slot = std::min(slot, served_.rbegin()->first);
  if (encoding_) slot = std::min(slot, encoding_->slot);
  if (slot <= last) return Status::Ok();
  applied_bytes_since_snapshot_ = 0;
  Ready ready;
  core_->OnSnapshotTaken(Snapshot{slot, std::make_shared<const std::string>(InTablesRef())},
                         &ready);
  if (Status s = Flush(ready); !s.ok()) return s;
  metrics_->log_compactions.fetch_add(1, std::memory_order_relaxed);
  // No malloc_trim here: glibc keeps the freed batches and memtable blocks in its arenas and
  // the next ones reuse them, so the resident size stays at the steady state's level. Trimming
  // after every snapshot made it swing with each memtable and batch freed (RSS max/min
  // 1.29-1.52 over the last half of a 10-minute run; 1.04-1.09 without; README "Memory
  // budget"). After a spike (installing a snapshot) the node does trim: InstallSnapshot.
  spdlog::debug("node {} took a snapshot in place at slot {}", options_.id, slot);
  if (received_files_) {  // The tables hold a newer state than any file received.
    DropReceivedFiles(fetch_ ? fetch_->file_name : "");
    received_files_ = fetch_.has_value();
  }
  return Status::Ok();
}

Status Node::InstallSnapshot(const Snapshot& snapshot) {
  auto ref = ParseRef(*snapshot.data);
  if (!ref.ok()) return ref.status();
  Status s;
  switch (ref.value().kind) {
    case SnapshotRef::Kind::kBlob:
      s = app_->Install(snapshot.slot,
                        [&](const auto& add) { return ForEachChunk(*snapshot.data, add); });
      break;
    case SnapshotRef::Kind::kFile: {
      const std::string path = SnapshotsDir(options_.data_dir) + "/" + ref.value().file;
      auto file = SnapshotFile::Open(path);
      if (!file.ok()) return file.status();
      if (file.value()->size() != ref.value().bytes) {
        return Status::Corruption("snapshot file " + path + " has " +
                                  std::to_string(file.value()->size()) + " bytes, expected " +
                                  std::to_string(ref.value().bytes));
      }
      s = app_->Install(snapshot.slot,
                        [&](const auto& add) { return ForEachChunk(*file.value(), add); });
      break;
    }
    case SnapshotRef::Kind::kInTables:
      return Status::Corruption(
          "the ledger tables are at slot " + std::to_string(app_->applied_slot()) +
          ", behind the snapshot taken in place at slot " + std::to_string(snapshot.slot) +
          ": the data dir " + options_.data_dir + " lost synced writes");
  }
  if (!s.ok()) return s;
  metrics_->snapshot_installs.fetch_add(1, std::memory_order_relaxed);
  // The old state's caches and the decoding buffers were just freed: a rare event, unlike the
  // steady churn of batches (MaybeSnapshot), so their pages go back to the OS.
  ::malloc_trim(0);
  return Status::Ok();
}

// Starts encoding the applied state into a file for peers, unless one is under way.
void Node::StartServedFile() {
  if (encoding_) return;
  auto stream = app_->BeginSnapshot();
  if (!stream.ok()) {
    spdlog::error("node {}: cannot begin a snapshot for a peer: {}", options_.id,
                  stream.status().ToString());
    return;
  }
  std::shared_ptr<ledger::SnapshotStream> st = std::move(stream.value());
  const Slot slot = st->applied_slot();
  const std::string path = SnapshotsDir(options_.data_dir) + "/" + ServedFileName(slot);
  encoding_ = Encoding{
      slot,
      std::async(std::launch::async, [st, path] { return WriteSnapshotFile(st.get(), path); }),
      Clock::now()};
  served_pinned_until_ms_ = NowMs() + kServedPinMs;
}

Status Node::PollServedFile() {
  if (!encoding_ ||
      encoding_->bytes.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return Status::Ok();
  }
  const Slot slot = encoding_->slot;
  auto bytes = encoding_->bytes.get();
  const uint64_t ns = ElapsedNs(encoding_->started);
  encoding_.reset();
  const std::string path = SnapshotsDir(options_.data_dir) + "/" + ServedFileName(slot);
  if (!bytes.ok()) {
    // Not fatal: the log is whole; a later Welcome tries again.
    spdlog::error("node {}: snapshot file for peers at slot {} failed: {}", options_.id, slot,
                  bytes.status().ToString());
    std::error_code ec;
    std::filesystem::remove(path, ec);
    return Status::Ok();
  }
  auto file = SnapshotFile::Open(path);
  if (!file.ok()) return file.status();
  // Only the newest file keeps its name; older ones stay readable through their descriptors.
  for (const auto& [old_slot, old] : served_) {
    std::error_code ec;
    std::filesystem::remove(old->path(), ec);
  }
  served_[slot] = std::move(file.value());
  while (served_.size() > kServedSnapshotsMax) served_.erase(served_.begin());
  served_pinned_until_ms_ = NowMs() + kServedPinMs;
  metrics_->ObserveSnapshot(bytes.value(), ns);
  spdlog::info("node {} wrote a snapshot file for peers at slot {} ({} bytes)", options_.id, slot,
               bytes.value());
  return Status::Ok();
}

bool Node::ServedFilePinned() const {
  return !served_.empty() && NowMs() < served_pinned_until_ms_;
}

// Removes received snapshot files other than `keep`, and every file for peers not open.
void Node::DropReceivedFiles(const std::string& keep) {
  std::error_code ec;
  std::filesystem::directory_iterator it(SnapshotsDir(options_.data_dir), ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const bool received = name.rfind("recv-", 0) == 0 && name != keep;
    bool served_open = false;
    for (const auto& [slot, file] : served_) served_open |= file->path() == it->path().string();
    const bool served = name.rfind("serve-", 0) == 0 && !served_open &&
                        !(encoding_ && name == ServedFileName(encoding_->slot));
    if (received || served) {
      std::error_code rm;
      std::filesystem::remove(it->path(), rm);
    }
  }
}

// Which messages may leave before the Ready's writes are durable. An Accept proposes a value
// at a ballot whose promise by our own acceptor was made durable before the Prepares left, so
// after a crash this node never reuses that ballot; a Decision, a Propose and the decisions a
// lagging replica asks for carry chosen values or client commands, true whatever this node
// still has to write. A Prepare must wait (its ballot is not durably ours until our own
// promise is written: a restart could reuse it with other values), and so must every answer
// of an acceptor (Promise, Accepted) and every reply to a client: they report durable state.
// A Confirm asks about a ballot already adopted, and a Confirmed reports the promise as it is
// in memory, which is at least every promise reported so far (Acceptor::OnConfirm): neither
// claims anything durable.
// Order on each link is kept: the early messages were ahead of the rest in the Ready too.
bool Node::SafeBeforePersist(const Envelope& e) {
  return std::holds_alternative<AcceptMsg>(e.body) || std::holds_alternative<DecisionMsg>(e.body) ||
         std::holds_alternative<ProposeMsg>(e.body) ||
         std::holds_alternative<DecisionsMsg>(e.body) ||
         std::holds_alternative<ConfirmMsg>(e.body) || std::holds_alternative<ConfirmedMsg>(e.body);
}

void Node::SendBeforePersist(std::vector<Envelope>* messages) {
  // Only a prefix: a later message of an early kind must not overtake one that waits.
  size_t n = 0;
  while (n < messages->size() && SafeBeforePersist((*messages)[n])) Route((*messages)[n++]);
  messages->erase(messages->begin(), messages->begin() + n);
}

void Node::Route(Envelope& e) {
  if (auto* w = std::get_if<WelcomeMsg>(&e.body); w && w->snapshot.slot > 0 && w->snapshot.data) {
    // The snapshot does not travel in the Welcome: the receiver fetches a file in chunks. A
    // file at or above the core's snapshot serves (the decisions after it are still here);
    // without one, it is made, and the peer's next Join or Catchup is welcomed with it.
    if (served_.empty() || served_.rbegin()->first < w->snapshot.slot) return StartServedFile();
    const auto& [slot, file] = *served_.rbegin();
    std::vector<Decision> after;
    for (const Decision& d : w->decisions) {
      if (d.slot > slot) after.push_back(d);
    }
    WelcomeMsg header{Snapshot{slot, nullptr}, std::move(after), file->size(), w->genesis,
                      w->configs};
    served_pinned_until_ms_ = NowMs() + kServedPinMs;
    metrics_->welcomes_sent.fetch_add(1, std::memory_order_relaxed);
    return transport_->Send({e.from, e.to, std::move(header)});
  }
  if (e.to != kClientEndpoint) return transport_->Send(e);
  const auto* reply = std::get_if<InvokedMsg>(&e.body);
  if (reply == nullptr) return;
  auto it = waiting_.find({reply->client_id, reply->request_id});
  if (it == waiting_.end()) return;
  metrics_->ObserveReply(it->second.kind, *reply);
  transport_->Send(e, it->second.routing_id);
  waiting_.erase(it);
}

// Messages for the driver itself: status queries and the snapshot transfer.
bool Node::Intercept(const net::Transport::Inbound& in, Ready* ready) {
  const Envelope& e = in.envelope;
  if (const auto* q = std::get_if<StatusQueryMsg>(&e.body)) {
    transport_->Send({options_.id, kClientEndpoint, Report(q->check)}, in.routing_id);
    return true;
  }
  if (const auto* f = std::get_if<SnapshotFetchMsg>(&e.body); f && e.from == kClientEndpoint) {
    transport_->Send({options_.id, kClientEndpoint, backup_->OnFetch(*f)}, in.routing_id);
    return true;
  }
  if (const auto* t = std::get_if<LeaderTransferMsg>(&e.body)) {
    if (e.from != kClientEndpoint) return true;
    LeaderTransferMsg reply{t->to, core_->TransferLeadership(t->to), core_->replica().leader()};
    if (reply.accepted) {
      spdlog::info("node {} hands leadership to node {} (leader transfer)", options_.id, t->to);
    }
    transport_->Send({options_.id, kClientEndpoint, reply}, in.routing_id);
    return true;
  }
  if (e.from == kClientEndpoint) return false;
  // A peer's message must make sense in this cluster; if not, it is counted and dropped.
  net::ScreenContext screen{&members_, core_->replica().slot_next() - 1};
  std::string why;
  if (!net::Screen(e, screen, &transport_->rejections(), &why)) {
    if (noted_screen_.First(why.substr(0, why.find(' ')))) {
      spdlog::warn(
          "node {}: dropped a message from node {}: {} (reported once per kind; counts "
          "in `synod status`)",
          options_.id, e.from, why);
    }
    metrics_->rejected_not_member.fetch_add(1, std::memory_order_relaxed);
    return true;
  }
  if (const auto* w = std::get_if<WelcomeMsg>(&e.body); w && w->snapshot_bytes > 0) {
    StartFetch(e.from, *w, ready);
    return true;
  }
  if (const auto* f = std::get_if<SnapshotFetchMsg>(&e.body)) {
    ServeChunk(e.from, *f);
    return true;
  }
  if (const auto* c = std::get_if<SnapshotChunkMsg>(&e.body)) {
    OnChunk(e.from, *c, ready);
    return true;
  }
  return false;
}

void Node::StartFetch(NodeId from, WelcomeMsg welcome, Ready* ready) {
  const Slot slot = welcome.snapshot.slot;
  if (fetch_ && fetch_->welcome.snapshot.slot >= slot) return;  // Already on it.
  if (core_->joined() && slot < core_->replica().slot_next()) {
    // We are past that snapshot: only the decisions can help.
    welcome.snapshot = Snapshot{};
    welcome.snapshot_bytes = 0;
    return core_->Step({from, options_.id, std::move(welcome)}, ready);
  }
  std::error_code ec;
  const auto space = std::filesystem::space(options_.data_dir, ec);
  if (!ec && welcome.snapshot_bytes > space.available) {
    spdlog::error("node {}: no room for the {}-byte snapshot from node {}: {} bytes free in {}",
                  options_.id, welcome.snapshot_bytes, from, space.available, options_.data_dir);
    return;
  }
  const std::string name = ReceivedFileName(slot);
  auto file = SnapshotFileWriter::Create(SnapshotsDir(options_.data_dir) + "/" + name);
  if (!file.ok()) {
    spdlog::error("node {}: {}", options_.id, file.status().ToString());
    return;
  }
  spdlog::info("node {} fetching the snapshot at slot {} ({} bytes) from node {}", options_.id,
               slot, welcome.snapshot_bytes, from);
  fetch_ = Fetch{from, std::move(welcome), std::move(file.value()), name, 0, 0};
  received_files_ = true;
  RequestChunk();
}

void Node::RequestChunk() {
  fetch_->requested_ms = NowMs();
  SnapshotFetchMsg m{fetch_->welcome.snapshot.slot, fetch_->file->size()};
  transport_->Send({options_.id, fetch_->from, m});
}

void Node::RetryFetch() {
  if (!fetch_ || NowMs() - fetch_->requested_ms < kFetchRetryMs) return;
  if (++fetch_->retries > kFetchRetriesMax) {
    spdlog::warn("node {}: snapshot fetch from node {} gave up", options_.id, fetch_->from);
    metrics_->snapshot_fetches_failed.fetch_add(1, std::memory_order_relaxed);
    fetch_.reset();  // The core asks again (Join or Catchup) and a new Welcome restarts it.
    return;
  }
  RequestChunk();
}

void Node::OnChunk(NodeId from, const SnapshotChunkMsg& c, Ready* ready) {
  if (!fetch_ || from != fetch_->from || c.slot != fetch_->welcome.snapshot.slot) {
    ++transport_->rejections().chunk_out_of_sequence;  // Unasked for, or a late answer.
    return;
  }
  if (c.total != fetch_->welcome.snapshot_bytes) {
    spdlog::warn("node {}: node {} no longer has the snapshot at slot {}", options_.id, from,
                 c.slot);
    fetch_.reset();
    return;
  }
  const uint64_t have = fetch_->file->size();
  if (c.offset != have || c.data.empty() || c.data.size() > c.total - have) {
    ++transport_->rejections().chunk_out_of_sequence;  // A duplicate, stale or overlong chunk.
    return;
  }
  Status written = fetch_->file->Append(c.data);
  if (written.ok() && have + c.data.size() == c.total) written = fetch_->file->Finish();
  if (!written.ok()) {
    spdlog::error("node {}: snapshot fetch stopped: {}", options_.id, written.ToString());
    metrics_->snapshot_fetches_failed.fetch_add(1, std::memory_order_relaxed);
    fetch_.reset();
    return;
  }
  fetch_->retries = 0;
  if (fetch_->file->size() < c.total) return RequestChunk();
  WelcomeMsg welcome = std::move(fetch_->welcome);
  welcome.snapshot.data = std::make_shared<const std::string>(FileRef(fetch_->file_name, c.total));
  welcome.snapshot_bytes = 0;
  fetch_.reset();
  metrics_->snapshot_fetches_done.fetch_add(1, std::memory_order_relaxed);
  core_->Step({from, options_.id, std::move(welcome)}, ready);
}

void Node::ServeChunk(NodeId to, const SnapshotFetchMsg& f) {
  SnapshotChunkMsg c{f.slot, f.offset, 0, {}};
  auto it = served_.find(f.slot);
  if (it != served_.end() && f.offset < it->second->size()) {
    auto data = it->second->Read(f.offset, limits::kSnapshotChunkBytes);
    if (!data.ok()) {
      spdlog::error("node {}: {}", options_.id, data.status().ToString());
    } else {
      c.total = it->second->size();
      c.data = std::move(data.value());
      if (it->first == served_.rbegin()->first) served_pinned_until_ms_ = NowMs() + kServedPinMs;
      metrics_->snapshot_chunks_served.fetch_add(1, std::memory_order_relaxed);
    }
  }
  transport_->Send({options_.id, to, std::move(c)});
}

// The planted bug: a write (KV put/cas, create_transfers) is answered "ok" at once, as if it
// had been applied, and forgotten, so the real answer never follows. Reads are left alone.
void Node::PlantedEarlyAck(const Command& command, const std::string& routing_id) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(command.payload.data()),
                                 command.payload.size());
  if (!ledger::fb::VerifyLedgerCommandBuffer(verifier)) return;
  const auto* cmd = ledger::fb::GetLedgerCommand(command.payload.data());
  flatbuffers::FlatBufferBuilder fbb;
  std::string result;
  if (cmd->body_type() == ledger::fb::CommandBody::KvPut ||
      cmd->body_type() == ledger::fb::CommandBody::KvCas) {
    result = ledger::CodeResult(&fbb, ledger::fb::ResultCode::ok);
  } else if (const auto* t = cmd->body_as_CreateTransfers(); t && t->transfers()) {
    result = ledger::EventCodesResult(
        &fbb,
        std::vector<ledger::fb::ResultCode>(t->transfers()->size(), ledger::fb::ResultCode::ok));
  } else {
    return;
  }
  InvokedMsg reply{command.client_id, command.request_id, true, std::move(result), 0};
  transport_->Send({options_.id, kClientEndpoint, std::move(reply)}, routing_id);
  waiting_.erase({command.client_id, command.request_id});
}

// A read-only command at the active leader is held for the read path (node.h, "Reads"); a
// held one is moved out of `invoke` and `routing_id`, which the caller then drops.
bool Node::TakeRead(InvokeMsg& invoke, std::string& routing_id) {
  if (core_->role() != Core::Role::kLeader || core_->rejoining() ||
      reads_.size() >= limits::kPendingRequestsMax) {
    return false;
  }
  const size_t kind = NodeMetrics::KindOf(invoke.command.payload);
  if (!ledger::StateMachine::IsReadOnly(static_cast<ledger::fb::CommandBody>(kind))) return false;
  const Leader& leader = core_->leader();
  reads_.push_back({std::move(routing_id), std::move(invoke.command), kind, leader.ballot(),
                    leader.next_slot(), leader.read_round()});
  return true;
}

// Answers the held reads that are confirmed and applied, oldest first; a read whose leader
// stepped down or moved to another ballot goes through the log instead.
Status Node::ServeReads() {
  Ready fallback;
  while (!reads_.empty()) {
    PendingRead& r = reads_.front();
    const Leader& leader = core_->leader();
    std::optional<std::string> result;
    if (core_->role() == Core::Role::kLeader && leader.ballot() == r.ballot) {
      if (options_.testing_unconfirmed_read) {
        result = app_->Query(r.command.payload);  // The planted bug: no confirmation.
      } else {
        const Leader::ReadState state = leader.ReadConfirmation(r.round, r.after);
        if (state == Leader::ReadState::kWaiting || app_->applied_slot() + 1 < r.after) break;
        // Across a configuration boundary there is no single quorum argument: the log answers.
        if (state == Leader::ReadState::kConfirmed) result = app_->Query(r.command.payload);
      }
    }
    if (result) {
      InvokedMsg reply{r.command.client_id, r.command.request_id, true, std::move(*result),
                       options_.id};
      metrics_->ObserveReply(r.kind, reply);
      transport_->Send({options_.id, kClientEndpoint, std::move(reply)}, r.routing_id);
    } else {
      Remember(r.command, r.routing_id);
      core_->Step({kClientEndpoint, options_.id, InvokeMsg{std::move(r.command)}}, &fallback);
    }
    reads_.pop_front();
  }
  return fallback.Empty() ? Status::Ok() : Flush(fallback);
}

void Node::Remember(const Command& command, const std::string& routing_id) {
  auto key = std::make_pair(command.client_id, command.request_id);
  Waiter waiter{routing_id, NodeMetrics::KindOf(command.payload)};
  if (waiting_.insert_or_assign(key, std::move(waiter)).second) waiting_order_.push_back(key);
  // Bounded: forget the oldest waiters (their clients time out and retry).
  while (waiting_order_.size() > limits::kPendingRequestsMax) {
    waiting_.erase(waiting_order_.front());
    waiting_order_.pop_front();
  }
}

StatusReportMsg Node::Report(bool check) {
  const Replica& replica = core_->replica();
  StatusReportMsg r;
  r.id = options_.id;
  r.role = RoleName(core_->role());
  r.leader = core_->joined() ? replica.leader() : 0;
  r.ballot = replica.highest_ballot();
  r.next_slot = replica.max_decided() + 1;
  r.decided_slot = replica.slot_next() - 1;
  r.applied_slot = app_->applied_slot();
  r.snapshot_slot = replica.snapshot().slot;
  r.state_hash = app_->StateHash();
  if (core_->joined() && !core_->configs().empty()) {
    const ClusterConfig& current = core_->current_config();
    r.members = current.Voters();
    r.learners = current.Learners();
    r.effective_slot = current.from;
  } else {
    r.members = options_.cluster.Ids();
  }
  r.removed = core_->joined() && core_->removed();
  r.cluster_flag_mismatch = cluster_flag_mismatch_;
  for (const auto& [name, count] : transport_->rejections().Items()) {
    r.rejected.emplace_back(name, count);
  }
  if (check) {
    ledger::InvariantReport report = app_->CheckInvariants();
    r.checked = true;
    r.invariants_ok = report.ok;
    r.violations = report.violations;
    r.ledgers_json = LedgersJson(report);
  }
  return r;
}

void Node::PublishMetrics() {
  const Replica& replica = core_->replica();
  NodeMetrics::LoopView v;
  v.next_slot = replica.max_decided() + 1;
  v.decided_slot = replica.slot_next() - 1;
  v.applied_slot = app_->applied_slot();
  v.snapshot_slot = replica.snapshot().slot;
  v.ballot = replica.highest_ballot();
  v.leader = core_->joined() ? replica.leader() : 0;
  v.leading = core_->role() == Core::Role::kLeader;
  v.frames_in = transport_->stats().frames_in;
  v.frames_invalid = transport_->stats().frames_invalid;
  v.sends_dropped = transport_->stats().sends_dropped;
  metrics_->UpdateFromLoop(v);
  if (NowMs() - memory_report_ms_ >= kMemoryReportMs) {  // RocksDB's figures take a few us.
    const storage::Database::MemoryUse m = store_->Memory();
    const struct mallinfo2 heap = ::mallinfo2();  // In use: small and mmapped chunks.
    metrics_->UpdateMemory(m.memtables, m.table_readers, m.block_cache, heap.uordblks + heap.hblkhd,
                           heap.fordblks);
    memory_report_ms_ = NowMs();
  }
}

// A pass that kept the loop from the network for long: at most one line per kInvalidReportMs,
// with where the time went (a snapshot in place runs inside the pass's own Flush, so its
// persist and apply time count in both).
void Node::ReportSlowPass(Clock::time_point started) {
  const uint64_t total_ns = ElapsedNs(started);
  if (total_ns < uint64_t(std::chrono::nanoseconds(kSlowPass).count())) return;
  ++slow_passes_;
  if (NowMs() - slow_pass_report_ms_ < kInvalidReportMs) return;
  auto ms = [](uint64_t ns) { return ns / 1000000; };
  spdlog::warn(
      "node {}: a loop pass took {} ms (persist {} ms, apply {} ms, snapshot {} ms); {} pass(es) "
      "over {} ms since the last report: peers hear nothing from this node meanwhile",
      options_.id, ms(total_ns), ms(pass_.persist_ns), ms(pass_.apply_ns), ms(pass_.snapshot_ns),
      slow_passes_, std::chrono::milliseconds(kSlowPass).count());
  slow_passes_ = 0;
  slow_pass_report_ms_ = NowMs();
}

// At most one line per kInvalidReportMs about frames the transport dropped; security notes
// (the transport already keeps to one per key or endpoint) as they come.
void Node::ReportInvalidFrames() {
  for (const std::string& note : transport_->TakeSecurityNotes()) {
    spdlog::warn("node {}: {}", options_.id, note);
  }
  const uint64_t invalid = transport_->stats().frames_invalid;
  if (invalid == invalid_reported_ || NowMs() - invalid_report_ms_ < kInvalidReportMs) return;
  spdlog::warn("node {}: dropped {} invalid frame(s); the last: {}", options_.id,
               invalid - invalid_reported_, transport_->last_invalid_reason());
  invalid_reported_ = invalid;
  invalid_report_ms_ = NowMs();
}

// One line when the node starts or stops rejoining, and a warning every kInvalidReportMs while
// it cannot vote: a node that waits forever (a wiped majority, a member down) says why.
void Node::LogMembership() {
  const bool joined = core_->joined(), rejoining = core_->rejoining();
  if (rejoining && !rejoining_logged_) {
    spdlog::warn(
        "node {} joined a running cluster from a new data dir (incarnation {:x}): rejoining, it "
        "does not vote until it has led once with a fresh promise from every other member and "
        "caught up",
        options_.id, store_->meta().incarnation);
  } else if (!rejoining && rejoining_logged_) {
    spdlog::info("node {} rejoined: votes again, holding nothing below slot {}", options_.id,
                 core_->membership().vote_floor);
  }
  rejoining_logged_ = rejoining;
  if (joined && !rejoining) {
    waiting_since_ms_ = 0;
    return;
  }
  const int64_t now = NowMs();
  if (waiting_since_ms_ == 0) waiting_since_ms_ = waiting_report_ms_ = now;
  if (now - waiting_report_ms_ < kInvalidReportMs) return;
  waiting_report_ms_ = now;
  if (rejoining) {
    spdlog::warn(
        "node {} still rejoining after {} s: it needs a fresh promise from every other member; "
        "a member that is down or rejoining too (a wiped majority) keeps it waiting, and the "
        "cluster cannot recover by itself from losing a majority's data",
        options_.id, (now - waiting_since_ms_) / 1000);
  } else {
    spdlog::warn(
        "node {} not a member after {} s: waiting for a Welcome from a member, or for every "
        "member of {} to ask to join before a new cluster forms",
        options_.id, (now - waiting_since_ms_) / 1000, options_.cluster.ToString());
  }
}

void Node::LogRoleChange() {
  const Core::Role role = core_->role();
  const NodeId leader = core_->replica().leader();
  if (role == role_ && (leader == leader_ || role != Core::Role::kFollower)) return;
  if (role == Core::Role::kLeader) {
    spdlog::info("node {} leads at ballot {}", options_.id, core_->leader().ballot().ToString());
  } else if (role == Core::Role::kFollower && role_ == Core::Role::kLearner) {
    spdlog::info("node {} joined the cluster", options_.id);
  } else if (role == Core::Role::kFollower) {
    spdlog::info("node {} follows node {}", options_.id, leader);
  }
  role_ = role;
  leader_ = leader;
}

// Every node the configuration history names; before the node joined also the --cluster ids
// (whom Bootstrap asks, and who may welcome us).
std::vector<NodeId> Node::KnownMembers() const {
  std::vector<NodeId> ids = AllMembers(core_->configs());
  if (!core_->joined() || ids.empty()) {
    for (NodeId id : options_.cluster.Ids()) ids.push_back(id);
  }
  ids.push_back(options_.id);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Where node `id` listens: the latest configuration that gives its address, else --cluster.
Result<net::NodeAddress> Node::AddressOf(NodeId id) const {
  const std::vector<ClusterConfig>& configs = core_->configs();
  for (auto c = configs.rbegin(); c != configs.rend(); ++c) {
    const ConfigMember* m = c->Find(id);
    if (m == nullptr || m->address.empty()) continue;
    auto spec = net::ClusterSpec::Parse(std::to_string(id) + "=" + m->address);
    if (!spec.ok()) return spec.status();
    return spec.value().nodes.front();
  }
  if (const net::NodeAddress* a = options_.cluster.Find(id)) return *a;
  return Status::NotFound("no address known for node " + std::to_string(id));
}

void Node::FollowConfigs() {
  if (core_->joined() && core_->removed() && !removed_logged_) {
    spdlog::warn(
        "node {} was removed from the cluster (the configuration from slot {} does not name "
        "it): it stays up, idle, and takes no part; stop it and delete its data dir",
        options_.id, core_->current_config().from);
    removed_logged_ = true;
  }
  CheckClusterFlag();
  const std::vector<ClusterConfig>& configs = core_->configs();
  if (configs == configs_seen_ && core_->joined() == joined_seen_) return;
  // Before joining the history is only --cluster's; once joined, each configuration once.
  for (const ClusterConfig& c : core_->joined() ? configs : std::vector<ClusterConfig>{}) {
    if (!joined_seen_ ||
        std::find(configs_seen_.begin(), configs_seen_.end(), c) == configs_seen_.end()) {
      spdlog::info("node {}: configuration from slot {}: {}", options_.id, c.from,
                   ConfigToString(c));
    }
  }
  configs_seen_ = configs;
  joined_seen_ = core_->joined();
  // Keys first: a node added since start is admitted once its key is in the trust dir.
  if (Status s = transport_->ReloadTrust(); !s.ok()) {
    spdlog::warn("node {}: cannot reread the trust dir, keeping the keys loaded before: {}",
                 options_.id, s.ToString());
  }
  members_ = KnownMembers();
  for (NodeId id : members_) {
    if (id == options_.id) continue;
    auto address = AddressOf(id);
    Status s = address.ok() ? transport_->AddPeer(address.value()) : address.status();
    if (!s.ok()) {
      spdlog::warn("node {}: cannot connect to member {}: {}", options_.id, id, s.ToString());
    }
  }
  for (NodeId id : transport_->PeerIds()) {
    if (!std::binary_search(members_.begin(), members_.end(), id)) {
      spdlog::info("node {}: disconnects from node {}, no longer a member", options_.id, id);
      transport_->RemovePeer(id);
    }
  }
  metrics_->SetPeers(members_);
}

// Once joined, the configuration in use decides; a --cluster that lists other members or
// addresses is reported (logged once per run, in `synod status` while it holds), never obeyed.
void Node::CheckClusterFlag() {
  if (!core_->joined() || core_->configs().empty()) return;
  const ClusterConfig& current = core_->current_config();
  if (current.from == current_from_seen_) return;
  current_from_seen_ = current.from;
  std::vector<std::pair<NodeId, std::string>> flag, used;
  for (const net::NodeAddress& a : options_.cluster.nodes) {
    flag.emplace_back(a.id, a.host + ":" + std::to_string(a.port));
  }
  for (const ConfigMember& m : current.members) used.emplace_back(m.id, m.address);
  cluster_flag_mismatch_ = flag != used;
  if (cluster_flag_mismatch_ && !mismatch_logged_) {
    mismatch_logged_ = true;  // Once per run; `synod status` shows it whenever it holds.
    spdlog::warn(
        "node {}: --cluster {} differs from the cluster's configuration {} (from slot {}); the "
        "configuration on disk wins: update --cluster to match it",
        options_.id, options_.cluster.ToString(), ConfigToString(current), current.from);
  }
}

}  // namespace synod::node
