// Fixed glibc malloc thresholds for training loops, set once when the addon loads.
#pragma once

#include <string>

namespace spotdiff {

struct MallocTuning {
  // "tuned": set here; "user": the environment set a threshold, left alone; "default": turned off
  // by SPOTDIFF_MALLOC=default; "unsupported": not glibc (or mallopt refused).
  std::string mode;
  // The thresholds in bytes as far as this process can tell (-1: glibc's dynamic default).
  long long mmapThreshold = -1;
  long long trimThreshold = -1;
};

// Applies the thresholds unless the user chose otherwise; later calls change nothing.
void tuneMallocAtLoad();

// What tuneMallocAtLoad decided.
const MallocTuning& mallocTuning();

}  // namespace spotdiff
