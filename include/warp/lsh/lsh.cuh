// warp/lsh/lsh.cuh: the MinHash / LSH module (warp::lsh) in one include: documents, shingles,
// signatures, Jaccard similarity, banding, candidate pairs and duplicate clusters.
// See docs/lsh.md.
#pragma once

#include <warp/lsh/banding.cuh>
#include <warp/lsh/candidates.cuh>
#include <warp/lsh/components.cuh>
#include <warp/lsh/documents.cuh>
#include <warp/lsh/shingles.cuh>
#include <warp/lsh/signatures.cuh>
#include <warp/lsh/similarity.cuh>
