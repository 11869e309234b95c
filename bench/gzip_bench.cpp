// gzip speed and ratio on synthetic DynamoDB-JSON lines (~200-byte items, the backup shape).
//   GzipWriter (libdeflate, 1 MiB members) vs zlib deflate (one stream), levels 1/6/9;
//   GzipReader (zlib inflate, streaming) vs libdeflate whole-member decompression.
// "bytes_per_second" is uncompressed bytes; "ratio" is compressed/uncompressed.
#include <benchmark/benchmark.h>
#include <libdeflate.h>
#include <zlib.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "compress/gzip.h"
#include "compress/line_splitter.h"

namespace {

using dynarep::Status;
namespace compress = dynarep::compress;

// ~200-byte items shaped like a typical table: string/number key, a few attributes, a map,
// a short binary. Values vary enough that the data compresses like real exports (4-6x), not
// like a repeated constant.
const std::string& corpus() {
  static const std::string data = [] {
    std::mt19937_64 rng(42);
    const char* words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",
                           "india", "juliet", "kilo", "lima", "mike", "november", "oscar"};
    auto word = [&] { return std::string(words[rng() % 15]); };
    std::string out;
    out.reserve(64u << 20);
    std::uint64_t n = 0;
    while (out.size() < (32u << 20)) {
      ++n;
      out += R"({"pk":{"S":"customer#)" + std::to_string(rng() % 5000000) + R"("},"sk":{"S":"order#)" +
             std::to_string(1600000000 + n * 37) + R"("},"status":{"S":")" + word() +
             R"("},"total":{"N":")" + std::to_string(rng() % 100000) + "." +
             std::to_string(rng() % 100) + R"("},"items":{"L":[{"S":")" + word() + "-" + word() +
             R"("},{"N":")" + std::to_string(rng() % 20) + R"("}]},"addr":{"M":{"city":{"S":")" +
             word() + R"("},"zip":{"S":")" + std::to_string(10000 + rng() % 89999) +
             R"("}}},"flag":{"BOOL":)" + (rng() % 2 ? "true" : "false") + R"(},"h":{"B":")";
      static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
      for (int i = 0; i < 16; ++i) out += b64[rng() % 64];
      out += "\"}}\n";
    }
    return out;
  }();
  return data;
}

void report(benchmark::State& state, std::size_t in, std::size_t out) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * in));
  state.counters["ratio"] = static_cast<double>(out) / static_cast<double>(in);
  state.counters["MBps_in"] = benchmark::Counter(
      static_cast<double>(state.iterations() * in) / 1e6, benchmark::Counter::kIsRate);
}

// Feeds the writer in 64 KiB pieces, like a scan handing over pages of lines.
std::string libdeflate_gzip(const std::string& data, int level, std::size_t block) {
  std::string out;
  compress::GzipWriter w(
      [&out](std::string_view b) -> Status {
        out.append(b);
        return {};
      },
      {.level = level, .block_size = block});
  for (std::size_t i = 0; i < data.size(); i += 65536) {
    if (!w.write(std::string_view(data).substr(i, 65536)).ok()) std::abort();
  }
  if (!w.finish().ok()) std::abort();
  return out;
}

std::string zlib_gzip(const std::string& data, int level) {
  z_stream zs{};
  deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out;
  std::vector<unsigned char> buf(1 << 18);
  for (std::size_t i = 0; i < data.size(); i += 65536) {
    std::size_t n = std::min<std::size_t>(65536, data.size() - i);
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + i));
    zs.avail_in = static_cast<uInt>(n);
    const int flush = i + n >= data.size() ? Z_FINISH : Z_NO_FLUSH;
    do {
      zs.next_out = buf.data();
      zs.avail_out = static_cast<uInt>(buf.size());
      deflate(&zs, flush);
      out.append(reinterpret_cast<char*>(buf.data()), buf.size() - zs.avail_out);
    } while (zs.avail_out == 0);
  }
  deflateEnd(&zs);
  return out;
}

void BM_Compress_Libdeflate(benchmark::State& state) {
  const std::string& data = corpus();
  std::size_t out = 0;
  for (auto _ : state) {
    std::string gz = libdeflate_gzip(data, static_cast<int>(state.range(0)),
                                     static_cast<std::size_t>(state.range(1)) << 10);
    out = gz.size();
    benchmark::DoNotOptimize(gz.data());
  }
  report(state, data.size(), out);
}
BENCHMARK(BM_Compress_Libdeflate)
    ->ArgNames({"level", "block_KiB"})
    ->Args({1, 1024})->Args({4, 1024})->Args({6, 1024})->Args({9, 1024})
    ->Args({6, 256})->Args({6, 4096})
    ->Unit(benchmark::kMillisecond);

