// The Symbolizer on synthetic traces whose one module is this test program
// itself, at the address it is loaded at: names and lines of a known call,
// stack order, binaries found by search path, sysroot and build-id, the
// build-id check and the symbol cache.
#include "memtide/analysis/symbolizer.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <link.h>
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>

#include "binary_locator.h"
#include "memtide_common/event.h"
#include "memtide_common/trace_schema.h"
#include "temp_files.h"

namespace memtide::analysis {
namespace {

namespace fs = std::filesystem;

#if defined(__clang__)
#define KEEP_AS_CALLED __attribute__((noinline))
#else
#define KEEP_AS_CALLED __attribute__((noipa))
#endif

KEEP_AS_CALLED uint64_t return_address() {
  return reinterpret_cast<uint64_t>(__builtin_extract_return_addr(__builtin_return_address(0)));
}

// The return address of a call made on a known line of a known function.
KEEP_AS_CALLED uint64_t known_call_site(int* line) {
  *line = __LINE__ + 1;
  uint64_t ip = return_address();
  asm volatile("" : "+r"(ip));
  return ip;
}

constexpr const char* kKnownFunction =
    "memtide::analysis::(anonymous namespace)::known_call_site(int*)";

struct LoadedExecutable {
  std::string path;
  std::string build_id;
  uint64_t base = 0, size = 0, load_bias = 0;
};

std::string hex(const unsigned char* bytes, size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
  }
  return out;
}

// This program as the agent would record it: the first object dl_iterate_phdr reports.
LoadedExecutable this_executable() {
  LoadedExecutable exe;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        auto* out = static_cast<LoadedExecutable*>(data);
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
          const ElfW(Phdr)& ph = info->dlpi_phdr[i];
          if (ph.p_type == PT_LOAD) {
            lo = std::min<uint64_t>(lo, ph.p_vaddr);
            hi = std::max<uint64_t>(hi, ph.p_vaddr + ph.p_memsz);
          }
          if (ph.p_type != PT_NOTE) continue;
          auto* p = reinterpret_cast<const unsigned char*>(info->dlpi_addr + ph.p_vaddr);
          const unsigned char* end = p + ph.p_memsz;
          while (p + sizeof(ElfW(Nhdr)) <= end) {
            auto* note = reinterpret_cast<const ElfW(Nhdr)*>(p);
            const unsigned char* desc = p + sizeof(ElfW(Nhdr)) + ((note->n_namesz + 3) & ~3u);
            if (note->n_type == NT_GNU_BUILD_ID) out->build_id = hex(desc, note->n_descsz);
            p = desc + ((note->n_descsz + 3) & ~3u);
          }
        }
        out->load_bias = info->dlpi_addr;
        out->base = info->dlpi_addr + lo;
        out->size = hi - lo;
        return 1;  // the executable comes first
      },
      &exe);
  exe.path = fs::read_symlink("/proc/self/exe").string();
  return exe;
}

using test_files::temp_path;

void exec_sql(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  std::string why = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << why << " in " << sql;
}

std::string quoted(const std::string& text) {
  return "'" + text + "'";
}

// A trace with this program as its module at `recorded_path` and the stack
// node 1 (ip `outer`) <- node 2 (ip `inner`).
std::string make_trace(const std::string& name, const std::string& recorded_path,
                       const std::string& build_id, uint64_t inner, uint64_t outer) {
  std::string path = temp_path(name);
  fs::remove(path);
  LoadedExecutable exe = this_executable();
  exec_sql(path, std::string(kTraceSchemaSql) + "INSERT INTO meta VALUES('format', " +
                     quoted(kTraceFormatName) + "); INSERT INTO meta VALUES('schema_version', " +
                     std::to_string(kSchemaVersion) + ");" +
                     "INSERT INTO modules(id, path, build_id, base, size, load_bias) VALUES(1, " +
                     quoted(recorded_path) + ", " + quoted(build_id) + ", " +
                     std::to_string(exe.base) + ", " + std::to_string(exe.size) + ", " +
                     std::to_string(exe.load_bias) + ");" +
                     "INSERT INTO stack_nodes VALUES(1, 0, " + std::to_string(outer) +
                     "), (2, 1, " + std::to_string(inner) + ");");
  return path;
}

