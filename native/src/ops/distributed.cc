// Collective communication through libtorch's own c10d: a TCPStore for the rendezvous (rank 0
// hosts it) and ProcessGroupGloo (CPU tensors) or ProcessGroupNCCL (CUDA tensors, when the build
// has it). Groups live in a registry under integer ids: a group is an explicit, long-lived
// resource that JS destroys, like torch.distributed's groups. Every collective blocks until it
// has completed on this rank; a peer that left or a peer that never joins fails it with an error
// that names this rank (and the peer where the world has only one).
// native/configure.mjs decides SPOTDIFF_GLOO / SPOTDIFF_NCCL from the headers and the library's
// exported symbols; without them only dist_backends exists and answers [].
#include "../op_table.h"
#include "../guard.h"
#include <mutex>
#include <thread>
#include <stdexcept>
#include <unordered_map>

#include "distributed_group.h"

#if SPOTDIFF_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

// dist_backends(): the backends this build has, e.g. ["gloo"] or ["gloo", "nccl"].
SPOTDIFF_OP(dist_backends) {
  std::vector<std::string> names;
  if (SPOTDIFF_GLOO) names.push_back("gloo");
  if (SPOTDIFF_NCCL) names.push_back("nccl");
  auto arr = Napi::Array::New(a.env(), names.size());
  for (size_t i = 0; i < names.size(); i++) arr.Set(static_cast<uint32_t>(i), Napi::String::New(a.env(), names[i]));
  return arr;
}

