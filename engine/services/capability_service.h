// Base of the built-in services: owns the capability parsed from its built-in JSON
// (conf/capabilities/), optionally adjusted by configuration (e.g. the ping source address).
#pragma once

#include <memory>
#include <string>

#include "engine/sched/service.h"
#include "parsers/json/message_reader.h"

namespace mplane::services {

class CapabilityService : public sched::Service {
 public:
  const model::Message& capability() const override { return capability_->message; }
  std::string name() const override { return name_; }

 protected:
  CapabilityService(std::unique_ptr<json::OwnedMessage> capability, std::string name)
      : capability_(std::move(capability)), name_(std::move(name)) {}

 private:
  std::unique_ptr<json::OwnedMessage> capability_;
  std::string name_;
};

// Parses a built-in capability (path relative to conf/, e.g. "capabilities/sleep.json").
// Fails only if the build embedded a broken file: callers treat that as a start-up error.
Result<std::unique_ptr<json::OwnedMessage>> load_builtin_capability(
    const model::RegistrySet& registries, std::string_view path);

}  // namespace mplane::services
