#include "net/codec.h"

#include "paxos/check.h"
#include "paxos/config_history.h"
#include "paxos/limits.h"
#include "paxos/struct_vector.h"
#include "schemas/wire_generated.h"

namespace synod::net {
namespace {

namespace fb = flatbuffers;
namespace w = synod::wire;
using Builder = fb::FlatBufferBuilder;

// ---- Encoding -------------------------------------------------------------------------------

w::Ballot ToWire(const Ballot& b) { return w::Ballot(b.round, b.node); }

fb::Offset<fb::Vector<uint8_t>> Bytes(Builder& fbb, std::string_view s) {
  return fbb.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

fb::Offset<w::Command> ToWire(Builder& fbb, const Command& c) {
  return w::CreateCommand(fbb, c.client_id, c.request_id, Bytes(fbb, c.payload));
}

fb::Offset<fb::Vector<fb::Offset<w::Command>>> ToWire(Builder& fbb,
                                                      const std::vector<Command>& cs) {
  std::vector<fb::Offset<w::Command>> out;
  out.reserve(cs.size());
  for (const Command& c : cs) out.push_back(ToWire(fbb, c));
  return fbb.CreateVector(out);
}

fb::Offset<w::Batch> ToWire(Builder& fbb, const BatchRef& b) {
  return w::CreateBatch(fbb, b->timestamp_ns, ToWire(fbb, b->commands));
}

fb::Offset<fb::Vector<fb::Offset<w::DecidedSlot>>> ToWire(Builder& fbb,
                                                          const std::vector<Decision>& ds) {
  std::vector<fb::Offset<w::DecidedSlot>> out;
  for (const Decision& d : ds)
    out.push_back(w::CreateDecidedSlot(fbb, d.slot, ToWire(fbb, d.batch)));
  return fbb.CreateVector(out);
}

fb::Offset<fb::Vector<fb::Offset<w::ClusterConfig>>> ToWire(
    Builder& fbb, const std::vector<ClusterConfig>& configs) {
  std::vector<fb::Offset<w::ClusterConfig>> out;
  for (const ClusterConfig& c : configs) {
    std::vector<fb::Offset<w::ConfigMember>> members;
    for (const ConfigMember& m : c.members) {
      members.push_back(w::CreateConfigMember(fbb, m.id, fbb.CreateString(m.address), m.voter));
    }
    out.push_back(w::CreateClusterConfig(fbb, c.from, c.decided_at, fbb.CreateVector(members)));
  }
  return fbb.CreateVector(out);
}

struct BodyEncoder {
  Builder& fbb;
  std::pair<w::Body, fb::Offset<void>> operator()(const JoinMsg& m) {
    return {w::Body::Join, w::CreateJoin(fbb, m.incarnation).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const WelcomeMsg& m) {
    auto snapshot = Bytes(fbb, m.snapshot.data ? std::string_view(*m.snapshot.data) : "");
    auto decisions = ToWire(fbb, m.decisions);
    std::vector<w::GenesisMember> members;
    for (const GenesisMember& g : m.genesis) members.emplace_back(g.id, g.incarnation);
    auto genesis = fbb.CreateVectorOfStructs(members);
    auto configs = ToWire(fbb, m.configs);
    return {w::Body::Welcome, w::CreateWelcome(fbb, m.snapshot.slot, snapshot, decisions,
                                               m.snapshot_bytes, genesis, configs)
                                  .Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const SnapshotFetchMsg& m) {
    return {w::Body::SnapshotFetch, w::CreateSnapshotFetch(fbb, m.slot, m.offset).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const SnapshotChunkMsg& m) {
    auto data = Bytes(fbb, m.data);
    return {w::Body::SnapshotChunk,
            w::CreateSnapshotChunk(fbb, m.slot, m.offset, m.total, data).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const InvokeMsg& m) {
    return {w::Body::Invoke, w::CreateInvoke(fbb, ToWire(fbb, m.command)).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const InvokedMsg& m) {
    auto result = Bytes(fbb, m.result);
    return {w::Body::Invoked,
            w::CreateInvoked(fbb, m.client_id, m.request_id, m.ok, result, m.leader_hint).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const ProposeMsg& m) {
    return {w::Body::Propose, w::CreatePropose(fbb, ToWire(fbb, m.commands)).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const DecisionMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::Decision,
            w::CreateDecision(fbb, m.slot, &ballot, m.batch ? ToWire(fbb, m.batch) : 0).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const PrepareMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::Prepare, w::CreatePrepare(fbb, &ballot, m.slot_first).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const PromiseMsg& m) {
    std::vector<fb::Offset<w::PValue>> pvs;
    for (const PValue& pv : m.accepted) {
      auto b = ToWire(pv.ballot);
      pvs.push_back(w::CreatePValue(fbb, pv.slot, &b, ToWire(fbb, pv.batch)));
    }
    auto accepted = fbb.CreateVector(pvs);
    auto ballot = ToWire(m.ballot);
    return {w::Body::Promise, w::CreatePromise(fbb, &ballot, accepted, m.compacted_below, m.fresh,
                                               m.page_from, m.more_from)
                                  .Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const AcceptMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::Accept, w::CreateAccept(fbb, &ballot, m.slot, ToWire(fbb, m.batch)).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const AcceptedMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::Accepted, w::CreateAccepted(fbb, &ballot, m.slot).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const ActiveMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::Active, w::CreateActive(fbb, &ballot, m.decided_slot).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const CatchupMsg& m) {
    return {w::Body::Catchup, w::CreateCatchup(fbb, m.slot_first).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const DecisionsMsg& m) {
    return {w::Body::Decisions, w::CreateDecisions(fbb, ToWire(fbb, m.decisions)).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const LeaderTransferMsg& m) {
    return {w::Body::LeaderTransfer,
            w::CreateLeaderTransfer(fbb, m.to, m.accepted, m.leader).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const TakeOverMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::TakeOver, w::CreateTakeOver(fbb, &ballot, m.decided_slot).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const ConfirmMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::Confirm, w::CreateConfirm(fbb, &ballot, m.round).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const ConfirmedMsg& m) {
    auto ballot = ToWire(m.ballot);
    return {w::Body::Confirmed, w::CreateConfirmed(fbb, &ballot, m.round).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const StatusQueryMsg& m) {
    return {w::Body::StatusQuery, w::CreateStatusQuery(fbb, m.check).Union()};
  }
  std::pair<w::Body, fb::Offset<void>> operator()(const StatusReportMsg& m) {
    auto ballot = ToWire(m.ballot);
    auto role = fbb.CreateString(m.role);
    auto hash = fbb.CreateString(m.state_hash);
    auto members = fbb.CreateVector(m.members);
    auto ledgers = fbb.CreateString(m.ledgers_json);
    auto violations = fbb.CreateVectorOfStrings(m.violations);
    std::vector<fb::Offset<w::Counter>> counters;
    for (const auto& [name, value] : m.rejected) {
      counters.push_back(w::CreateCounter(fbb, fbb.CreateString(name), value));
    }
    auto rejected = fbb.CreateVector(counters);
    auto learners = fbb.CreateVector(m.learners);
    return {w::Body::StatusReport,
            w::CreateStatusReport(fbb, m.id, role, m.leader, &ballot, m.next_slot, m.decided_slot,
                                  m.applied_slot, m.snapshot_slot, hash, members, m.checked,
                                  m.invariants_ok, ledgers, violations, rejected, learners,
                                  m.removed, m.cluster_flag_mismatch, m.effective_slot)
                .Union()};
  }
};

}  // namespace

namespace {

fb::Offset<w::Envelope> ToWire(Builder& fbb, const Envelope& envelope,
                               fb::Offset<fb::Vector<fb::Offset<w::Envelope>>> more = 0,
                               bool accepts_more = false) {
  auto [type, body] = std::visit(BodyEncoder{fbb}, envelope.body);
  return w::CreateEnvelope(fbb, envelope.from, envelope.to, type, body, more, accepts_more);
}

}  // namespace

std::string Encode(const Envelope& envelope) { return EncodeFrame({&envelope, 1}); }

std::string EncodeFrame(std::span<const Envelope> envelopes, bool accepts_more) {
  SYNOD_CHECK(!envelopes.empty());
  SYNOD_CHECK(envelopes.size() <= limits::kEnvelopesPerFrameMax);
  Builder fbb(1024);
  fb::Offset<fb::Vector<fb::Offset<w::Envelope>>> more = 0;
  if (envelopes.size() > 1) {
    std::vector<fb::Offset<w::Envelope>> rest;
    rest.reserve(envelopes.size() - 1);
    for (const Envelope& e : envelopes.subspan(1)) rest.push_back(ToWire(fbb, e));
    more = fbb.CreateVector(rest);
  }
  fbb.Finish(ToWire(fbb, envelopes.front(), more, accepts_more));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

namespace {

// What an envelope adds to a coalesced frame, counted against limits::kCoalescedBytesMax.
size_t CoalescedBytes(const Envelope& envelope) {
  constexpr size_t kFramingBytes = 256;  // Tables, vectors and padding of one envelope, bound.
  if (const auto* m = std::get_if<InvokeMsg>(&envelope.body)) {
    return kFramingBytes + m->command.payload.size();
  }
  if (const auto* m = std::get_if<InvokedMsg>(&envelope.body)) {
    return kFramingBytes + m->result.size();
  }
  return limits::kCoalescedBytesMax;  // Anything else travels alone.
}

}  // namespace

std::vector<std::string> EncodeFrames(std::span<const Envelope> envelopes, bool accepts_more) {
  std::vector<std::string> frames;
  while (!envelopes.empty()) {
    size_t n = 0, bytes = 0;
    while (n < envelopes.size() && n < limits::kEnvelopesPerFrameMax &&
           (n == 0 || bytes + CoalescedBytes(envelopes[n]) <= limits::kCoalescedBytesMax)) {
      bytes += CoalescedBytes(envelopes[n++]);
    }
    frames.push_back(EncodeFrame(envelopes.first(n), accepts_more));
    envelopes = envelopes.subspan(n);
  }
  return frames;
}

// ---- Decoding -------------------------------------------------------------------------------
namespace {

constexpr size_t kPromiseValuesMax = 1 << 16;
constexpr size_t kCountersMax = 64;  // StatusReport.rejected.

// Converts verified FlatBuffers tables to messages, checking meaning; remembers the first
// problem so that callers can convert a whole message and test once.
class Converter {
 public:
  const std::string& error() const { return error_; }
  bool Fail(std::string what) {
    if (error_.empty()) error_ = std::move(what);
    return false;
  }

  Ballot Convert(const w::Ballot* b, const char* field) {
    if (b == nullptr) return Fail(std::string("missing ") + field), Ballot{};
    return Ballot{b->round(), b->node()};
  }
  std::string Convert(const fb::Vector<uint8_t>* v) {
    return v ? std::string(reinterpret_cast<const char*>(v->data()), v->size()) : std::string();
  }
  Slot ConvertSlot(uint64_t slot, const char* field) {
    if (slot == 0) Fail(std::string(field) + " must be a slot >= 1");
    return slot;
  }
  Command Convert(const w::Command* c) {
    if (c == nullptr) return Fail("missing command"), Command{};
    if (c->request_id() == 0) Fail("command request_id must be >= 1");
    if (c->payload() && c->payload()->size() > limits::kPayloadBytesMax) {
      Fail("command payload of " + std::to_string(c->payload()->size()) + " bytes exceeds " +
           std::to_string(limits::kPayloadBytesMax));
    }
    return Command{c->client_id(), c->request_id(), Convert(c->payload())};
  }
  std::vector<Command> Convert(const fb::Vector<fb::Offset<w::Command>>* cs) {
    std::vector<Command> out;
    if (cs == nullptr) return out;
    if (cs->size() > limits::kCommandsPerBatchMax) {
      return Fail("batch of " + std::to_string(cs->size()) + " commands exceeds " +
                  std::to_string(limits::kCommandsPerBatchMax)),
             out;
    }
    out.reserve(cs->size());
    size_t bytes = 0;
    for (const w::Command* c : *cs) {
      out.push_back(Convert(c));
      bytes += out.back().payload.size();
    }
    if (bytes > limits::kBatchBytesMax) Fail("batch payload bytes exceed the limit");
    return out;
  }
  BatchRef Convert(const w::Batch* b) {
    if (b == nullptr) return Fail("missing batch"), nullptr;
    auto batch = std::make_shared<Batch>();
    batch->timestamp_ns = b->timestamp_ns();
    batch->commands = Convert(b->commands());
    return batch;
  }
  std::vector<Decision> Convert(const fb::Vector<fb::Offset<w::DecidedSlot>>* ds) {
    std::vector<Decision> out;
    if (ds == nullptr) return out;
    if (ds->size() > limits::kDecisionsPerMessageMax) return Fail("too many decisions"), out;
    for (const w::DecidedSlot* d : *ds) {
      out.push_back({ConvertSlot(d->slot(), "decision slot"), Convert(d->batch())});
    }
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i].slot != out[i - 1].slot + 1) return Fail("decisions not contiguous"), out;
    }
    return out;
  }

  Body Convert(const w::Envelope* e);

 private:
  std::string error_;
};

Body Converter::Convert(const w::Envelope* e) {
  // A union may name a type and still hold no table (found by tests/fuzz/wire_message).
  if (e->body_type() != w::Body::NONE && e->body() == nullptr) {
    return Fail(std::string("empty ") + w::EnumNameBody(e->body_type()) + " body"), Body{};
  }
  switch (e->body_type()) {
    case w::Body::Join:
      return JoinMsg{e->body_as_Join()->incarnation()};
    case w::Body::Welcome: {
      auto* m = e->body_as_Welcome();
      Snapshot snap{m->snapshot_slot(), nullptr};
      // A snapshot sent apart (snapshot_bytes > 0) has no data here: the driver fetches it.
      if (snap.slot > 0 && m->snapshot_bytes() == 0) {
        snap.data = std::make_shared<const std::string>(Convert(m->snapshot()));
      }
      WelcomeMsg out{snap, Convert(m->decisions()), m->snapshot_bytes(), {}, {}};
      if (!StructsAligned(m->genesis())) {
        Fail("genesis members misaligned");
      } else if (m->genesis() && m->genesis()->size() > limits::kNodesMax) {
        Fail("genesis of " + std::to_string(m->genesis()->size()) + " members exceeds " +
             std::to_string(limits::kNodesMax));
      } else if (m->genesis()) {
        for (const w::GenesisMember* g : *m->genesis()) {
          out.genesis.push_back({g->node(), g->incarnation()});
        }
      }
      auto configs = ConfigsFromTables(m->configs(), "Welcome configurations");
      if (configs.ok()) {
        out.configs = std::move(configs.value());
      } else {
        Fail(configs.status().message());
      }
      return out;
    }
    case w::Body::SnapshotFetch: {
      auto* m = e->body_as_SnapshotFetch();
      return SnapshotFetchMsg{ConvertSlot(m->slot(), "snapshot slot"), m->offset()};
    }
    case w::Body::SnapshotChunk: {
      auto* m = e->body_as_SnapshotChunk();
      if (m->data() && m->data()->size() > limits::kSnapshotChunkBytes) {
        Fail("snapshot chunk of " + std::to_string(m->data()->size()) + " bytes exceeds " +
             std::to_string(limits::kSnapshotChunkBytes));
      }
      return SnapshotChunkMsg{ConvertSlot(m->slot(), "snapshot slot"), m->offset(), m->total(),
                              Convert(m->data())};
    }
    case w::Body::Invoke:
      return InvokeMsg{Convert(e->body_as_Invoke()->command())};
    case w::Body::Invoked: {
      auto* m = e->body_as_Invoked();
      if (m->result() && m->result()->size() > limits::kResultBytesMax) Fail("result too large");
      return InvokedMsg{m->client_id(), m->request_id(), m->ok(), Convert(m->result()),
                        m->leader_hint()};
    }
    case w::Body::Propose:
      return ProposeMsg{Convert(e->body_as_Propose()->commands())};
    case w::Body::Decision: {
      auto* m = e->body_as_Decision();
      // No batch: the receiver's acceptor holds it (see DecisionMsg).
      return DecisionMsg{ConvertSlot(m->slot(), "decision slot"), Convert(m->ballot(), "ballot"),
                         m->batch() ? Convert(m->batch()) : nullptr};
    }
    case w::Body::Prepare: {
      auto* m = e->body_as_Prepare();
      return PrepareMsg{Convert(m->ballot(), "ballot"), ConvertSlot(m->slot_first(), "slot_first")};
    }
    case w::Body::Promise: {
      auto* m = e->body_as_Promise();
      PromiseMsg out{Convert(m->ballot(), "ballot"),
                     m->compacted_below(),
                     {},
                     m->fresh(),
                     m->page_from(),
                     m->more_from()};
      if (m->accepted() && m->accepted()->size() > kPromiseValuesMax)
        Fail("too many pvalues");
      else if (m->accepted()) {
        for (const w::PValue* pv : *m->accepted()) {
          out.accepted.push_back({ConvertSlot(pv->slot(), "pvalue slot"),
                                  Convert(pv->ballot(), "pvalue ballot"), Convert(pv->batch())});
        }
      }
      return out;
    }
    case w::Body::Accept: {
      auto* m = e->body_as_Accept();
      return AcceptMsg{Convert(m->ballot(), "ballot"), ConvertSlot(m->slot(), "accept slot"),
                       Convert(m->batch())};
    }
    case w::Body::Accepted: {
      auto* m = e->body_as_Accepted();
      return AcceptedMsg{Convert(m->ballot(), "ballot"), ConvertSlot(m->slot(), "accepted slot")};
    }
    case w::Body::Active: {
      auto* m = e->body_as_Active();
      return ActiveMsg{Convert(m->ballot(), "ballot"), m->decided_slot()};
    }
    case w::Body::Catchup:
      return CatchupMsg{ConvertSlot(e->body_as_Catchup()->slot_first(), "slot_first")};
    case w::Body::Decisions:
      return DecisionsMsg{Convert(e->body_as_Decisions()->decisions())};
    case w::Body::StatusQuery:
      return StatusQueryMsg{e->body_as_StatusQuery()->check()};
    case w::Body::LeaderTransfer: {
      auto* m = e->body_as_LeaderTransfer();
      return LeaderTransferMsg{m->to(), m->accepted(), m->leader()};
    }
    case w::Body::TakeOver: {
      auto* m = e->body_as_TakeOver();
      return TakeOverMsg{Convert(m->ballot(), "ballot"), m->decided_slot()};
    }
    case w::Body::Confirm: {
      auto* m = e->body_as_Confirm();
      if (m->round() == 0) Fail("confirm round must be >= 1");
      return ConfirmMsg{Convert(m->ballot(), "ballot"), m->round()};
    }
    case w::Body::Confirmed: {
      auto* m = e->body_as_Confirmed();
      if (m->round() == 0) Fail("confirmed round must be >= 1");
      return ConfirmedMsg{Convert(m->ballot(), "ballot"), m->round()};
    }
    case w::Body::StatusReport: {
      auto* m = e->body_as_StatusReport();
      StatusReportMsg r;
      r.id = m->id();
      r.role = m->role() ? m->role()->str() : "";
      r.leader = m->leader();
      r.ballot = Convert(m->ballot(), "ballot");
      r.next_slot = m->next_slot();
      r.decided_slot = m->decided_slot();
      r.applied_slot = m->applied_slot();
      r.snapshot_slot = m->snapshot_slot();
      r.state_hash = m->state_hash() ? m->state_hash()->str() : "";
      if (m->members() && m->members()->size() > limits::kNodesMax) {
        Fail("too many members");
      } else if (m->members()) {
        r.members.assign(m->members()->begin(), m->members()->end());
      }
      r.checked = m->checked();
      r.invariants_ok = m->invariants_ok();
      r.ledgers_json = m->ledgers_json() ? m->ledgers_json()->str() : "";
      if (m->violations()) {
        for (const auto* v : *m->violations()) r.violations.push_back(v->str());
      }
      if (m->learners() && m->learners()->size() > limits::kNodesMax) {
        Fail("too many learners");
      } else if (m->learners()) {
        r.learners.assign(m->learners()->begin(), m->learners()->end());
      }
      r.removed = m->removed();
      r.cluster_flag_mismatch = m->cluster_flag_mismatch();
      r.effective_slot = m->effective_slot();
      if (m->rejected() && m->rejected()->size() > kCountersMax) {
        Fail("too many counters");
      } else if (m->rejected()) {
        for (const auto* c : *m->rejected()) {
          r.rejected.emplace_back(c->name() ? c->name()->str() : "", c->value());
        }
      }
      return r;
    }
    case w::Body::NONE:
      break;
  }
  Fail("unknown message type " + std::to_string(static_cast<int>(e->body_type())));
  return JoinMsg{};
}

}  // namespace

Status DecodeFrame(std::string_view frame, std::vector<Envelope>* out, bool* accepts_more) {
  if (frame.size() > limits::kFrameBytesMax) {
    return Status::InvalidArgument("frame of " + std::to_string(frame.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(limits::kFrameBytesMax));
  }
  // FlatBuffers reads scalars in place and needs them aligned; ZeroMQ may hand a frame over at
  // any address, so an unaligned one is copied first (std::string storage is malloc-aligned).
  std::string aligned;
  if (reinterpret_cast<uintptr_t>(frame.data()) % alignof(std::max_align_t) != 0) {
    aligned.assign(frame);
    frame = aligned;
  }
  const auto* data = reinterpret_cast<const uint8_t*>(frame.data());
  fb::Verifier verifier(data, frame.size(), /*max_depth=*/16, /*max_tables=*/4000000);
  if (!w::VerifyEnvelopeBuffer(verifier)) {
    return Status::Corruption("frame of " + std::to_string(frame.size()) +
                              " bytes fails FlatBuffers verification");
  }
  const w::Envelope* e = w::GetEnvelope(data);
  const size_t count = 1 + (e->more() ? e->more()->size() : 0);
  if (count > limits::kEnvelopesPerFrameMax) {
    return Status::InvalidArgument("frame of " + std::to_string(count) +
                                   " envelopes exceeds the limit of " +
                                   std::to_string(limits::kEnvelopesPerFrameMax));
  }
  Converter converter;
  std::vector<Envelope> decoded;
  decoded.reserve(count);
  decoded.push_back({e->from(), e->to(), converter.Convert(e)});
  if (e->more()) {
    for (const w::Envelope* m : *e->more()) {
      if (m->more())
        return Status::InvalidArgument("an envelope in `more` has a `more` of its own");
      decoded.push_back({m->from(), m->to(), converter.Convert(m)});
    }
  }
  if (!converter.error().empty()) return Status::InvalidArgument(converter.error());
  for (Envelope& d : decoded) out->push_back(std::move(d));
  if (accepts_more != nullptr) *accepts_more = e->accepts_more();
  return Status::Ok();
}

Result<Envelope> Decode(std::string_view frame) {
  std::vector<Envelope> envelopes;
  if (Status s = DecodeFrame(frame, &envelopes); !s.ok()) return s;
  if (envelopes.size() != 1) {
    return Status::InvalidArgument("frame carries " + std::to_string(envelopes.size()) +
                                   " envelopes; want one");
  }
  return std::move(envelopes.front());
}

}  // namespace synod::net
