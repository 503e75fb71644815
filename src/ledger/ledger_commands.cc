// StateMachine: accounts and transfers (create, post, void, expire) and their lookups.
// Validation order and result codes follow TigerBeetle where the issue is silent; see README.
#include <algorithm>

#include "ledger/ledger_limits.h"
#include "ledger/results.h"
#include "ledger/state_machine.h"
#include "paxos/struct_vector.h"

namespace synod::ledger {
namespace {

using RC = fb::ResultCode;

bool AddOverflows(uint64_t a, uint64_t b) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r);
}
bool AddOverflows(uint64_t a, uint64_t b, uint64_t c) {
  uint64_t r;
  return __builtin_add_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r);
}

// For post/void, a zero field in the event means "as in the pending transfer".
bool Matches(Id128 event_value, Id128 stored) { return event_value == 0 || event_value == stored; }

}  // namespace

// ---- Accounts ----------------------------------------------------------------------------

std::string StateMachine::CreateAccounts(const void* command) {
  const auto* events = static_cast<const fb::CreateAccounts*>(command)->accounts();
  if (!StructsAligned(events)) return CodeResult(&fbb_, RC::malformed_command);
  if (events == nullptr || events->size() == 0 || events->size() > limits::kEventsPerCommandMax) {
    return CodeResult(&fbb_, RC::too_many_events);
  }
  std::vector<RC> codes;
  codes.reserve(events->size());
  for (const fb::AccountEvent* e : *events) codes.push_back(CreateAccount(*e));
  return EventCodesResult(&fbb_, codes);
}

RC StateMachine::CreateAccount(const fb::AccountEvent& e) {
  Id128 id = ToId(e.id());
  if (id == 0) return RC::id_must_not_be_zero;
  if ((e.flags() & ~(kDebitsLimited | kCreditsLimited)) != 0) return RC::reserved_flag;
  if ((e.flags() & kDebitsLimited) && (e.flags() & kCreditsLimited)) {
    return RC::flags_are_mutually_exclusive;
  }
  if (e.ledger() == 0) return RC::ledger_must_not_be_zero;
  if (const Account* a = FindAccount(id)) {
    bool same = a->ledger == e.ledger() && a->code == e.code() && a->flags == e.flags();
    return same ? RC::exists : RC::exists_with_different_fields;
  }
  Account* a = NewAccount(id);
  a->ledger = e.ledger();
  a->code = e.code();
  a->flags = e.flags();
  a->timestamp_ns = now_ns_;
  return RC::ok;
}

// Every change to an account goes through SaveAccount first: it keeps the value before the
// account's first change in the batch (for CommitAccounts and the hash) and, in a linked
// chain, the value before each change (for rollback). `old` is nullptr for a new account.
void StateMachine::SaveAccount(Id128 id, const Account* old) {
  bool inserted = false;
  touched_.FindOrInsert(id, &inserted);
  std::optional<Account> value;
  if (old != nullptr) value = *old;
  if (inserted) account_orig_.push_back(value);
  if (in_chain_) account_undo_.emplace_back(id, value);
}

Account* StateMachine::MutableAccount(Account* a) {
  SaveAccount(a->id, a);
  return a;
}

Account* StateMachine::NewAccount(Id128 id) {
  SaveAccount(id, nullptr);
  auto [it, inserted] = accounts_.try_emplace(id);
  SYNOD_CHECK(inserted);
  it->second.id = id;
  return &it->second;
}

