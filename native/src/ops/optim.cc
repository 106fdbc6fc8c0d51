// Fused optimiser steps over a list of parameters, the same arithmetic as torch.optim's
// single-tensor (for-loop) implementations in torch 1.13, so results match step for step.
// Parameters without a gradient are skipped, as torch does.
#include "../op_table.h"
#include <ATen/core/dispatch/Dispatcher.h>
#include <c10/core/GradMode.h>  // c10::NoGradGuard: at::NoGradGuard is gone in libtorch 2.x
#include <map>

// sgd_step(params, momentum_buffers, lr, momentum, dampening, weight_decay, nesterov, first_step)
SPOTDIFF_OP(sgd_step) {
  c10::NoGradGuard ng;
  auto params = a.tensors(0);
  auto bufs = a.tensors(1);
  double lr = a.f64(2), momentum = a.f64(3), dampening = a.f64(4), wd = a.f64(5);
  bool nesterov = a.flag(6), first = a.flag(7);
  TORCH_CHECK(bufs.size() == params.size() || momentum == 0, "sgd_step: one momentum buffer per parameter");
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    if (!p.grad().defined()) continue;
    at::Tensor d = p.grad();
    if (wd != 0) d = d.add(p, wd);
    if (momentum != 0) {
      at::Tensor& buf = bufs[i];
      if (first) buf.copy_(d);
      else buf.mul_(momentum).add_(d, 1 - dampening);
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    p.add_(d, -lr);
  }
  return a.outVoid();
}

// adam_step(params, exp_avgs, exp_avg_sqs, step, lr, beta1, beta2, eps, weight_decay, decoupled)
// decoupled = true is AdamW (weight decay applied to the parameter, not the gradient).
SPOTDIFF_OP(adam_step) {
  c10::NoGradGuard ng;
  auto params = a.tensors(0);
  auto m = a.tensors(1);
  auto v = a.tensors(2);
  double step = a.f64(3), lr = a.f64(4), b1 = a.f64(5), b2 = a.f64(6), eps = a.f64(7), wd = a.f64(8);
  bool decoupled = a.flag(9);
  TORCH_CHECK(m.size() == params.size() && v.size() == params.size(), "adam_step: one state pair per parameter");
  double bc1 = 1 - std::pow(b1, step);
  double bc2sqrt = std::sqrt(1 - std::pow(b2, step));
  for (size_t i = 0; i < params.size(); i++) {
    at::Tensor& p = params[i];
    if (!p.grad().defined()) continue;
    at::Tensor g = p.grad();
    if (wd != 0) {
      if (decoupled) p.mul_(1 - lr * wd);
      else g = g.add(p, wd);
    }
    m[i].mul_(b1).add_(g, 1 - b1);
    v[i].mul_(b2).addcmul_(g, g, 1 - b2);
    at::Tensor denom = (v[i].sqrt() / bc2sqrt).add_(eps);
    p.addcdiv_(m[i], denom, -lr / bc1);
  }
  return a.outVoid();
}

// amp_unscale_(grads, inv_scale) -> found_inf, a float32 [1] on the gradients' device: 1 when any
// gradient holds an inf or a NaN, else 0. Multiplies every gradient by inv_scale in place, as
// torch's GradScaler.unscale_ does. Where the device has torch's fused kernel
// (_amp_foreach_non_finite_check_and_unscale_: CUDA, and the CPU from libtorch 2.x on) one call per
// dtype does it, with no host sync; elsewhere a loop with the same arithmetic (a float32
// multiplication, then a finiteness check). Either way the caller reads found_inf once.
namespace {
bool hasFusedUnscale(c10::DeviceType device) {
  static const auto op = c10::Dispatcher::singleton().findOp({"aten::_amp_foreach_non_finite_check_and_unscale_", ""});
  if (!op) return false;
  return op->hasKernelForDispatchKey(device == c10::DeviceType::CUDA ? c10::DispatchKey::CUDA : c10::DispatchKey::CPU);
}
}  // namespace

SPOTDIFF_OP(amp_unscale_) {
  c10::NoGradGuard ng;
  auto grads = a.tensors(0);
  const double inv = a.f64(1);
  TORCH_CHECK(!grads.empty(), "amp_unscale_: no gradients");
  const c10::Device device = grads[0].device();
  for (const auto& g : grads) TORCH_CHECK(g.device() == device, "amp_unscale_: the gradients are on ", device, " and ", g.device(), "; one call takes one device");
  auto f32 = at::TensorOptions().dtype(at::kFloat).device(device);
  at::Tensor foundInf = at::zeros({1}, f32);
  at::Tensor invScale = at::full({1}, inv, f32);
  if (hasFusedUnscale(device.type())) {
    // The fused kernel takes one dtype a call (torch's GradScaler groups them the same way).
    std::map<at::ScalarType, std::vector<at::Tensor>> byDtype;
    for (const auto& g : grads) byDtype[g.scalar_type()].push_back(g);
    for (auto& [dtype, group] : byDtype) at::_amp_foreach_non_finite_check_and_unscale_(group, foundInf, invScale);
    return a.out(foundInf);
  }
  for (auto& g : grads) {
    g.mul_(invScale);
    foundInf.logical_or_(at::logical_not(at::isfinite(g)).any().reshape({1}));
  }
  return a.out(foundInf);
}
