#ifndef KV_COMMON_RANDOM_ID_H_
#define KV_COMMON_RANDOM_ID_H_

#include <string>

namespace kv {

// 32 lowercase hex characters from a cryptographically seeded generator:
// namespace ids, log incarnations, dev tokens.
std::string RandomHexId();

}  // namespace kv

#endif  // KV_COMMON_RANDOM_ID_H_
