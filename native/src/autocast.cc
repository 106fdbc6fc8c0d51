// Autocast (mixed precision) control, as torch.autocast's __enter__/__exit__ do it: the state is
// thread-local to libtorch, and ops dispatch through the AutocastCPU/AutocastCUDA keys only
// while it is enabled, so conv/linear/matmul run in the lower precision without any module
// being cast. Entered and left in pairs from src/tensor/autocast.ts.
#include <ATen/autocast_mode.h>
#include <torch/csrc/api/include/torch/version.h>
#include "guard.h"
#include "op_table.h"

// libtorch 2.4 replaced the per-backend calls (set_cpu_enabled, set_autocast_gpu_dtype...) by
// calls taking a device type; the old ones remain there only as deprecated wrappers.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define SPOTDIFF_AUTOCAST_BY_DEVICE 1
#else
#define SPOTDIFF_AUTOCAST_BY_DEVICE 0
#endif

namespace {

using spotdiff::ArgumentError;

at::DeviceType autocastDevice(const std::string& s) {
  if (s == "cpu") return at::kCPU;
  if (s == "cuda") return at::kCUDA;
  throw ArgumentError("autocast device must be \"cpu\" or \"cuda\", got \"" + s + "\"");
}

bool isEnabled(at::DeviceType d) {
#if SPOTDIFF_AUTOCAST_BY_DEVICE
  return at::autocast::is_autocast_enabled(d);
#else
  return d == at::kCPU ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
#endif
}

void setEnabled(at::DeviceType d, bool on) {
#if SPOTDIFF_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(d, on);
#else
  if (d == at::kCPU) at::autocast::set_cpu_enabled(on);
  else at::autocast::set_enabled(on);
#endif
}

at::ScalarType getDtype(at::DeviceType d) {
#if SPOTDIFF_AUTOCAST_BY_DEVICE
  return at::autocast::get_autocast_dtype(d);
#else
  return d == at::kCPU ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
#endif
}

void setDtype(at::DeviceType d, at::ScalarType t) {
#if SPOTDIFF_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_dtype(d, t);
#else
  if (d == at::kCPU) at::autocast::set_autocast_cpu_dtype(t);
  else at::autocast::set_autocast_gpu_dtype(t);
#endif
}

// libtorch 1.13's CPU autocast lowers only to bfloat16 (float16 CPU kernels are missing for
// conv and most others; 2.x added some): float16 is refused on cpu on every version, so a run
// behaves the same whichever libtorch it meets. Anything else would cast ops to a wrong type.
void checkLowerDtype(at::DeviceType d, at::ScalarType t) {
  if (t == at::kBFloat16 || (t == at::kHalf && d == at::kCUDA)) return;
  throw ArgumentError("autocast on " + std::string(d == at::kCPU ? "cpu" : "cuda") + " cannot run in " + spotdiff::dtypeName(t) +
                      (d == at::kCPU ? " (cpu takes bfloat16)" : " (cuda takes bfloat16 or float16)"));
}

Napi::Value stateOf(const spotdiff::Args& a, at::DeviceType d) {
  auto o = Napi::Object::New(a.env());
  o.Set("enabled", Napi::Boolean::New(a.env(), isEnabled(d)));
  o.Set("dtype", Napi::String::New(a.env(), spotdiff::dtypeName(getDtype(d))));
  return o;
}

}  // namespace

// autocast_state(device) -> { enabled, dtype }
SPOTDIFF_OP(autocast_state) { return stateOf(a, autocastDevice(a.str(0))); }

// autocast_enter(device, enabled, dtype) -> the state before, for autocast_exit.
SPOTDIFF_OP(autocast_enter) {
  at::DeviceType d = autocastDevice(a.str(0));
  bool on = a.flag(1);
  at::ScalarType t = a.dtype(2);
  if (on) checkLowerDtype(d, t);
  Napi::Value before = stateOf(a, d);
  setEnabled(d, on);
  setDtype(d, t);
  at::autocast::increment_nesting();
  return before;
}

// autocast_exit(device, enabledBefore, dtypeBefore): leaving the outermost region drops the
// cached lower-precision copies of the weights (they would go stale at the optimiser's step).
SPOTDIFF_OP(autocast_exit) {
  at::DeviceType d = autocastDevice(a.str(0));
  bool on = a.flag(1);
  at::ScalarType t = a.dtype(2);
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setEnabled(d, on);
  setDtype(d, t);
  return a.outVoid();
}
