/* test_model.c - model files: save/load round trips over architectures and
 * activations, the metadata header, every kind of corruption refused with
 * the path in the message, and atomic saving. */
#include <criterion/criterion.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "nntune/model.h"

static char tmpdir[64];

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nt_model_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir), "mkdtemp failed");
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
            remove(p);
        }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(model, .init = setup, .fini = teardown);

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void make_net(const nt_arch *a, uint64_t seed, nt_net *net)
{
    nt_rng r;
    nt_rng_seed(&r, seed);
    cr_assert_eq(nt_net_init(a, 4, &r, net), NT_OK, "%s", nt_last_error());
    // biases start at zero: give them values so they are checked too
    for (size_t i = 0; i < net->n_params; i++)
        if (net->params[i] == 0.0f) net->params[i] = (float)(0.01 * (double)(i % 7) - 0.03);
}

static unsigned char *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n, "short read of %s", path);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void write_bytes(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(b, 1, len, f), len, "short write of %s", path);
    fclose(f);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Load must fail with `want` and a message that names the path. */
static void assert_refused(const char *path, nt_status want, const char *what)
{
    nt_net net;
    char *meta = (char *)1;
    nt_clear_error();
    nt_status rc = nt_model_load(path, 4, &net, &meta);
    cr_assert_eq(rc, want, "%s: load gave %d (%s), want %d (%s); message: %s", what, rc,
                 nt_strerror(rc), want, nt_strerror(want), nt_last_error());
    cr_assert(strstr(nt_last_error(), path) != NULL,
              "%s: message '%s' does not name the path %s", what, nt_last_error(), path);
    cr_assert_null(meta, "%s: meta_json not NULL after a failed load", what);
    cr_assert_null(net.params, "%s: the net holds params after a failed load", what);
    nt_net_free(&net);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A model file built by hand: magic, version, meta, n_params, weights and a
 * correct CRC. Returns malloc'd bytes. */
static unsigned char *craft(const char *magic, uint32_t version, const char *meta,
                            uint64_t n_params, const float *w, size_t *len)
{
    size_t ml = strlen(meta);
    *len = 4 + 4 + 4 + ml + 8 + n_params * 4 + 4;
    unsigned char *b = malloc(*len), *p = b;
    memcpy(p, magic, 4), p += 4;
    put_u32(p, version), p += 4;
    put_u32(p, (uint32_t)ml), p += 4;
    memcpy(p, meta, ml), p += ml;
    put_u32(p, (uint32_t)n_params);
    put_u32(p + 4, (uint32_t)(n_params >> 32)), p += 8;
    memcpy(p, w, n_params * 4), p += n_params * 4;
    put_u32(p, (uint32_t)crc32(0L, b, (uInt)(p - b)));
    return b;
}

static const char *act_names[] = {"relu", "tanh", "sigmoid"};

Test(model, save_then_load_gives_the_same_architecture_and_identical_weights)
{
    const int depth[] = {0, 1, 3};
    const int units[3] = {8, 6, 5};
    for (int di = 0; di < 3; di++)
        for (int act = 0; act < 3; act++) {
            nt_arch a = {.n_in = 7, .n_out = 4, .n_hidden = depth[di],
                         .act = (nt_act)act, .dropout = 0.25f};
            for (int l = 0; l < a.n_hidden; l++) a.hidden[l] = units[l];
            nt_net net = {0}, back = {0};
            make_net(&a, (uint64_t)(10 * di + act), &net);
            char path[256];
            snprintf(path, sizeof path, "%s/m_%d_%s.nnt", tmpdir, depth[di], act_names[act]);
            const char *extra = "{\"hyperparameters\": {\"lr\": 0.001, \"batch\": 64},"
                                " \"data\": \"mnist\", \"test_accuracy\": 0.975}";
            cr_assert_eq(nt_model_save(path, &net, extra), NT_OK, "save %s: %s", path,
                         nt_last_error());
            char *meta = NULL;
            cr_assert_eq(nt_model_load(path, 16, &back, &meta), NT_OK, "load %s: %s", path,
                         nt_last_error());
            const char *what = path;
            cr_assert(back.arch.n_in == 7 && back.arch.n_out == 4 &&
                          back.arch.n_hidden == depth[di] && back.arch.act == (nt_act)act &&
                          back.arch.dropout == 0.25f,
                      "%s: arch in %d out %d hidden %d act %d dropout %g", what,
                      back.arch.n_in, back.arch.n_out, back.arch.n_hidden, back.arch.act,
                      (double)back.arch.dropout);
            for (int l = 0; l < depth[di]; l++)
                cr_assert_eq(back.arch.hidden[l], units[l], "%s: hidden[%d] = %d, want %d",
                             what, l, back.arch.hidden[l], units[l]);
            cr_assert_eq(back.max_batch, 16, "%s: max_batch %d", what, back.max_batch);
            cr_assert_eq(back.n_params, net.n_params, "%s: %zu params, saved %zu", what,
                         back.n_params, net.n_params);
            cr_assert(memcmp(back.params, net.params, net.n_params * sizeof(float)) == 0,
                      "%s: weights differ after the round trip", what);

            // the loaded net computes what the saved one did
            float x[2 * 7];
            for (int i = 0; i < 14; i++) x[i] = (float)(0.1 * i - 0.5);
            float p1[8], p2[8];
            memcpy(p1, nt_net_forward(&net, x, 2, false, NULL), sizeof p1);
            memcpy(p2, nt_net_forward(&back, x, 2, false, NULL), sizeof p2);
            for (int i = 0; i < 8; i++)
                cr_assert(p1[i] == p2[i], "%s: output %d is %.9g, was %.9g", what, i,
                          (double)p2[i], (double)p1[i]);

            cr_assert_not_null(meta, "%s: no meta_json", what);
            cJSON *root = cJSON_Parse(meta);
            cr_assert(cJSON_IsObject(root), "%s: meta is not a JSON object: %s", what, meta);
            const cJSON *arch = cJSON_GetObjectItemCaseSensitive(root, "arch");
            cr_assert(cJSON_IsObject(arch), "%s: meta has no \"arch\" object: %s", what, meta);
            const cJSON *hp = cJSON_GetObjectItemCaseSensitive(root, "hyperparameters");
            const cJSON *lr = cJSON_GetObjectItemCaseSensitive(hp, "lr");
            cr_assert(cJSON_IsNumber(lr) && lr->valuedouble == 0.001,
                      "%s: hyperparameters.lr missing or wrong: %s", what, meta);
            const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
            cr_assert(cJSON_IsString(data) && !strcmp(data->valuestring, "mnist"),
                      "%s: \"data\" missing or wrong: %s", what, meta);
            const cJSON *acc = cJSON_GetObjectItemCaseSensitive(root, "test_accuracy");
            cr_assert(cJSON_IsNumber(acc) && acc->valuedouble == 0.975,
                      "%s: \"test_accuracy\" missing or wrong: %s", what, meta);
            cJSON_Delete(root);
            free(meta);
            nt_net_free(&back);
            nt_net_free(&net);
        }
}

Test(model, saving_without_extra_json_still_writes_the_arch_and_meta_may_be_skipped)
{
    nt_arch a = {.n_in = 3, .n_out = 2, .n_hidden = 1, .hidden = {4}};
    nt_net net = {0}, back = {0};
    make_net(&a, 1, &net);
    char path[256];
    path_in(path, sizeof path, "plain.nnt");
    cr_assert_eq(nt_model_save(path, &net, NULL), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_model_load(path, 1, &back, NULL), NT_OK, "%s", nt_last_error());
    cr_assert(memcmp(back.params, net.params, net.n_params * sizeof(float)) == 0,
              "weights differ");
    nt_net_free(&back);
    // an "arch" member in extra_json is replaced by the real one
    cr_assert_eq(nt_model_save(path, &net, "{\"arch\": \"bogus\", \"k\": 1}"), NT_OK, "%s",
                 nt_last_error());
    char *meta = NULL;
    cr_assert_eq(nt_model_load(path, 1, &back, &meta), NT_OK, "%s", nt_last_error());
    cJSON *root = cJSON_Parse(meta);
    cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "arch")),
              "arch not an object: %s", meta);
    cr_assert(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(root, "k")), "k lost: %s",
              meta);
    cJSON_Delete(root);
    free(meta);
    nt_net_free(&back);
    nt_net_free(&net);
}

