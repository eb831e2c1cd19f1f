/* model.c - versioned binary model files with a JSON header and a CRC32. */
#include "nntune/model.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const char MAGIC[4] = {'N', 'N', 'T', 'M'};
/* Refuse headers and weight blocks larger than any model we make. */
#define MAX_META (1u << 20)
#define MAX_PARAMS ((uint64_t)1 << 28)

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static cJSON *arch_to_json(const nt_arch *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "inputs", a->n_in);
    cJSON_AddNumberToObject(o, "outputs", a->n_out);
    cJSON *h = cJSON_AddArrayToObject(o, "hidden");
    for (int i = 0; i < a->n_hidden; i++)
        cJSON_AddItemToArray(h, cJSON_CreateNumber(a->hidden[i]));
    cJSON_AddStringToObject(o, "activation", nt_act_name(a->act));
    cJSON_AddNumberToObject(o, "dropout", a->dropout);
    return o;
}

/* A whole number that fits an int (range first: casting 1e12 is undefined). */
static bool int_value(const cJSON *v, int *out)
{
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= INT_MIN && v->valuedouble <= INT_MAX) ||
        v->valuedouble != (int)v->valuedouble)
        return false;
    *out = (int)v->valuedouble;
    return true;
}

static bool json_int(const cJSON *o, const char *key, int *out)
{
    return int_value(cJSON_GetObjectItemCaseSensitive(o, key), out);
}

static nt_status arch_from_json(const char *path, const cJSON *o, nt_arch *a)
{
    memset(a, 0, sizeof *a);
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "hidden");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "activation");
    const cJSON *drop = cJSON_GetObjectItemCaseSensitive(o, "dropout");
    if (!cJSON_IsObject(o) || !json_int(o, "inputs", &a->n_in) ||
        !json_int(o, "outputs", &a->n_out) || !cJSON_IsArray(h) ||
        !cJSON_IsString(act) || !cJSON_IsNumber(drop) ||
        cJSON_GetArraySize(h) > NT_MAX_HIDDEN) {
        nt_errorf("%s: model header has no valid \"arch\"", path);
        return NT_ERR_FORMAT;
    }
    a->n_hidden = cJSON_GetArraySize(h);
    for (int i = 0; i < a->n_hidden; i++) {
        const cJSON *u = cJSON_GetArrayItem(h, i);
        if (!int_value(u, &a->hidden[i])) {
            nt_errorf("%s: model header: hidden[%d] is not a whole number", path, i);
            return NT_ERR_FORMAT;
        }
    }
    int k = nt_act_parse(act->valuestring);
    if (k < 0) {
        nt_errorf("%s: model header: unknown activation '%s'", path, act->valuestring);
        return NT_ERR_FORMAT;
    }
    a->act = (nt_act)k;
    a->dropout = (float)drop->valuedouble;
    if (nt_arch_check(a) != NT_OK) {
        nt_errorf("%s: model header: bad architecture: %s", path, nt_last_error());
        return NT_ERR_FORMAT;
    }
    return NT_OK;
}

nt_status nt_model_save(const char *path, const nt_net *net, const char *extra_json)
{
    cJSON *meta = NULL;
    if (extra_json) {
        meta = cJSON_Parse(extra_json);
        if (!cJSON_IsObject(meta)) {
            cJSON_Delete(meta);
            nt_errorf("%s: model metadata is not a JSON object", path);
            return NT_ERR_ARG;
        }
    } else {
        meta = cJSON_CreateObject();
    }
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "arch");
    cJSON_AddItemToObject(meta, "arch", arch_to_json(&net->arch));
    char *text = cJSON_PrintUnformatted(meta);
    cJSON_Delete(meta);
    if (!text) {
        nt_errorf("%s: out of memory", path);
        return NT_ERR_NOMEM;
    }
    size_t meta_len = strlen(text);
    size_t len = 4 + 4 + 4 + meta_len + 8 + net->n_params * 4 + 4;
    unsigned char *buf = malloc(len), *p = buf;
    float *file_order = malloc(net->n_params * sizeof *file_order);
    if (!buf || !file_order) {
        free(buf);
        free(file_order);
        free(text);
        nt_errorf("%s: out of memory", path);
        return NT_ERR_NOMEM;
    }
    memcpy(p, MAGIC, 4); p += 4;
    put_u32(p, NT_MODEL_VERSION); p += 4;
    put_u32(p, (uint32_t)meta_len); p += 4;
    memcpy(p, text, meta_len); p += meta_len;
    put_u32(p, (uint32_t)net->n_params);
    put_u32(p + 4, (uint32_t)((uint64_t)net->n_params >> 32)); p += 8;
    // float32 in host order: every platform we build for is little-endian;
    // W as (out, in), the file's layout, not the net's (net.h)
    nt_net_export_params(net, file_order);
    memcpy(p, file_order, net->n_params * 4); p += net->n_params * 4;
    put_u32(p, (uint32_t)crc32(0L, buf, (uInt)(p - buf)));
    free(file_order);
    free(text);
    nt_status rc = nt_write_file_atomic(path, buf, len);
    free(buf);
    return rc;
}

