// Synchronised batch norm (torch.nn.SyncBatchNorm's training mode) across the ranks of a process
// group, on float tensors [N, C, ...] (host tensors over Gloo; CUDA tensors over NCCL where the
// group was joined with it, which collective() chooses): every rank normalises with the statistics of the
// global batch, so data-parallel training equals one process's BatchNorm on that batch.
// Forward: one all_reduce of each rank's per-channel count, sum and sum of squares; backward:
// one all_reduce of sum(dy) and sum(dy·(x − mean)), as torch's SyncBatchNorm.backward. weight and
// bias gradients stay local sums, as torch's (DDP's gradient averaging makes them the global
// batch's). Ranks may hold different numbers of rows (counts are summed), even none.
#include "../op_table.h"
#include "../guard.h"
#include "distributed_group.h"

#if SPOTDIFF_GLOO
#include <torch/csrc/autograd/custom_function.h>

namespace {
using namespace spotdiff::dist;
using torch::autograd::AutogradContext;
using torch::autograd::Variable;
using torch::autograd::variable_list;

// The dims a channel's statistics reduce over: every one but dim 1.
std::vector<int64_t> reduceDims(const at::Tensor& x) {
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < x.dim(); d++) dims.push_back(d);
  return dims;
}

// A per-channel vector [C] shaped [1, C, 1, ...] to broadcast over x.
at::Tensor perChannel(const at::Tensor& v, const at::Tensor& x) {
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = x.size(1);
  return v.view(shape);
}

struct GlobalStats {
  at::Tensor mean;    // [C], x's dtype
  at::Tensor invstd;  // [C], 1 / sqrt(biased var + eps)
  at::Tensor unbiasedVar;
  double count;  // rows × spatial positions, over every rank
};

// Each rank's count n, n·mean and n·(biased var + mean²) in float64, summed by one all_reduce.
// The local moments are centred (no cancellation in float); combining them in
// float64 keeps E[x²] − mean² exact enough for any activation's scale.
GlobalStats globalStats(const Group& g, const at::Tensor& x, double eps) {
  at::NoGradGuard noGrad;
  const int64_t c = x.size(1);
  const double n = static_cast<double>(x.numel() / c);
  auto packed = at::zeros({2 * c + 1}, x.options().dtype(at::kDouble));
  if (x.numel() > 0) {
    // libtorch's per-channel statistics kernel (no running statistics given: nothing updated),
    // far faster than a generic var_mean over dims (0, 2, ...) on NCHW.
    auto [mean, var] = at::batch_norm_update_stats(x, {}, {}, 0.0);
    auto m = mean.to(at::kDouble);
    packed.narrow(0, 0, c).copy_(m * n);
    packed.narrow(0, c, c).copy_((var.to(at::kDouble) + m * m) * n);
  }
  packed[2 * c].fill_(n);
  std::vector<at::Tensor> ts{packed};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::SUM;
  o.timeout = g.timeout;
  collective(g, "sync_batch_norm statistics all_reduce", packed.is_cuda(), [&](auto& pg) { return pg.allreduce(ts, o); });
  const double total = packed[2 * c].item<double>();
  if (total <= 1) {
    throw spotdiff::ArgumentError("argument 0: sync batch norm expects more than 1 value per channel across the group when training, got " + std::to_string(static_cast<int64_t>(total)));
  }
  auto mean = packed.narrow(0, 0, c) / total;
  auto var = (packed.narrow(0, c, c) / total - mean * mean).clamp_min(0);
  return {mean.to(x.scalar_type()), (var + eps).rsqrt().to(x.scalar_type()), (var * (total / (total - 1))).to(x.scalar_type()), total};
}

// running = (1 − momentum)·running + momentum·batch, with the global batch's unbiased variance.
void updateRunning(const c10::optional<at::Tensor>& runningMean, const c10::optional<at::Tensor>& runningVar, const GlobalStats& s, double momentum) {
  at::NoGradGuard noGrad;
  if (runningMean) runningMean->mul_(1 - momentum).add_(s.mean.to(runningMean->scalar_type()), momentum);
  if (runningVar) runningVar->mul_(1 - momentum).add_(s.unbiasedVar.to(runningVar->scalar_type()), momentum);
}

// The normalisation with statistics already reduced; backward reduces its own sums across the
// group (torch's batch_norm_backward_reduce, all_reduce, batch_norm_backward_elemt).
struct SyncBatchNormFunction : public torch::autograd::Function<SyncBatchNormFunction> {
  static Variable forward(AutogradContext* ctx, Variable x, Variable weight, Variable bias, Variable mean, Variable invstd, double count, int64_t groupId) {
    auto y = (x - perChannel(mean, x)) * perChannel(invstd, x);
    if (weight.defined()) y = y * perChannel(weight, x);
    if (bias.defined()) y = y + perChannel(bias, x);
    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["count"] = count;
    ctx->saved_data["group"] = groupId;
    return y;
  }

