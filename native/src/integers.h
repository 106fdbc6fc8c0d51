// JS numbers as C++ integers. N-API's own conversions truncate (2.5 -> 2), map NaN and ±Inf to 0
// and wrap 2^32 + 2 to 2 in an int32: an op would then run on a value nobody passed. These refuse
// instead, with an ArgumentError that names the argument.
#pragma once
#include <napi.h>
#include <cstdint>
#include <limits>
#include <string>

namespace spotdiff {

// A Number that is an integer of at most 2^53 - 1 in magnitude (beyond it a JS number no longer
// holds every integer exactly), or a BigInt that fits int64; and within [lo, hi].
// `what` names the argument in the message ("argument 2", "shape[1]").
int64_t toInt64(const Napi::Value& v, const std::string& what, int64_t lo = std::numeric_limits<int64_t>::min(),
                int64_t hi = std::numeric_limits<int64_t>::max());

// The same, for a C++ int (thread counts and the like).
inline int toInt(const Napi::Value& v, const std::string& what, int lo = std::numeric_limits<int>::min(),
                 int hi = std::numeric_limits<int>::max()) {
  return static_cast<int>(toInt64(v, what, lo, hi));
}

}  // namespace spotdiff
