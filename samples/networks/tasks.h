// The synthetic tasks the sample networks learn. Generated from a seed, no downloads; every
// record is a pure function of (seed, index), so the in-memory and mapped data sets are equal.
#pragma once

#include <memory>

#include "../engine/dataset.h"

namespace samples {

// Classification of f32 feature vectors (F): each class is a mixture of three Gaussian clusters
// (random centers, unit noise), so classes interleave and are not linearly separable.
std::unique_ptr<engine::SampleGenerator> make_clusters_task(uint64_t seed, int64_t features,
                                                            int64_t classes);

// 1×S×S images of one of four strokes — horizontal, vertical, diagonal "\", diagonal "/" —
// of random position and length on a noisy background. Label: the stroke's direction.
std::unique_ptr<engine::SampleGenerator> make_strokes_task(uint64_t seed, int64_t size);

// Token sequences of length T over `vocab` tokens, uniformly random. Label at position t is the
// token at t-1 (position 0: itself): a causal model must learn to attend one position back.
std::unique_ptr<engine::SampleGenerator> make_echo_task(uint64_t seed, int64_t vocab, int64_t len);

}  // namespace samples
