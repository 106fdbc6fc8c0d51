// Elementwise arithmetic (with broadcasting), activations and comparisons.
// Binary ops take a tensor or a number as their second argument.
#include "../op_table.h"

#define BINARY(name, fn)                                                  \
  SPOTDIFF_OP(name) {                                                     \
    if (a.isTensor(1)) return a.out(at::fn(a.tensor(0), a.tensor(1)));    \
    return a.out(at::fn(a.tensor(0), a.scalar(1)));                       \
  }
#define UNARY(name, fn) \
  SPOTDIFF_OP(name) { return a.out(at::fn(a.tensor(0))); }

SPOTDIFF_OP(add) {
  if (a.isTensor(1)) return a.out(at::add(a.tensor(0), a.tensor(1), a.isNull(2) ? at::Scalar(1) : a.scalar(2)));
  return a.out(at::add(a.tensor(0), a.scalar(1)));
}
SPOTDIFF_OP(sub) {
  if (a.isTensor(1)) return a.out(at::sub(a.tensor(0), a.tensor(1), a.isNull(2) ? at::Scalar(1) : a.scalar(2)));
  return a.out(at::sub(a.tensor(0), a.scalar(1)));
}
// rsub(x, s) = s - x
SPOTDIFF_OP(rsub) { return a.out(at::rsub(a.tensor(0), a.scalar(1))); }
BINARY(mul, mul)
BINARY(div, div)
BINARY(pow, pow)
BINARY(remainder, remainder)
BINARY(eq, eq)
BINARY(ne, ne)
BINARY(lt, lt)
BINARY(le, le)
BINARY(gt, gt)
BINARY(ge, ge)
SPOTDIFF_OP(rpow) { return a.out(at::pow(a.scalar(1), a.tensor(0))); }
SPOTDIFF_OP(maximum) { return a.out(at::maximum(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(minimum) { return a.out(at::minimum(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(atan2) { return a.out(at::atan2(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(logical_and) { return a.out(at::logical_and(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(logical_or) { return a.out(at::logical_or(a.tensor(0), a.tensor(1))); }

UNARY(neg, neg)
UNARY(abs, abs)
UNARY(sqrt, sqrt)
UNARY(rsqrt, rsqrt)
UNARY(exp, exp)
UNARY(log, log)
UNARY(log1p, log1p)
UNARY(sin, sin)
UNARY(cos, cos)
UNARY(sign, sign)
UNARY(floor, floor)
UNARY(ceil, ceil)
UNARY(round, round)
UNARY(reciprocal, reciprocal)
UNARY(square, square)
UNARY(relu, relu)
UNARY(sigmoid, sigmoid)
UNARY(tanh, tanh)
UNARY(gelu, gelu)
UNARY(silu, silu)
UNARY(logical_not, logical_not)
UNARY(isnan, isnan)
UNARY(isfinite, isfinite)
UNARY(erf, erf)

SPOTDIFF_OP(leaky_relu) { return a.out(at::leaky_relu(a.tensor(0), a.scalar(1))); }
SPOTDIFF_OP(softplus) { return a.out(at::softplus(a.tensor(0), a.scalar(1), a.scalar(2))); }
SPOTDIFF_OP(clamp) {
  c10::optional<at::Scalar> lo, hi;
  if (!a.isNull(1)) lo = a.scalar(1);
  if (!a.isNull(2)) hi = a.scalar(2);
  return a.out(at::clamp(a.tensor(0), lo, hi));
}
SPOTDIFF_OP(where) {
  if (a.isTensor(1) && a.isTensor(2)) return a.out(at::where(a.tensor(0), a.tensor(1), a.tensor(2)));
  if (a.isTensor(1)) return a.out(at::where(a.tensor(0), a.tensor(1), a.scalar(2)));
  if (a.isTensor(2)) return a.out(at::where(a.tensor(0), a.scalar(1), a.tensor(2)));
  return a.out(at::where(a.tensor(0), a.scalar(1), a.scalar(2)));
}
SPOTDIFF_OP(masked_fill) {
  if (a.isTensor(2)) return a.out(at::masked_fill(a.tensor(0), a.tensor(1), a.tensor(2)));
  return a.out(at::masked_fill(a.tensor(0), a.tensor(1), a.scalar(2)));
}
SPOTDIFF_OP(lerp) { return a.out(at::lerp(a.tensor(0), a.tensor(1), a.scalar(2))); }
