// `mplane pki init|issue|identity`: the certificate authority of an mPlane domain and the
// keys and certificates of its members (transport/pki/pki.h has the DN convention).
#include <charconv>
#include <ctime>

#include "engine/cli/args.h"
#include "engine/cli/command.h"
#include "transport/pki/pki.h"

namespace mplane::cli {
namespace {

namespace pki = transport::pki;

const std::vector<OptionSpec> kInitOptions = {
    {"domain", "NAME",
     "domain name, labels of [A-Za-z0-9_-] split on '.' (default org.mplane.Example)"},
    {"days", "N", "validity of the CA certificate in days (default 3650)"},
};
const std::vector<OptionSpec> kIssueOptions = {
    {"role", "ROLE", "component, client or supervisor (required): the OU of the subject"},
    {"name", "NAME", "the member's name, [A-Za-z0-9_-], 1-64 characters (required): the CN"},
    {"san", "HOST", "subjectAltName: an IPv4/IPv6 address or a DNS name", true},
    {"days", "N", "validity of the certificate in days (default 825)"},
    {"out", "PREFIX", "write PREFIX.key and PREFIX.crt (default DIR/ROLE-NAME)"},
};
const std::vector<OptionSpec> kIdentityOptions = {};

constexpr std::string_view kUsage =
    "usage: mplane pki init DIR [--domain NAME] [--days N]\n"
    "       mplane pki issue DIR --role ROLE --name NAME [--san HOST]... [--days N] "
    "[--out PREFIX]\n"
    "       mplane pki identity CERT...\n"
    "init      creates the domain CA in DIR: ca.key (mode 0600) and ca.crt; never overwrites.\n"
    "          --domain org.mplane.Example gives the CA subject\n"
    "          DC=org, DC=mplane, O=Example, CN=Example CA.\n"
    "issue     makes an ECDSA P-256 key and a certificate signed by DIR's CA, subject\n"
    "          DC=org, DC=mplane, O=Example, OU=Components|Clients|Supervisors, CN=NAME,\n"
    "          usable as TLS server and client; prints the mPlane identity\n"
    "          (org.mplane.Example.Components.NAME) and the files. A server that peers\n"
    "          reach by address or host name needs those as --san.\n"
    "identity  prints the mPlane identity of each certificate (PROTOCOL.md §4.7).\n";

const std::vector<OptionSpec>& options_of(const std::string& verb) {
  return verb == "init" ? kInitOptions : verb == "issue" ? kIssueOptions : kIdentityOptions;
}

void print_help(std::ostream& out) {
  out << kUsage << "Options of `pki init`:\n"
      << format_options(kInitOptions) << "Options of `pki issue`:\n"
      << format_options(kIssueOptions);
}

Result<int> parse_days(const ParsedArgs& args, int fallback) {
  if (!args.has("days")) return fallback;
  const std::string text = args.get("days");
  int days = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), days);
  if (ec != std::errc() || end != text.data() + text.size() || days < 1 || days > pki::kMaxDays) {
    return fail("--days must be a whole number of days from 1 to 36500, not '" + text + "'");
  }
  return days;
}

void print_files(std::ostream& out, const pki::IssuedFiles& files) {
  out << "subject " << files.subject << "\n"
      << "key " << files.key_path << "\n"
      << "cert " << files.cert_path << "\n";
}

int init(const ParsedArgs& args, Io io) {
  if (args.positional.size() != 1) {
    io.err << "mplane pki init: give exactly one DIR (see mplane pki --help)\n";
    return kExitUsage;
  }
  auto days = parse_days(args, pki::kDefaultCaDays);
  if (!days) {
    io.err << "mplane pki init: " << days.error() << "\n";
    return kExitUsage;
  }
  pki::DomainOptions options;
  options.domain = args.get("domain", options.domain);
  options.days = *days;
  options.now = std::time(nullptr);
  auto files = pki::init_domain(args.positional[0], options);
  if (!files) {
    io.err << "mplane pki init: " << files.error() << "\n";
    return kExitInvalid;
  }
  io.out << "domain " << options.domain << "\n";
  print_files(io.out, *files);
  return kExitOk;
}

// Fills `options` from the arguments of `pki issue`; fails with a usage error.
Status<> issue_options(const ParsedArgs& args, pki::IssueOptions& options) {
  if (args.positional.size() != 1) return fail("give exactly one DIR");
  if (!args.has("role")) return fail("--role is required");
  if (!args.has("name")) return fail("--name is required");
  auto role = pki::parse_role(args.get("role"));
  if (!role) return fail(role.error());
  auto days = parse_days(args, pki::kDefaultLeafDays);
  if (!days) return fail(days.error());
  options.role = *role;
  options.name = args.get("name");
  options.sans = args.all("san");
  options.days = *days;
  options.out_prefix = args.get("out");
  options.now = std::time(nullptr);
  return Ok{};
}

int issue(const ParsedArgs& args, Io io) {
  pki::IssueOptions options;
  if (auto st = issue_options(args, options); !st) {
    io.err << "mplane pki issue: " << st.error() << " (see mplane pki --help)\n";
    return kExitUsage;
  }
  auto files = pki::issue(args.positional[0], options);
  if (!files) {
    io.err << "mplane pki issue: " << files.error() << "\n";
    return kExitInvalid;
  }
  io.out << "identity " << files->identity << "\n";
  print_files(io.out, *files);
  return kExitOk;
}

int identity(const ParsedArgs& args, Io io) {
  if (args.positional.empty()) {
    io.err << "mplane pki identity: no CERT given (see mplane pki --help)\n";
    return kExitUsage;
  }
  for (const std::string& path : args.positional) {
    auto id = pki::certificate_identity(path);
    if (!id) {
      io.err << "mplane pki identity: " << id.error() << "\n";
      return kExitInvalid;
    }
    if (args.positional.size() > 1) io.out << path << ": ";
    io.out << *id << "\n";
  }
  return kExitOk;
}

}  // namespace

int run_pki(const std::vector<std::string>& raw, Io io) {
  if (raw.empty() || raw[0] == "--help" || raw[0] == "-h") {
    print_help(raw.empty() ? io.err : io.out);
    return raw.empty() ? kExitUsage : kExitOk;
  }
  const std::string& verb = raw[0];
  if (verb != "init" && verb != "issue" && verb != "identity") {
    io.err << "mplane pki: unknown subcommand '" << verb
           << "' (expected init, issue or identity)\n";
    return kExitUsage;
  }
  auto args = parse_args({raw.begin() + 1, raw.end()}, options_of(verb));
  if (!args) {
    io.err << "mplane pki " << verb << ": " << args.error() << " (see mplane pki --help)\n";
    return kExitUsage;
  }
  if (args->has("help")) {
    print_help(io.out);
    return kExitOk;
  }
  if (verb == "init") return init(*args, io);
  if (verb == "issue") return issue(*args, io);
  return identity(*args, io);
}

}  // namespace mplane::cli
