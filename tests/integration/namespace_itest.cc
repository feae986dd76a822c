// Namespace RPCs against a real kv-central: create, get, rename, delete,
// list (paging, order), duplicate titles and the per-account limit.
#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tests/integration/itest_util.h"

namespace kv::testing {
namespace {

using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::SizeIs;

class NamespaceTest : public CentralFixture {};

TEST_F(NamespaceTest, CreateGetRenameDelete) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  ASSERT_OK_AND_ASSIGN(kv::v1::Namespace created, CreateNamespace("alpha"));
  EXPECT_THAT(created.id(), MatchesRegex("[0-9a-f]{32}"));
  EXPECT_EQ(created.title(), "alpha");
  EXPECT_TRUE(created.supports_url_encoding());

  ASSERT_OK_AND_ASSIGN(kv::v1::Namespace got, GetNamespace(created.id()));
  EXPECT_EQ(got.id(), created.id());
  EXPECT_EQ(got.title(), "alpha");

  ASSERT_OK_AND_ASSIGN(kv::v1::Namespace renamed, RenameNamespace(created.id(), "beta"));
  EXPECT_EQ(renamed.title(), "beta");
  ASSERT_OK_AND_ASSIGN(got, GetNamespace(created.id()));
  EXPECT_EQ(got.title(), "beta");
  // The old title is free again.
  ASSERT_OK_AND_ASSIGN(kv::v1::Namespace again, CreateNamespace("alpha"));
  EXPECT_NE(again.id(), created.id());

