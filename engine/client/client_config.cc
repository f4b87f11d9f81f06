#include "engine/client/client_config.h"

#include "conf/ini.h"

namespace mplane::client {

Result<ClientConfig> load_client_config(const std::string& path) {
  auto ini = conf::load_ini(path);
  if (!ini) return fail(ini.error());
  ClientConfig c;
  if (const conf::IniSection* s = ini->find("client")) {
    if (const conf::IniEntry* e = s->find("default-url")) c.default_url = e->value;
  }
  if (const conf::IniSection* s = ini->find("TLS")) {
    if (const conf::IniEntry* e = s->find("cert")) c.cert = e->value;
    if (const conf::IniEntry* e = s->find("key")) c.key = e->value;
    if (const conf::IniEntry* e = s->find("ca-chain")) c.ca = e->value;
  }
  return c;
}

Result<std::unique_ptr<transport::TlsContext>> client_tls(const std::string& ca,
                                                          const std::string& cert,
                                                          const std::string& key) {
  if (ca.empty() && cert.empty() && key.empty()) {
    return std::unique_ptr<transport::TlsContext>();
  }
  if (ca.empty() || cert.empty() || key.empty()) {
    return fail("TLS needs all of --ca, --cert and --key");
  }
  transport::TlsOptions t;
  t.role = transport::TlsRole::kClient;
  t.ca_file = ca;
  t.cert_file = cert;
  t.key_file = key;
  return transport::TlsContext::create(t);
}

}  // namespace mplane::client
