// warp/warp.cuh: everything in the library.
#pragma once

#include <warp/core/backend.cuh>
#include <warp/core/error.cuh>
#include <warp/core/functional.cuh>
#include <warp/core/outcome.cuh>
#include <warp/core/sentinels.cuh>
#include <warp/hash/hash.cuh>
#include <warp/probing.cuh>
#include <warp/bloom_filter.cuh>
#include <warp/bucket_list_map.cuh>
#include <warp/counting_map.cuh>
#include <warp/hash_set.cuh>
#include <warp/multi_value_map.cuh>
#include <warp/single_value_map.cuh>
