// The one wrapper every entry point of the addon runs its body in. An exception escaping a
// Node-API callback aborts the whole process, so nothing may leave it but a JS Error; each such
// Error says which call failed, with its arguments' shapes, and carries a stable code:
//   ERR_BAD_INPUT  the caller's arguments (ArgumentError, or a JS value of the wrong kind)
//   ERR_TORCH      anything libtorch or the C++ library raised, down to `throw 42`
#pragma once
#include <napi.h>
#include <c10/util/Exception.h>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace spotdiff {

// An argument the caller got wrong (a non-integer where an integer belongs, a non-tensor...).
// The message says which argument and what was wrong; the guard adds the call.
struct ArgumentError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// What a JS value looks like in an error message: "tensor[2, 3] float32", "2.5", "[1, 2]".
std::string describeValue(Napi::Env env, const Napi::Value& v);
// "name(arg0, arg1, ...)" for error messages.
std::string describeCall(Napi::Env env, const std::string& name, const std::vector<Napi::Value>& args);
std::vector<Napi::Value> argsOf(const Napi::CallbackInfo& info);
std::vector<Napi::Value> argsOf(Napi::Array array);

// A JS Error "call: message" with `code` and `op` (the entry point or op name) set.
Napi::Error callError(Napi::Env env, const char* code, const std::string& name, const std::string& call, const std::string& message);
// A Napi::Error thrown without a code (a failed Node-API call) gets one and the call's name.
Napi::Error withCode(Napi::Env env, const Napi::Error& e, const std::string& name, const std::string& call);

// Runs fn() and turns every C++ exception into a JS Error. `args()` gives the call's arguments;
// it is evaluated only on failure.
template <typename Args, typename F>
Napi::Value guarded(Napi::Env env, const std::string& name, Args args, F fn) {
  try {
    return fn();
  } catch (const Napi::Error& e) {
    throw withCode(env, e, name, describeCall(env, name, args()));
  } catch (const ArgumentError& e) {
    throw callError(env, "ERR_BAD_INPUT", name, describeCall(env, name, args()), e.what());
  } catch (const c10::Error& e) {
    throw callError(env, "ERR_TORCH", name, describeCall(env, name, args()), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw callError(env, "ERR_TORCH", name, describeCall(env, name, args()), e.what());
  } catch (...) {
    throw callError(env, "ERR_TORCH", name, describeCall(env, name, args()), "unknown C++ exception");
  }
}

// The usual case: an entry point whose arguments are the callback's.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* name, F fn) {
  return guarded(info.Env(), name, [&info]() { return argsOf(info); }, fn);
}

}  // namespace spotdiff