// An address no module covers: the zero page.
constexpr uint64_t kUnmappedIp = 0x1001;

struct KnownSite {
  uint64_t ip;
  int line;
};

KnownSite known_site() {
  KnownSite site{};
  site.ip = known_call_site(&site.line);
  return site;
}

void expect_known_frame(const std::vector<ReportFrame>& frames, const KnownSite& site,
                        const std::string& module) {
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].function, kKnownFunction);
  EXPECT_EQ(fs::path(frames[0].file).filename(), "symbolizer_test.cpp");
  EXPECT_EQ(frames[0].line, site.line);
  EXPECT_FALSE(frames[0].inlined);
  EXPECT_EQ(frames[0].module, module);
  EXPECT_EQ(frames[0].module_offset, site.ip - 1 - this_executable().load_bias);
}

TEST(Symbolizer, KnownFunctionFileAndLine) {
  KnownSite site = known_site();
  LoadedExecutable exe = this_executable();
  std::string path = make_trace("known.db", exe.path, exe.build_id, site.ip, kUnmappedIp);
  TraceFile trace(path);
  Symbolizer symbols(trace);
  expect_known_frame(symbols.frames(site.ip), site, exe.path);
  EXPECT_TRUE(symbols.missing_modules().empty());
}

TEST(Symbolizer, StackIsInnermostFirstAndUnmappedIpsKeepTheirAddress) {
  KnownSite site = known_site();
  LoadedExecutable exe = this_executable();
  std::string path = make_trace("stack.db", exe.path, exe.build_id, site.ip, kUnmappedIp);
  TraceFile trace(path);
  Symbolizer symbols(trace);
  std::vector<ReportFrame> stack = symbols.stack(2);
  ASSERT_EQ(stack.size(), 2u);
  EXPECT_EQ(stack[0].function, kKnownFunction);
  EXPECT_EQ(stack[1].module, "?");
  EXPECT_EQ(stack[1].module_offset, kUnmappedIp - 1);
  EXPECT_TRUE(stack[1].function.empty());
  EXPECT_EQ(symbols.stack(1).size(), 1u);
  EXPECT_TRUE(symbols.stack(0).empty());
  EXPECT_TRUE(symbols.stack(3).empty());
}

TEST(Symbolizer, BuildIdsAreReadFromTheFile) {
  LoadedExecutable exe = this_executable();
  ASSERT_FALSE(exe.build_id.empty());
  EXPECT_EQ(read_build_id(exe.path), exe.build_id);
  EXPECT_EQ(read_build_id("/nonexistent"), "");
}

TEST(Symbolizer, OtherBuildIdMeansMissing) {
  KnownSite site = known_site();
  LoadedExecutable exe = this_executable();
  std::string other_id(exe.build_id.size(), '0');
  std::string path = make_trace("mismatch.db", exe.path, other_id, site.ip, kUnmappedIp);
  TraceFile trace(path);
  Symbolizer symbols(trace);
  const std::vector<ReportFrame>& frames = symbols.frames(site.ip);
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_TRUE(frames[0].function.empty());
  EXPECT_EQ(frames[0].line, 0);
  EXPECT_EQ(frames[0].module, exe.path);
  EXPECT_EQ(frames[0].module_offset, site.ip - 1 - exe.load_bias);
  EXPECT_EQ(symbols.missing_modules(), std::vector<std::string>{exe.path});
  EXPECT_EQ(
      symbols.missing_module_details()[0].reason,
      "build-id differs (" + exe.path + " has " + exe.build_id + ", the trace " + other_id + ")");
}

