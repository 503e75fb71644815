// Helpers for feeding roles by hand and reading their Ready.
#pragma once

#include <memory>
#include <vector>

#include "paxos/message.h"

namespace synod::testing_util {

inline BatchRef MakeBatch(uint64_t client, uint64_t request, std::string payload = "p") {
  auto b = std::make_shared<Batch>();
  b->commands.push_back(Command{client, request, std::move(payload)});
  return b;
}

// Every message of type T in `ready`, with its destination.
template <typename T>
std::vector<std::pair<NodeId, T>> Sent(const Ready& ready) {
  std::vector<std::pair<NodeId, T>> out;
  for (const Envelope& e : ready.messages) {
    if (const T* m = std::get_if<T>(&e.body)) out.push_back({e.to, *m});
  }
  return out;
}

inline size_t Persisted(const Ready& ready, DurableWrite::Kind kind) {
  size_t n = 0;
  for (const DurableWrite& w : ready.to_persist) n += w.kind == kind;
  return n;
}

}  // namespace synod::testing_util
