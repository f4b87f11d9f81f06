# Writes the file IN into OUT as a C++ string constant (the core registry built into mplane).
file(READ ${IN} CONTENT)
file(WRITE ${OUT} "// Generated from ${IN}; do not edit.\n#include <string_view>\n"
  "namespace mplane::conf { extern const std::string_view kCoreRegistryJson;\n"
  "const std::string_view kCoreRegistryJson = R\"mplane_registry(${CONTENT})mplane_registry\"; }\n")