TEST(Symbolizer, FindsTheBinaryBySearchPathSysrootAndBuildId) {
  KnownSite site = known_site();
  LoadedExecutable exe = this_executable();
  fs::path real(exe.path);
  std::string moved = "/nonexistent/elsewhere/" + real.filename().string();

  std::string by_name = make_trace("by_name.db", moved, exe.build_id, site.ip, kUnmappedIp);
  {
    TraceFile trace(by_name);
    Symbolizer without(trace);
    EXPECT_TRUE(without.frames(site.ip)[0].function.empty());
    EXPECT_EQ(without.missing_module_details()[0].reason, "not found");
  }
  {
    TraceFile trace(by_name);
    Symbolizer symbols(trace, SymbolizerOptions{{real.parent_path().string()}, ""});
    expect_known_frame(symbols.frames(site.ip), site, moved);
  }

  // The recorded path is the last two components; the sysroot the rest.
  fs::path tail = real.parent_path().filename() / real.filename();
  std::string sysroot = real.parent_path().parent_path().string();
  std::string under_sysroot =
      make_trace("sysroot.db", "/" + tail.string(), exe.build_id, site.ip, kUnmappedIp);
  {
    TraceFile trace(under_sysroot);
    Symbolizer symbols(trace, SymbolizerOptions{{}, sysroot});
    expect_known_frame(symbols.frames(site.ip), site, "/" + tail.string());
  }

  std::string ids = temp_path("ids");
  fs::remove_all(ids);
  fs::create_directories(ids + "/.build-id/" + exe.build_id.substr(0, 2));
  fs::create_symlink(exe.path, ids + "/.build-id/" + exe.build_id.substr(0, 2) + "/" +
                                   exe.build_id.substr(2) + ".debug");
  {
    TraceFile trace(by_name);
    Symbolizer symbols(trace, SymbolizerOptions{{ids}, ""});
    expect_known_frame(symbols.frames(site.ip), site, moved);
  }
  fs::remove_all(ids);
}

int64_t count_rows(const std::string& db_path, const std::string& sql) {
  TraceFile trace(db_path);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(trace.db(), sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
  int64_t n = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  return n;
}

TEST(Symbolizer, CacheAnswersWithoutTheBinary) {
  KnownSite site = known_site();
  LoadedExecutable exe = this_executable();
  std::string path = make_trace("cache.db", exe.path, exe.build_id, site.ip, kUnmappedIp);
  {
    TraceFile trace(path);
    Symbolizer symbols(trace);
    SymbolizeSummary summary = symbols.symbolize_all();
    EXPECT_EQ(summary.ips, 2u);
    EXPECT_EQ(summary.from_cache, 0u);
    EXPECT_EQ(summary.with_function, 1u);
    EXPECT_EQ(summary.with_line, 1u);
    symbols.save_cache();
  }
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM symbols"), 2);
  EXPECT_EQ(count_rows(path, "SELECT value FROM meta WHERE key = 'symbols_format'"), 1);
  // The binary is gone as far as the trace can tell.
  exec_sql(path, "UPDATE modules SET path = '/nonexistent/program'");
  TraceFile trace(path);
  Symbolizer symbols(trace);
  SymbolizeSummary summary = symbols.symbolize_all();
  EXPECT_EQ(summary.from_cache, 2u);
  expect_known_frame(symbols.frames(site.ip), site, exe.path);
  EXPECT_EQ(symbols.stack(2)[1].module, "?");
  EXPECT_TRUE(symbols.missing_modules().empty());
}

TEST(Symbolizer, CacheOfAnotherFormatIsReplaced) {
  KnownSite site = known_site();
  LoadedExecutable exe = this_executable();
  std::string path = make_trace("format.db", exe.path, exe.build_id, site.ip, kUnmappedIp);
  exec_sql(path,
           "CREATE TABLE symbols(ip INTEGER, depth INTEGER, function TEXT, file TEXT, line "
           "INTEGER, module TEXT, module_offset INTEGER, inlined INTEGER);"
           "INSERT INTO symbols VALUES(" +
               std::to_string(site.ip) +
               ", 0, 'stale', NULL, NULL, 'x', 0, 0);"
               "INSERT INTO meta VALUES('symbols_format', 99);");
  {
    TraceFile trace(path);
    Symbolizer symbols(trace);
    expect_known_frame(symbols.frames(site.ip), site, exe.path);
    symbols.save_cache();
  }
  EXPECT_EQ(count_rows(path, "SELECT count(*) FROM symbols WHERE function = 'stale'"), 0);
  EXPECT_EQ(count_rows(path, "SELECT value FROM meta WHERE key = 'symbols_format'"), 1);
}

}  // namespace
}  // namespace memtide::analysis
