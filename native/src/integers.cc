#include "integers.h"
#include "guard.h"
#include <cmath>

namespace spotdiff {
namespace {

constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1, Number.MAX_SAFE_INTEGER

int64_t fromNumber(const Napi::Value& v, const std::string& what) {
  double d = v.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || std::floor(d) != d) throw ArgumentError(what + ": expected an integer, got " + describeValue(v.Env(), v));
  if (std::fabs(d) > kMaxSafe) {
    throw ArgumentError(what + ": " + describeValue(v.Env(), v) +
                        " is beyond the integers a JS number holds exactly (2^53 - 1); pass a BigInt");
  }
  return static_cast<int64_t>(d);
}

int64_t fromBigInt(const Napi::Value& v, const std::string& what) {
  bool lossless = false;
  int64_t i = v.As<Napi::BigInt>().Int64Value(&lossless);
  if (!lossless) throw ArgumentError(what + ": " + describeValue(v.Env(), v) + " does not fit a 64-bit integer");
  return i;
}

}  // namespace

int64_t toInt64(const Napi::Value& v, const std::string& what, int64_t lo, int64_t hi) {
  int64_t i;
  if (v.IsNumber()) i = fromNumber(v, what);
  else if (v.IsBigInt()) i = fromBigInt(v, what);
  else throw ArgumentError(what + ": expected an integer, got " + describeValue(v.Env(), v));
  if (i < lo || i > hi) {
    throw ArgumentError(what + ": expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                        std::to_string(i));
  }
  return i;
}

}  // namespace spotdiff