/* A small model saved to `name`; its bytes in *buf. */
static void saved_model(const char *name, char *path, size_t plen, unsigned char **buf,
                        size_t *len, nt_net *net)
{
    nt_arch a = {.n_in = 5, .n_out = 3, .n_hidden = 1, .hidden = {4}, .act = NT_ACT_TANH};
    make_net(&a, 3, net);
    path_in(path, plen, name);
    cr_assert_eq(nt_model_save(path, net, "{\"data\": \"x\"}"), NT_OK, "%s", nt_last_error());
    *buf = read_bytes(path, len);
}

Test(model, a_missing_file_is_an_io_error_naming_the_path)
{
    char path[256];
    path_in(path, sizeof path, "does-not-exist.nnt");
    assert_refused(path, NT_ERR_IO, "missing file");
}

Test(model, a_truncated_file_is_refused_at_every_length)
{
    char path[256], cut[256];
    unsigned char *buf;
    size_t len;
    nt_net net = {0};
    saved_model("full.nnt", path, sizeof path, &buf, &len, &net);
    path_in(cut, sizeof cut, "cut.nnt");
    int tried = 0;
    for (size_t n = 0; n < len; n += (n + 7 < len ? 7 : (len - n > 1 ? len - n - 1 : 1))) {
        write_bytes(cut, buf, n);
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", n, len);
        assert_refused(cut, NT_ERR_FORMAT, what);
        tried++;
    }
    cr_assert(tried > 20, "only %d truncations of a %zu-byte file", tried, len);
    free(buf);
    nt_net_free(&net);
}

