// The translation unit that the "g++ -O2 compile" benchmark compiles: heavy on
// the standard library (<regex>, <map>, <unordered_map>, <variant>, streams,
// algorithms) and on template instantiation, so the compiler allocates a lot.
// It is only compiled, never run.
#include <algorithm>
#include <array>
#include <functional>
#include <iomanip>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <variant>
#include <vector>

namespace bench {

template <int N>
struct Record {
  std::string name;
  std::array<double, N % 7 + 1> values{};
  std::map<std::string, int> tags;
  bool operator<(const Record& o) const { return name < o.name; }
};

template <int N>
std::vector<Record<N>> parse(const std::string& text) {
  static const std::regex line(R"(^(\w+)\s*=\s*([-+]?[0-9]*\.?[0-9]+)(?:\s*#\s*(\w+))?$)");
  std::vector<Record<N>> out;
  std::istringstream in(text);
  std::string s;
  while (std::getline(in, s)) {
    std::smatch m;
    if (!std::regex_match(s, m, line)) continue;
    Record<N> r;
    r.name = m[1];
    r.values[0] = std::stod(m[2]);
    if (m[3].matched) r.tags[m[3]] += N;
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end());
  return out;
}

template <int N>
std::unordered_map<std::string, std::vector<double>> group(const std::vector<Record<N>>& rs) {
  std::unordered_map<std::string, std::vector<double>> g;
  for (const auto& r : rs)
    for (const auto& [tag, count] : r.tags) g[tag].push_back(r.values[0] * count);
  for (auto& [k, v] : g) std::stable_sort(v.begin(), v.end(), std::greater<>());
  return g;
}

using Value = std::variant<int, double, std::string, std::vector<int>, std::map<int, std::string>>;

template <int N>
std::string describe(const Value& v) {
  return std::visit(
      [](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        std::ostringstream os;
        if constexpr (std::is_same_v<T, int> || std::is_same_v<T, double>) {
          os << std::setw(N % 5 + 4) << x;
        } else if constexpr (std::is_same_v<T, std::string>) {
          os << std::quoted(x);
        } else if constexpr (std::is_same_v<T, std::vector<int>>) {
          os << std::accumulate(x.begin(), x.end(), N);
        } else {
          for (const auto& [k, s] : x) os << k << ':' << s << ';';
        }
        return os.str();
      },
      v);
}

template <int N>
std::optional<std::tuple<std::string, double, std::set<std::string>>> summarize(
    const std::string& text) {
  auto rs = parse<N>(text);
  if (rs.empty()) return std::nullopt;
  auto g = group<N>(rs);
  std::set<std::string> keys;
  for (const auto& [k, v] : g) keys.insert(k + describe<N>(Value{static_cast<int>(v.size())}));
  std::list<double> totals;
  std::transform(rs.begin(), rs.end(), std::back_inserter(totals),
                 [](const Record<N>& r) { return r.values[0]; });
  totals.sort();
  std::function<double(double, double)> add = [](double a, double b) { return a + b; };
  const double sum = std::accumulate(totals.begin(), totals.end(), 0.0, add);
  std::unordered_set<std::string> seen;
  for (const auto& r : rs) seen.insert(std::regex_replace(r.name, std::regex("[aeiou]"), "_"));
  return std::make_tuple(rs.front().name + std::to_string(seen.size()), sum, keys);
}

}  // namespace bench

#define BENCH_INSTANTIATE(N)                                                     \
  template std::optional<std::tuple<std::string, double, std::set<std::string>>> \
  bench::summarize<N>(const std::string&);

// One instantiation per line: the formatter cannot settle on a layout here.
// clang-format off
#define BENCH_TEN(B)        \
  BENCH_INSTANTIATE(B##0)   \
  BENCH_INSTANTIATE(B##1)   \
  BENCH_INSTANTIATE(B##2)   \
  BENCH_INSTANTIATE(B##3)   \
  BENCH_INSTANTIATE(B##4)   \
  BENCH_INSTANTIATE(B##5)   \
  BENCH_INSTANTIATE(B##6)   \
  BENCH_INSTANTIATE(B##7)   \
  BENCH_INSTANTIATE(B##8)   \
  BENCH_INSTANTIATE(B##9)
// clang-format on

#ifdef BENCH_QUICK  // --quick: a much smaller compile
BENCH_INSTANTIATE(1)
BENCH_INSTANTIATE(2)
#else
BENCH_TEN(1)
#endif