Account* StateMachine::FindMutableAccount(Id128 id) {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

// Writes the touched accounts that changed, in key order (sequential memtable inserts).
void StateMachine::CommitAccounts(TableWriteBatch* batch) {
  std::vector<uint32_t> order(touched_.size());
  for (uint32_t p = 0; p < order.size(); ++p) order[p] = p;
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return touched_.id(a) < touched_.id(b); });
  char key[kAccountKeyBytes];
  char old_value[kAccountValueBytes];
  char new_value[kAccountValueBytes];
  const std::string_view key_view(key, sizeof key);
  const std::string_view old_view(old_value, sizeof old_value);
  const std::string_view new_view(new_value, sizeof new_value);
  for (uint32_t p : order) {
    const std::optional<Account>& orig = account_orig_[p];
    const Account* now = FindAccount(touched_.id(p));
    if (orig) EncodeAccountTo(*orig, old_value);
    if (now) EncodeAccountTo(*now, new_value);
    if (orig.has_value() == (now != nullptr) && (!orig || old_view == new_view)) continue;
    StoreId(key, touched_.id(p));
    if (orig) record_sum_.Remove(Table::kAccounts, key_view, old_view);
    if (now) {
      record_sum_.Add(Table::kAccounts, key_view, new_view);
      batch->Put(Table::kAccounts, key_view, new_view);
    } else {
      batch->Delete(Table::kAccounts, key_view);
    }
  }
  touched_.Clear();
  account_orig_.clear();
}

// ---- Linked chains -------------------------------------------------------------------------

void StateMachine::BeginChain() {
  SYNOD_CHECK(!in_chain_);
  in_chain_ = true;
  staging_.BeginUndo();
  chain_transfer_seq_ = transfer_seq_;
}

void StateMachine::EndChain(bool rollback) {
  SYNOD_CHECK(in_chain_);
  staging_.EndUndo(rollback);
  while (rollback && !account_undo_.empty()) {
    auto& [id, old] = account_undo_.back();
    if (old) {
      accounts_[id] = *old;
    } else {
      accounts_.erase(id);
    }
    account_undo_.pop_back();
  }
  if (rollback) transfer_seq_ = chain_transfer_seq_;
  account_undo_.clear();
  in_chain_ = false;
}

// ---- Transfers ---------------------------------------------------------------------------

std::string StateMachine::CreateTransfers(const void* command) {
  const auto* events = static_cast<const fb::CreateTransfers*>(command)->transfers();
  if (!StructsAligned(events)) return CodeResult(&fbb_, RC::malformed_command);
  if (events == nullptr || events->size() == 0 || events->size() > limits::kEventsPerCommandMax) {
    return CodeResult(&fbb_, RC::too_many_events);
  }
  const size_t n = events->size();
  std::vector<RC> codes(n, RC::ok);
  for (size_t first = 0; first < n;) {
    size_t last = first;  // The chain is [first, last].
    while (last + 1 < n && (events->Get(last)->flags() & kLinked)) ++last;
    const bool open = (events->Get(last)->flags() & kLinked) != 0;
    if (last == first && !open) {
      codes[first] = CreateTransfer(*events->Get(first));
      first = last + 1;
      continue;
    }
    BeginChain();
    size_t failed = n;
    for (size_t k = first; k <= last && failed == n; ++k) {
      codes[k] =
          (open && k == last) ? RC::linked_event_chain_open : CreateTransfer(*events->Get(k));
      if (codes[k] != RC::ok) failed = k;
    }
    EndChain(/*rollback=*/failed != n);
    if (failed != n) {
      for (size_t k = first; k <= last; ++k) {
        if (k != failed) codes[k] = RC::linked_event_failed;
      }
    }
    first = last + 1;
  }
  return EventCodesResult(&fbb_, codes);
}

