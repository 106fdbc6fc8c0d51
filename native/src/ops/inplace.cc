// In-place updates (parameters, buffers, optimiser state). They follow the current grad mode;
// the TypeScript optimisers call them inside noGrad().
#include "../op_table.h"

SPOTDIFF_OP(add_) {
  if (a.isTensor(1)) a.tensor(0).add_(a.tensor(1), a.isNull(2) ? at::Scalar(1) : a.scalar(2));
  else a.tensor(0).add_(a.scalar(1));
  return a.outVoid();
}
SPOTDIFF_OP(mul_) {
  if (a.isTensor(1)) a.tensor(0).mul_(a.tensor(1));
  else a.tensor(0).mul_(a.scalar(1));
  return a.outVoid();
}
SPOTDIFF_OP(div_) {
  if (a.isTensor(1)) a.tensor(0).div_(a.tensor(1));
  else a.tensor(0).div_(a.scalar(1));
  return a.outVoid();
}
SPOTDIFF_OP(copy_) {
  a.tensor(0).copy_(a.tensor(1));
  return a.outVoid();
}
// relu_(x): torchvision's ReLU(inplace=True); under autograd too (x must not be a leaf).
SPOTDIFF_OP(relu_) {
  at::relu_(a.tensor(0));
  return a.outVoid();
}
SPOTDIFF_OP(zero_) {
  a.tensor(0).zero_();
  return a.outVoid();
}
SPOTDIFF_OP(fill_) {
  a.tensor(0).fill_(a.scalar(1));
  return a.outVoid();
}
SPOTDIFF_OP(clamp_) {
  c10::optional<at::Scalar> lo, hi;
  if (!a.isNull(1)) lo = a.scalar(1);
  if (!a.isNull(2)) hi = a.scalar(2);
  a.tensor(0).clamp_(lo, hi);
  return a.outVoid();
}
// lerp_(x, y, w): x += w * (y - x); the momentum-encoder update of MoCo.
SPOTDIFF_OP(lerp_) {
  a.tensor(0).lerp_(a.tensor(1), a.scalar(2));
  return a.outVoid();
}
SPOTDIFF_OP(index_put_) {
  c10::List<c10::optional<at::Tensor>> idx;
  for (auto& t : a.tensors(1)) idx.push_back(t);
  a.tensor(0).index_put_(idx, a.tensor(2), a.flag(3));
  return a.outVoid();
}
