#include "tests/harness/test_certificates.h"

#include "absl/strings/str_cat.h"
#include "tests/harness/process.h"

namespace kv::testing {
namespace {

constexpr char kScript[] = R"(set -e
printf '%s\n' 'subjectAltName=IP:127.0.0.1,DNS:localhost' 'basicConstraints=CA:FALSE' \
  'keyUsage=digitalSignature,keyEncipherment' 'extendedKeyUsage=serverAuth,clientAuth' \
  > node.ext
for who in ca rogue-ca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout $who.key -out $who.pem -days 2 -subj "/CN=kv-test-$who"
done
for pair in node:ca rogue:rogue-ca; do
  name=${pair%%:*}; ca=${pair#*:}
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout $name.key -out $name.csr -subj "/CN=kv-$name"
  openssl x509 -req -in $name.csr -CA $ca.pem -CAkey $ca.key -CAcreateserial \
    -out $name.pem -days 2 -extfile node.ext
done
)";

}  // namespace

absl::Status MakeTestCertificates(const std::string& dir) {
  absl::StatusOr<CommandResult> made =
      RunCommand({"/bin/sh", "-c", absl::StrCat("cd '", dir, "' && ", kScript)}, dir);
  if (!made.ok()) return made.status();
  if (!made->status.Exited(0)) {
    return absl::InternalError(absl::StrCat("making test certificates with openssl failed (",
                                            made->status.ToString(), "): ", made->stderr_data));
  }
  return absl::OkStatus();
}

}  // namespace kv::testing
