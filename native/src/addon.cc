// Module entry: tensor transfer, autograd, engine settings, and the op-table dispatcher.
// Everything model-shaped lives in TypeScript; this file only moves data and calls libtorch.
#include <napi.h>
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/util/Exception.h>
#include <torch/csrc/api/include/torch/version.h>
#include <dlfcn.h>
#include <cstring>
#include "blas_threads.h"
#include "malloc_tuning.h"
#include "guard.h"
#include "integers.h"
#include "op_table.h"
#include "tensor_handle.h"

namespace spotdiff {
namespace {

at::ScalarType typedArrayDtype(Napi::Env env, const Napi::TypedArray& ta) {
  switch (ta.TypedArrayType()) {
    case napi_float32_array: return at::kFloat;
    case napi_float64_array: return at::kDouble;
    case napi_int32_array: return at::kInt;
    case napi_int16_array: return at::kShort;
    case napi_int8_array: return at::kChar;
    case napi_uint8_array: return at::kByte;
    case napi_bigint64_array: return at::kLong;
    default: throw ArgumentError("argument 0: unsupported typed array type");
  }
}

// Sizes of a shape, each a non-negative integer, with a product that fits int64.
std::vector<int64_t> shapeOf(Napi::Array arr) {
  std::vector<int64_t> shape(arr.Length());
  int64_t numel = 1;
  for (uint32_t k = 0; k < arr.Length(); k++) {
    shape[k] = toInt64(arr.Get(k), "shape[" + std::to_string(k) + "]", 0);
    if (__builtin_mul_overflow(numel, shape[k], &numel)) throw ArgumentError("argument 1: the shape's element count overflows int64");
  }
  return shape;
}

// fromData(typedArray, shape, dtype, device): copies the data into a new tensor.
Napi::Value FromData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "fromData", [&]() -> Napi::Value {
    if (!info[0].IsTypedArray()) throw ArgumentError("argument 0: expected a typed array");
    if (!info[1].IsArray()) throw ArgumentError("argument 1: expected a shape (an array of sizes)");
    if (!info[2].IsString()) throw ArgumentError("argument 2: expected a dtype name");
    auto ta = info[0].As<Napi::TypedArray>();
    std::vector<int64_t> shape = shapeOf(info[1].As<Napi::Array>());
    int64_t numel = c10::multiply_integers(shape);
    at::ScalarType src = typedArrayDtype(env, ta);
    // bool tensors travel as Uint8Array
    at::ScalarType target = parseDtype(env, info[2].As<Napi::String>().Utf8Value());
    if (static_cast<int64_t>(ta.ElementLength()) != numel) {
      throw ArgumentError(std::to_string(ta.ElementLength()) + " values do not fill shape of " + std::to_string(numel) + " elements");
    }
    at::Tensor t = at::empty(shape, at::TensorOptions().dtype(src));
    auto* base = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    if (numel > 0) std::memcpy(t.data_ptr(), base, ta.ByteLength());
    if (target != src) t = t.to(target);
    std::string dev = info[3].IsString() ? info[3].As<Napi::String>().Utf8Value() : "cpu";
    if (dev != "cpu") t = t.to(c10::Device(dev));
    return wrapTensor(env, t);
  });
}

// toData(t): a copy of the values as a typed array (float16/bfloat16 widen to float32, bool to
// uint8). libtorch copies straight into the JS buffer, so a transposed, half or CUDA tensor
// costs one converting pass instead of a conversion into a temporary and a memcpy (64 MiB on a
// loaded 2-core machine, bench/tensor-read.ts: transposed ~410 ms instead of ~600, float16
// ~120 ms instead of ~230; contiguous unchanged at ~100 ms).
// Zero-copy was measured and rejected. An external ArrayBuffer over the tensor's memory reads
// 64 MiB in ~0.2 ms instead of ~100 ms, but (1) it aliases the tensor, so the array would change
// under later in-place ops (optimiser steps) and JS writes would bypass autograd's version
// checks, and (2) Node 20 runs an external buffer's finalizer only when the event loop turns: in
// a synchronous loop every array keeps its tensor alive, and even a scoped view (detached at the
// end of a callback) leaves deferred bookkeeping that fragments glibc's heap (150 alternating
// 16 MiB reads grew RSS to 1.5 GB; copies stayed at 0.3 GB). fromData copies too: a JS typed
// array's memory belongs to V8.
Napi::Value ToData(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "toData", [&]() -> Napi::Value {
    at::Tensor t = unwrapTensor(env, info[0], "toData argument").detach();
    at::ScalarType st = t.scalar_type();
    at::ScalarType host = st == at::kHalf || st == at::kBFloat16 ? at::kFloat : st == at::kBool ? at::kByte : st;
    size_t n = t.numel();
    size_t bytes = n * c10::elementSize(host);
    auto buf = Napi::ArrayBuffer::New(env, bytes);
    if (n > 0 && host == st && t.device().is_cpu() && t.is_contiguous()) {
      std::memcpy(buf.Data(), t.data_ptr(), bytes);  // the common case, and cheapest for small reads
    } else if (n > 0) {
      // The JS buffer is only borrowed for this call: V8 neither moves nor frees it meanwhile.
      at::from_blob(buf.Data(), t.sizes(), at::TensorOptions().dtype(host)).copy_(t);
    }
    switch (host) {
      case at::kFloat: return Napi::Float32Array::New(env, n, buf, 0);
      case at::kDouble: return Napi::Float64Array::New(env, n, buf, 0);
      case at::kInt: return Napi::Int32Array::New(env, n, buf, 0);
      case at::kShort: return Napi::Int16Array::New(env, n, buf, 0);
      case at::kChar: return Napi::Int8Array::New(env, n, buf, 0);
      case at::kByte: return Napi::Uint8Array::New(env, n, buf, 0);
      case at::kLong: return Napi::TypedArrayOf<int64_t>::New(env, n, buf, 0, napi_bigint64_array);
      default: throw ArgumentError("unsupported dtype " + dtypeName(st));
    }
  });
}