RC StateMachine::ValidateTransferStatic(const fb::TransferEvent& e) const {
  const uint16_t flags = e.flags();
  if (ToId(e.id()) == 0) return RC::id_must_not_be_zero;
  if ((flags & ~(kLinked | kPending | kPost | kVoid)) != 0) return RC::reserved_flag;
  const int kinds = !!(flags & kPending) + !!(flags & kPost) + !!(flags & kVoid);
  if (kinds > 1) return RC::flags_are_mutually_exclusive;
  if (e.timeout_ns() != 0 && !(flags & kPending)) return RC::timeout_reserved_for_pending;
  if (flags & (kPost | kVoid)) {
    if (ToId(e.pending_id()) == 0) return RC::pending_id_must_not_be_zero;
    if (ToId(e.pending_id()) == ToId(e.id())) return RC::pending_id_must_be_different;
    return RC::ok;
  }
  if (ToId(e.pending_id()) != 0) return RC::pending_id_must_be_zero;
  if (ToId(e.debit_account_id()) == ToId(e.credit_account_id())) {
    return RC::accounts_must_be_different;
  }
  if (e.ledger() == 0) return RC::ledger_must_not_be_zero;
  if (e.amount() == 0) return RC::amount_must_not_be_zero;
  return RC::ok;
}

RC StateMachine::CreateTransfer(const fb::TransferEvent& e) {
  RC code = ValidateTransferStatic(e);
  if (code != RC::ok) return code;
  if (std::optional<Transfer> t = FindTransfer(ToId(e.id()))) {
    bool post_or_void = (e.flags() & (kPost | kVoid)) != 0;
    bool same = t->flags == e.flags() && t->pending_id == ToId(e.pending_id()) &&
                t->timeout_ns == e.timeout_ns();
    if (post_or_void) {
      same = same && Matches(ToId(e.debit_account_id()), t->debit) &&
             Matches(ToId(e.credit_account_id()), t->credit) && Matches(e.ledger(), t->ledger) &&
             Matches(e.code(), t->code) && Matches(e.amount(), t->amount);
    } else {
      same = same && t->debit == ToId(e.debit_account_id()) &&
             t->credit == ToId(e.credit_account_id()) && t->ledger == e.ledger() &&
             t->code == e.code() && t->amount == e.amount();
    }
    return same ? RC::exists : RC::exists_with_different_fields;
  }
  return (e.flags() & (kPost | kVoid)) ? PostOrVoid(e) : CreatePlainOrPending(e);
}

// The balance checks of a plain or pending transfer of `amount` from dr to cr.
RC StateMachine::CheckBalances(const fb::TransferEvent& e, const Account& dr,
                               const Account& cr) const {
  const uint64_t amount = e.amount();
  if (AddOverflows(dr.debits_posted, dr.debits_pending, amount) ||
      AddOverflows(cr.credits_posted, cr.credits_pending, amount)) {
    return RC::overflow;
  }
  if ((e.flags() & kPending) && e.timeout_ns() != 0 && AddOverflows(now_ns_, e.timeout_ns())) {
    return RC::overflow;
  }
  // No overflow below: the sums were checked above.
  if ((dr.flags & kDebitsLimited) &&
      dr.debits_posted + dr.debits_pending + amount > dr.credits_posted) {
    return RC::exceeds_credits;
  }
  if ((cr.flags & kCreditsLimited) &&
      cr.credits_posted + cr.credits_pending + amount > cr.debits_posted) {
    return RC::exceeds_debits;
  }
  return RC::ok;
}

RC StateMachine::CreatePlainOrPending(const fb::TransferEvent& e) {
  Account* dr = FindMutableAccount(ToId(e.debit_account_id()));
  Account* cr = FindMutableAccount(ToId(e.credit_account_id()));
  if (dr == nullptr || cr == nullptr) return RC::account_not_found;
  if (dr->ledger != cr->ledger || e.ledger() != dr->ledger) return RC::ledger_mismatch;
  if (RC code = CheckBalances(e, *dr, *cr); code != RC::ok) return code;
  const bool pending = e.flags() & kPending;
  const uint64_t amount = e.amount();
  Account* debit = MutableAccount(dr);
  Account* credit = MutableAccount(cr);
  if (pending) {
    debit->debits_pending += amount;
    credit->credits_pending += amount;
  } else {
    debit->debits_posted += amount;
    if (!options_.testing_debit_without_credit) credit->credits_posted += amount;
  }
  Transfer t{ToId(e.id()), dr->id, cr->id,     0,        amount,   e.timeout_ns(),
             now_ns_,      0,      e.ledger(), e.code(), e.flags()};
  InsertTransfer(t);
  if (pending) {
    PendingStatus p{fb::PendingState::pending, e.timeout_ns() ? now_ns_ + e.timeout_ns() : 0};
    staging_.Put(Table::kTransfers, PendingKey(t.id), EncodePending(p), /*known_absent=*/true);
    if (p.expires_at_ns != 0) {
      staging_.Put(Table::kTransfers, ExpiryKey(p.expires_at_ns, t.id), "", true);
    }
  }
  return RC::ok;
}