  ASSERT_OK(Put(created.id(), "k", "v"));
  ASSERT_OK(DeleteNamespace(created.id()));
  EXPECT_THAT(GetNamespace(created.id()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("namespace not found")));
  EXPECT_THAT(Put(created.id(), "k", "v2"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(GetEntry(created.id(), "k"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ListAll(created.id()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(RenameNamespace(created.id(), "gamma"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(DeleteNamespace(created.id()), StatusIs(absl::StatusCode::kNotFound));
  // The other namespace is untouched.
  ASSERT_OK_AND_ASSIGN(got, GetNamespace(again.id()));
  EXPECT_EQ(got.title(), "alpha");
}

TEST_F(NamespaceTest, DeletedNamespaceKeysDoNotReappearUnderANewNamespace) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  std::string first = MustCreateNamespace("first");
  ASSERT_OK(Put(first, "k", "v"));
  ASSERT_OK(DeleteNamespace(first));
  std::string second = MustCreateNamespace("first");
  EXPECT_EQ(Get(second, "k"), "<not found>");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, ListNames(second));
  EXPECT_THAT(names, SizeIs(0));
}

TEST_F(NamespaceTest, UnknownNamespaceIdIsNotFound) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  EXPECT_THAT(GetNamespace("0123456789abcdef0123456789abcdef"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("namespace not found")));
  EXPECT_THAT(Put("0123456789abcdef0123456789abcdef", "k", "v"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("namespace not found")));
}

TEST_F(NamespaceTest, DuplicateAndInvalidTitlesAreRejected) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  std::string a = MustCreateNamespace("same");
  std::string b = MustCreateNamespace("other");
  EXPECT_THAT(CreateNamespace("same"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(RenameNamespace(b, "same"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CreateNamespace(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(CreateNamespace(std::string(512, 't')));
  EXPECT_THAT(CreateNamespace(std::string(513, 'u')), StatusIs(absl::StatusCode::kInvalidArgument));
  // Nothing changed.
  ASSERT_OK_AND_ASSIGN(kv::v1::ListNamespacesResponse list, ListNamespaces(1, 100));
  EXPECT_EQ(list.total_count(), 3u);
  ASSERT_OK_AND_ASSIGN(kv::v1::Namespace got, GetNamespace(b));
  EXPECT_EQ(got.title(), "other");
  // Renaming to its own title is not a duplicate of another namespace.
  EXPECT_OK(RenameNamespace(a, "same"));
}

TEST_F(NamespaceTest, ListPagesInTitleOrIdOrder) {
  ASSERT_NO_FATAL_FAILURE(StartCentral());
  // Created in a scrambled order.
  std::vector<std::string> titles;
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) {
    std::string title = absl::StrFormat("ns-%02d", (i * 7) % 25);
    titles.push_back(title);
    ids.push_back(MustCreateNamespace(title));
  }
  ASSERT_FALSE(HasFailure());

  // By title (the default), 10 per page.
  std::vector<std::string> sorted_titles = titles;
  std::sort(sorted_titles.begin(), sorted_titles.end());
  std::vector<std::string> listed;
  for (uint32_t page = 1; page <= 4; ++page) {
    ASSERT_OK_AND_ASSIGN(kv::v1::ListNamespacesResponse response, ListNamespaces(page, 10));
    EXPECT_EQ(response.total_count(), 25u);
    EXPECT_EQ(response.page(), page);
    EXPECT_EQ(response.per_page(), 10u);
    const int expected = page <= 2 ? 10 : page == 3 ? 5 : 0;
    EXPECT_EQ(response.namespaces_size(), expected) << "page " << page;
    for (const kv::v1::Namespace& ns : response.namespaces()) listed.push_back(ns.title());
  }
  EXPECT_THAT(listed, ElementsAreArray(sorted_titles));

  // Page 0 and per_page 0 mean 1 and 20.
  ASSERT_OK_AND_ASSIGN(kv::v1::ListNamespacesResponse defaults, ListNamespaces(0, 0));
  EXPECT_EQ(defaults.page(), 1u);
  EXPECT_EQ(defaults.per_page(), 20u);
  EXPECT_EQ(defaults.namespaces_size(), 20);

  // Descending title order.
  ASSERT_OK_AND_ASSIGN(kv::v1::ListNamespacesResponse desc,
                       ListNamespaces(1, 100, kv::v1::ListNamespacesRequest::ORDER_TITLE, true));
  std::vector<std::string> desc_titles;
  for (const kv::v1::Namespace& ns : desc.namespaces()) desc_titles.push_back(ns.title());
  std::vector<std::string> reversed(sorted_titles.rbegin(), sorted_titles.rend());
  EXPECT_THAT(desc_titles, ElementsAreArray(reversed));

  // By id.
  std::vector<std::string> sorted_ids = ids;
  std::sort(sorted_ids.begin(), sorted_ids.end());
  ASSERT_OK_AND_ASSIGN(kv::v1::ListNamespacesResponse by_id,
                       ListNamespaces(1, 100, kv::v1::ListNamespacesRequest::ORDER_ID));
  std::vector<std::string> listed_ids;
  for (const kv::v1::Namespace& ns : by_id.namespaces()) listed_ids.push_back(ns.id());
  EXPECT_THAT(listed_ids, ElementsAreArray(sorted_ids));

  EXPECT_THAT(ListNamespaces(1, 1001), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(NamespaceTest, PerAccountLimitAtNAndNPlusOne) {
  CentralProcessOptions options;
  options.extra_flags = {"--max_namespaces_per_account=3"};
  ASSERT_NO_FATAL_FAILURE(StartCentral(options));
  std::string first = MustCreateNamespace("one");
  MustCreateNamespace("two");
  MustCreateNamespace("three");
  ASSERT_FALSE(HasFailure());
  EXPECT_THAT(CreateNamespace("four"), StatusIs(absl::StatusCode::kResourceExhausted));
  ASSERT_OK_AND_ASSIGN(kv::v1::ListNamespacesResponse list, ListNamespaces(1, 100));
  EXPECT_EQ(list.total_count(), 3u);
  // Another account has its own budget (dev mode serves any account).
  account_ = "otheraccount";
  EXPECT_OK(CreateNamespace("four"));
  account_ = "";
  // Deleting one frees a slot.
  ASSERT_OK(DeleteNamespace(first));
  EXPECT_OK(CreateNamespace("four"));
  EXPECT_THAT(CreateNamespace("five"), StatusIs(absl::StatusCode::kResourceExhausted));
}

}  // namespace
}  // namespace kv::testing
