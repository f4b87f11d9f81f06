// The mPlane client's configuration file (the RI's client .conf) and its TLS setup.
//
//   [client]  default-url = https://component:8888/
//   [TLS]     cert = …, key = …, ca-chain = …
#pragma once

#include <memory>
#include <string>

#include "parsers/base/result.h"
#include "transport/tls/tls_context.h"

namespace mplane::client {

struct ClientConfig {
  std::string default_url, ca, cert, key;
};

// Reads the file; absent sections and keys stay empty. Errors name the file.
Result<ClientConfig> load_client_config(const std::string& path);

// The client-role TLS context for https URLs: none (null) when all three files are empty, an
// error when only some are given or a file does not load.
Result<std::unique_ptr<transport::TlsContext>> client_tls(const std::string& ca,
                                                          const std::string& cert,
                                                          const std::string& key);

}  // namespace mplane::client