// Checks a post/void `e` of the pending transfer `p`; on ok, *amount is the amount to post
// (for a void: to release) and *status the pending transfer's open status.
RC StateMachine::CheckPostOrVoid(const fb::TransferEvent& e, const Transfer& p, uint64_t* amount,
                                 PendingStatus* status) {
  if (!(p.flags & kPending)) return RC::pending_transfer_not_pending;
  if (!Matches(ToId(e.debit_account_id()), p.debit) ||
      !Matches(ToId(e.credit_account_id()), p.credit) || !Matches(e.code(), p.code)) {
    return RC::pending_transfer_has_different_fields;
  }
  if (!Matches(e.ledger(), p.ledger)) return RC::ledger_mismatch;
  const bool post = e.flags() & kPost;
  *amount = (post && e.amount() != 0) ? e.amount() : p.amount;
  if (post ? *amount > p.amount : (e.amount() != 0 && e.amount() != p.amount)) {
    return RC::exceeds_pending_amount;
  }
  std::optional<PendingStatus> found = FindPending(p.id);
  SYNOD_CHECK(found.has_value());  // Every pending transfer has a status record.
  *status = *found;
  switch (status->state) {
    case fb::PendingState::posted:
      return RC::pending_already_posted;
    case fb::PendingState::voided:
      return RC::pending_already_voided;
    case fb::PendingState::expired:
      return RC::pending_expired;
    default:
      break;
  }
  SYNOD_CHECK(status->state == fb::PendingState::pending);
  // ExpirePending() ran at the start of the batch; this only guards the boundary.
  if (status->expires_at_ns != 0 && status->expires_at_ns <= now_ns_) return RC::pending_expired;
  return RC::ok;
}

RC StateMachine::PostOrVoid(const fb::TransferEvent& e) {
  std::optional<Transfer> p = FindTransfer(ToId(e.pending_id()));
  if (!p) return RC::pending_not_found;
  uint64_t amount = 0;
  PendingStatus status;
  if (RC code = CheckPostOrVoid(e, *p, &amount, &status); code != RC::ok) return code;
  const bool post = e.flags() & kPost;
  Account* dr = FindMutableAccount(p->debit);
  Account* cr = FindMutableAccount(p->credit);
  SYNOD_CHECK(dr != nullptr && cr != nullptr);  // Accounts are never deleted.
  SYNOD_CHECK(dr->debits_pending >= p->amount && cr->credits_pending >= p->amount);
  if (post &&
      (AddOverflows(dr->debits_posted, amount) || AddOverflows(cr->credits_posted, amount))) {
    return RC::overflow;
  }
  Account* debit = MutableAccount(dr);
  Account* credit = MutableAccount(cr);
  debit->debits_pending -= p->amount;
  credit->credits_pending -= p->amount;
  if (post) {
    debit->debits_posted += amount;
    credit->credits_posted += amount;
  }
  InsertTransfer(Transfer{ToId(e.id()), p->debit, p->credit, p->id, amount, 0, now_ns_, 0,
                          p->ledger, p->code, e.flags()});
  status.state = post ? fb::PendingState::posted : fb::PendingState::voided;
  staging_.Put(Table::kTransfers, PendingKey(p->id), EncodePending(status));
  if (status.expires_at_ns != 0) {
    staging_.Delete(Table::kTransfers, ExpiryKey(status.expires_at_ns, p->id));
  }
  return RC::ok;
}

