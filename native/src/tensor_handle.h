// A JS handle to one at::Tensor: a type-tagged napi External owning a heap holder.
// free() drops the tensor at once (deterministic memory); the finalizer only deletes the
// small holder, or the tensor too if JS never freed it.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>

namespace spotdiff {

Napi::Value wrapTensor(Napi::Env env, at::Tensor t);
bool isTensorHandle(Napi::Env env, const Napi::Value& v);
// Throws an ArgumentError (guard.h) naming `what` when v is not a live handle.
at::Tensor& unwrapTensor(Napi::Env env, const Napi::Value& v, const char* what);
void freeTensor(Napi::Env env, const Napi::Value& v);
int64_t liveTensorCount();

}  // namespace spotdiff
