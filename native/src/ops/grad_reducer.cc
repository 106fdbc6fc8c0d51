// Gradient averaging overlapped with backward, as torch DDP's Reducer: the parameters are split
// into buckets (in reverse order, since gradients become ready roughly from the last layer
// back), a post hook on each parameter's gradient accumulator marks it ready, and once every
// parameter of a bucket is ready the bucket's gradients are flattened and an all_reduce is
// started without waiting: Gloo runs it on its own threads while backward goes on. Buckets are
// launched strictly in bucket order (a ready bucket waits for the earlier ones), so every rank
// runs the same collectives in the same order. finish() (after backward) launches the buckets
// that did not become ready (parameters without a gradient this step take part with zeros),
// waits for all, and writes the mean back into each parameter's gradient.
// Reducers live in a registry under integer ids, like the process groups.
#include "../op_table.h"
#include "../guard.h"
#include "distributed_group.h"

#if SPOTDIFF_GLOO
#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <ATen/core/grad_mode.h>
#include <algorithm>
#include <mutex>
#include <stdexcept>
#include <unordered_map>

namespace {
using namespace spotdiff::dist;
using torch::autograd::Node;
using torch::autograd::variable_list;

struct Bucket {
  std::vector<size_t> params;  // indices into Reducer::params
  std::vector<int64_t> offsets;
  size_t expected = 0;  // parameters whose hook marks them ready (those that require grad)
  size_t pending = 0;   // expected ones not ready yet this step
  at::Tensor flat;
  c10::intrusive_ptr<c10d::Work> work;
};

struct Reducer {
  std::shared_ptr<Group> group;
  bool zeros = true;  // 'zeros': a parameter without a gradient takes the mean; 'skip': stays without
  std::vector<at::Tensor> params;
  // Kept alive: autograd holds its accumulator weakly and makes a new one (without our hook)
  // when the last strong reference goes.
  std::vector<std::shared_ptr<Node>> accumulators;
  std::vector<uintptr_t> hookKeys;
  std::vector<size_t> bucketOf;
  std::vector<Bucket> buckets;

  std::mutex lock;  // the hooks may run on an autograd worker thread
  std::vector<char> ready;
  size_t nextBucket = 0;
  std::string failure;              // the first failure of a launch, reported by finish
  std::vector<size_t> readyTwice;   // parameters accumulated twice before finish
  int64_t launchedInBackward = 0;   // this step
  int64_t lastLaunchedInBackward = 0;
  int64_t steps = 0;

  void markReady(size_t k);
  void launchInOrder(bool inBackward);
  void launch(Bucket& b);
  void finish();
  void reset();
  void copyBack();
};

std::mutex registryLock;
std::unordered_map<int64_t, std::shared_ptr<Reducer>> registry;
int64_t nextId = 1;

std::shared_ptr<Reducer> reducerOf(int64_t id) {
  std::lock_guard<std::mutex> g(registryLock);
  auto it = registry.find(id);
  if (it == registry.end()) throw spotdiff::ArgumentError("argument 0: no gradient reducer " + std::to_string(id) + " (disposed, or never created)");
  return it->second;
}

// Marks parameter `index` ready once its gradient has been accumulated.
class ReadyHook : public torch::autograd::FunctionPostHook {
 public:
  ReadyHook(std::weak_ptr<Reducer> reducer, size_t index) : reducer_(std::move(reducer)), index_(index) {}
  variable_list operator()(const variable_list& outputs, const variable_list& /*inputs*/) override {
    if (auto r = reducer_.lock()) r->markReady(index_);
    return outputs;
  }

