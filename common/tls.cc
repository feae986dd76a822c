#include "common/tls.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kv {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, ": cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (!absl::StrContains(text.str(), "-----BEGIN ")) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, ": ", path, " is not a PEM file (no \"-----BEGIN\" line)"));
  }
  return text.str();
}

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

// The first certificate of a PEM text; null when none parses.
X509Ptr FirstCertificate(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return nullptr;
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// When `cert` stops being valid (InfinitePast when its date cannot be read).
absl::Time NotAfter(const X509& cert) {
  struct tm parts = {};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(&cert), &parts) != 1) return absl::InfinitePast();
  return absl::FromTimeT(timegm(&parts));
}

// Every certificate of a PEM text, in order (a CA file may be a bundle).
std::vector<X509Ptr> Certificates(const std::string& pem) {
  std::vector<X509Ptr> certificates;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (bio == nullptr) return certificates;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    certificates.push_back(std::move(cert));
  }
  ERR_clear_error();  // the failed read past the last certificate
  return certificates;
}

// The earliest end of validity among `certificates` (a CA bundle, e.g. the
// old and the new CA during a rotation: the one that expires first
// matters); InfinitePast when no date can be read.
absl::Time EarliestNotAfter(const std::vector<X509Ptr>& certificates) {
  absl::Time earliest = absl::InfiniteFuture();
  for (const X509Ptr& cert : certificates) {
    const absl::Time not_after = NotAfter(*cert);
    if (not_after != absl::InfinitePast()) earliest = std::min(earliest, not_after);
  }
  return earliest == absl::InfiniteFuture() ? absl::InfinitePast() : earliest;
}

// Checks what gRPC would otherwise refuse with "Unable to create secure
// server": a certificate, an unencrypted key that belongs to it, a CA; and
// sets the material's expiry dates from the certificates it parsed.
absl::Status CheckMaterial(TlsMaterial& material, const TlsFiles& files) {
  const X509Ptr cert = FirstCertificate(material.cert);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_cert: ", files.cert, " holds no certificate that can be read"));
  }
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(
      BIO_new_mem_buf(material.key.data(), static_cast<int>(material.key.size())), &BIO_free);
  const KeyPtr key(key_bio == nullptr
                       ? nullptr
                       : PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--tls_key: ", files.key,
        " holds no private key that can be read (an encrypted key is not supported)"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--tls_key: ", files.key,
                                                   " is not the key of --tls_cert ", files.cert));
  }
  const std::vector<X509Ptr> cas = Certificates(material.ca);
  if (cas.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--tls_ca: ", files.ca, " holds no certificate that can be read"));
  }
  material.cert_not_after = NotAfter(*cert);
  material.ca_not_after = EarliestNotAfter(cas);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TlsMaterial> LoadNodeTls(const TlsFiles& files) {
  TlsMaterial material;
  if (!files.enabled()) return material;
  if (files.cert.empty() || files.key.empty() || files.ca.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "TLS needs --tls_cert, --tls_key and --tls_ca together; missing:",
        files.cert.empty() ? " --tls_cert" : "", files.key.empty() ? " --tls_key" : "",
        files.ca.empty() ? " --tls_ca" : ""));
  }
  absl::StatusOr<std::string> cert = ReadPem(files.cert, "--tls_cert");
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadPem(files.key, "--tls_key");
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> ca = ReadPem(files.ca, "--tls_ca");
  if (!ca.ok()) return ca.status();
  material.cert = std::move(*cert);
  material.key = std::move(*key);
  material.ca = std::move(*ca);
  if (absl::Status s = CheckMaterial(material, files); !s.ok()) return s;
  return material;
}

std::shared_ptr<grpc::ServerCredentials> NodeServerCredentials(const TlsMaterial& material,
                                                               bool enabled) {
  if (!enabled) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = material.ca;
  options.pem_key_cert_pairs.push_back({material.key, material.cert});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> NodeChannelCredentials(const TlsMaterial& material,
                                                                 bool enabled) {
  if (!enabled) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = material.ca;
  options.pem_private_key = material.key;
  options.pem_cert_chain = material.cert;
  return grpc::SslCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> PeerCredentials(
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  return credentials != nullptr ? credentials : grpc::InsecureChannelCredentials();
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ClientChannelCredentials(
    const std::string& ca_file) {
  if (ca_file.empty()) return grpc::InsecureChannelCredentials();
  absl::StatusOr<std::string> ca = ReadPem(ca_file, "--tls_ca");
  if (!ca.ok()) return ca.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = std::move(*ca);
  return grpc::SslCredentials(options);
}

absl::Status CheckNodeCertificate(bool required, bool presented) {
  if (!required || presented) return absl::OkStatus();
  return absl::UnauthenticatedError(
      "mutual TLS: this method is for the cluster's nodes and needs a client certificate "
      "signed by the cluster CA (--tls_cert, --tls_key, --tls_ca)");
}

bool HasVerifiedClientCertificate(const grpc::ServerContext& context) {
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return false;
  // The SSL transport sets the peer identity only from a certificate that
  // verified against the CA (GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY).
  return auth->IsPeerAuthenticated() &&
         !auth->FindPropertyValues("x509_pem_cert").empty();
}

}  // namespace kv
