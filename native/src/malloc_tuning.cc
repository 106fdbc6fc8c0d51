// glibc serves a request at or above its mmap threshold with a fresh mmap and unmaps it on free,
// and returns a free heap top above its trim threshold to the system: either way the memory
// faults in again, page by page, when the next tensor of that size is made. Both thresholds start
// low (128 KiB) and only rise as mapped blocks are freed. In a Node training loop the
// activation-sized tensors kept landing in fresh memory (each tensor's small JS handle lives until
// the garbage collector runs, so freed blocks cannot always merge and be reused), which cost tens
// of thousands of page faults per step that the same loop in PyTorch's Python does not take. A
// fixed 32 MiB mmap threshold (glibc's own ceiling for the dynamic one) and a 256 MiB trim
// threshold keep those blocks in the heap for reuse. A user's MALLOC_*_THRESHOLD_ or
// GLIBC_TUNABLES setting wins, and SPOTDIFF_MALLOC=default keeps glibc's behaviour.
#include "malloc_tuning.h"
#include <cstdlib>
#include <cstring>
#include <mutex>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace spotdiff {
namespace {

constexpr long long kMmapThreshold = 32LL << 20;
constexpr long long kTrimThreshold = 256LL << 20;

MallocTuning g_tuning;
std::once_flag g_once;  // worker threads may load the addon concurrently

// A number glibc would take from the environment variable, or -1 when it is unset.
long long envBytes(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return -1;
  return std::strtoll(v, nullptr, 0);
}

// The value of one glibc tunable in GLIBC_TUNABLES ("a=1:b=2"), or -1 when it is absent.
long long tunableBytes(const char* name) {
  const char* all = std::getenv("GLIBC_TUNABLES");
  if (all == nullptr) return -1;
  const size_t n = std::strlen(name);
  for (const char* p = all; (p = std::strstr(p, name)) != nullptr; p += n) {
    const bool starts = p == all || p[-1] == ':';
    if (starts && p[n] == '=') return std::strtoll(p + n + 1, nullptr, 0);
  }
  return -1;
}

// The user's choice for one threshold, from either spelling; -1 when they made none.
long long userSetting(const char* envName, const char* tunable) {
  const long long fromEnv = envBytes(envName);
  return fromEnv >= 0 ? fromEnv : tunableBytes(tunable);
}

MallocTuning decide() {
  MallocTuning t;
#if !defined(__GLIBC__)
  t.mode = "unsupported";
  return t;
#else
  t.mmapThreshold = userSetting("MALLOC_MMAP_THRESHOLD_", "glibc.malloc.mmap_threshold");
  t.trimThreshold = userSetting("MALLOC_TRIM_THRESHOLD_", "glibc.malloc.trim_threshold");
  if (t.mmapThreshold >= 0 || t.trimThreshold >= 0) {
    t.mode = "user";
    return t;
  }
  const char* choice = std::getenv("SPOTDIFF_MALLOC");
  if (choice != nullptr && std::strcmp(choice, "default") == 0) {
    t.mode = "default";
    return t;
  }
  // mallopt returns 0 when glibc refuses a value; then what it had stays in force.
  if (mallopt(M_MMAP_THRESHOLD, static_cast<int>(kMmapThreshold)) == 0 || mallopt(M_TRIM_THRESHOLD, static_cast<int>(kTrimThreshold)) == 0) {
    t.mode = "unsupported";
    return t;
  }
  t.mode = "tuned";
  t.mmapThreshold = kMmapThreshold;
  t.trimThreshold = kTrimThreshold;
  return t;
#endif
}

}  // namespace

void tuneMallocAtLoad() {
  std::call_once(g_once, [] { g_tuning = decide(); });
}

const MallocTuning& mallocTuning() { return g_tuning; }

}  // namespace spotdiff
