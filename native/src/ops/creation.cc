// Tensor creation, copies and conversions.
#include "../guard.h"
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
// non_blocking (optional third argument): from pinned host memory to CUDA the copy is queued on
// the current stream and the call returns at once; otherwise it is an ordinary copy.
SPOTDIFF_OP(to_device) {
  const bool nonBlocking = a.size() > 2 && !a.isNull(2) && a.flag(2);
  return a.out(a.tensor(0).to(at::TensorOptions().device(a.device(1)), nonBlocking));
}
// A copy in page-locked host memory (needs CUDA): the source of a non-blocking copy to the device.
SPOTDIFF_OP(pin_memory) { return a.out(a.tensor(0).pin_memory()); }
SPOTDIFF_OP(is_pinned) { return a.outNumber(a.tensor(0).is_pinned() ? 1 : 0); }
// Shares storage with its argument; used to hand out a second owner of one tensor.
SPOTDIFF_OP(alias) { return a.out(a.tensor(0)); }
SPOTDIFF_OP(item) { return a.outNumber(a.tensor(0).item<double>()); }

// Memory formats: "contiguous" (NCHW strides) or "channels_last" (NHWC strides, same values).
namespace {
at::MemoryFormat memoryFormat(const spotdiff::Args& a, size_t i) {
  std::string s = a.str(i);
  if (s == "contiguous") return at::MemoryFormat::Contiguous;
  if (s == "channels_last") return at::MemoryFormat::ChannelsLast;
  throw spotdiff::ArgumentError("argument " + std::to_string(i) + ": memory format must be \"contiguous\" or \"channels_last\", got \"" + s + "\"");
}
}  // namespace

SPOTDIFF_OP(to_memory_format) { return a.out(a.tensor(0).contiguous(memoryFormat(a, 1))); }
// In place, keeping the tensor (a parameter stays the optimiser's), as module.to(memory_format=...) does with param.data.
SPOTDIFF_OP(set_memory_format_) {
  at::Tensor& t = a.tensor(0);
  t.set_data(t.contiguous(memoryFormat(a, 1)));
  return a.outVoid();
}
SPOTDIFF_OP(is_memory_format) { return Napi::Boolean::New(a.env(), a.tensor(0).is_contiguous(memoryFormat(a, 1))); }
