// Seeded random tensors and in-place initialisers, drawn from libtorch's default generator
// (the same Mersenne Twister stream as Python's torch for the same seed).
#include "../op_table.h"
#include <c10/core/GradMode.h>  // c10::NoGradGuard: at::NoGradGuard is gone in libtorch 2.x

namespace {
at::TensorOptions opts(const spotdiff::Args& a, size_t dtypeAt) {
  return at::TensorOptions().dtype(a.dtype(dtypeAt)).device(a.device(dtypeAt + 1));
}

// fan_in / fan_out as torch.nn.init._calculate_fan_in_and_fan_out computes them.
std::pair<double, double> fans(const at::Tensor& w) {
  TORCH_CHECK(w.dim() >= 2, "fan in and fan out need a tensor of at least 2 dimensions");
  double receptive = 1;
  for (int64_t d = 2; d < w.dim(); d++) receptive *= static_cast<double>(w.size(d));
  return {static_cast<double>(w.size(1)) * receptive, static_cast<double>(w.size(0)) * receptive};
}

double gain(const std::string& nonlinearity, double param) {
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") return std::sqrt(2.0 / (1 + param * param));
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "linear" || nonlinearity == "sigmoid" || nonlinearity == "conv2d") return 1.0;
  TORCH_CHECK(false, "unknown nonlinearity ", nonlinearity);
}
}  // namespace

SPOTDIFF_OP(rand) { return a.out(at::rand(a.ints(0), opts(a, 1))); }
SPOTDIFF_OP(randn) { return a.out(at::randn(a.ints(0), opts(a, 1))); }
SPOTDIFF_OP(randint) { return a.out(at::randint(a.i64(0), a.i64(1), a.ints(2), opts(a, 3))); }
SPOTDIFF_OP(randperm) { return a.out(at::randperm(a.i64(0), opts(a, 1))); }
SPOTDIFF_OP(bernoulli) { return a.out(at::bernoulli(a.tensor(0))); }
SPOTDIFF_OP(multinomial) { return a.out(at::multinomial(a.tensor(0), a.i64(1), a.flag(2))); }

SPOTDIFF_OP(normal_) {
  c10::NoGradGuard ng;
  a.tensor(0).normal_(a.f64(1), a.f64(2));
  return a.outVoid();
}
SPOTDIFF_OP(uniform_) {
  c10::NoGradGuard ng;
  a.tensor(0).uniform_(a.f64(1), a.f64(2));
  return a.outVoid();
}
// kaiming_uniform_(w, a, mode "fan_in"|"fan_out", nonlinearity), as torch.nn.init does.
SPOTDIFF_OP(kaiming_uniform_) {
  c10::NoGradGuard ng;
  at::Tensor& w = a.tensor(0);
  auto [fin, fout] = fans(w);
  TORCH_CHECK(a.str(2) == "fan_in" || a.str(2) == "fan_out", "mode must be fan_in or fan_out, got ", a.str(2));
  double fan = a.str(2) == "fan_in" ? fin : fout;
  // torch.nn.init's order of float64 steps (std first), so the bound matches bit for bit.
  double std = gain(a.str(3), a.f64(1)) / std::sqrt(fan);
  double bound = std::sqrt(3.0) * std;
  w.uniform_(-bound, bound);
  return a.outVoid();
}
SPOTDIFF_OP(kaiming_normal_) {
  c10::NoGradGuard ng;
  at::Tensor& w = a.tensor(0);
  auto [fin, fout] = fans(w);
  TORCH_CHECK(a.str(2) == "fan_in" || a.str(2) == "fan_out", "mode must be fan_in or fan_out, got ", a.str(2));
  double fan = a.str(2) == "fan_in" ? fin : fout;
  w.normal_(0, gain(a.str(3), a.f64(1)) / std::sqrt(fan));
  return a.outVoid();
}
// The bound torch.nn.Linear / Conv2d use for their bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) of the weight's fan_in.
SPOTDIFF_OP(fan_in) { return a.outNumber(fans(a.tensor(0)).first); }
SPOTDIFF_OP(dropout) { return a.out(at::dropout(a.tensor(0), a.f64(1), a.flag(2))); }
// feature_dropout(x, p, training): whole channels at once (F.dropout2d on [N,C,H,W]).
SPOTDIFF_OP(feature_dropout) { return a.out(at::feature_dropout(a.tensor(0), a.f64(1), a.flag(2))); }
