// warp/warp.cuh: everything public in the library (containers, their refs, hashing, probing
// schemes, memory resources, and the modules).
#pragma once

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/functional.cuh>
#include <warp/core/memory_resource.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/core/tile.cuh>
#include <warp/hash/hash.cuh>
#include <warp/probing.cuh>

#include <warp/bloom_filter.cuh>
#include <warp/bloom_filter_ref.cuh>
#include <warp/bucket_list_map.cuh>
#include <warp/bucket_list_map_ref.cuh>
#include <warp/counting_map.cuh>
#include <warp/counting_map_ref.cuh>
#include <warp/frozen_multimap.cuh>
#include <warp/hash_set.cuh>
#include <warp/hash_set_ref.cuh>
#include <warp/multi_value_map.cuh>
#include <warp/multi_value_map_ref.cuh>
#include <warp/single_value_map.cuh>
#include <warp/single_value_map_ref.cuh>

// Modules, each in its own namespace.
#include <warp/encoding/grid_config.cuh>
#include <warp/encoding/grid_encoding.cuh>
#include <warp/encoding/grid_math.cuh>
#include <warp/encoding/point_spread.cuh>
#include <warp/encoding/rotation.cuh>
#include <warp/lsh/lsh.cuh>
#include <warp/kvcache/block_hash.cuh>
#include <warp/kvcache/block_table.cuh>
#include <warp/kvcache/replay.cuh>
#include <warp/distributed/distributed.cuh>
