// `synod account create|get` and `synod transfer create|post|void|get`.
#include "tools/commands.h"
#include "tools/common.h"
#include "tools/parse.h"

namespace synod::tools {
namespace {

using nlohmann::json;
namespace fb = ledger::fb;

struct LedgerFlags {
  ClientFlags client;
  std::string id, debit, credit, amount, pending_id;
  uint32_t ledger = 1;
  uint16_t code = 1;
  std::vector<std::string> flags;
  bool pending = false;
  uint64_t timeout_ms = 0;
};

// Parses `text` as a non-zero id, or prints why and sets *rc = 2.
bool Id(std::string_view what, const std::string& text, ledger::Id128* out, int* rc) {
  auto id = ParseId(what, text);
  if (!id.ok()) return (*rc = Fail(kExitUsage, id.status().message())), false;
  *out = id.value();
  return true;
}

// The event's own result code: one event per command here.
int EventResult(const LedgerFlags& f, ledger::Id128 id, const ledger::DecodedResult& r) {
  ledger::ResultCode code = r.event_codes.empty() ? r.code : r.event_codes.front();
  const std::string name = ledger::ResultCodeName(code);
  Print(f.client, {{"id", IdJson(id)}, {"result", name}}, name);
  return kExitOk;  // The cluster answered: exit 0 whatever the result.
}

int CreateAccount(const LedgerFlags& f) {
  ledger::AccountSpec a;
  int rc = 0;
  if (!Id("account ID", f.id, &a.id, &rc)) return rc;
  a.ledger = f.ledger;
  a.code = f.code;
  for (const std::string& flag : f.flags) {
    if (flag == "debits_must_not_exceed_credits") {
      a.flags |= uint16_t(fb::AccountFlags::debits_must_not_exceed_credits);
    } else if (flag == "credits_must_not_exceed_debits") {
      a.flags |= uint16_t(fb::AccountFlags::credits_must_not_exceed_debits);
    } else {
      return Fail(kExitUsage, "--flags: unknown flag '" + flag +
                                  "' (debits_must_not_exceed_credits, "
                                  "credits_must_not_exceed_debits)");
    }
  }
  ledger::DecodedResult r;
  if (!Execute(f.client, ledger::EncodeCreateAccounts({&a, 1}), &r, &rc)) return rc;
  return EventResult(f, a.id, r);
}

int GetAccount(const LedgerFlags& f) {
  ledger::Id128 id = 0;
  int rc = 0;
  if (!Id("account ID", f.id, &id, &rc)) return rc;
  ledger::DecodedResult r;
  if (!Execute(f.client, ledger::EncodeLookupAccounts({&id, 1}), &r, &rc)) return rc;
  if (r.accounts.empty()) return Fail(kExitNotFound, "account " + f.id + " not found");
  const ledger::Account& a = r.accounts.front();
  json j = {{"id", IdJson(a.id)},
            {"ledger", a.ledger},
            {"code", a.code},
            {"flags", a.flags},
            {"debits_posted", a.debits_posted},
            {"credits_posted", a.credits_posted},
            {"debits_pending", a.debits_pending},
            {"credits_pending", a.credits_pending}};
  Print(f.client, j, j.dump(2));
  return kExitOk;
}

// create (plain or pending), post and void share the event; `kind` sets the flags.
int CreateTransfer(const LedgerFlags& f, uint16_t kind) {
  ledger::TransferSpec t;
  int rc = 0;
  if (!Id("transfer ID", f.id, &t.id, &rc)) return rc;
  if (kind == 0) {
    if (!Id("--debit", f.debit, &t.debit, &rc) || !Id("--credit", f.credit, &t.credit, &rc))
      return rc;
    t.ledger = f.ledger;
    t.code = f.code;
    if (f.pending) {
      t.flags |= uint16_t(fb::TransferFlags::pending);
      t.timeout_ns = f.timeout_ms * 1000000;
    } else if (f.timeout_ms != 0) {
      return Fail(kExitUsage, "--pending-timeout-ms needs --pending");
    }
  } else {
    if (!Id("--pending-id", f.pending_id, &t.pending_id, &rc)) return rc;
    t.flags = kind;
  }
  if (!f.amount.empty()) {
    auto amount = ParseAmount("--amount", f.amount);
    if (!amount.ok()) return Fail(kExitUsage, amount.status().message());
    t.amount = amount.value();
  }
  ledger::DecodedResult r;
  if (!Execute(f.client, ledger::EncodeCreateTransfers({&t, 1}), &r, &rc)) return rc;
  return EventResult(f, t.id, r);
}

const char* PendingStateName(fb::PendingState s) { return fb::EnumNamePendingState(s); }

int GetTransfer(const LedgerFlags& f) {
  ledger::Id128 id = 0;
  int rc = 0;
  if (!Id("transfer ID", f.id, &id, &rc)) return rc;
  ledger::DecodedResult r;
  if (!Execute(f.client, ledger::EncodeLookupTransfers({&id, 1}), &r, &rc)) return rc;
  if (r.transfers.empty()) return Fail(kExitNotFound, "transfer " + f.id + " not found");
  const ledger::Transfer& t = r.transfers.front().transfer;
  json j = {{"id", IdJson(t.id)},
            {"debit", IdJson(t.debit)},
            {"credit", IdJson(t.credit)},
            {"amount", t.amount},
            {"ledger", t.ledger},
            {"code", t.code},
            {"flags", t.flags},
            {"pending_id", IdJson(t.pending_id)},
            {"timestamp", t.timestamp_ns},
            {"state", PendingStateName(r.transfers.front().state)}};
  Print(f.client, j, j.dump(2));
  return kExitOk;
}

}  // namespace

void AddLedgerCommands(CLI::App& app, int* rc) {
  CLI::App* account = app.add_subcommand("account", "Ledger accounts");
  account->require_subcommand(1);
  CLI::App* transfer = app.add_subcommand("transfer", "Ledger transfers");
  transfer->require_subcommand(1);
  auto add = [&](CLI::App* parent, const char* name, const char* help,
                 std::function<int(const LedgerFlags&)> run) {
    auto f = std::make_shared<LedgerFlags>();
    CLI::App* cmd = parent->add_subcommand(name, help);
    AddClientFlags(cmd, &f->client);
    cmd->add_option("ID", f->id, "Id: a non-zero 128-bit decimal integer")->required();
    cmd->callback([f, rc, run] { *rc = run(*f); });
    return std::make_pair(cmd, f);
  };
  auto [ac, acf] = add(account, "create", "Create an account", CreateAccount);
  ac->add_option("--ledger", acf->ledger, "Ledger number (non-zero)")
      ->check(CLI::Range(1u, UINT32_MAX));
  ac->add_option("--code", acf->code, "Account code");
  ac->add_option("--flags", acf->flags,
                 "debits_must_not_exceed_credits, credits_must_not_exceed_debits")
      ->delimiter(',');
  add(account, "get", "Show an account", GetAccount);

  auto [tc, tcf] = add(transfer, "create", "Move AMOUNT from --debit to --credit",
                       [](const LedgerFlags& f) { return CreateTransfer(f, 0); });
  tc->add_option("--debit", tcf->debit, "Debit account id")->required();
  tc->add_option("--credit", tcf->credit, "Credit account id")->required();
  tc->add_option("--amount", tcf->amount, "Amount (u64)")->required();
  tc->add_option("--ledger", tcf->ledger, "Ledger number")->check(CLI::Range(1u, UINT32_MAX));
  tc->add_option("--code", tcf->code, "Transfer code");
  tc->add_flag("--pending", tcf->pending, "Reserve the amount until post or void");
  // At most ten years, so that the timeout in nanoseconds fits in 64 bits.
  tc->add_option("--pending-timeout-ms", tcf->timeout_ms, "Pending only: expire after this long")
      ->check(CLI::Range(uint64_t{0}, uint64_t{10} * 365 * 24 * 3600 * 1000));
  auto [tp, tpf] = add(transfer, "post", "Post a pending transfer (all, or --amount of it)",
                       [](const LedgerFlags& f) {
                         return CreateTransfer(f, uint16_t(fb::TransferFlags::post_pending));
                       });
  tp->add_option("--pending-id", tpf->pending_id, "The pending transfer")->required();
  tp->add_option("--amount", tpf->amount, "Post only this much; the rest is released");
  auto [tv, tvf] = add(transfer, "void", "Void a pending transfer", [](const LedgerFlags& f) {
    return CreateTransfer(f, uint16_t(fb::TransferFlags::void_pending));
  });
  tv->add_option("--pending-id", tvf->pending_id, "The pending transfer")->required();
  add(transfer, "get", "Show a transfer", GetTransfer);
}

}  // namespace synod::tools
