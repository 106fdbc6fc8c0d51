#include "op_table.h"
#include "guard.h"
#include "integers.h"
#include "tensor_handle.h"
#include <cmath>
#include <unordered_map>

namespace spotdiff {
namespace {

std::unordered_map<std::string, OpFn>& table() {
  static std::unordered_map<std::string, OpFn> t;
  return t;
}

}  // namespace

OpRegistrar::OpRegistrar(const char* name, OpFn fn) { table().emplace(name, std::move(fn)); }

std::vector<std::string> opNames() {
  std::vector<std::string> names;
  for (auto& kv : table()) names.push_back(kv.first);
  return names;
}

Napi::Value callOp(Napi::Env env, const std::string& name, Napi::Array args) {
  return guarded(env, name, [&args]() { return argsOf(args); }, [&]() -> Napi::Value {
    auto it = table().find(name);
    if (it == table().end()) throw ArgumentError("unknown op \"" + name + "\"");
    return it->second(Args(env, args));
  });
}

// ---- argument conversion ----

Napi::Value Args::at_(size_t i) const {
  if (i >= values_.Length()) return env_.Undefined();
  return values_.Get(static_cast<uint32_t>(i));
}

void Args::bad(size_t i, const char* expected) const {
  throw ArgumentError("argument " + std::to_string(i) + ": expected " + expected + ", got " + describeValue(env_, at_(i)));
}

bool Args::isNull(size_t i) const {
  auto v = at_(i);
  return v.IsNull() || v.IsUndefined();
}
bool Args::isTensor(size_t i) const { return isTensorHandle(env_, at_(i)); }
bool Args::isNumber(size_t i) const { return at_(i).IsNumber(); }

at::Tensor& Args::tensor(size_t i) const {
  auto v = at_(i);
  if (!isTensorHandle(env_, v)) bad(i, "a tensor");
  return unwrapTensor(env_, v, "argument");
}

c10::optional<at::Tensor> Args::optTensor(size_t i) const {
  if (isNull(i)) return c10::nullopt;
  return tensor(i);
}

std::vector<at::Tensor> Args::tensors(size_t i) const {
  auto v = at_(i);
  if (!v.IsArray()) bad(i, "an array of tensors");
  auto arr = v.As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    out.push_back(unwrapTensor(env_, arr.Get(k), ("argument " + std::to_string(i) + "[" + std::to_string(k) + "]").c_str()));
  }
  return out;
}

int64_t Args::i64(size_t i) const { return toInt64(at_(i), "argument " + std::to_string(i)); }

c10::optional<int64_t> Args::optI64(size_t i) const {
  if (isNull(i)) return c10::nullopt;
  return i64(i);
}

double Args::f64(size_t i) const {
  auto v = at_(i);
  if (!v.IsNumber()) bad(i, "a number");
  return v.As<Napi::Number>().DoubleValue();
}

c10::optional<double> Args::optF64(size_t i) const {
  if (isNull(i)) return c10::nullopt;
  return f64(i);
}

bool Args::flag(size_t i) const {
  auto v = at_(i);
  if (!v.IsBoolean()) bad(i, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string Args::str(size_t i) const {
  auto v = at_(i);
  if (!v.IsString()) bad(i, "a string");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<int64_t> Args::ints(size_t i) const {
  auto v = at_(i);
  if (!v.IsArray()) bad(i, "an array of integers");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) out[k] = toInt64(arr.Get(k), "argument " + std::to_string(i) + "[" + std::to_string(k) + "]");
  return out;
}

std::vector<double> Args::doubles(size_t i) const {
  auto v = at_(i);
  if (!v.IsArray()) bad(i, "an array of numbers");
  auto arr = v.As<Napi::Array>();
  std::vector<double> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); k++) {
    auto e = arr.Get(k);
    if (!e.IsNumber()) bad(i, "an array of numbers");
    out[k] = e.As<Napi::Number>().DoubleValue();
  }
  return out;
}

at::Scalar Args::scalar(size_t i) const {
  auto v = at_(i);
  if (v.IsBoolean()) return at::Scalar(v.As<Napi::Boolean>().Value());
  if (!v.IsNumber()) bad(i, "a number");
  double d = v.As<Napi::Number>().DoubleValue();
  // JS cannot tell 2 from 2.0; an integral value becomes an integer Scalar so it never
  // promotes an integer tensor to float (on a float tensor both give the same result).
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.0e15) return at::Scalar(static_cast<int64_t>(d));
  return at::Scalar(d);
}

at::ScalarType Args::dtype(size_t i) const { return parseDtype(env_, str(i)); }

c10::Device Args::device(size_t i) const {
  if (isNull(i)) return c10::Device(c10::kCPU);
  return c10::Device(str(i));
}

Napi::Value Args::out(const at::Tensor& t) const { return wrapTensor(env_, t); }

Napi::Value Args::out(const std::vector<at::Tensor>& ts) const {
  auto arr = Napi::Array::New(env_, ts.size());
  for (size_t k = 0; k < ts.size(); k++) arr.Set(static_cast<uint32_t>(k), wrapTensor(env_, ts[k]));
  return arr;
}

Napi::Value Args::out(const std::tuple<at::Tensor, at::Tensor>& ts) const {
  return out(std::vector<at::Tensor>{std::get<0>(ts), std::get<1>(ts)});
}

Napi::Value Args::outNumber(double v) const { return Napi::Number::New(env_, v); }
Napi::Value Args::outVoid() const { return env_.Undefined(); }

at::ScalarType parseDtype(Napi::Env env, const std::string& s) {
  static const std::unordered_map<std::string, at::ScalarType> m = {
      {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
      {"int64", at::kLong},    {"int32", at::kInt},      {"int16", at::kShort},  {"int8", at::kChar},
      {"uint8", at::kByte},    {"bool", at::kBool}};
  auto it = m.find(s);
  if (it == m.end()) throw ArgumentError("unknown dtype \"" + s + "\"");
  return it->second;
}

std::string dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return std::string(c10::toString(t));
  }
}

}  // namespace spotdiff
