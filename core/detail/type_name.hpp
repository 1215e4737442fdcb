// Internal: the unqualified C++ name of a dynamic type, the default class_name() of layers,
// losses and metrics ("plexus::layers::DenseLayer" -> "DenseLayer").
#pragma once

#include <cxxabi.h>

#include <cstdlib>
#include <string>
#include <typeinfo>

namespace plexus::detail {

inline std::string unqualified_type_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string full = status == 0 && demangled ? demangled : type.name();
  std::free(demangled);
  const auto pos = full.rfind("::");
  return pos == std::string::npos ? full : full.substr(pos + 2);
}

}  // namespace plexus::detail
