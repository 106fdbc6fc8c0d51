#include "guard.h"
#include "op_table.h"
#include "tensor_handle.h"
#include <charconv>
#include <cmath>
#include <sstream>

namespace spotdiff {
namespace {

// The shortest text that reads back as the same double (2.5, 0.1, 1152921504606846976, 1e+300).
std::string numberText(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

std::string tensorText(Napi::Env env, const Napi::Value& v) {
  try {
    const at::Tensor& t = unwrapTensor(env, v, "arg");
    if (!t.defined()) return "undefined tensor";
    std::ostringstream s;
    s << "tensor" << t.sizes() << " " << dtypeName(t.scalar_type());
    if (!t.device().is_cpu()) s << " " << t.device();
    return s.str();
  } catch (...) {
    return "disposed tensor";
  }
}

std::string arrayText(Napi::Env env, Napi::Array arr) {
  std::string s = "[";
  for (uint32_t i = 0; i < arr.Length() && i < 16; i++) s += (i ? ", " : "") + describeValue(env, arr.Get(i));
  if (arr.Length() > 16) s += ", ...";
  return s + "]";
}

// libtorch messages can carry a multi-line C++ context; the first lines say what went wrong.
std::string firstLines(std::string msg) {
  size_t cut = msg.find("\nException raised from");
  return cut == std::string::npos ? msg : msg.substr(0, cut);
}

}  // namespace

std::string describeValue(Napi::Env env, const Napi::Value& v) {
  if (isTensorHandle(env, v)) return tensorText(env, v);
  if (v.IsNumber()) return numberText(v.As<Napi::Number>().DoubleValue());
  if (v.IsBigInt()) return v.ToString().Utf8Value() + "n";
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsString()) return "\"" + v.As<Napi::String>().Utf8Value() + "\"";
  if (v.IsNull() || v.IsUndefined()) return "null";
  if (v.IsTypedArray()) return "typed array of " + std::to_string(v.As<Napi::TypedArray>().ElementLength());
  if (v.IsArray()) return arrayText(env, v.As<Napi::Array>());
  return v.IsFunction() ? "function" : "object";
}

std::string describeCall(Napi::Env env, const std::string& name, const std::vector<Napi::Value>& args) {
  // Runs inside a catch handler: a failure here must not replace the error being reported.
  try {
    std::string text;
    for (size_t i = 0; i < args.size(); i++) text += (i ? ", " : "") + describeValue(env, args[i]);
    return name + "(" + text + ")";
  } catch (...) {
    return name + "(...)";
  }
}

std::vector<Napi::Value> argsOf(const Napi::CallbackInfo& info) {
  std::vector<Napi::Value> out;
  for (size_t i = 0; i < info.Length(); i++) out.push_back(info[i]);
  return out;
}

std::vector<Napi::Value> argsOf(Napi::Array array) {
  std::vector<Napi::Value> out;
  for (uint32_t i = 0; i < array.Length(); i++) out.push_back(array.Get(i));
  return out;
}

Napi::Error callError(Napi::Env env, const char* code, const std::string& name, const std::string& call, const std::string& message) {
  auto err = Napi::Error::New(env, call + ": " + firstLines(message));
  err.Set("code", Napi::String::New(env, code));
  err.Set("op", Napi::String::New(env, name));
  return err;
}

Napi::Error withCode(Napi::Env env, const Napi::Error& e, const std::string& name, const std::string& call) {
  if (e.Value().IsObject() && e.Value().Has("code")) return e;
  return callError(env, "ERR_BAD_INPUT", name, call, e.Message());
}

}  // namespace spotdiff