// Stores a new transfer and its two account_transfers index rows.
// REQUIRES: FindTransfer(t.id) found nothing (so the stored key is known to be absent).
void StateMachine::InsertTransfer(Transfer t) {
  t.seq = ++transfer_seq_;
  staging_.AddTransfer(t);
}

// Transfers are immutable: a stored one is never staged, so the tables are read directly.
std::optional<Transfer> StateMachine::FindTransfer(Id128 id) {
  if (const Transfer* t = staging_.FindNewTransfer(id)) return *t;
  char key[kTransferKeyBytes];
  TransferKeyTo(id, key);
  bool found = false;
  std::string_view v = staging_.GetStored(Table::kTransfers, {key, sizeof key}, &found);
  Transfer t;
  if (!found) return std::nullopt;
  SYNOD_CHECK(DecodeTransfer(v, &t));
  return t;
}

std::optional<PendingStatus> StateMachine::FindPending(Id128 id) {
  bool found = false;
  std::string_view v = staging_.Get(Table::kTransfers, PendingKey(id), &found);
  PendingStatus p;
  if (!found) return std::nullopt;
  SYNOD_CHECK(DecodePending(v, &p));
  return p;
}

// Releases every pending transfer whose timeout passed at the batch's cluster time. Runs first
// in each batch, before any command, so a post/void in the batch sees the expiry.
void StateMachine::ExpirePending() {
  std::vector<std::pair<uint64_t, Id128>> expired;
  {
    auto cursor = tables_->NewCursor(Table::kTransfers);
    for (cursor->Seek("E"); cursor->Valid() && cursor->key()[0] == 'E'; cursor->Next()) {
      SYNOD_CHECK(cursor->key().size() == 25);
      uint64_t at = GetU64Be(cursor->key().data() + 1);
      if (at > now_ns_) break;
      expired.emplace_back(at, GetId(cursor->key().data() + 9));
    }
    if (!cursor->status().ok()) failed_ = cursor->status();
  }
  for (const auto& [at, id] : expired) {
    std::optional<Transfer> p = FindTransfer(id);
    std::optional<PendingStatus> status = FindPending(id);
    SYNOD_CHECK(p.has_value() && status.has_value());
    SYNOD_CHECK(status->state == fb::PendingState::pending && status->expires_at_ns == at);
    Account* debit = FindMutableAccount(p->debit);
    Account* credit = FindMutableAccount(p->credit);
    SYNOD_CHECK(debit != nullptr && credit != nullptr);  // Accounts are never deleted.
    MutableAccount(debit)->debits_pending -= p->amount;
    MutableAccount(credit)->credits_pending -= p->amount;
    status->state = fb::PendingState::expired;
    staging_.Put(Table::kTransfers, PendingKey(id), EncodePending(*status));
    staging_.Delete(Table::kTransfers, ExpiryKey(at, id));
  }
}

// ---- Lookups -----------------------------------------------------------------------------

std::string StateMachine::LookupAccounts(const void* command) {
  const auto* ids = static_cast<const fb::LookupAccounts*>(command)->ids();
  if (!StructsAligned(ids)) return CodeResult(&fbb_, RC::malformed_command);
  if (ids == nullptr || ids->size() == 0 || ids->size() > limits::kLookupIdsMax) {
    return CodeResult(&fbb_, RC::too_many_events);
  }
  std::vector<fb::AccountRecord> records;
  for (const fb::U128* id : *ids) {
    const Account* a = FindAccount(ToId(*id));
    if (a == nullptr) continue;
    records.emplace_back(*id, a->debits_posted, a->credits_posted, a->debits_pending,
                         a->credits_pending, a->timestamp_ns, a->ledger, a->code, a->flags);
  }
  fbb_.Clear();
  auto vec = fbb_.CreateVectorOfStructs(records);
  fb::CommandResultBuilder b(fbb_);
  b.add_code(records.empty() ? RC::not_found : RC::ok);
  b.add_accounts(vec);
  return Finish(&fbb_, b.Finish());
}

