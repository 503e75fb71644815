// StructsAligned: whether a verified FlatBuffers vector of structs may be read in place.
//
// The FlatBuffers 2.0 verifier checks that a vector's length prefix is 4-byte aligned, not that
// its struct elements are aligned for their type (8 for a struct holding a u64). A hostile or
// damaged buffer can therefore place them off alignment, and reading them in place is undefined
// behaviour (UBSan's misaligned load; found by the fuzzers). Every decoder of a vector of structs
// checks this and treats a misaligned vector as malformed input. Our own builders always align.
#pragma once

#include <cstdint>
#include <type_traits>

namespace synod {

// `Vec` is a flatbuffers::Vector<const T*> of structs (its return_type is const T*). A null or
// empty vector has nothing to read (the builder does not align an empty one's data).
template <typename Vec>
bool StructsAligned(const Vec* v) {
  using T = std::remove_cv_t<std::remove_pointer_t<typename Vec::return_type>>;
  return v == nullptr || v->size() == 0 ||
         reinterpret_cast<std::uintptr_t>(v->Data()) % alignof(T) == 0;
}

}  // namespace synod
