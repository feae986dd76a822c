#ifndef KV_TESTS_HARNESS_TEST_CERTIFICATES_H_
#define KV_TESTS_HARNESS_TEST_CERTIFICATES_H_

#include <string>

#include "absl/status/status.h"

namespace kv::testing {

// Writes TLS material for tests into `dir` with the openssl command line
// (EC P-256, valid 2 days): a cluster CA (ca.pem, ca.key), a node
// certificate it signs for 127.0.0.1 and localhost, for server and client
// use (node.pem, node.key), and an outsider: another CA (rogue-ca.pem) and
// a node certificate of its own (rogue.pem, rogue.key). INTERNAL with
// openssl's stderr when a step fails.
absl::Status MakeTestCertificates(const std::string& dir);

}  // namespace kv::testing

#endif  // KV_TESTS_HARNESS_TEST_CERTIFICATES_H_