 private:
  std::weak_ptr<Reducer> reducer_;
  size_t index_;
};

void Reducer::markReady(size_t k) {
  std::lock_guard<std::mutex> g(lock);
  if (ready[k]) {
    readyTwice.push_back(k);
    return;
  }
  ready[k] = 1;
  Bucket& b = buckets[bucketOf[k]];
  if (--b.pending == 0) launchInOrder(true);
}

// Launches the ready buckets from the next one on, stopping at the first that is not ready.
void Reducer::launchInOrder(bool inBackward) {
  while (nextBucket < buckets.size() && buckets[nextBucket].pending == 0) {
    launch(buckets[nextBucket++]);
    if (inBackward) launchedInBackward++;
  }
}

// The bucket's gradients (zeros for a parameter without one) into its flat tensor, and its
// all_reduce started. Never throws (a hook must not): a failure is kept for finish.
void Reducer::launch(Bucket& b) {
  if (!failure.empty()) return;
  try {
    at::NoGradGuard noGrad;
    for (size_t j = 0; j < b.params.size(); j++) {
      const at::Tensor& p = params[b.params[j]];
      at::Tensor slot = b.flat.narrow(0, b.offsets[j], p.numel()).view(p.sizes());
      const at::Tensor& grad = p.grad();
      if (grad.defined()) slot.copy_(grad);
      else slot.zero_();
    }
    std::vector<at::Tensor> ts{b.flat};
    c10d::AllreduceOptions o;
    o.reduceOp = c10d::ReduceOp::SUM;
    o.timeout = group->timeout;
    b.work = startCollective(*group, b.flat.is_cuda(), [&](auto& pg) { return pg.allreduce(ts, o); });
  } catch (const c10::Error& e) {
    failure = failureText(*group, "all_reduce of gradients", e.what_without_backtrace());
  } catch (const std::exception& e) {
    failure = failureText(*group, "all_reduce of gradients", e.what());
  }
}

void Reducer::copyBack() {
  at::NoGradGuard noGrad;
  for (Bucket& b : buckets) {
    b.flat.div_(group->world);
    for (size_t j = 0; j < b.params.size(); j++) {
      at::Tensor& p = params[b.params[j]];
      at::Tensor slot = b.flat.narrow(0, b.offsets[j], p.numel()).view(p.sizes());
      at::Tensor& grad = p.mutable_grad();
      if (grad.defined()) grad.copy_(slot);
      else if (zeros) grad = slot.clone();
    }
  }
}

void Reducer::reset() {
  std::fill(ready.begin(), ready.end(), 0);
  for (Bucket& b : buckets) {
    b.pending = b.expected;
    b.work.reset();
  }
  nextBucket = 0;
  failure.clear();
  readyTwice.clear();
  lastLaunchedInBackward = launchedInBackward;
  launchedInBackward = 0;
  steps++;
}

// Every bucket launched (the ones still waiting for a parameter too) and waited for, so that
// the ranks stay in step even when this one then throws.
void Reducer::finish() {
  std::lock_guard<std::mutex> g(lock);
  for (size_t k = nextBucket; k < buckets.size(); k++) buckets[k].pending = 0;
  launchInOrder(false);
  std::string error = failure;
  for (Bucket& b : buckets) {
    if (!b.work) continue;
    try {
      waitCollective(*group, "all_reduce of gradients", b.work);
    } catch (const std::exception& e) {
      if (error.empty()) error = e.what();
    }
  }
  std::string misuse;
  if (!readyTwice.empty()) {
    misuse = "the gradient of parameter " + std::to_string(readyTwice.front()) + " was accumulated twice before the reducer's finish(): " +
             "call finish() after each backward (several backward passes in one step are not supported); the step's gradients are left unaveraged";
  }
  if (error.empty() && misuse.empty()) copyBack();
  reset();
  if (!error.empty()) throw std::runtime_error(error);
  if (!misuse.empty()) throw spotdiff::ArgumentError(misuse);
}

size_t elementBytes(const at::Tensor& t) { return static_cast<size_t>(t.element_size()); }

// DDP's buckets: the parameters in reverse order, consecutive runs of one dtype and device of
// at most `bucketBytes` (a larger parameter is a bucket of its own). The first bucket (the last
// layers, whose gradients are ready first) is capped at `firstBucketBytes`, as DDP's 1 MiB
// first bucket: its all_reduce starts early in backward instead of when a quarter of it is done.
void planBuckets(Reducer& r, int64_t bucketBytes, int64_t firstBucketBytes) {
  size_t bytes = 0;
  for (size_t n = r.params.size(); n-- > 0;) {
    const at::Tensor& p = r.params[n];
    size_t size = static_cast<size_t>(p.numel()) * elementBytes(p);
    bool fits = !r.buckets.empty() && !r.buckets.back().params.empty();
    if (fits) {
      const at::Tensor& head = r.params[r.buckets.back().params.front()];
      int64_t cap = r.buckets.size() == 1 ? std::min(firstBucketBytes, bucketBytes) : bucketBytes;
      fits = head.scalar_type() == p.scalar_type() && head.device() == p.device() && bytes + size <= static_cast<size_t>(cap);
    }
    if (!fits) {
      r.buckets.emplace_back();
      bytes = 0;
    }
    Bucket& b = r.buckets.back();
    b.offsets.push_back(b.params.empty() ? 0 : b.offsets.back() + r.params[b.params.back()].numel());
    b.params.push_back(n);
    r.bucketOf[n] = r.buckets.size() - 1;
    bytes += size;
  }
  for (Bucket& b : r.buckets) {
    const at::Tensor& head = r.params[b.params.front()];
    int64_t numel = b.offsets.back() + r.params[b.params.back()].numel();
    b.flat = at::empty({numel}, head.options().requires_grad(false));
  }
}

void registerHooks(const std::shared_ptr<Reducer>& r) {
  for (size_t k = 0; k < r->params.size(); k++) {
    auto acc = torch::autograd::impl::grad_accumulator(r->params[k]);
    r->accumulators.push_back(acc);
    r->hookKeys.push_back(acc ? acc->add_post_hook(std::make_unique<ReadyHook>(r, k)) : 0);
    if (acc) r->buckets[r->bucketOf[k]].expected++;
  }
  for (Bucket& b : r->buckets) b.pending = b.expected;
}

void removeHooks(Reducer& r) {
  for (size_t k = 0; k < r.accumulators.size(); k++) {
    if (r.accumulators[k]) r.accumulators[k]->del_post_hook(r.hookKeys[k]);
  }
}

}  // namespace

