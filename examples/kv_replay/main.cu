// kv_replay: replays an LLM request trace against prefix caches of several sizes and prints the
// block (= token) hit rate in total and over time. Traces: JSON Lines of block ids (the Mooncake
// release) or of token ids (salts and LoRA ids optional), or a synthetic multi-tenant trace.
//
//   kv_replay --trace ../shared/data/kvcache/mooncake_conversation_trace.jsonl --capacity 2000,8000,inf
//   kv_replay --synthetic 20000 --tenants 4 --block-size 16 --timeline hits.csv
#include <chrono>
#include <cstdio>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <warp/core/backend.cuh>
#include <warp/detail/files.cuh>
#include <warp/kvcache/replay.cuh>

#include "common/cli.hpp"
#include "kv_replay/trace.hpp"

namespace {

using example::input_error;

constexpr char const* usage = R"(usage: kv_replay (--trace FILE | --synthetic N) [options]
  --trace FILE          JSON Lines: {"hash_ids": [...]} per request (512-token blocks, as Mooncake's
                        release) or {"tokens": [...], "salt": "...", "lora_id": N}
  --synthetic N         N made-up token requests (system prompts, multi-turn chats, few-shot)
  --tenants T           tenants of the synthetic trace, each with its own salt (default 4)
  --seed S              seed of the synthetic trace (default 1)
  --block-size B        tokens per block for token traces, 1 to 512 (default 16; block-id traces are 512)
  --capacity LIST       cache sizes in blocks, comma-separated; inf = unbounded (default 1000,4000,16000,inf)
  --interval N          requests per point of the hit rate over time (default 500)
  --timeline FILE       the hit rate over time as CSV (capacity,requests,window_hit_rate,hit_rate);
                        scripts/plot_kv_replay.py draws it
  --backend host|cuda   where the hash index and the hashing run (default: CUDA when a GPU is usable)
)";

struct arguments {
  std::string trace;
  std::size_t synthetic = 0;
  std::size_t tenants = 4;
  std::uint64_t seed = 1;
  std::uint32_t block_size = 16;
  std::vector<std::uint32_t> capacities{1000, 4000, 16000, 0};
  std::size_t interval = 500;
  std::string timeline;
  std::string backend;
};

std::vector<std::uint32_t> parse_capacities(std::string const& text) {
  std::vector<std::uint32_t> out;
  for (std::string const& item : example::split_list(text, "--capacity")) {
    out.push_back(item == "inf" ? 0u : example::parse_integer<std::uint32_t>(item.c_str(), "--capacity", 1, 1u << 31));
  }
  return out;
}

arguments parse(int argc, char** argv) {
  arguments a;
  example::option_reader args{argc, argv, 1, usage};
  while (args.next()) {
    std::string const& o = args.option();
    auto value = [&]() -> char const* { return args.value(); };
    if (o == "--trace") {
      a.trace = value();
    } else if (o == "--synthetic") {
      a.synthetic = example::parse_integer<std::size_t>(value(), "--synthetic", 1, std::size_t{1} << 24);
    } else if (o == "--tenants") {
      a.tenants = example::parse_integer<std::size_t>(value(), "--tenants", 1, 1u << 16);
    } else if (o == "--seed") {
      a.seed = example::parse_integer<std::uint64_t>(value(), "--seed", 0, std::uint64_t{1} << 62);
    } else if (o == "--block-size") {
      a.block_size = example::parse_integer<std::uint32_t>(value(), "--block-size", 1, warp::kvcache::max_block_size);
    } else if (o == "--capacity") {
      a.capacities = parse_capacities(value());
    } else if (o == "--interval") {
      a.interval = example::parse_integer<std::size_t>(value(), "--interval", 1, std::size_t{1} << 30);
    } else if (o == "--timeline") {
      a.timeline = value();
    } else if (o == "--backend") {
      a.backend = value();
    } else {
      throw input_error("unknown option '" + o + "'\n" + usage);
    }
  }
  if (a.trace.empty() == (a.synthetic == 0)) { throw input_error(std::string("give one of --trace and --synthetic\n") + usage); }
  return a;
}

