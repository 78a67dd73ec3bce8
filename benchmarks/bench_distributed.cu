// warp::distributed benchmarks (Google Benchmark JSON), weak scaling: every rank holds
// 2^WARP_BENCH_DIST_LOG2_KEYS keys (default 18 on the host, 24 on CUDA), shards sized for load 0.5.
//   dist/in-process/<backend>/<insert|find>/P:<p>   P ranks on threads of this process (host: the
//       machine's cores shared out among them; cuda: one GPU each, P = the devices present)
//   dist/single/<backend>/<insert|find>/keys:<n>   one single_value_map with all P x n keys, in the
//       same run: the baseline of `efficiency` (rate of P shards / rate of one map with all keys, at equal cores)
//   dist/mpi/host/<op>/P:<p>   with WARP_BENCH_TRANSPORT=mpi under mpirun (P = the job's ranks;
//       fixed iteration counts so that every rank runs the same collectives; rank 0 reports)
//   dist/nccl/cuda/<op>/P:1   one NCCL rank on GPU 0 (the whole sharded path on the device)
// Counters: keys_per_second (all ranks' keys), exchanged_bytes_per_key (bytes sent to other ranks
// per key, counted by a wrapper around the communicator), efficiency where a baseline ran.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <omp.h>

#include <benchmark/benchmark.h>

#include <warp/distributed/distributed.cuh>
#include <warp/single_value_map.cuh>

namespace {

namespace wd = warp::distributed;
using key_t = std::uint64_t;
using value_t = std::uint64_t;
using shard_map = wd::sharded_map<key_t, value_t>;

std::size_t env_size(char const* name, std::size_t fallback) {
  char const* v = std::getenv(name);
  return v ? static_cast<std::size_t>(std::strtoull(v, nullptr, 10)) : fallback;
}

// Forwards to a communicator and counts the bytes this rank sends to other ranks.
class counting_communicator final : public wd::communicator {
 public:
  explicit counting_communicator(wd::communicator& inner) : inner_{&inner} {}
  int rank() const noexcept override { return inner_->rank(); }
  int size() const noexcept override { return inner_->size(); }
  warp::backend where() const noexcept override { return inner_->where(); }
  char const* transport() const noexcept override { return inner_->transport(); }
  void exchange_counts(std::uint64_t const* send, std::uint64_t* recv) override { inner_->exchange_counts(send, recv); }
  void exchange(void const* send, std::uint64_t const* send_bytes, void* recv, std::uint64_t const* recv_bytes,
                cuda::stream_ref stream) override {
    for (int p = 0; p < size(); ++p) {
      if (p != rank()) { sent += send_bytes[p]; }
    }
    inner_->exchange(send, send_bytes, recv, recv_bytes, stream);
  }
  std::uint64_t sent = 0;

