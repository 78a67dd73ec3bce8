// examples/kv_replay/trace.hpp: request traces for the KV-cache replay, from JSON Lines or made up.
//
// Two JSON Lines forms, one object a line (blank lines skipped, unknown keys ignored):
//   block-id traces (Mooncake's release): {"timestamp": 0, "input_length": 6758, "hash_ids": [0, 1, 2]}
//     each id names one prefix block; block i of a request is keyed by (id, i).
//   token traces: {"tokens": [101, 2023, ...], "salt": "tenant-a", "lora_id": 3}
//     blocks are hashed with warp::kvcache::hash_blocks (keyed, with the salt and adapter).
// Errors name the file, line and column. synthetic_trace() makes a token trace with shared system
// prompts, multi-turn chats and few-shot prompts across tenants.
#pragma once

#include <cstdint>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <warp/kvcache/block_hash.cuh>

#include "common/cli.hpp"
#include "common/json.hpp"

namespace kv_replay {

using example::input_error;

struct trace_request {
  std::vector<std::uint64_t> hash_ids;  // block-id traces
  std::vector<std::uint32_t> tokens;    // token traces
  std::string salt;
  std::uint64_t lora_id = 0;
};

struct trace {
  bool token_level = false;
  std::vector<trace_request> requests;
};

namespace detail {

using example::json::json_cursor;

// One line of a trace file: the shared JSON cursor, with the few readers a trace needs.
struct cursor {
  json_cursor c;
  [[noreturn]] void fail(std::string const& what) const { c.fail(what); }
  void space() { c.skip_space(); }
  bool at_end() const { return c.pos >= c.text.size(); }
  char peek() const { return at_end() ? '\0' : c.text[c.pos]; }
  void expect(char ch) {
    space();
    if (peek() != ch) { fail(std::string("expected '") + ch + "'"); }
    ++c.pos;
  }
  std::string string() {
    space();
    if (peek() != '"') { fail("expected a string"); }
    return example::json::json_string(c);
  }
  std::uint64_t integer(std::uint64_t max, char const* what) {
    space();
    std::size_t const start = c.pos;
    std::uint64_t v = 0;
    while (!at_end() && peek() >= '0' && peek() <= '9') {
      std::uint64_t const d = static_cast<std::uint64_t>(peek() - '0');
      if (v > (max - d) / 10) { fail(std::string(what) + " is larger than " + std::to_string(max)); }
      v = v * 10 + d;
      ++c.pos;
    }
    if (c.pos == start) { fail(std::string(what) + " must be a non-negative integer"); }
    if (peek() == '.' || peek() == 'e' || peek() == 'E') { fail(std::string(what) + " must be an integer"); }
    return v;
  }
  template <class T>
  std::vector<T> integer_array(std::uint64_t max, char const* what) {
    std::vector<T> out;
    expect('[');
    space();
    if (peek() == ']') {
      ++c.pos;
      return out;
    }
    for (;;) {
      out.push_back(static_cast<T>(integer(max, what)));
      space();
      if (peek() == ',') {
        ++c.pos;
        continue;
      }
      if (peek() == ']') {
        ++c.pos;
        return out;
      }
      fail(std::string("expected ',' or ']' in ") + what);
    }
  }
  // Skips a value of a key this reader does not use (numbers, strings, literals, arrays).
  void skip_value() {
    space();
    char const ch = peek();
    if (ch == '"') {
      (void)string();
      return;
    }
    if (ch == '[') {
      int depth = 0;
      while (!at_end()) {
        char const x = peek();
        if (x == '"') {
          (void)string();
          continue;
        }
        ++c.pos;
        if (x == '[') { ++depth; }
        if (x == ']' && --depth == 0) { return; }
      }
      fail("array never closed");
    }
    if (ch == '{') { fail("nested objects are not supported"); }
    std::size_t const start = c.pos;
    while (!at_end() && peek() != ',' && peek() != '}' && peek() != ' ') { ++c.pos; }
    if (c.pos == start) { fail("a value is missing"); }
  }
};

}  // namespace detail

/// Reads a trace file; every line must be of the same form (block ids or tokens).
inline trace read_trace(std::string const& path) {
  std::ifstream in{path};
  if (!in) { throw input_error(path + ": cannot open for reading"); }
  trace t;
  std::string line;
  std::size_t number = 0;
  bool form_known = false;
  while (std::getline(in, line)) {
    ++number;
    detail::cursor c{{line, 0, path, number, 0}};
    c.space();
    if (c.at_end()) { continue; }
    c.expect('{');
    trace_request r;
    bool has_ids = false, has_tokens = false;
    c.space();
    if (c.peek() != '}') {
      for (;;) {
        std::string const key = c.string();
        c.expect(':');
        if (key == "hash_ids") {
          r.hash_ids = c.integer_array<std::uint64_t>(~std::uint64_t{0} - 1, "a hash id");
          has_ids = true;
        } else if (key == "tokens") {
          r.tokens = c.integer_array<std::uint32_t>(0xffffffffull, "a token id");
          has_tokens = true;
        } else if (key == "salt") {
          r.salt = c.string();
        } else if (key == "lora_id") {
          r.lora_id = c.integer(~std::uint64_t{0}, "lora_id");
        } else {
          c.skip_value();
        }
        c.space();
        if (c.peek() == ',') {
          ++c.c.pos;
          continue;
        }
        break;
      }
    }
    c.expect('}');
    c.space();
    if (!c.at_end()) { c.fail("text after the object"); }
    if (has_ids == has_tokens) { c.fail("a request needs exactly one of \"hash_ids\" and \"tokens\""); }
    if (!form_known) {
      t.token_level = has_tokens;
      form_known = true;
    } else if (t.token_level != has_tokens) {
      c.fail(std::string("this line has \"") + (has_tokens ? "tokens" : "hash_ids") + "\", earlier lines the other form");
    }
    t.requests.push_back(std::move(r));
  }
  if (t.requests.empty()) { throw input_error(path + ": no requests"); }
  return t;
}

/// A made-up token trace: `tenants` tenants (salted), each with a system prompt; requests are
/// multi-turn chats (each turn repeats the conversation so far and adds to it), few-shot prompts
/// (a shared block of examples plus a question) and one-off prompts. Deterministic in `seed`.
inline trace synthetic_trace(std::size_t requests, std::size_t tenants, std::uint64_t seed) {
  std::mt19937_64 rng{seed};
  auto tokens = [&](std::size_t n) {
    std::vector<std::uint32_t> t(n);
    for (auto& x : t) { x = static_cast<std::uint32_t>(rng() % 128000); }
    return t;
  };
  std::vector<std::vector<std::uint32_t>> system(tenants), shots(tenants);
  for (std::size_t i = 0; i < tenants; ++i) {
    system[i] = tokens(200 + rng() % 800);
    shots[i] = tokens(1000 + rng() % 2000);
  }
  struct chat {
    std::size_t tenant;
    std::vector<std::uint32_t> so_far;
  };
  std::vector<chat> chats;
  trace t;
  t.token_level = true;
  while (t.requests.size() < requests) {
    std::size_t const tenant = rng() % tenants;
    trace_request r;
    r.salt = "tenant-" + std::to_string(tenant);
    int const kind = static_cast<int>(rng() % 10);
    if (kind < 5) {  // a chat turn: a new chat or the next turn of an open one
      if (chats.empty() || rng() % 4 == 0) {
        chats.push_back({tenant, system[tenant]});
      }
      chat& c = chats[rng() % chats.size()];
      r.salt = "tenant-" + std::to_string(c.tenant);
      auto const turn = tokens(50 + rng() % 400);
      c.so_far.insert(c.so_far.end(), turn.begin(), turn.end());
      r.tokens = c.so_far;
      if (chats.size() > 64) { chats.erase(chats.begin()); }
    } else if (kind < 8) {  // few-shot
      r.tokens = system[tenant];
      r.tokens.insert(r.tokens.end(), shots[tenant].begin(), shots[tenant].end());
      auto const q = tokens(20 + rng() % 200);
      r.tokens.insert(r.tokens.end(), q.begin(), q.end());
    } else {  // one-off with the system prompt
      r.tokens = system[tenant];
      auto const q = tokens(100 + rng() % 2000);
      r.tokens.insert(r.tokens.end(), q.begin(), q.end());
    }
    t.requests.push_back(std::move(r));
  }
  return t;
}

/// Each request's chain of block hashes: (id, position) for block-id traces; for token traces the
/// keyed chained hashes of warp::kvcache (salts and adapters included), on `where`.
inline std::vector<std::vector<warp::kvcache::block_hash>> chains(trace const& t, std::uint32_t block_size,
                                                                  warp::kvcache::block_hasher const& hasher,
                                                                  warp::backend where) {
  std::vector<std::vector<warp::kvcache::block_hash>> out(t.requests.size());
  if (!t.token_level) {
    for (std::size_t r = 0; r < t.requests.size(); ++r) {
      auto const& ids = t.requests[r].hash_ids;
      for (std::size_t i = 0; i < ids.size(); ++i) { out[r].push_back({ids[i], i}); }
    }
    return out;
  }
  warp::kvcache::token_batch batch;
  std::vector<warp::kvcache::request_keys> keys;
  for (auto const& r : t.requests) {
    batch.push_back(r.tokens);
    keys.push_back({r.salt, r.lora_id, {}});
  }
  auto const h = warp::kvcache::hash_blocks(hasher, batch.view(), keys, block_size, where);
  for (std::size_t r = 0; r < t.requests.size(); ++r) {
    out[r].assign(h.hashes.begin() + static_cast<std::ptrdiff_t>(h.block_offsets[r]),
                  h.hashes.begin() + static_cast<std::ptrdiff_t>(h.block_offsets[r + 1]));
  }
  return out;
}

}  // namespace kv_replay