// grad_reducer_create(group, params, bucketBytes, withoutGradient, firstBucketBytes): a reducer over these
// parameters (the same ones in the same order on every rank); withoutGradient is "zeros" or
// "skip". Its hooks are registered at once. Returns its id.
SPOTDIFF_OP(grad_reducer_create) {
  auto group = groupOf(a.i64(0));
  auto params = a.tensors(1);
  int64_t bucketBytes = a.i64(2);
  std::string policy = a.str(3);
  int64_t firstBucketBytes = a.i64(4);
  if (firstBucketBytes < 1) throw spotdiff::ArgumentError("argument 4: first bucket size must be positive, got " + std::to_string(firstBucketBytes) + " bytes");
  if (bucketBytes < 1) throw spotdiff::ArgumentError("argument 2: bucket size must be positive, got " + std::to_string(bucketBytes) + " bytes");
  if (policy != "zeros" && policy != "skip") throw spotdiff::ArgumentError("argument 3: withoutGradient must be \"zeros\" or \"skip\", got \"" + policy + "\"");
  for (size_t k = 0; k < params.size(); k++) {
    if (!params[k].is_leaf()) throw spotdiff::ArgumentError("argument 1[" + std::to_string(k) + "]: a parameter must be a leaf tensor (not computed from others)");
  }
  auto r = std::make_shared<Reducer>();
  r->group = std::move(group);
  r->zeros = policy == "zeros";
  r->params = std::move(params);
  r->ready.assign(r->params.size(), 0);
  r->bucketOf.assign(r->params.size(), 0);
  planBuckets(*r, bucketBytes, firstBucketBytes);
  registerHooks(r);
  std::lock_guard<std::mutex> g(registryLock);
  int64_t id = nextId++;
  registry.emplace(id, std::move(r));
  return a.outNumber(static_cast<double>(id));
}

// grad_reducer_finish(reducer): after backward; every parameter's gradient replaced by its mean
// over the ranks.
SPOTDIFF_OP(grad_reducer_finish) {
  reducerOf(a.i64(0))->finish();
  return a.outVoid();
}

// grad_reducer_stats(reducer): [buckets, buckets launched during the last finished step's
// backward (before its finish), steps finished, buckets launched so far in this step].
SPOTDIFF_OP(grad_reducer_stats) {
  auto r = reducerOf(a.i64(0));
  std::lock_guard<std::mutex> g(r->lock);
  double values[] = {static_cast<double>(r->buckets.size()), static_cast<double>(r->lastLaunchedInBackward), static_cast<double>(r->steps),
                     static_cast<double>(r->launchedInBackward)};
  auto arr = Napi::Array::New(a.env(), 4);
  for (uint32_t k = 0; k < 4; k++) arr.Set(k, Napi::Number::New(a.env(), values[k]));
  return arr;
}

// grad_reducer_destroy(reducer): removes its hooks and frees it (collectives still in flight
// finish on Gloo's threads, which hold their tensors).
SPOTDIFF_OP(grad_reducer_destroy) {
  std::shared_ptr<Reducer> r;
  {
    std::lock_guard<std::mutex> g(registryLock);
    auto it = registry.find(a.i64(0));
    if (it == registry.end()) return a.outVoid();
    r = std::move(it->second);
    registry.erase(it);
  }
  removeHooks(*r);
  return a.outVoid();
}

#endif  // SPOTDIFF_GLOO
