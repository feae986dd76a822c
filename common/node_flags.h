#ifndef KV_COMMON_NODE_FLAGS_H_
#define KV_COMMON_NODE_FLAGS_H_

#include "common/tls.h"

namespace kv {

// Flags kv-central and kv-edge share, defined once here: --tls_cert,
// --tls_key and --tls_ca, read after absl::ParseCommandLine.
TlsFiles TlsFilesFromFlags();

// Makes --help list the node's own flags (every flag not defined inside
// abseil), wherever in the project they are defined; without it abseil
// lists only flags of a file named like the binary, and there is none.
// Call before absl::ParseCommandLine.
void ListProjectFlagsInHelp();

}  // namespace kv

#endif  // KV_COMMON_NODE_FLAGS_H_
