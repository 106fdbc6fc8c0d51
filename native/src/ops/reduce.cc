// Reductions over all elements or over dims, selection (topk, sort) and scans.
#include "../op_table.h"

namespace {
// dims == null reduces over every dim; returns an empty optional for that case.
at::OptionalIntArrayRef dimsOrAll(const spotdiff::Args& a, size_t i, std::vector<int64_t>& store) {
  if (a.isNull(i)) return c10::nullopt;
  store = a.ints(i);
  return at::IntArrayRef(store);
}
}  // namespace

SPOTDIFF_OP(sum) {
  std::vector<int64_t> d;
  if (a.isNull(1)) return a.out(at::sum(a.tensor(0)));
  return a.out(at::sum(a.tensor(0), dimsOrAll(a, 1, d), a.flag(2)));
}
SPOTDIFF_OP(mean) {
  std::vector<int64_t> d;
  if (a.isNull(1)) return a.out(at::mean(a.tensor(0)));
  return a.out(at::mean(a.tensor(0), dimsOrAll(a, 1, d), a.flag(2)));
}
// var(x, dims|null, correction, keepdim): correction 1 is the unbiased estimate.
SPOTDIFF_OP(var) {
  std::vector<int64_t> d;
  return a.out(at::var(a.tensor(0), dimsOrAll(a, 1, d), c10::optional<int64_t>(a.i64(2)), a.flag(3)));
}
SPOTDIFF_OP(std) {
  std::vector<int64_t> d;
  return a.out(at::std(a.tensor(0), dimsOrAll(a, 1, d), c10::optional<int64_t>(a.i64(2)), a.flag(3)));
}
SPOTDIFF_OP(amax) { return a.out(at::amax(a.tensor(0), a.ints(1), a.flag(2))); }
SPOTDIFF_OP(amin) { return a.out(at::amin(a.tensor(0), a.ints(1), a.flag(2))); }
SPOTDIFF_OP(max_all) { return a.out(at::max(a.tensor(0))); }
SPOTDIFF_OP(min_all) { return a.out(at::min(a.tensor(0))); }
// max(x, dim, keepdim) -> [values, indices]
SPOTDIFF_OP(max) { return a.out(at::max(a.tensor(0), a.i64(1), a.flag(2))); }
SPOTDIFF_OP(min) { return a.out(at::min(a.tensor(0), a.i64(1), a.flag(2))); }
SPOTDIFF_OP(argmax) { return a.out(at::argmax(a.tensor(0), a.optI64(1), a.flag(2))); }
SPOTDIFF_OP(argmin) { return a.out(at::argmin(a.tensor(0), a.optI64(1), a.flag(2))); }
SPOTDIFF_OP(logsumexp) { return a.out(at::logsumexp(a.tensor(0), a.ints(1), a.flag(2))); }
SPOTDIFF_OP(prod) { return a.out(at::prod(a.tensor(0), a.i64(1), a.flag(2))); }
// norm(x, p, dims|null, keepdim)
SPOTDIFF_OP(norm) {
  if (a.isNull(2)) return a.out(at::norm(a.tensor(0), a.scalar(1)));
  return a.out(at::norm(a.tensor(0), a.scalar(1), a.ints(2), a.flag(3)));
}
SPOTDIFF_OP(cumsum) { return a.out(at::cumsum(a.tensor(0), a.i64(1))); }
// topk(x, k, dim, largest, sorted) -> [values, indices]
SPOTDIFF_OP(topk) { return a.out(at::topk(a.tensor(0), a.i64(1), a.i64(2), a.flag(3), a.flag(4))); }
// sort(x, dim, descending, stable) -> [values, indices]
SPOTDIFF_OP(sort) { return a.out(at::sort(a.tensor(0), c10::optional<bool>(a.flag(3)), a.i64(1), a.flag(2))); }
SPOTDIFF_OP(argsort) { return a.out(at::argsort(a.tensor(0), a.i64(1), a.flag(2))); }
SPOTDIFF_OP(all) { return a.out(at::all(a.tensor(0))); }
SPOTDIFF_OP(any) { return a.out(at::any(a.tensor(0))); }
// quantile(x, q, dim|null, keepdim)
SPOTDIFF_OP(quantile) { return a.out(at::quantile(a.tensor(0), a.f64(1), a.optI64(2), a.flag(3))); }