struct progress_state {
  std::string label;
  std::chrono::steady_clock::time_point last;
};

void show_progress(std::size_t done, std::size_t all, void* context) {
  auto& p = *static_cast<progress_state*>(context);
  auto const now = std::chrono::steady_clock::now();
  if (done == all || now - p.last > std::chrono::milliseconds(250)) {
    std::cerr << "\r" << p.label << ": " << done << " of " << all << " requests" << (done == all ? "\n" : "") << std::flush;
    p.last = now;
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    arguments const a = parse(argc, argv);
    warp::backend const where = example::backend_option(a.backend);
    if (!a.trace.empty()) { example::require_readable(a.trace, "trace"); }
    if (!a.timeline.empty()) { example::require_writable_prefix(a.timeline); }
    auto const t0 = std::chrono::steady_clock::now();
    kv_replay::trace const t = a.trace.empty() ? kv_replay::synthetic_trace(a.synthetic, a.tenants, a.seed)
                                               : kv_replay::read_trace(a.trace);
    std::uint32_t const block = t.token_level ? a.block_size : 512;
    // A fresh deployment key per run: hashes are never comparable across deployments.
    std::random_device device;
    unsigned char key[32];
    for (auto& c : key) { c = static_cast<unsigned char>(device()); }
    auto const chains = kv_replay::chains(t, block, warp::kvcache::block_hasher::keyed(key, sizeof(key)), where);
    std::uint64_t blocks = 0;
    for (auto const& c : chains) { blocks += c.size(); }
    std::cerr << (a.trace.empty() ? "synthetic trace" : a.trace) << ": " << t.requests.size() << " requests, " << blocks
              << " full blocks of " << block << " tokens, read and hashed in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
    std::printf("capacity_blocks\trequests\tblocks\thit_blocks\thit_rate\tevictions\trefused\tseconds\n");
    std::string csv = "capacity,requests,window_hit_rate,hit_rate\n";
    for (std::uint32_t capacity : a.capacities) {
      std::string const name = capacity == 0 ? "inf" : std::to_string(capacity);
      progress_state p{"capacity " + name, std::chrono::steady_clock::now()};
      auto const start = std::chrono::steady_clock::now();
      auto const r = warp::kvcache::replay(chains, capacity, block, where, show_progress, &p);
      double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("%s\t%zu\t%llu\t%llu\t%.4f\t%llu\t%llu\t%.2f\n", name.c_str(), chains.size(),
                  static_cast<unsigned long long>(r.stats.queried_blocks), static_cast<unsigned long long>(r.stats.hit_blocks),
                  r.stats.hit_rate(), static_cast<unsigned long long>(r.stats.evictions),
                  static_cast<unsigned long long>(r.stats.refused_allocations), seconds);
      std::uint64_t window_blocks = 0, window_hits = 0, all_blocks = 0, all_hits = 0;
      for (std::size_t i = 0; i < chains.size(); ++i) {
        window_blocks += chains[i].size();
        window_hits += r.hit_blocks[i];
        if ((i + 1) % a.interval == 0 || i + 1 == chains.size()) {
          all_blocks += window_blocks;
          all_hits += window_hits;
          char line[128];
          std::snprintf(line, sizeof(line), "%s,%zu,%.4f,%.4f\n", name.c_str(), i + 1,
                        window_blocks ? static_cast<double>(window_hits) / static_cast<double>(window_blocks) : 0.0,
                        all_blocks ? static_cast<double>(all_hits) / static_cast<double>(all_blocks) : 0.0);
          csv += line;
          window_blocks = window_hits = 0;
        }
      }
    }
    if (!a.timeline.empty()) {
      warp::detail::write_file_atomically(a.timeline, "kv_replay", {{csv.data(), csv.size()}});
      std::cerr << "wrote " << a.timeline << "\n";
    }
    return 0;
  } catch (std::exception const& e) {
    std::cerr << "kv_replay: " << e.what() << "\n";
    return 1;
  }
}