 private:
  wd::communicator* inner_;
};

// In-process CUDA ranks: rank r on GPU r.
void select_device(warp::backend where, int r) {
#if WARP_CUDA_ENABLED
  if (where == warp::backend::cuda) { (void)cudaSetDevice(r); }
#else
  (void)where;
  (void)r;
#endif
}

// Rank r's keys: a disjoint slice of 1..P*n, shuffled; lookups in another order.
std::vector<key_t> rank_keys(std::size_t n, int rank, std::uint64_t salt) {
  std::vector<key_t> k(n);
  std::iota(k.begin(), k.end(), static_cast<key_t>(rank) * n + 1);
  std::shuffle(k.begin(), k.end(), std::mt19937_64{salt + static_cast<std::uint64_t>(rank)});
  return k;
}

// Keys in the communicator's memory (copied once per rank and backend).
struct rank_data {
  warp::detail::buffer<key_t> keys, queries;
};
rank_data stage(warp::backend where, std::size_t n, int rank) {
  auto const k = rank_keys(n, rank, 1), q = rank_keys(n, rank, 2);
  rank_data d{warp::detail::buffer<key_t>{where, n, warp::default_stream()},
              warp::detail::buffer<key_t>{where, n, warp::default_stream()}};
  warp::detail::copy_bytes(where, d.keys.data(), k.data(), n * sizeof(key_t), warp::default_stream());
  warp::detail::copy_bytes(where, d.queries.data(), q.data(), n * sizeof(key_t), warp::default_stream());
  warp::detail::synchronize(where, warp::default_stream());
  return d;
}

std::map<std::string, double>& baseline_rates() {
  static std::map<std::string, double> r;
  return r;
}

// One rank's part of an iteration: insert its keys into an empty sharded map, or find them in a
// filled one. Returns the seconds of the timed call.
double rank_step(shard_map& map, rank_data const& d, std::size_t n, bool find, std::vector<value_t>& out) {
  auto const start = std::chrono::steady_clock::now();
  if (find) {
    map.find(d.queries.data(), d.queries.data() + n, out.data());
  } else {
    map.insert(d.keys.data(), d.keys.data() + n, d.keys.data());
  }
  warp::detail::synchronize(map.where(), warp::default_stream());
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void report(benchmark::State& state, std::size_t total_keys, std::uint64_t sent_bytes, std::uint64_t calls,
            double seconds, std::string const& baseline_key) {
  state.counters["keys_per_second"] = benchmark::Counter(static_cast<double>(total_keys) * static_cast<double>(state.iterations()),
                                                         benchmark::Counter::kIsRate);
  state.counters["exchanged_bytes_per_key"] =
      calls == 0 ? 0.0 : static_cast<double>(sent_bytes) / static_cast<double>(calls) / static_cast<double>(total_keys);
  auto const it = baseline_rates().find(baseline_key);
  if (it != baseline_rates().end() && seconds > 0) {
    double const rate = static_cast<double>(total_keys) * static_cast<double>(calls) / seconds;
    state.counters["efficiency"] = rate / it->second;
  }
}

// P ranks of an in-process group, each on its own thread with cores / P OpenMP threads.
void bm_in_process(benchmark::State& state, warp::backend where, int ranks, bool find) {
  std::size_t const n = std::size_t{1} << env_size("WARP_BENCH_DIST_LOG2_KEYS", where == warp::backend::cuda ? 24 : 18);
  wd::in_process_group group{ranks, where};
  std::vector<std::unique_ptr<counting_communicator>> comms;
  std::vector<std::unique_ptr<shard_map>> maps;
  std::vector<rank_data> data;
  std::vector<std::vector<value_t>> outs(static_cast<std::size_t>(ranks));
  int const threads = std::max(1, omp_get_max_threads() / ranks);
  for (int r = 0; r < ranks; ++r) {
    select_device(where, r);
    comms.push_back(std::make_unique<counting_communicator>(group.at(r)));
    maps.push_back(std::make_unique<shard_map>(*comms.back(), 2 * n, warp::empty_key{~0ull}, warp::empty_value{0ull}));
    data.push_back(stage(where, n, r));
    outs[static_cast<std::size_t>(r)].resize(find ? n : 0);
  }
  // The ranks' threads live for the whole benchmark (a thread, and its OpenMP team, made per
  // iteration would cost more than a host step): every iteration runs inside one run_ranks, each
  // timed from a common start (a collective) to the slowest rank's end; the benchmark loop then
  // reports those times.
  std::size_t const iterations = static_cast<std::size_t>(state.max_iterations);
  std::vector<double> times(iterations);
  for (auto& c : comms) { c->sent = 0; }
  std::uint64_t calls = 0;
  wd::run_ranks(group, [&](wd::communicator& c) {
    int const r = c.rank();
    auto& map = *maps[static_cast<std::size_t>(r)];
    select_device(where, r);
    omp_set_num_threads(threads);
    if (find) { rank_step(map, data[static_cast<std::size_t>(r)], n, false, outs[static_cast<std::size_t>(r)]); }
    comms[static_cast<std::size_t>(r)]->sent = 0;
    for (std::size_t it = 0; it < iterations; ++it) {
      if (!find) { map.clear(); }
      (void)wd::all_reduce_sum(c, 0);  // a common start
      double const s = rank_step(map, data[static_cast<std::size_t>(r)], n, find, outs[static_cast<std::size_t>(r)]);
      auto const all = wd::all_gather(c, static_cast<std::uint64_t>(s * 1e9));
      if (r == 0) { times[it] = static_cast<double>(*std::max_element(all.begin(), all.end())) * 1e-9; }
    }
  });
  double seconds = 0;
  for (auto _ : state) {
    state.SetIterationTime(times[calls]);
    seconds += times[calls];
    ++calls;
  }
  std::uint64_t sent = 0;
  for (auto& c : comms) { sent += c->sent; }
  report(state, n * static_cast<std::size_t>(ranks), sent, calls, seconds,
         std::string(warp::to_string(where)) + (find ? "/find/" : "/insert/") + std::to_string(n * ranks));
}

// The baseline: one map with every rank's keys, on all the cores.
void bm_single(benchmark::State& state, warp::backend where, std::size_t total, bool find) {
  warp::single_value_map<key_t, value_t> map{2 * total, warp::empty_key{~0ull}, warp::empty_value{0ull}, where};
  auto const k = rank_keys(total, 0, 1), q = rank_keys(total, 0, 2);
  warp::detail::buffer<key_t> keys{where, total, warp::default_stream()}, queries{where, total, warp::default_stream()};
  warp::detail::copy_bytes(where, keys.data(), k.data(), total * sizeof(key_t), warp::default_stream());
  warp::detail::copy_bytes(where, queries.data(), q.data(), total * sizeof(key_t), warp::default_stream());
  warp::detail::buffer<value_t> out{where, total, warp::default_stream()};
  if (find) { map.insert(keys.data(), keys.data() + total, keys.data()); }
  double seconds = 0;
  for (auto _ : state) {
    if (!find) {
      state.PauseTiming();
      map.clear();
      state.ResumeTiming();
    }
    auto const start = std::chrono::steady_clock::now();
    if (find) {
      map.find(queries.data(), queries.data() + total, out.data());
    } else {
      map.insert(keys.data(), keys.data() + total, keys.data());
    }
    warp::detail::synchronize(where, warp::default_stream());
    double const s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    seconds += s;
    state.SetIterationTime(s);
  }
  state.counters["keys_per_second"] =
      benchmark::Counter(static_cast<double>(total) * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  if (seconds > 0) {
    baseline_rates()[std::string(warp::to_string(where)) + (find ? "/find/" : "/insert/") + std::to_string(total)] =
        static_cast<double>(total) * static_cast<double>(state.iterations()) / seconds;
  }
}

// One rank of a communicator that spans processes (MPI) or one NCCL rank.
void bm_communicator(benchmark::State& state, wd::communicator& comm, bool find) {
  warp::backend const where = comm.where();
  std::size_t const n = std::size_t{1} << env_size("WARP_BENCH_DIST_LOG2_KEYS", where == warp::backend::cuda ? 24 : 18);
  counting_communicator counted{comm};
  shard_map map{counted, 2 * n, warp::empty_key{~0ull}, warp::empty_value{0ull}};
  auto const data = stage(where, n, comm.rank());
  std::vector<value_t> out(find ? n : 0);
  warp::detail::buffer<value_t> device_out{where, find ? n : 0, warp::default_stream()};
  if (find) { map.insert(data.keys.data(), data.keys.data() + n, data.keys.data()); }
  counted.sent = 0;
  std::uint64_t calls = 0;
  double seconds = 0;
  for (auto _ : state) {
    if (!find) {
      state.PauseTiming();
      map.clear();
      (void)wd::all_reduce_sum(counted, 0);  // every rank starts the timed call together
      state.ResumeTiming();
    }
    auto const start = std::chrono::steady_clock::now();
    if (find) {
      map.find(data.queries.data(), data.queries.data() + n, where == warp::backend::cuda ? device_out.data() : out.data());
    } else {
      map.insert(data.keys.data(), data.keys.data() + n, data.keys.data());
    }
    warp::detail::synchronize(where, warp::default_stream());
    double local = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // The step ends when the slowest rank ends: report the maximum (as microseconds, through the counts exchange).
    auto const all = wd::all_gather(counted, static_cast<std::uint64_t>(local * 1e9));
    local = static_cast<double>(*std::max_element(all.begin(), all.end())) * 1e-9;
    state.SetIterationTime(local);
    seconds += local;
    ++calls;
  }
  report(state, n * static_cast<std::size_t>(comm.size()), wd::all_reduce_sum(counted, counted.sent), calls, seconds, "");
}

class silent_reporter : public benchmark::BenchmarkReporter {
 public:
  bool ReportContext(Context const&) override { return true; }
  void ReportRuns(std::vector<Run> const&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  char const* transport = std::getenv("WARP_BENCH_TRANSPORT");
  std::string const mode = transport ? transport : "in-process";
  if (mode == "mpi") {
#ifdef WARP_HAVE_MPI
    wd::mpi_session mpi{argc, argv};
    wd::mpi_communicator comm;
    // Only rank 0 writes --benchmark_out (the others would truncate its file): drop it elsewhere.
    if (comm.rank() != 0) {
      int kept = 1;
      for (int i = 1; i < argc; ++i) {
        std::string const a = argv[i];
        if (a.rfind("--benchmark_out", 0) != 0) { argv[kept++] = argv[i]; }
      }
      argc = kept;
    }
    benchmark::Initialize(&argc, argv);
    for (bool find : {false, true}) {
      std::string const name = std::string("dist/mpi/host/") + (find ? "find" : "insert") + "/P:" + std::to_string(comm.size());
      benchmark::RegisterBenchmark(name.c_str(), [&comm, find](benchmark::State& s) { bm_communicator(s, comm, find); })
          ->Iterations(10)
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
    if (comm.rank() == 0) {
      benchmark::RunSpecifiedBenchmarks();
    } else {
      silent_reporter quiet;
      benchmark::RunSpecifiedBenchmarks(&quiet);
    }
    benchmark::Shutdown();
    return 0;
#else
    std::fprintf(stderr, "bench_distributed: WARP_BENCH_TRANSPORT=mpi, but this build has no MPI (link warp::mpi)\n");
    return 1;
#endif
  }
  benchmark::Initialize(&argc, argv);
  bool const have_gpu = warp::cuda_available();
  std::vector<warp::backend> backends{warp::backend::host};
  if (have_gpu) { backends.push_back(warp::backend::cuda); }
  for (auto where : backends) {
    std::size_t const n =
        std::size_t{1} << env_size("WARP_BENCH_DIST_LOG2_KEYS", where == warp::backend::cuda ? 24 : 18);
    int devices = 1;
#if WARP_CUDA_ENABLED
    if (where == warp::backend::cuda) { (void)cudaGetDeviceCount(&devices); }
#endif
    std::vector<int> shard_counts = where == warp::backend::cuda ? std::vector<int>{} : std::vector<int>{1, 2, 4, 8};
    for (int p = 1; where == warp::backend::cuda && p <= devices; p *= 2) { shard_counts.push_back(p); }
    for (bool find : {false, true}) {
      std::string const op = find ? "find" : "insert";
      for (int p : shard_counts) {
        // The baseline first (one map with all P x n keys), then the P shards.
        std::string const base = "dist/single/" + std::string(warp::to_string(where)) + "/" + op + "/keys:" +
                                 std::to_string(n * static_cast<std::size_t>(p));
        benchmark::RegisterBenchmark(base.c_str(), [=](benchmark::State& s) { bm_single(s, where, n * p, find); })
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
        std::string const name =
            "dist/in-process/" + std::string(warp::to_string(where)) + "/" + op + "/P:" + std::to_string(p);
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { bm_in_process(s, where, p, find); })
            ->Iterations(where == warp::backend::cuda ? 50 : 20)
            ->UseManualTime()
            ->Unit(benchmark::kMillisecond);
      }
    }
  }
#if WARP_NCCL_ENABLED
  std::vector<std::unique_ptr<wd::nccl_communicator>> nccl;
  if (have_gpu) {
    nccl = wd::nccl_communicator::init_all({0});
    for (bool find : {false, true}) {
      std::string const name = std::string("dist/nccl/cuda/") + (find ? "find" : "insert") + "/P:1";
      benchmark::RegisterBenchmark(name.c_str(), [&nccl, find](benchmark::State& s) { bm_communicator(s, *nccl[0], find); })
          ->UseManualTime()
          ->Unit(benchmark::kMillisecond);
    }
  }
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