void StateMachine::AddTransferRecord(const Transfer& t, std::vector<fb::TransferRecord>* out) {
  fb::PendingState state = fb::PendingState::none;
  if (t.flags & kPending) {
    std::optional<PendingStatus> p = FindPending(t.id);
    SYNOD_CHECK(p.has_value());
    state = p->state;
  }
  out->emplace_back(FromId(t.id), FromId(t.debit), FromId(t.credit), FromId(t.pending_id), t.amount,
                    t.timeout_ns, t.timestamp_ns, t.ledger, t.code, t.flags, state);
}

std::string StateMachine::LookupTransfers(const void* command) {
  const auto* ids = static_cast<const fb::LookupTransfers*>(command)->ids();
  if (!StructsAligned(ids)) return CodeResult(&fbb_, RC::malformed_command);
  if (ids == nullptr || ids->size() == 0 || ids->size() > limits::kLookupIdsMax) {
    return CodeResult(&fbb_, RC::too_many_events);
  }
  std::vector<fb::TransferRecord> records;
  for (const fb::U128* id : *ids) {
    if (std::optional<Transfer> t = FindTransfer(ToId(*id))) AddTransferRecord(*t, &records);
  }
  fbb_.Clear();
  auto vec = fbb_.CreateVectorOfStructs(records);
  fb::CommandResultBuilder b(fbb_);
  b.add_code(records.empty() ? RC::not_found : RC::ok);
  b.add_transfers(vec);
  return Finish(&fbb_, b.Finish());
}

// Most recent first: rows added in this batch (newest at the back of index_entries()), then
// the stored rows, whose keys hold the inverted sequence number so they sort newest first.
std::string StateMachine::LookupAccountTransfers(const void* command) {
  const auto* c = static_cast<const fb::LookupAccountTransfers*>(command);
  const Id128 account = c->account_id() ? ToId(*c->account_id()) : 0;
  uint32_t limit = c->limit() == 0 ? limits::kAccountTransfersMax
                                   : std::min(c->limit(), limits::kAccountTransfersMax);
  if (FindAccount(account) == nullptr) return CodeResult(&fbb_, RC::account_not_found);
  std::vector<Id128> ids;
  bool more = false;
  const auto& added = staging_.index_entries();
  for (auto it = added.rbegin(); it != added.rend() && !more; ++it) {
    if (it->account != account) continue;
    if (ids.size() == limit)
      more = true;
    else
      ids.push_back(it->transfer);
  }
  const std::string prefix = AccountKey(account);
  auto cursor = tables_->NewCursor(Table::kAccountTransfers);
  for (cursor->Seek(prefix); !more && cursor->Valid() && cursor->key().starts_with(prefix);
       cursor->Next()) {
    if (ids.size() == limit)
      more = true;
    else
      ids.push_back(GetId(cursor->value().data()));
  }
  if (!cursor->status().ok()) failed_ = cursor->status();
  cursor.reset();
  std::vector<fb::TransferRecord> records;
  for (Id128 id : ids) {
    std::optional<Transfer> t = FindTransfer(id);
    SYNOD_CHECK(t.has_value());  // The index only names stored transfers.
    AddTransferRecord(*t, &records);
  }
  fbb_.Clear();
  auto vec = fbb_.CreateVectorOfStructs(records);
  fb::CommandResultBuilder b(fbb_);
  b.add_code(RC::ok);
  b.add_transfers(vec);
  b.add_more(more);
  return Finish(&fbb_, b.Finish());
}

}  // namespace synod::ledger
