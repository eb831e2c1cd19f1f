/* model.h - model files: a network's architecture, the hyperparameters and
 * provenance it was trained with, and its weights, in one versioned binary
 * file protected by a CRC32 (zlib).
 *
 * Layout (little-endian):
 *   "NNTM"            4 bytes magic
 *   version           u32 (NT_MODEL_VERSION)
 *   meta_len          u32, then meta_len bytes of JSON: {"arch": {...},
 *                     "hyperparameters": {...}, ...} (the arch is what the
 *                     loader rebuilds the network from)
 *   n_params          u64, then n_params float32 weights (net.h's layout)
 *   crc32             u32 over every byte before it
 * The file is written to PATH.tmp.PID and renamed, so a crash never leaves
 * a half-written model. */
#ifndef NNTUNE_MODEL_H
#define NNTUNE_MODEL_H

#include "nntune/net.h"

#define NT_MODEL_VERSION 1u

/* Save net to path. `extra_json` (may be NULL) is a JSON object whose
 * members are copied into the header next to "arch" (hyperparameters, data
 * set, test accuracy...). */
nt_status nt_model_save(const char *path, const nt_net *net,
                        const char *extra_json);

/* Load a model into a new net with room for max_batch rows. `meta_json`
 * (may be NULL) receives the header's JSON text, owned by the caller
 * (free()). Refuses, with the path and the reason: missing file, wrong
 * magic, other version, truncated file, trailing bytes, CRC mismatch, bad
 * JSON or architecture, parameter count that does not match. */
nt_status nt_model_load(const char *path, int max_batch, nt_net *net,
                        char **meta_json);

#endif