Napi::Value Meta(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "meta", [&]() -> Napi::Value {
    const at::Tensor& t = unwrapTensor(env, info[0], "argument 0");
    auto o = Napi::Object::New(env);
    auto shape = Napi::Array::New(env, t.dim());
    for (int64_t k = 0; k < t.dim(); k++) shape.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(t.size(k))));
    o.Set("shape", shape);
    o.Set("dtype", Napi::String::New(env, dtypeName(t.scalar_type())));
    o.Set("device", Napi::String::New(env, t.device().str()));
    o.Set("requiresGrad", Napi::Boolean::New(env, t.requires_grad()));
    return o;
  });
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  return guarded(info, "free", [&]() -> Napi::Value {
    freeTensor(info.Env(), info[0]);
    return info.Env().Undefined();
  });
}

// op(name, [args...]): callOp guards the op itself, naming it and its arguments.
Napi::Value Op(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "op", [&]() -> Napi::Value {
    if (!info[0].IsString()) throw ArgumentError("argument 0: expected an op name");
    if (!info[1].IsArray()) throw ArgumentError("argument 1: expected an array of op arguments");
    return callOp(env, info[0].As<Napi::String>().Utf8Value(), info[1].As<Napi::Array>());
  });
}

Napi::Value OpNames(const Napi::CallbackInfo& info) {
  return guarded(info, "opNames", [&]() -> Napi::Value {
    auto names = opNames();
    auto arr = Napi::Array::New(info.Env(), names.size());
    for (size_t k = 0; k < names.size(); k++) arr.Set(static_cast<uint32_t>(k), names[k]);
    return arr;
  });
}

// backward(t, gradient|null, retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "backward", [&]() -> Napi::Value {
    at::Tensor& t = unwrapTensor(env, info[0], "argument 0");
    at::Tensor g;
    if (!info[1].IsNull() && !info[1].IsUndefined()) g = unwrapTensor(env, info[1], "argument 1 (gradient)");
    bool retain = info[2].ToBoolean().Value();
    bool create = info[3].ToBoolean().Value();
    t.backward(g, retain, create);
    return env.Undefined();
  });
}

Napi::Value Grad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "grad", [&]() -> Napi::Value {
    const at::Tensor& t = unwrapTensor(env, info[0], "argument 0");
    const at::Tensor& g = t.grad();
    if (!g.defined()) return env.Null();
    return wrapTensor(env, g);
  });
}

// setGrad(t, g|null): null clears the gradient, as zero_grad(set_to_none=True) does.
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "setGrad", [&]() -> Napi::Value {
    at::Tensor& t = unwrapTensor(env, info[0], "argument 0");
    if (info[1].IsNull() || info[1].IsUndefined()) t.mutable_grad().reset();
    else t.mutable_grad() = unwrapTensor(env, info[1], "argument 1 (gradient)");
    return env.Undefined();
  });
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "setRequiresGrad", [&]() -> Napi::Value {
    unwrapTensor(env, info[0], "argument 0").requires_grad_(info[1].ToBoolean().Value());
    return env.Undefined();
  });
}

// setGradEnabled(bool) -> previous mode
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  return guarded(info, "setGradEnabled", [&]() -> Napi::Value {
    bool prev = c10::GradMode::is_enabled();
    c10::GradMode::set_enabled(info[0].ToBoolean().Value());
    return Napi::Boolean::New(info.Env(), prev);
  });
}

