// Tensor creation, copies and conversions.
#include "../op_table.h"

namespace {
at::TensorOptions opts(const spotdiff::Args& a, size_t dtypeAt) {
  return at::TensorOptions().dtype(a.dtype(dtypeAt)).device(a.device(dtypeAt + 1));
}
}  // namespace

SPOTDIFF_OP(zeros) { return a.out(at::zeros(a.ints(0), opts(a, 1))); }
SPOTDIFF_OP(ones) { return a.out(at::ones(a.ints(0), opts(a, 1))); }
SPOTDIFF_OP(full) { return a.out(at::full(a.ints(0), a.scalar(1), opts(a, 2))); }
SPOTDIFF_OP(arange) { return a.out(at::arange(a.scalar(0), a.scalar(1), a.scalar(2), opts(a, 3))); }
SPOTDIFF_OP(linspace) { return a.out(at::linspace(a.scalar(0), a.scalar(1), a.i64(2), opts(a, 3))); }
SPOTDIFF_OP(eye) { return a.out(at::eye(a.i64(0), opts(a, 1))); }
SPOTDIFF_OP(zeros_like) { return a.out(at::zeros_like(a.tensor(0))); }
SPOTDIFF_OP(ones_like) { return a.out(at::ones_like(a.tensor(0))); }
SPOTDIFF_OP(full_like) { return a.out(at::full_like(a.tensor(0), a.scalar(1))); }
SPOTDIFF_OP(clone) { return a.out(a.tensor(0).clone()); }
SPOTDIFF_OP(contiguous) { return a.out(a.tensor(0).contiguous()); }
SPOTDIFF_OP(detach) { return a.out(a.tensor(0).detach()); }
SPOTDIFF_OP(to_dtype) { return a.out(a.tensor(0).to(a.dtype(1))); }
SPOTDIFF_OP(to_device) { return a.out(a.tensor(0).to(a.device(1))); }
// Shares storage with its argument; used to hand out a second owner of one tensor.
SPOTDIFF_OP(alias) { return a.out(a.tensor(0)); }
SPOTDIFF_OP(item) { return a.outNumber(a.tensor(0).item<double>()); }
