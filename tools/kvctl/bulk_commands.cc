// kvctl bulk put|get|delete: wrangler-format JSON files, sent in batches
// (--batch_size entries, at most kMaxBatchBytes of data per request), with
// a progress bar on a terminal.
#include <algorithm>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "tools/kvctl/bulk_file.h"
#include "tools/kvctl/commands.h"
#include "tools/kvctl/exit_codes.h"
#include "tools/kvctl/flags.h"
#include "tools/kvctl/output.h"
#include "tools/kvctl/progress_bar.h"

namespace kv::kvctl {
namespace {

// Well under the server's 128 MiB message limit; one entry (up to 25 MiB)
// always fits.
constexpr size_t kMaxBatchBytes = size_t{32} << 20;
// The server's limit per bulk request.
constexpr int kMaxBatchEntries = 10000;
// Keys per Get request (the API's limit).
constexpr size_t kMaxGetKeys = 100;

size_t BatchSize() {
  const int n = absl::GetFlag(FLAGS_batch_size);
  if (n < 1 || n > kMaxBatchEntries) {
    DieUsage(absl::StrCat("--batch_size must be 1..", kMaxBatchEntries, ", not ", n));
  }
  return static_cast<size_t>(n);
}

template <typename T>
T ParseOrDie(const std::string& path, absl::StatusOr<T> parsed) {
  if (!parsed.ok()) Die(kExitBadInput, absl::StrCat(path, ": ", parsed.status().message()));
  return *std::move(parsed);
}

std::string Progressed(size_t done, size_t total, absl::string_view what) {
  return absl::StrCat(what, " failed after ", done, " of ", total, " keys");
}

void PrintCount(bool json, absl::string_view verb, size_t count, size_t requests) {
  if (json) {
    WriteStdout(Dump({{"success", true}, {verb, count}, {"requests", requests}}));
  } else {
    WriteStdout(absl::StrCat("Success! ", count, " keys ", verb, "\n"));
  }
}

}  // namespace

int BulkPut(Client& client, const Args& args) {
  ExpectArgs(args, 3, 3, "bulk put FILE --namespace-id ID");
  const std::string ns = RequireNamespace();
  const size_t batch_size = BatchSize();
  const bool json = JsonOutput();
  std::vector<kv::v1::BulkPutEntry> entries =
      ParseOrDie(args[2], ParseBulkPutFile(ReadFileOrDie(args[2])));
  ProgressBar progress("bulk put", entries.size(), ProgressBar::ModeFromFlag());
  size_t done = 0, written = 0, requests = 0;
  while (done < entries.size()) {
    kv::v1::BulkPutRequest request;
    request.set_account_id(client.account());
    request.set_namespace_id(ns);
    size_t bytes = 0;
    while (done + request.entries_size() < entries.size() &&
           static_cast<size_t>(request.entries_size()) < batch_size) {
      kv::v1::BulkPutEntry& next = entries[done + request.entries_size()];
      const size_t size = next.key().size() + next.value().size() + next.metadata().size();
      if (request.entries_size() > 0 && bytes + size > kMaxBatchBytes) break;
      bytes += size;
      *request.add_entries() = std::move(next);
    }
    kv::v1::BulkPutResponse response;
    const grpc::Status status = client.stub().BulkPut(client.Context().get(), request, &response);
    if (!status.ok()) progress.Finish();
    client.Check(status, Progressed(done, entries.size(), "bulk put"));
    if (response.unsuccessful_keys_size() > 0) {
      progress.Finish();
      Die(kExitError, absl::StrCat(Progressed(done, entries.size(), "bulk put"), ": ",
                                   response.unsuccessful_keys_size(),
                                   " keys were not written, the first \"",
                                   response.unsuccessful_keys(0), "\""));
    }
    done += request.entries_size();
    written += response.successful_key_count();
    ++requests;
    progress.Update(done);
  }
  progress.Finish();
  PrintCount(json, "written", written, requests);
  return 0;
}

int BulkDelete(Client& client, const Args& args) {
  ExpectArgs(args, 3, 3, "bulk delete FILE --namespace-id ID");
  const std::string ns = RequireNamespace();
  const size_t batch_size = BatchSize();
  const bool json = JsonOutput();
  const std::vector<std::string> keys =
      ParseOrDie(args[2], ParseKeyListFile(ReadFileOrDie(args[2])));
  ProgressBar progress("bulk delete", keys.size(), ProgressBar::ModeFromFlag());
  size_t done = 0, deleted = 0, requests = 0;
  while (done < keys.size()) {
    kv::v1::BulkDeleteRequest request;
    request.set_account_id(client.account());
    request.set_namespace_id(ns);
    const size_t n = std::min(batch_size, keys.size() - done);
    for (size_t i = 0; i < n; ++i) request.add_keys(keys[done + i]);
    kv::v1::BulkDeleteResponse response;
    const grpc::Status status =
        client.stub().BulkDelete(client.Context().get(), request, &response);
    if (!status.ok()) progress.Finish();
    client.Check(status, Progressed(done, keys.size(), "bulk delete"));
    done += n;
    deleted += response.successful_key_count();
    ++requests;
    progress.Update(done);
  }
  progress.Finish();
  PrintCount(json, "deleted", deleted, requests);
  return 0;
}

int BulkGet(Client& client, const Args& args) {
  ExpectArgs(args, 3, 3, "bulk get FILE --namespace-id ID [--metadata]");
  const std::string ns = RequireNamespace();
  const bool with_metadata = absl::GetFlag(FLAGS_with_metadata);
  const std::vector<std::string> keys =
      ParseOrDie(args[2], ParseKeyListFile(ReadFileOrDie(args[2])));
  ProgressBar progress("bulk get", keys.size(), ProgressBar::ModeFromFlag());
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (size_t done = 0; done < keys.size();) {
    kv::v1::GetRequest request;
    request.set_account_id(client.account());
    request.set_namespace_id(ns);
    request.set_with_metadata(with_metadata);
    const size_t n = std::min(kMaxGetKeys, keys.size() - done);
    for (size_t i = 0; i < n; ++i) request.add_keys(keys[done + i]);
    kv::v1::GetResponse response;
    const grpc::Status status = client.stub().Get(client.Context().get(), request, &response);
    if (!status.ok()) progress.Finish();
    client.Check(status, Progressed(done, keys.size(), "bulk get"));
    for (const kv::v1::Entry& entry : response.entries()) {
      nlohmann::ordered_json value = nullptr;
      if (entry.found()) {
        if (IsUtf8(entry.value())) {
          value = entry.value();
        } else {
          value = {{"value", Base64Encode(entry.value())}, {"base64", true}};
        }
        if (with_metadata) {
          if (!value.is_object()) value = {{"value", value}};
          value["metadata"] = entry.has_metadata() ? MetadataJson(entry.metadata())
                                                   : nlohmann::ordered_json(nullptr);
        }
      }
      out[entry.key()] = std::move(value);
    }
    done += n;
    progress.Update(done);
  }
  progress.Finish();
  WriteStdout(Dump(out));
  return 0;
}

}  // namespace kv::kvctl
