#include "transport/amqp/amqp_url.h"

#include <catch2/catch.hpp>

#include <string>

namespace mplane::transport::amqp {

TEST_CASE("parse_amqp_url reads user, password, host, port and vhost", "[amqp]") {
  auto [text, user, password, host, port, vhost] =
      GENERATE(table<std::string, std::string, std::string, std::string, int, std::string>({
          {"amqp://paul:iamthewalrus@127.0.0.1:25673/session01", "paul", "iamthewalrus",
           "127.0.0.1", 25673, "session01"},
          {"amqp://paul:pw@broker.example/session05", "paul", "pw", "broker.example", 5672,
           "session05"},
          {"amqp://a%40b:p%3Aw@h/v%2Fx", "a@b", "p:w", "h", 5672, "v/x"},
          {"amqp://u:p@h:1/%2F", "u", "p", "h", 1, "/"},
          {"amqp://u:p@h", "u", "p", "h", 5672, "/"},
      }));
  Result<AmqpUrl> url = parse_amqp_url(text);
  INFO(text);
  REQUIRE(url.ok());
  CHECK(url->user == user);
  CHECK(url->password == password);
  CHECK(url->host == host);
  CHECK(url->port == port);
  CHECK(url->vhost == vhost);
  CHECK(url->redacted().find(":" + password + "@") == std::string::npos);
  CHECK(url->redacted().find(":***@") != std::string::npos);
}

TEST_CASE("parse_amqp_url refuses malformed URLs with a clear error, never the password",
          "[amqp]") {
  auto [text, why] = GENERATE(table<std::string, std::string>({
      {"http://u:secret@h/v", "the scheme is not amqp://"},
      {"amqps://u:secret@h/v", "amqps (TLS) is not supported"},
      {"amqp://u:secret@h:99999/v", "malformed"},
      {"amqp://u:secret@h:port/v", "malformed"},
      {"amqp://u:secret@h/v%zz", "malformed"},
      {"", "the scheme is not amqp://"},
  }));
  Result<AmqpUrl> url = parse_amqp_url(text);
  INFO(text);
  REQUIRE_FALSE(url.ok());
  CHECK(url.error().find(why) != std::string::npos);
  CHECK(url.error().find("invalid AMQP URL") == 0);
  CHECK(url.error().find("secret") == std::string::npos);
}

}  // namespace mplane::transport::amqp
