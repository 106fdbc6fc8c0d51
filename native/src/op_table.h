// The op table: every op the addon offers is one named entry, called from JS as
// op(name, [args...]). Arguments arrive as plain JS values and tensor handles; Args converts
// them checked (an integer argument that is not an integer is refused, never truncated), so
// entries only convert and compute.
#pragma once
#include <napi.h>
#include <ATen/ATen.h>
#include <functional>
#include <string>
#include <vector>

namespace spotdiff {

class Args {
 public:
  Args(Napi::Env env, Napi::Array values) : env_(env), values_(values) {}
  Napi::Env env() const { return env_; }
  size_t size() const { return values_.Length(); }

  bool isNull(size_t i) const;
  bool isTensor(size_t i) const;
  bool isNumber(size_t i) const;
  at::Tensor& tensor(size_t i) const;
  c10::optional<at::Tensor> optTensor(size_t i) const;
  std::vector<at::Tensor> tensors(size_t i) const;
  int64_t i64(size_t i) const;
  c10::optional<int64_t> optI64(size_t i) const;
  double f64(size_t i) const;
  c10::optional<double> optF64(size_t i) const;
  bool flag(size_t i) const;
  std::string str(size_t i) const;
  std::vector<int64_t> ints(size_t i) const;
  std::vector<double> doubles(size_t i) const;
  at::Scalar scalar(size_t i) const;
  at::ScalarType dtype(size_t i) const;
  c10::Device device(size_t i) const;

  Napi::Value out(const at::Tensor& t) const;
  Napi::Value out(const std::vector<at::Tensor>& ts) const;
  Napi::Value out(const std::tuple<at::Tensor, at::Tensor>& ts) const;
  Napi::Value outNumber(double v) const;
  Napi::Value outVoid() const;

 private:
  Napi::Value at_(size_t i) const;
  [[noreturn]] void bad(size_t i, const char* expected) const;
  Napi::Env env_;
  Napi::Array values_;
};

using OpFn = std::function<Napi::Value(const Args&)>;

struct OpRegistrar {
  OpRegistrar(const char* name, OpFn fn);
};

// Defines and registers one op: SPOTDIFF_OP(relu) { return a.out(at::relu(a.tensor(0))); }
#define SPOTDIFF_OP(name)                                   \
  static Napi::Value op_##name(const ::spotdiff::Args& a);  \
  static ::spotdiff::OpRegistrar reg_##name(#name, op_##name); \
  static Napi::Value op_##name(const ::spotdiff::Args& a)

// Calls op `name` inside guarded() (guard.h): every C++ exception becomes a JS Error that names
// the op and describes its arguments' shapes.
Napi::Value callOp(Napi::Env env, const std::string& name, Napi::Array args);
std::vector<std::string> opNames();

at::ScalarType parseDtype(Napi::Env env, const std::string& s);
std::string dtypeName(at::ScalarType t);

}  // namespace spotdiff