  static variable_list backward(AutogradContext* ctx, variable_list gradOutputs) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    auto mean = perChannel(saved[2], x), invstd = perChannel(saved[3], x);
    auto dy = gradOutputs[0].contiguous();
    auto dims = reduceDims(x);
    auto xmu = x - mean;
    auto sumDy = dy.sum(dims);
    auto sumDyXmu = (dy * xmu).sum(dims);
    Variable gradInput, gradWeight, gradBias;
    if (weight.defined() && ctx->needs_input_grad(1)) gradWeight = sumDyXmu * saved[3];
    if (ctx->needs_input_grad(2)) gradBias = sumDy;
    if (ctx->needs_input_grad(0)) {
      gradInput = inputGradient(ctx, x, weight, dy, xmu, mean, invstd, sumDy, sumDyXmu);
    }
    return {gradInput, gradWeight, gradBias, Variable(), Variable(), Variable(), Variable()};
  }

  // (dy − Σdy/N − (x − mean)·invstd²·Σdy(x − mean)/N)·invstd·weight, the sums over every rank.
  static Variable inputGradient(AutogradContext* ctx, const Variable& x, const Variable& weight, const Variable& dy, const Variable& xmu, const Variable& mean,
                                const Variable& invstd, const Variable& sumDy, const Variable& sumDyXmu) {
    auto g = groupOf(ctx->saved_data["group"].toInt());
    const double count = ctx->saved_data["count"].toDouble();
    const int64_t c = x.size(1);
    std::vector<at::Tensor> ts{at::cat({sumDy, sumDyXmu}, 0)};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = g->timeout;
    collective(*g, "sync_batch_norm gradient all_reduce", ts[0].is_cuda(), [&](auto& pg) { return pg.allreduce(ts, o); });
    auto meanDy = perChannel(ts[0].narrow(0, 0, c) / count, x);
    auto meanDyXmu = perChannel(ts[0].narrow(0, c, c) / count, x);
    auto scale = weight.defined() ? invstd * perChannel(weight, x) : invstd;
    return (dy - meanDy - xmu * invstd * invstd * meanDyXmu) * scale;
  }
};

void checkInputs(const at::Tensor& x, const c10::optional<at::Tensor>& weight, const c10::optional<at::Tensor>& bias) {
  if (x.dim() < 2 || x.size(1) < 1) throw spotdiff::ArgumentError("argument 0: sync batch norm takes [N, C, ...] with C ≥ 1");
  if (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble) throw spotdiff::ArgumentError("argument 0: sync batch norm takes float32 or float64 tensors");
  const int64_t c = x.size(1);
  for (size_t i = 1; i <= 2; i++) {
    const auto& t = i == 1 ? weight : bias;
    if (t && (t->dim() != 1 || t->size(0) != c)) throw spotdiff::ArgumentError("argument " + std::to_string(i) + ": expected [" + std::to_string(c) + "] (one per channel)");
  }
}

}  // namespace

// sync_batch_norm(x, weight|null, bias|null, running_mean|null, running_var|null, momentum, eps,
// group): training-mode batch norm with the statistics of every rank's x; updates the running
// statistics in place (every rank the same). Every rank of the group must call it, in the same
// order, and (when x needs a gradient) run its backward.
SPOTDIFF_OP(sync_batch_norm) {
  auto x = a.tensor(0).contiguous();
  // Under bf16/fp16 autocast the convolutions before it give half-precision rows; batch norm runs
  // in float32 there (autocast's policy for batch_norm), and so does this.
  if (x.scalar_type() == at::kBFloat16 || x.scalar_type() == at::kHalf) x = x.to(at::kFloat);
  auto weight = a.optTensor(1), bias = a.optTensor(2);
  auto runningMean = a.optTensor(3), runningVar = a.optTensor(4);
  const double momentum = a.f64(5), eps = a.f64(6);
  const int64_t groupId = a.i64(7);
  auto g = groupOf(groupId, 7);
  checkInputs(x, weight, bias);
  auto stats = globalStats(*g, x, eps);
  updateRunning(runningMean, runningVar, stats, momentum);
  // Without affine parameters: weight 1 and bias 0 (exact), as custom functions take no undefined inputs.
  auto w = weight ? *weight : at::ones({x.size(1)}, x.options());
  auto b = bias ? *bias : at::zeros({x.size(1)}, x.options());
  return a.out(SyncBatchNormFunction::apply(x, w, b, stats.mean, stats.invstd, stats.count, groupId));
}

#endif  // SPOTDIFF_GLOO
