#include "tensor_handle.h"
#include "guard.h"
#include <atomic>

namespace spotdiff {
namespace {

struct Holder {
  at::Tensor tensor;
  bool live = true;
};

std::atomic<int64_t> g_live{0};

// Distinguishes our externals from any other napi External passed in by mistake.
const napi_type_tag kTensorTag = {0x5370d1ff7e45a0b1ULL, 0x9c2e4a7f3b8d6e10ULL};

void finalize(Napi::Env, Holder* h) {
  if (h->live) g_live--;
  delete h;
}

Holder* holderOf(Napi::Env env, const Napi::Value& v) {
  if (!v.IsExternal()) return nullptr;
  bool tagged = false;
  if (napi_check_object_type_tag(env, v, &kTensorTag, &tagged) != napi_ok || !tagged) return nullptr;
  return v.As<Napi::External<Holder>>().Data();
}

}  // namespace

Napi::Value wrapTensor(Napi::Env env, at::Tensor t) {
  auto* h = new Holder{std::move(t), true};
  auto ext = Napi::External<Holder>::New(env, h, finalize);
  napi_type_tag_object(env, ext, &kTensorTag);
  g_live++;
  return ext;
}

bool isTensorHandle(Napi::Env env, const Napi::Value& v) { return holderOf(env, v) != nullptr; }

at::Tensor& unwrapTensor(Napi::Env env, const Napi::Value& v, const char* what) {
  Holder* h = holderOf(env, v);
  if (h == nullptr) throw ArgumentError(std::string(what) + " is not a tensor handle");
  if (!h->live) throw ArgumentError(std::string(what) + " is a disposed tensor");
  return h->tensor;
}

void freeTensor(Napi::Env env, const Napi::Value& v) {
  Holder* h = holderOf(env, v);
  if (h == nullptr || !h->live) return;
  h->tensor = at::Tensor();
  h->live = false;
  g_live--;
}

int64_t liveTensorCount() { return g_live.load(); }

}  // namespace spotdiff