// manualSeed(seed): a negative seed stands for its two's complement, as torch.manual_seed takes it.
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "manualSeed", [&]() -> Napi::Value {
    uint64_t seed = static_cast<uint64_t>(toInt64(info[0], "argument 0"));
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    int n = at::detail::getCUDAHooks().getNumGPUs();
    for (int i = 0; i < n; i++) {
      auto gen = at::globalContext().defaultGenerator(c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(i)));
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_current_seed(seed);
    }
    return env.Undefined();
  });
}

// libtorch throws for n < 1, and an int32 conversion would wrap 2^32 + 2 to 2: both refused here.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "setNumThreads", [&]() -> Napi::Value {
    const int n = toInt(info[0], "argument 0", 1);
    at::set_num_threads(n);
    setBlasThreads(n);
    return env.Undefined();
  });
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return guarded(info, "getNumThreads", [&]() -> Napi::Value { return Napi::Number::New(info.Env(), at::get_num_threads()); });
}

Napi::Value LiveCount(const Napi::CallbackInfo& info) {
  return guarded(info, "liveCount", [&]() -> Napi::Value { return Napi::Number::New(info.Env(), static_cast<double>(liveTensorCount())); });
}

// The file of the libtorch library this process loaded (the one that defines at::get_num_threads).
std::string loadedLibtorch() {
  Dl_info dl{};
  if (dladdr(reinterpret_cast<void*>(&at::get_num_threads), &dl) == 0 || dl.dli_fname == nullptr) return "";
  return dl.dli_fname;
}

// The allocator thresholds decided at load (malloc_tuning.cc); a threshold glibc picks itself is null.
Napi::Object MallocInfo(Napi::Env env) {
  const MallocTuning& t = mallocTuning();
  auto bytes = [&](long long v) -> Napi::Value { return v < 0 ? env.Null() : Napi::Number::New(env, static_cast<double>(v)); };
  auto o = Napi::Object::New(env);
  o.Set("mode", Napi::String::New(env, t.mode));
  o.Set("mmapThreshold", bytes(t.mmapThreshold));
  o.Set("trimThreshold", bytes(t.trimThreshold));
  return o;
}

// What the build linked: printed by `spotdiff doctor` so a bug report says which engine ran.
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(info, "info", [&]() -> Napi::Value {
    auto o = Napi::Object::New(env);
    o.Set("torchVersion", Napi::String::New(env, TORCH_VERSION));
    o.Set("cxx11Abi", Napi::Boolean::New(env, _GLIBCXX_USE_CXX11_ABI == 1));
    o.Set("builtWithCuda", Napi::Boolean::New(env, SPOTDIFF_CUDA == 1));
    o.Set("cudaRuntime", Napi::Boolean::New(env, SPOTDIFF_CUDA_RUNTIME == 1));
    o.Set("systemLibtorch", Napi::Boolean::New(env, SPOTDIFF_SYSTEM_LIBTORCH == 1));
    o.Set("libraryPath", Napi::String::New(env, loadedLibtorch()));
    o.Set("cudaAvailable", Napi::Boolean::New(env, at::hasCUDA()));
    o.Set("cudaDeviceCount", Napi::Number::New(env, at::detail::getCUDAHooks().getNumGPUs()));
    o.Set("mkldnn", Napi::Boolean::New(env, at::hasMKLDNN()));
    o.Set("openmp", Napi::Boolean::New(env, at::hasOpenMP()));
    o.Set("threads", Napi::Number::New(env, at::get_num_threads()));
    o.Set("blasThreads", Napi::Number::New(env, blasThreads()));
    o.Set("parallelInfo", Napi::String::New(env, at::get_parallel_info()));
    o.Set("malloc", MallocInfo(env));
    return o;
  });
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tuneMallocAtLoad();
  exports.Set("fromData", Napi::Function::New(env, FromData));
  exports.Set("toData", Napi::Function::New(env, ToData));
  exports.Set("meta", Napi::Function::New(env, Meta));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("op", Napi::Function::New(env, Op));
  exports.Set("opNames", Napi::Function::New(env, OpNames));
  exports.Set("backward", Napi::Function::New(env, Backward));
  exports.Set("grad", Napi::Function::New(env, Grad));
  exports.Set("setGrad", Napi::Function::New(env, SetGrad));
  exports.Set("setRequiresGrad", Napi::Function::New(env, SetRequiresGrad));
  exports.Set("setGradEnabled", Napi::Function::New(env, SetGradEnabled));
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("liveCount", Napi::Function::New(env, LiveCount));
  exports.Set("info", Napi::Function::New(env, Info));
  return exports;
}

}  // namespace spotdiff

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return spotdiff::Init(env, exports); }
NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitModule)
