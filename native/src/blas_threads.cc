// libtorch hands matrix products to the system BLAS. Debian's is OpenBLAS (pthread build), whose
// pool is sized once, when the library loads, from OPENBLAS_NUM_THREADS/OMP_NUM_THREADS or the
// core count, and at::set_num_threads never touches it: without this, SPOTDIFF_THREADS=1 still
// multiplied matrices on every core and results depended on the machine's core count. The
// process may hold two copies (libblas.so.3 through the alternatives system, libopenblas.so.0
// directly), each with its own pool, so every copy that is already loaded is set.
#include "blas_threads.h"
#include <dlfcn.h>

namespace spotdiff {
namespace {

const char* const kOpenBlasFiles[] = {"libblas.so.3", "libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libopenblas64_.so.0"};

template <typename Fn>
Fn loadedSymbol(const char* file, const char* name) {
  // RTLD_NOLOAD: only a library the process already has; nothing new is loaded.
  void* handle = dlopen(file, RTLD_LAZY | RTLD_NOLOAD);
  if (handle == nullptr) return nullptr;
  auto fn = reinterpret_cast<Fn>(dlsym(handle, name));
  dlclose(handle);  // drops only the reference taken above
  return fn;
}

}  // namespace

int setBlasThreads(int n) {
  using SetFn = void (*)(int);
  int found = 0;
  SetFn seen[sizeof(kOpenBlasFiles) / sizeof(kOpenBlasFiles[0])] = {};
  for (const char* file : kOpenBlasFiles) {
    SetFn fn = loadedSymbol<SetFn>(file, "openblas_set_num_threads");
    bool duplicate = false;
    for (int k = 0; k < found; k++) duplicate = duplicate || seen[k] == fn;
    if (fn == nullptr || duplicate) continue;
    fn(n);
    seen[found++] = fn;
  }
  return found;
}

int blasThreads() {
  using GetFn = int (*)();
  for (const char* file : kOpenBlasFiles) {
    if (GetFn fn = loadedSymbol<GetFn>(file, "openblas_get_num_threads")) return fn();
  }
  return 0;
}

}  // namespace spotdiff
