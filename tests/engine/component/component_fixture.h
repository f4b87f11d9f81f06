// A component on 127.0.0.1 (port chosen by the system, plaintext) over an in-process engine
// with the loopback and sleep services: what the component, client and TLS tests drive.
#pragma once

#include <memory>
#include <string>

#include "engine/component/component_server.h"
#include "tests/test_support.h"

namespace mplane::test {

struct ComponentFixture {
  explicit ComponentFixture(std::size_t shards = 2, transport::HttpServerOptions http = {})
      : engine(registries(), engine_options(shards)) {
    REQUIRE(engine.start().ok());
    component::ComponentOptions o;
    o.host = "127.0.0.1";
    o.port = 0;
    o.http = http;
    server = std::make_unique<component::ComponentServer>(engine, registries(), o);
    REQUIRE(server->start().ok());
  }
  ~ComponentFixture() {
    engine.stop();
    engine.join();
  }
  static runtime::EngineOptions engine_options(std::size_t shards) {
    runtime::EngineOptions e;
    e.shards = shards;
    e.immediate_wait = 0;  // receipts at once: tests exercise redemption
    e.services = {{"loopback", {}, "<test>"}, {"sleep", {}, "<test>"}};
    return e;
  }
  std::string url(const std::string& path = "") const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  runtime::Engine engine;
  std::unique_ptr<component::ComponentServer> server;
};

}  // namespace mplane::test