Test(model, a_flipped_byte_in_header_weights_or_crc_is_refused)
{
    char path[256], bad[256];
    unsigned char *buf;
    size_t len;
    nt_net net = {0};
    saved_model("full.nnt", path, sizeof path, &buf, &len, &net);
    path_in(bad, sizeof bad, "flipped.nnt");
    uint32_t meta_len = (uint32_t)buf[8] | (uint32_t)buf[9] << 8;
    size_t weights = 12 + meta_len + 8;
    const struct {
        size_t at;
        const char *where;
    } spots[] = {
        {1, "magic"},
        {5, "version"},
        {8, "meta length"},
        {12, "first byte of the meta JSON"},
        {12 + meta_len / 2, "middle of the meta JSON"},
        {12 + meta_len, "parameter count"},
        {weights, "first weight"},
        {weights + net.n_params * 2 + 1, "a middle weight"},
        {len - 5, "last weight byte"},
        {len - 4, "CRC"},
        {len - 1, "last CRC byte"},
    };
    for (size_t i = 0; i < sizeof spots / sizeof spots[0]; i++) {
        for (unsigned bit = 0; bit < 8; bit += 7) { // low and high bit
            unsigned char *copy = malloc(len);
            memcpy(copy, buf, len);
            copy[spots[i].at] ^= (unsigned char)(1u << bit);
            write_bytes(bad, copy, len);
            char what[128];
            snprintf(what, sizeof what, "bit %u flipped at byte %zu (%s)", bit,
                     spots[i].at, spots[i].where);
            assert_refused(bad, NT_ERR_FORMAT, what);
            free(copy);
        }
    }
    free(buf);
    nt_net_free(&net);
}

Test(model, wrong_magic_other_version_and_trailing_bytes_are_refused)
{
    char path[256], bad[256];
    unsigned char *buf;
    size_t len;
    nt_net net = {0};
    saved_model("full.nnt", path, sizeof path, &buf, &len, &net);
    path_in(bad, sizeof bad, "bad.nnt");
    uint32_t meta_len = (uint32_t)buf[8] | (uint32_t)buf[9] << 8;
    char meta[1024];
    memcpy(meta, buf + 12, meta_len);
    meta[meta_len] = '\0';
    const float *w = (const float *)(void *)(buf + 12 + meta_len + 8);
    size_t n;
    unsigned char *b;

    b = craft("GGUF", NT_MODEL_VERSION, meta, net.n_params, w, &n);
    write_bytes(bad, b, n);
    assert_refused(bad, NT_ERR_FORMAT, "wrong magic (correct CRC)");
    free(b);

    b = craft("NNTM", NT_MODEL_VERSION + 1, meta, net.n_params, w, &n);
    write_bytes(bad, b, n);
    assert_refused(bad, NT_ERR_FORMAT, "version 2 (correct CRC)");
    cr_assert(strstr(nt_last_error(), "version") != NULL, "message '%s' says no version",
              nt_last_error());
    free(b);

    b = craft("NNTM", 0, meta, net.n_params, w, &n);
    write_bytes(bad, b, n);
    assert_refused(bad, NT_ERR_FORMAT, "version 0 (correct CRC)");
    free(b);

    // the crafted file with the right version is accepted: the crafting is right
    b = craft("NNTM", NT_MODEL_VERSION, meta, net.n_params, w, &n);
    cr_assert(n == len && memcmp(b, buf, len) == 0, "crafted file differs from the saved one");
    free(b);

    unsigned char *longer = malloc(len + 16);
    memcpy(longer, buf, len);
    memset(longer + len, 0, 16);
    for (size_t extra = 1; extra <= 16; extra *= 4) {
        write_bytes(bad, longer, len + extra);
        char what[64];
        snprintf(what, sizeof what, "%zu trailing bytes", extra);
        assert_refused(bad, NT_ERR_FORMAT, what);
    }
    free(longer);
    free(buf);
    nt_net_free(&net);
}