#if SPOTDIFF_GLOO
namespace spotdiff::dist {

namespace {
std::mutex registryLock;
std::unordered_map<int64_t, std::shared_ptr<Group>> registry;
int64_t nextId = 1;
}  // namespace

std::shared_ptr<Group> groupOf(int64_t id, size_t arg) {
  std::lock_guard<std::mutex> lock(registryLock);
  auto it = registry.find(id);
  if (it == registry.end()) throw ArgumentError("argument " + std::to_string(arg) + ": no process group " + std::to_string(id) + " (destroyed, or never created)");
  return it->second;
}

std::string failureText(const Group& g, const std::string& what, const std::string& why) {
  std::string peer = g.world == 2 ? " (peer: rank " + std::to_string(1 - g.rank) + ")" : "";
  return "rank " + std::to_string(g.rank) + " of " + std::to_string(g.world) + ": " + what + " failed" + peer + ": " + why;
}

void waitCollective(const Group& g, const char* what, const c10::intrusive_ptr<c10d::Work>& work) {
  try {
    work->wait(g.timeout);
  } catch (const c10::Error& e) {
    throw std::runtime_error(failureText(g, what, e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw std::runtime_error(failureText(g, what, e.what()));
  }
}

int64_t addGroup(std::shared_ptr<Group> g) {
  std::lock_guard<std::mutex> lock(registryLock);
  int64_t id = nextId++;
  registry.emplace(id, std::move(g));
  return id;
}

std::shared_ptr<Group> removeGroup(int64_t id) {
  std::lock_guard<std::mutex> lock(registryLock);
  auto it = registry.find(id);
  if (it == registry.end()) return nullptr;
  auto g = std::move(it->second);
  registry.erase(it);
  return g;
}

}  // namespace spotdiff::dist

namespace {
using namespace spotdiff::dist;

// libtorch 2.x's TCPStore may serve through libuv, which Debian's build lacks; the classic server
// exists in every version. Set only where the option exists (SFINAE on the member).
template <typename O>
auto classicServer(O& o, int) -> decltype(o.useLibUV = false, void()) { o.useLibUV = false; }
template <typename O>
void classicServer(O&, long) {}

c10::intrusive_ptr<c10d::Store> openStore(const std::string& host, int64_t port, int rank, int world, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions o;
  o.port = static_cast<std::uint16_t>(port);
  o.isServer = rank == 0;
  o.numWorkers = static_cast<std::size_t>(world);
  o.waitWorkers = false;  // dist_init waits for the ranks itself (waitForRanks), with the join timeout
  o.timeout = timeout;
  classicServer(o, 0);
  return c10::make_intrusive<c10d::TCPStore>(host, o);
}

c10d::ReduceOp reduceOpOf(const std::string& name) {
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  if (name == "product") return c10d::ReduceOp::PRODUCT;
  throw spotdiff::ArgumentError("argument 2: reduction must be sum, max, min or product, got \"" + name + "\"");
}

void checkTensors(const std::vector<at::Tensor>& ts, size_t arg) {
  for (size_t k = 0; k < ts.size(); k++) {
    if (!ts[k].is_contiguous()) throw spotdiff::ArgumentError("argument " + std::to_string(arg) + "[" + std::to_string(k) + "]: collectives take contiguous tensors");
    if (ts[k].is_cuda() != ts[0].is_cuda()) throw spotdiff::ArgumentError("argument " + std::to_string(arg) + ": one collective takes host tensors or CUDA tensors, not both");
  }
}

// Host tensors go through Gloo, CUDA tensors through NCCL (checkTensors: all one or the other).
bool onCuda(const std::vector<at::Tensor>& ts) { return !ts.empty() && ts[0].is_cuda(); }

// Returns once all `world` ranks have reached it on this store, or throws after `timeout`:
// the join's own bound. (Gloo's rendezvous waits as long as its collectives may, which for a
// benchmark's ranks is days.)
void waitForRanks(c10d::Store& store, int world, std::chrono::milliseconds timeout) {
  const auto start = std::chrono::steady_clock::now();
  const std::string key = "spotdiff/joined";
  int64_t joined = store.add(key, 1);
  while (joined < world) {
    if (std::chrono::steady_clock::now() - start > timeout) {
      throw std::runtime_error(std::to_string(joined) + " of " + std::to_string(world) + " ranks had joined");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    joined = store.add(key, 0);
  }
}

// Gloo's network devices: one per named interface (GLOO_SOCKET_IFNAME's comma-separated list,
// as torch reads it), else one bound to deviceHost, else to this machine's hostname.
std::vector<std::shared_ptr<::gloo::transport::Device>> glooDevices(const std::string& deviceHost, const std::string& interfaces) {
  std::vector<std::shared_ptr<::gloo::transport::Device>> devices;
  size_t from = 0;
  while (from < interfaces.size()) {
    size_t comma = interfaces.find(',', from);
    if (comma == std::string::npos) comma = interfaces.size();
    std::string name = interfaces.substr(from, comma - from);
    if (!name.empty()) devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    from = comma + 1;
  }
  if (!devices.empty()) return devices;
  devices.push_back(deviceHost.empty() ? c10d::ProcessGroupGloo::createDefaultDevice() : c10d::ProcessGroupGloo::createDeviceForHostname(deviceHost));
  return devices;
}

}  // namespace

// dist_init(backend, host, port, rank, world, timeoutMs, deviceHost, interfaces, joinTimeoutMs):
// joins a group (waiting at most joinTimeoutMs for the others; each collective then waits at
// most timeoutMs);
// rank 0 hosts the store on host:port. Gloo binds to the named network interfaces
// (comma-separated; "" = none named), else to deviceHost ("" = this machine's hostname, as
// torch does). Returns the group's id.
SPOTDIFF_OP(dist_init) {
  std::string backend = a.str(0), host = a.str(1), deviceHost = a.str(6), interfaces = a.str(7);
  int64_t port = a.i64(2), rank = a.i64(3), world = a.i64(4), timeoutMs = a.i64(5), joinTimeoutMs = a.i64(8);
  if (port < 0 || port > 65535) throw spotdiff::ArgumentError("argument 2: port must be in 0..65535");
  if (world < 1 || world > 65536) throw spotdiff::ArgumentError("argument 4: world size must be in 1..65536");
  if (rank < 0 || rank >= world) throw spotdiff::ArgumentError("argument 3: rank must be in 0.." + std::to_string(world - 1));
  if (timeoutMs < 1) throw spotdiff::ArgumentError("argument 5: timeout must be at least 1 ms");
  if (joinTimeoutMs < 1) throw spotdiff::ArgumentError("argument 8: join timeout must be at least 1 ms");
  if (backend != "gloo" && !(SPOTDIFF_NCCL && backend == "nccl")) throw spotdiff::ArgumentError("argument 0: this build has no \"" + backend + "\" backend");
  auto g = std::make_shared<Group>();
  g->rank = static_cast<int>(rank);
  g->world = static_cast<int>(world);
  g->timeout = std::chrono::milliseconds(timeoutMs);
  try {
    // Joining (the store's rendezvous, then each backend's) waits as long as joining may.
    g->store = openStore(host, port, g->rank, g->world, std::chrono::milliseconds(joinTimeoutMs));
    waitForRanks(*g->store, g->world, std::chrono::milliseconds(joinTimeoutMs));
    // Every group has Gloo for host tensors; "nccl" adds NCCL for CUDA tensors, as torch's
    // "cpu:gloo,cuda:nccl". Each backend keeps its keys under its own prefix of the one store.
    auto o = c10d::ProcessGroupGloo::Options::create(g->timeout);
    o->devices = glooDevices(deviceHost, interfaces);
    g->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(c10::make_intrusive<c10d::PrefixStore>("gloo/", g->store), g->rank, g->world, o);
#if SPOTDIFF_NCCL
    if (backend == "nccl") {
      auto n = c10d::ProcessGroupNCCL::Options::create();
      n->timeout = g->timeout;
      g->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(c10::make_intrusive<c10d::PrefixStore>("nccl/", g->store), g->rank, g->world, n);
    }
#endif
  } catch (const spotdiff::ArgumentError&) {
    throw;
  } catch (const std::exception& e) {
    const c10::Error* ce = dynamic_cast<const c10::Error*>(&e);
    throw std::runtime_error("rank " + std::to_string(rank) + " of " + std::to_string(world) + ": could not join the group at " + host + ":" +
                             std::to_string(port) + " within " + std::to_string(joinTimeoutMs) + " ms: " + (ce ? ce->what_without_backtrace() : e.what()));
  }
  g->store->setTimeout(g->timeout);
  return a.outNumber(static_cast<double>(addGroup(std::move(g))));
}

// dist_all_reduce(group, tensors, reduction): in place, on every rank.
SPOTDIFF_OP(dist_all_reduce) {
  auto g = groupOf(a.i64(0));
  auto ts = a.tensors(1);
  checkTensors(ts, 1);
  c10d::AllreduceOptions o;
  o.reduceOp = reduceOpOf(a.str(2));
  o.timeout = g->timeout;
  collective(*g, "all_reduce", onCuda(ts), [&](auto& pg) { return pg.allreduce(ts, o); });
  return a.outVoid();
}

// dist_broadcast(group, tensors, root): root's values into every rank's tensors, in place.
SPOTDIFF_OP(dist_broadcast) {
  auto g = groupOf(a.i64(0));
  auto ts = a.tensors(1);
  int64_t root = a.i64(2);
  if (root < 0 || root >= g->world) throw spotdiff::ArgumentError("argument 2: root must be a rank in 0.." + std::to_string(g->world - 1));
  checkTensors(ts, 1);
  c10d::BroadcastOptions o;
  o.rootRank = root;
  o.timeout = g->timeout;
  collective(*g, "broadcast", onCuda(ts), [&](auto& pg) { return pg.broadcast(ts, o); });
  return a.outVoid();
}

// dist_all_gather(group, tensor): every rank's tensor, in rank order (a list of world tensors).
SPOTDIFF_OP(dist_all_gather) {
  auto g = groupOf(a.i64(0));
  std::vector<at::Tensor> in{a.tensor(1)};
  checkTensors(in, 1);
  std::vector<std::vector<at::Tensor>> out(1);
  for (int r = 0; r < g->world; r++) out[0].push_back(at::empty_like(in[0]));
  c10d::AllgatherOptions o;
  o.timeout = g->timeout;
  collective(*g, "all_gather", onCuda(in), [&](auto& pg) { return pg.allgather(out, in, o); });
  return a.out(out[0]);
}

// dist_barrier(group): returns once every rank has reached it.
SPOTDIFF_OP(dist_barrier) {
  auto g = groupOf(a.i64(0));
  c10d::BarrierOptions o;
  o.timeout = g->timeout;
  collective(*g, "barrier", false, [&](auto& pg) { return pg.barrier(o); });
  return a.outVoid();
}

// dist_store_add(group, key, delta): adds delta to the integer under key in the group's store
// (0 when the key is new) and returns the sum, atomically across ranks: c10d's Store::add, as
// torch.distributed's store.add. Each rank may call it on its own (it is not a collective).
SPOTDIFF_OP(dist_store_add) {
  auto g = groupOf(a.i64(0));
  std::string key = a.str(1);
  int64_t delta = a.i64(2);
  if (key.empty()) throw spotdiff::ArgumentError("argument 1: the key must not be empty");
  try {
    return a.outNumber(static_cast<double>(g->store->add(key, delta)));
  } catch (const c10::Error& e) {
    throw std::runtime_error(failureText(*g, "store add", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    throw std::runtime_error(failureText(*g, "store add", e.what()));
  }
}

// dist_destroy(group): leaves the group (closes its connections; rank 0 stops the store).
SPOTDIFF_OP(dist_destroy) {
  // Dropping the last reference closes the group's connections (and rank 0's store).
  removeGroup(a.i64(0));
  return a.outVoid();
}

#endif  // SPOTDIFF_GLOO