void BM_Compress_Zlib(benchmark::State& state) {
  const std::string& data = corpus();
  std::size_t out = 0;
  for (auto _ : state) {
    std::string gz = zlib_gzip(data, static_cast<int>(state.range(0)));
    out = gz.size();
    benchmark::DoNotOptimize(gz.data());
  }
  report(state, data.size(), out);
}
BENCHMARK(BM_Compress_Zlib)->ArgName("level")->Arg(1)->Arg(6)->Unit(benchmark::kMillisecond);

void BM_Decompress_GzipReader(benchmark::State& state) {
  const std::string& data = corpus();
  const std::string gz = libdeflate_gzip(data, 6, 1 << 20);
  for (auto _ : state) {
    compress::GzipReader r;
    std::size_t n = 0;
    auto sink = [&n](std::string_view b) -> Status {
      n += b.size();
      return {};
    };
    // 64 KiB chunks, like HTTP body pieces.
    for (std::size_t i = 0; i < gz.size(); i += 65536) {
      if (!r.feed(std::string_view(gz).substr(i, 65536), sink).ok()) std::abort();
    }
    if (!r.finish().ok() || n != data.size()) std::abort();
  }
  report(state, data.size(), gz.size());
}
BENCHMARK(BM_Decompress_GzipReader)->Unit(benchmark::kMillisecond);

void BM_Decompress_GzipReaderLines(benchmark::State& state) {
  const std::string& data = corpus();
  const std::string gz = libdeflate_gzip(data, 6, 1 << 20);
  for (auto _ : state) {
    compress::GzipReader r;
    compress::LineSplitter s;
    std::size_t lines = 0;
    auto on_line = [&lines](std::string_view, std::uint64_t) -> Status {
      ++lines;
      return {};
    };
    auto sink = [&](std::string_view b) { return s.feed(b, on_line); };
    for (std::size_t i = 0; i < gz.size(); i += 65536) {
      if (!r.feed(std::string_view(gz).substr(i, 65536), sink).ok()) std::abort();
    }
    if (!r.finish().ok() || !s.finish(on_line).ok()) std::abort();
    benchmark::DoNotOptimize(lines);
  }
  report(state, data.size(), gz.size());
}
BENCHMARK(BM_Decompress_GzipReaderLines)->Unit(benchmark::kMillisecond);

// Whole-member libdeflate decompression, for comparison: what a reader that buffered each
// member could gain over streaming zlib.
void BM_Decompress_LibdeflateWholeMembers(benchmark::State& state) {
  const std::string& data = corpus();
  const std::string gz = libdeflate_gzip(data, 6, 1 << 20);
  libdeflate_decompressor* d = libdeflate_alloc_decompressor();
  std::vector<char> out(1 << 20);
  for (auto _ : state) {
    std::size_t pos = 0, total = 0;
    while (pos < gz.size()) {
      std::size_t in_used = 0, out_used = 0;
      if (libdeflate_gzip_decompress_ex(d, gz.data() + pos, gz.size() - pos, out.data(), out.size(),
                                        &in_used, &out_used) != LIBDEFLATE_SUCCESS) {
        std::abort();
      }
      pos += in_used;
      total += out_used;
    }
    if (total != data.size()) std::abort();
  }
  libdeflate_free_decompressor(d);
  report(state, data.size(), gz.size());
}
BENCHMARK(BM_Decompress_LibdeflateWholeMembers)->Unit(benchmark::kMillisecond);

void BM_Decompress_ZlibOfZlib(benchmark::State& state) {
  const std::string& data = corpus();
  const std::string gz = zlib_gzip(data, 6);
  for (auto _ : state) {
    std::size_t n = 0;
    compress::GzipReader r;
    if (!r.feed(gz, [&n](std::string_view b) -> Status {
           n += b.size();
           return {};
         }).ok() ||
        !r.finish().ok() || n != data.size()) {
      std::abort();
    }
  }
  report(state, data.size(), gz.size());
}
BENCHMARK(BM_Decompress_ZlibOfZlib)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
