// The process groups of native/src/ops/distributed.cc, shared with the ops that run collectives
// of their own (synchronised batch norm, the gradient reducer): a registry of groups under
// integer ids, and one way to run a collective and turn its failure into an error that names the
// rank. Only with SPOTDIFF_GLOO (native/configure.mjs).
#pragma once
#ifndef SPOTDIFF_GLOO
#define SPOTDIFF_GLOO 0
#endif
#ifndef SPOTDIFF_NCCL
#define SPOTDIFF_NCCL 0
#endif

#if SPOTDIFF_GLOO
#include "../guard.h"
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/Store.hpp>
#if SPOTDIFF_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace spotdiff::dist {

struct Group {
  int rank = 0;
  int world = 1;
  std::chrono::milliseconds timeout{0};
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#if SPOTDIFF_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
};

// The live group with this id; an ArgumentError (naming argument `arg`) when there is none.
std::shared_ptr<Group> groupOf(int64_t id, size_t arg = 0);

// "rank R of W: <what> failed (peer: rank P): <why>", the one wording of a collective's failure.
std::string failureText(const Group& g, const std::string& what, const std::string& why);

// Starts one collective on the backend for tensors on the host (Gloo) or on a CUDA device
// (NCCL, in a group joined with it): start(pg) with pg that backend's group (both have the c10d
// collective methods, but no common base across libtorch 1.13 and 2.x).
template <typename F>
c10::intrusive_ptr<c10d::Work> startCollective(const Group& g, bool cuda, F start) {
#if SPOTDIFF_NCCL
  if (cuda && g.nccl) return start(*g.nccl);
#endif
  if (cuda) throw ArgumentError("collectives on CUDA tensors need a group joined with the nccl backend; this group has Gloo, for host tensors");
  return start(*g.gloo);
}

// Waits for a started collective; a failure is rethrown as std::runtime_error via failureText.
void waitCollective(const Group& g, const char* what, const c10::intrusive_ptr<c10d::Work>& work);

// Runs one collective (on the backend for host or CUDA tensors) and waits for it; any failure
// is rethrown with this rank, the world size and the operation named.
template <typename F>
void collective(const Group& g, const char* what, bool cuda, F start) {
  c10::intrusive_ptr<c10d::Work> work;
  try {
    work = startCollective(g, cuda, start);
  } catch (const ArgumentError&) {
    throw;
  } catch (const c10::Error& e) {
    throw std::runtime_error(failureText(g, what, e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw std::runtime_error(failureText(g, what, e.what()));
  }
  waitCollective(g, what, work);
}

}  // namespace spotdiff::dist
#endif  // SPOTDIFF_GLOO
