// Neural-network layers as functions: convolution, normalisation, pooling, resampling, padding.
#include "../op_table.h"

// conv2d(x, w, b|null, stride, padding, dilation, groups)
SPOTDIFF_OP(conv2d) {
  return a.out(at::conv2d(a.tensor(0), a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.i64(6)));
}
// conv_transpose2d(x, w, b|null, stride, padding, output_padding, groups, dilation)
SPOTDIFF_OP(conv_transpose2d) {
  return a.out(at::conv_transpose2d(a.tensor(0), a.tensor(1), a.optTensor(2), a.ints(3), a.ints(4), a.ints(5), a.i64(6), a.ints(7)));
}
// batch_norm(x, weight|null, bias|null, running_mean|null, running_var|null, training, momentum, eps)
// In training mode libtorch updates the running statistics in place, as torch.nn.BatchNorm2d does.
SPOTDIFF_OP(batch_norm) {
  return a.out(at::batch_norm(a.tensor(0), a.optTensor(1), a.optTensor(2), a.optTensor(3), a.optTensor(4), a.flag(5), a.f64(6),
                              a.f64(7), at::globalContext().userEnabledCuDNN()));
}
// group_norm(x, groups, weight|null, bias|null, eps)
SPOTDIFF_OP(group_norm) { return a.out(at::group_norm(a.tensor(0), a.i64(1), a.optTensor(2), a.optTensor(3), a.f64(4))); }
// layer_norm(x, normalized_shape, weight|null, bias|null, eps)
SPOTDIFF_OP(layer_norm) { return a.out(at::layer_norm(a.tensor(0), a.ints(1), a.optTensor(2), a.optTensor(3), a.f64(4))); }
// linear(x, w, b|null)
SPOTDIFF_OP(linear) { return a.out(at::linear(a.tensor(0), a.tensor(1), a.optTensor(2))); }
// max_pool2d(x, kernel, stride, padding, dilation, ceil_mode)
SPOTDIFF_OP(max_pool2d) { return a.out(at::max_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.ints(4), a.flag(5))); }
// avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
SPOTDIFF_OP(avg_pool2d) { return a.out(at::avg_pool2d(a.tensor(0), a.ints(1), a.ints(2), a.ints(3), a.flag(4), a.flag(5))); }
SPOTDIFF_OP(adaptive_avg_pool2d) { return a.out(at::adaptive_avg_pool2d(a.tensor(0), a.ints(1))); }
SPOTDIFF_OP(adaptive_max_pool2d) { return a.out(std::get<0>(at::adaptive_max_pool2d(a.tensor(0), a.ints(1)))); }
// interpolate_bilinear(x, [h, w], align_corners, scale_h|null, scale_w|null): given scales
// (F.interpolate's scale_factor) map output to input coordinates by 1/scale instead of in/out.
SPOTDIFF_OP(interpolate_bilinear) {
  return a.out(at::upsample_bilinear2d(a.tensor(0), a.ints(1), a.flag(2), a.optF64(3), a.optF64(4)));
}
// interpolate_nearest(x, [h, w], scale_h|null, scale_w|null): torch's legacy "nearest" (floor of the scaled index)
SPOTDIFF_OP(interpolate_nearest) { return a.out(at::upsample_nearest2d(a.tensor(0), a.ints(1), a.optF64(2), a.optF64(3))); }
// interpolate_bicubic(x, [h, w], align_corners, scale_h|null, scale_w|null)
SPOTDIFF_OP(interpolate_bicubic) {
  return a.out(at::upsample_bicubic2d(a.tensor(0), a.ints(1), a.flag(2), a.optF64(3), a.optF64(4)));
}
// grid_sample(x [N,C,H,W], grid [N,Ho,Wo,2], mode 0 bilinear|1 nearest|2 bicubic, padding 0 zeros|1 border|2 reflection,
// align_corners): F.grid_sample; grid holds (x, y) in [-1, 1] per output pixel.
SPOTDIFF_OP(grid_sample) { return a.out(at::grid_sampler(a.tensor(0), a.tensor(1), a.i64(2), a.i64(3), a.flag(4))); }
// pad(x, pads, mode "constant"|"reflect"|"replicate"|"circular", value)
SPOTDIFF_OP(pad) { return a.out(at::pad(a.tensor(0), a.ints(1), a.str(2), a.optF64(3))); }
SPOTDIFF_OP(softmax) { return a.out(at::softmax(a.tensor(0), a.i64(1))); }
SPOTDIFF_OP(log_softmax) { return a.out(at::log_softmax(a.tensor(0), a.i64(1))); }
// normalize(x, p, dim, eps): x / max(||x||_p, eps), as torch.nn.functional.normalize.
SPOTDIFF_OP(normalize) {
  const at::Tensor& x = a.tensor(0);
  at::Tensor n = x.norm(a.scalar(1), {a.i64(2)}, true).clamp_min(a.f64(3)).expand_as(x);
  return a.out(x / n);
}
SPOTDIFF_OP(cosine_similarity) { return a.out(at::cosine_similarity(a.tensor(0), a.tensor(1), a.i64(2), a.f64(3))); }
// cdist(x1, x2, p, compute_mode): 0 lets libtorch use the matmul form for large inputs,
// 1 forces it, 2 never uses it (the exact pairwise form).
SPOTDIFF_OP(cdist) { return a.out(at::cdist(a.tensor(0), a.tensor(1), a.f64(2), a.optI64(3))); }
SPOTDIFF_OP(pixel_shuffle) { return a.out(at::pixel_shuffle(a.tensor(0), a.i64(1))); }
