// selftest_raise(kind): throws one kind of C++ exception, so a test can prove that each kind an op could
// raise reaches JS as an Error instead of aborting the process (guard.h). Nothing in src/ calls it.
#include "../op_table.h"
#include <stdexcept>

SPOTDIFF_OP(selftest_raise) {
  std::string kind = a.str(0);
  if (kind == "c10") TORCH_CHECK(false, "raised on request");
  if (kind == "std") throw std::runtime_error("raised on request");
  if (kind == "other") throw 42;
  return a.outVoid();
}