static nt_status read_all(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        nt_errorf("%s: cannot open model: %s", path, strerror(errno));
        return NT_ERR_IO;
    }
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *bigger = realloc(buf, cap * 2);
        if (!bigger) { free(buf); buf = NULL; break; }
        buf = bigger;
        cap *= 2;
    }
    bool err = ferror(f);
    fclose(f);
    if (!buf || err) {
        free(buf);
        nt_errorf("%s: cannot read model", path);
        return buf ? NT_ERR_IO : NT_ERR_NOMEM;
    }
    *out = buf;
    *len = n;
    return NT_OK;
}

/* Check the framing of a model file held in memory; on success *meta and
 * *weights point into buf. */
static nt_status parse_frame(const char *path, const unsigned char *buf,
                             size_t len, const unsigned char **meta,
                             size_t *meta_len, const unsigned char **weights,
                             uint64_t *n_params)
{
    if (len < 4 || memcmp(buf, MAGIC, 4) != 0) {
        nt_errorf("%s: not an nntune model (bad magic)", path);
        return NT_ERR_FORMAT;
    }
    if (len < 12) {
        nt_errorf("%s: model file truncated (%zu bytes)", path, len);
        return NT_ERR_FORMAT;
    }
    uint32_t version = get_u32(buf + 4);
    if (version != NT_MODEL_VERSION) {
        nt_errorf("%s: model format version %u, this nntune reads version %u",
                  path, version, NT_MODEL_VERSION);
        return NT_ERR_FORMAT;
    }
    *meta_len = get_u32(buf + 8);
    if (*meta_len > MAX_META || len < 12 + *meta_len + 8) {
        nt_errorf("%s: model file truncated (header says %zu bytes of "
                  "metadata, file has %zu bytes)", path, *meta_len, len);
        return NT_ERR_FORMAT;
    }
    *meta = buf + 12;
    const unsigned char *p = *meta + *meta_len;
    *n_params = get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
    size_t want = 12 + *meta_len + 8 + (*n_params <= MAX_PARAMS ? *n_params * 4 : 0) + 4;
    if (*n_params > MAX_PARAMS || len < want) {
        nt_errorf("%s: model file truncated (%zu bytes, expected %zu)", path, len, want);
        return NT_ERR_FORMAT;
    }
    if (len > want) {
        nt_errorf("%s: %zu unexpected bytes after the model", path, len - want);
        return NT_ERR_FORMAT;
    }
    uint32_t stored = get_u32(buf + want - 4);
    uint32_t actual = (uint32_t)crc32(0L, buf, (uInt)(want - 4));
    if (stored != actual) {
        nt_errorf("%s: model file corrupted (CRC32 %08x, expected %08x)", path,
                  actual, stored);
        return NT_ERR_FORMAT;
    }
    *weights = p + 8;
    return NT_OK;
}

nt_status nt_model_load(const char *path, int max_batch, nt_net *net, char **meta_json)
{
    memset(net, 0, sizeof *net);
    if (meta_json) *meta_json = NULL;
    unsigned char *buf = NULL;
    size_t len = 0, meta_len = 0;
    const unsigned char *meta = NULL, *weights = NULL;
    uint64_t n_params = 0;
    cJSON *root = NULL;
    nt_status rc = read_all(path, &buf, &len);
    if (rc == NT_OK)
        rc = parse_frame(path, buf, len, &meta, &meta_len, &weights, &n_params);
    if (rc == NT_OK) {
        root = cJSON_ParseWithLength((const char *)meta, meta_len);
        if (!cJSON_IsObject(root)) {
            nt_errorf("%s: model header is not valid JSON", path);
            rc = NT_ERR_FORMAT;
        }
    }
    nt_arch arch;
    if (rc == NT_OK)
        rc = arch_from_json(path, cJSON_GetObjectItemCaseSensitive(root, "arch"), &arch);
    if (rc == NT_OK && nt_arch_n_params(&arch) != n_params) {
        nt_errorf("%s: model holds %llu weights, its architecture needs %zu", path,
                  (unsigned long long)n_params, nt_arch_n_params(&arch));
        rc = NT_ERR_FORMAT;
    }
    nt_rng rng;
    nt_rng_seed(&rng, 0);
    if (rc == NT_OK) rc = nt_net_init(&arch, max_batch, &rng, net);
    if (rc == NT_OK) {
        // the file's W are (out, in), the net's (in, out); copied out of
        // the byte buffer first, where the floats may be unaligned
        float *file_order = malloc(n_params * sizeof *file_order);
        if (file_order) {
            memcpy(file_order, weights, n_params * 4);
            nt_net_import_params(net, file_order);
            free(file_order);
        } else {
            nt_errorf("%s: out of memory for %llu weights", path, (unsigned long long)n_params);
            nt_net_free(net);
            rc = NT_ERR_NOMEM;
        }
        if (rc == NT_OK && meta_json) {
            *meta_json = malloc(meta_len + 1);
            if (*meta_json) {
                memcpy(*meta_json, meta, meta_len);
                (*meta_json)[meta_len] = '\0';
            }
        }
    }
    cJSON_Delete(root);
    free(buf);
    return rc;
}