Test(model, a_header_that_is_not_json_or_not_a_valid_arch_is_refused)
{
    char path[256], bad[256];
    unsigned char *buf;
    size_t len;
    nt_net net = {0};
    saved_model("full.nnt", path, sizeof path, &buf, &len, &net);
    path_in(bad, sizeof bad, "bad.nnt");
    uint32_t meta_len = (uint32_t)buf[8] | (uint32_t)buf[9] << 8;
    const float *w = (const float *)(void *)(buf + 12 + meta_len + 8);
    const char *metas[] = {
        "this is not json",
        "{\"arch\": {\"inputs\": 5, \"outputs\": 3,",
        "[1, 2, 3]",
        "{\"data\": \"no arch here\"}",
        "{\"arch\": {\"inputs\": 5, \"outputs\": 3, \"hidden\": [4], "
        "\"activation\": \"swish\", \"dropout\": 0}}",
        "{\"arch\": {\"inputs\": 5, \"outputs\": 3, \"hidden\": [4], "
        "\"activation\": \"tanh\", \"dropout\": 1.5}}",
        "{\"arch\": {\"inputs\": -5, \"outputs\": 3, \"hidden\": [4], "
        "\"activation\": \"tanh\", \"dropout\": 0}}",
        // the weight count fits 4 units: only the 4.5 is wrong
        "{\"arch\": {\"inputs\": 5, \"outputs\": 3, \"hidden\": [4.5], "
        "\"activation\": \"tanh\", \"dropout\": 0}}",
        "{\"arch\": {\"inputs\": 5, \"outputs\": 3, \"hidden\": [1e12], "
        "\"activation\": \"tanh\", \"dropout\": 0}}",
        "{\"arch\": {\"inputs\": 5.5, \"outputs\": 3, \"hidden\": [4], "
        "\"activation\": \"tanh\", \"dropout\": 0}}",
        "",
    };
    for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
        size_t n;
        unsigned char *b = craft("NNTM", NT_MODEL_VERSION, metas[i], net.n_params, w, &n);
        write_bytes(bad, b, n);
        char what[256];
        snprintf(what, sizeof what, "meta '%s' (correct CRC)", metas[i]);
        assert_refused(bad, NT_ERR_FORMAT, what);
        free(b);
    }
    free(buf);
    nt_net_free(&net);
}

Test(model, a_parameter_count_that_does_not_match_the_arch_is_refused)
{
    char path[256], bad[256];
    unsigned char *buf;
    size_t len;
    nt_net net = {0};
    saved_model("full.nnt", path, sizeof path, &buf, &len, &net);
    path_in(bad, sizeof bad, "bad.nnt");
    uint32_t meta_len = (uint32_t)buf[8] | (uint32_t)buf[9] << 8;
    char meta[1024];
    memcpy(meta, buf + 12, meta_len);
    meta[meta_len] = '\0';
    float *w = calloc(net.n_params + 1, sizeof *w);
    memcpy(w, buf + 12 + meta_len + 8, net.n_params * sizeof *w);
    const uint64_t counts[] = {net.n_params - 1, net.n_params + 1, 0};
    for (size_t i = 0; i < 3; i++) {
        size_t n;
        unsigned char *b = craft("NNTM", NT_MODEL_VERSION, meta, counts[i], w, &n);
        write_bytes(bad, b, n);
        char what[128];
        snprintf(what, sizeof what, "%llu weights for an arch of %zu (correct CRC)",
                 (unsigned long long)counts[i], net.n_params);
        assert_refused(bad, NT_ERR_FORMAT, what);
        free(b);
    }
    free(w);
    free(buf);
    nt_net_free(&net);
}

