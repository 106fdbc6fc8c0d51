// CUDA device state and settings. cuda_mem_info: a device's [free, total] bytes as the driver
// reports them (every process's use counted, and what libtorch's caching allocator keeps reserved
// for this one), so a training run can decide whether its image cache fits on the device; it
// needs CUDA's runtime headers at build time (configure.mjs: SPOTDIFF_CUDA_RUNTIME), the library
// comes with libtorch's CUDA libraries. set_allow_tf32 / allow_tf32: TensorFloat-32;
// set_current_cuda_device (below).
#include "../guard.h"
#include "../op_table.h"
#include <c10/core/impl/DeviceGuardImplInterface.h>
#if SPOTDIFF_CUDA_RUNTIME
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime_api.h>
#endif

// cuda_mem_info(device) -> float64 [2]: free and total bytes of that CUDA device.
SPOTDIFF_OP(cuda_mem_info) {
  const c10::Device device = a.device(0);
  if (!device.is_cuda()) throw spotdiff::ArgumentError("cuda_mem_info: " + device.str() + " is not a CUDA device");
#if SPOTDIFF_CUDA_RUNTIME
  if (!at::hasCUDA()) throw spotdiff::ArgumentError("cuda_mem_info: no usable CUDA device here");
  c10::cuda::CUDAGuard guard(device.index() < 0 ? 0 : device.index());
  size_t free = 0, total = 0;
  C10_CUDA_CHECK(cudaMemGetInfo(&free, &total));
  return a.out(at::tensor({static_cast<double>(free), static_cast<double>(total)}, at::kDouble));
#else
  throw spotdiff::ArgumentError("cuda_mem_info: this addon was built without CUDA's runtime headers, so it cannot ask a device for its free memory");
#endif
}

// TensorFloat-32 on CUDA (Ampere and later): whether cuDNN convolutions and cuBLAS matrix
// products of float32 tensors may round their inputs to 10-bit mantissas on tensor cores.
// libtorch's defaults are PyTorch's: convolutions yes, matrix products no. No effect on the CPU.
// set_allow_tf32(convolutions, matmul); allow_tf32() -> 2·convolutions + matmul.
SPOTDIFF_OP(set_allow_tf32) {
  at::globalContext().setAllowTF32CuDNN(a.flag(0));
  at::globalContext().setAllowTF32CuBLAS(a.flag(1));
  return a.outVoid();
}
SPOTDIFF_OP(allow_tf32) {
  return a.outNumber((at::globalContext().allowTF32CuDNN() ? 2 : 0) + (at::globalContext().allowTF32CuBLAS() ? 1 : 0));
}

// set_current_cuda_device(device): makes cuda:N the thread's current CUDA device, as
// torch.cuda.set_device, so work that names no device (a pinned buffer, a CUDA context, NCCL's
// guess of a rank's GPU) goes to this process's GPU instead of GPU 0. Through c10's device guard
// interface, which libtorch's CUDA library registers: no CUDA headers needed.
SPOTDIFF_OP(set_current_cuda_device) {
  const c10::Device device = a.device(0);
  if (!device.is_cuda() || !device.has_index()) throw spotdiff::ArgumentError("set_current_cuda_device: needs cuda:N, got " + device.str());
  c10::impl::getDeviceGuardImpl(c10::DeviceType::CUDA)->setDevice(device);
  return a.outVoid();
}
