// Views, reshapes, joins, slicing and indexing.
#include "../op_table.h"

SPOTDIFF_OP(reshape) { return a.out(a.tensor(0).reshape(a.ints(1))); }
SPOTDIFF_OP(view) { return a.out(a.tensor(0).view(a.ints(1))); }
SPOTDIFF_OP(permute) { return a.out(a.tensor(0).permute(a.ints(1))); }
SPOTDIFF_OP(transpose) { return a.out(a.tensor(0).transpose(a.i64(1), a.i64(2))); }
SPOTDIFF_OP(flatten) { return a.out(a.tensor(0).flatten(a.i64(1), a.i64(2))); }
SPOTDIFF_OP(squeeze) {
  if (a.isNull(1)) return a.out(a.tensor(0).squeeze());
  return a.out(a.tensor(0).squeeze(a.i64(1)));
}
SPOTDIFF_OP(unsqueeze) { return a.out(a.tensor(0).unsqueeze(a.i64(1))); }
SPOTDIFF_OP(expand) { return a.out(a.tensor(0).expand(a.ints(1))); }
SPOTDIFF_OP(repeat) { return a.out(a.tensor(0).repeat(a.ints(1))); }
SPOTDIFF_OP(cat) { return a.out(at::cat(a.tensors(0), a.i64(1))); }
SPOTDIFF_OP(stack) { return a.out(at::stack(a.tensors(0), a.i64(1))); }
// slice(x, dim, start, end, step)
SPOTDIFF_OP(slice) { return a.out(a.tensor(0).slice(a.i64(1), a.i64(2), a.i64(3), a.i64(4))); }
SPOTDIFF_OP(narrow) { return a.out(a.tensor(0).narrow(a.i64(1), a.i64(2), a.i64(3))); }
SPOTDIFF_OP(select) { return a.out(a.tensor(0).select(a.i64(1), a.i64(2))); }
SPOTDIFF_OP(index_select) { return a.out(at::index_select(a.tensor(0), a.i64(1), a.tensor(2))); }
SPOTDIFF_OP(gather) { return a.out(at::gather(a.tensor(0), a.i64(1), a.tensor(2))); }
SPOTDIFF_OP(scatter) {
  if (a.isTensor(3)) return a.out(at::scatter(a.tensor(0), a.i64(1), a.tensor(2), a.tensor(3)));
  return a.out(at::scatter(a.tensor(0), a.i64(1), a.tensor(2), a.scalar(3)));
}
SPOTDIFF_OP(scatter_add) { return a.out(at::scatter_add(a.tensor(0), a.i64(1), a.tensor(2), a.tensor(3))); }
// index(x, [idx0|null, idx1|null, ...]): advanced indexing x[idx0, idx1, ...]
SPOTDIFF_OP(index) {
  c10::List<c10::optional<at::Tensor>> idx;
  auto n = a.tensors(1).size();
  (void)n;
  auto arr = a.tensors(1);
  for (auto& t : arr) idx.push_back(t);
  return a.out(at::index(a.tensor(0), idx));
}
SPOTDIFF_OP(masked_select) { return a.out(at::masked_select(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(nonzero) { return a.out(at::nonzero(a.tensor(0))); }
SPOTDIFF_OP(split) { return a.out(at::split(a.tensor(0), a.i64(1), a.i64(2))); }
SPOTDIFF_OP(chunk) { return a.out(at::chunk(a.tensor(0), a.i64(1), a.i64(2))); }
SPOTDIFF_OP(flip) { return a.out(at::flip(a.tensor(0), a.ints(1))); }
SPOTDIFF_OP(roll) { return a.out(at::roll(a.tensor(0), a.ints(1), a.ints(2))); }
SPOTDIFF_OP(tril) { return a.out(at::tril(a.tensor(0), a.i64(1))); }
SPOTDIFF_OP(triu) { return a.out(at::triu(a.tensor(0), a.i64(1))); }
SPOTDIFF_OP(diagonal) { return a.out(at::diagonal(a.tensor(0), a.i64(1), a.i64(2), a.i64(3))); }
SPOTDIFF_OP(diag_embed) { return a.out(at::diag_embed(a.tensor(0))); }
SPOTDIFF_OP(one_hot) { return a.out(at::one_hot(a.tensor(0), a.i64(1))); }
// unfold_dim(x, dim, size, step): Tensor.unfold, sliding windows along one dim.
SPOTDIFF_OP(unfold_dim) { return a.out(a.tensor(0).unfold(a.i64(1), a.i64(2), a.i64(3))); }
// unfold(x, kernel, dilation, padding, stride): torch.nn.functional.unfold (im2col).
SPOTDIFF_OP(unfold) { return a.out(at::im2col(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.ints(4))); }
SPOTDIFF_OP(fold) { return a.out(at::col2im(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.ints(5))); }
