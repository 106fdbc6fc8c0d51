// The thread pools of the BLAS libraries libtorch loaded, which at::set_num_threads does not size.
#pragma once

namespace spotdiff {

// Sets every loaded OpenBLAS copy's pool to n threads; returns how many copies were found.
int setBlasThreads(int n);

// The pool size of the first loaded OpenBLAS copy, or 0 when none is loaded.
int blasThreads();

}  // namespace spotdiff