Test(model, saving_is_atomic_and_leaves_no_temporary_file)
{
    nt_arch a = {.n_in = 3, .n_out = 2};
    nt_net net = {0}, back = {0};
    make_net(&a, 1, &net);
    char path[256];
    path_in(path, sizeof path, "m.nnt");
    // saving over an existing model replaces it
    cr_assert_eq(nt_model_save(path, &net, NULL), NT_OK, "%s", nt_last_error());
    net.params[0] += 1.0f;
    cr_assert_eq(nt_model_save(path, &net, NULL), NT_OK, "%s", nt_last_error());
    cr_assert_eq(nt_model_load(path, 1, &back, NULL), NT_OK, "%s", nt_last_error());
    cr_assert(back.params[0] == net.params[0], "params[0] %g, saved %g",
              (double)back.params[0], (double)net.params[0]);
    nt_net_free(&back);
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        files++;
        cr_assert(strstr(e->d_name, ".tmp") == NULL, "left behind: %s", e->d_name);
    }
    closedir(d);
    cr_assert_eq(files, 1, "%d files in the folder, want just m.nnt", files);

    // a folder that does not exist: an I/O error, and no file anywhere
    char nodir[256], missing[300];
    path_in(nodir, sizeof nodir, "no-such-folder");
    snprintf(missing, sizeof missing, "%s/m.nnt", nodir);
    nt_clear_error();
    nt_status rc = nt_model_save(missing, &net, NULL);
    cr_assert_eq(rc, NT_ERR_IO, "save into a missing folder: %d (%s)", rc, nt_strerror(rc));
    cr_assert(strstr(nt_last_error(), missing) != NULL, "message '%s' does not name %s",
              nt_last_error(), missing);
    cr_assert(!file_exists(missing) && !file_exists(nodir), "%s or its folder was created",
              missing);
    // and metadata that is not a JSON object is refused before writing
    char other[256];
    path_in(other, sizeof other, "other.nnt");
    rc = nt_model_save(other, &net, "[1, 2]");
    cr_assert_neq(rc, NT_OK, "saving with extra_json '[1, 2]' succeeded");
    cr_assert(!file_exists(other), "%s written despite the bad metadata", other);
    nt_net_free(&net);
}

Test(model, the_file_holds_each_W_as_out_by_in_whatever_the_net_keeps)
{
    // the format (README, "Model files") is W (out, in) row-major, then b;
    // the net keeps W (in, out): saving transposes, loading transposes back
    nt_arch a = {.n_in = 3, .n_out = 2, .n_hidden = 1, .hidden = {4}, .act = NT_ACT_RELU};
    nt_net net = {0};
    make_net(&a, 51, &net);
    char path[256];
    path_in(path, sizeof path, "layout.nnt");
    cr_assert_eq(nt_model_save(path, &net, NULL), NT_OK, "%s", nt_last_error());
    size_t len = 0;
    unsigned char *buf = read_bytes(path, &len);
    uint32_t meta_len = (uint32_t)buf[8] | (uint32_t)buf[9] << 8 | (uint32_t)buf[10] << 16 |
                        (uint32_t)buf[11] << 24;
    const unsigned char *w = buf + 12 + meta_len + 8;
    size_t off = 0;  // in the file
    for (int l = 0; l < net.n_layers; l++) {
        const nt_layer *ly = &net.layer[l];
        for (int o = 0; o < ly->out; o++)
            for (int i = 0; i < ly->in; i++, off++) {
                float f;
                memcpy(&f, w + 4 * off, 4);
                float ours = net.params[ly->w + (size_t)i * ly->out + o];
                cr_assert(f == ours, "layer %d: the file's W[%d][%d] is %g, the net's W(in %d, out %d) %g",
                          l, o, i, (double)f, i, o, (double)ours);
            }
        for (int o = 0; o < ly->out; o++, off++) {
            float f;
            memcpy(&f, w + 4 * off, 4);
            cr_assert(f == net.params[ly->b + o], "layer %d: the file's b[%d] is %g, the net's %g",
                      l, o, (double)f, (double)net.params[ly->b + o]);
        }
    }
    free(buf);
    nt_net_free(&net);
}
