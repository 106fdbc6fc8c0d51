// Losses with libtorch's own kernels (reduction: 0 none, 1 mean, 2 sum, as at::Reduction).
#include "../op_table.h"

// cross_entropy(logits, target, weight|null, reduction, ignore_index, label_smoothing)
SPOTDIFF_OP(cross_entropy) {
  return a.out(at::cross_entropy_loss(a.tensor(0), a.tensor(1), a.optTensor(2), a.i64(3), a.i64(4), a.f64(5)));
}
// nll_loss(log_probs, target, weight|null, reduction, ignore_index)
SPOTDIFF_OP(nll_loss) { return a.out(at::nll_loss_nd(a.tensor(0), a.tensor(1), a.optTensor(2), a.i64(3), a.i64(4))); }
// bce_with_logits(x, target, weight|null, pos_weight|null, reduction)
SPOTDIFF_OP(bce_with_logits) {
  return a.out(at::binary_cross_entropy_with_logits(a.tensor(0), a.tensor(1), a.optTensor(2), a.optTensor(3), a.i64(4)));
}
SPOTDIFF_OP(mse_loss) { return a.out(at::mse_loss(a.tensor(0), a.tensor(1), a.i64(2))); }
SPOTDIFF_OP(l1_loss) { return a.out(at::l1_loss(a.tensor(0), a.tensor(1), a.i64(2))); }
