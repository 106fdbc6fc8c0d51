// Matrix products and the linear algebra the detectors need (PaDiM's inverse covariances).
#include "../op_table.h"

SPOTDIFF_OP(matmul) { return a.out(at::matmul(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(mm) { return a.out(at::mm(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(bmm) { return a.out(at::bmm(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(einsum) { return a.out(at::einsum(a.str(0), a.tensors(1))); }
SPOTDIFF_OP(outer) { return a.out(at::outer(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(dot) { return a.out(at::dot(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(inverse) { return a.out(at::linalg_inv(a.tensor(0))); }
SPOTDIFF_OP(cholesky) { return a.out(at::linalg_cholesky(a.tensor(0), a.flag(1))); }
SPOTDIFF_OP(cholesky_inverse) { return a.out(at::cholesky_inverse(a.tensor(0), a.flag(1))); }
SPOTDIFF_OP(solve) { return a.out(at::linalg_solve(a.tensor(0), a.tensor(1))); }
SPOTDIFF_OP(baddbmm) { return a.out(at::baddbmm(a.tensor(0), a.tensor(1), a.tensor(2), a.scalar(3), a.scalar(4))); }
SPOTDIFF_OP(addmm) { return a.out(at::addmm(a.tensor(0), a.tensor(1), a.tensor(2), a.scalar(3), a.scalar(4))); }
