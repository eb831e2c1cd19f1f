/* cmd_predict.c - `nntune predict`: classify the samples of an IDX image
 * file or a CSV file with a saved model, as CSV or JSON. The whole output is
 * built in memory and written at the end, so a failure never leaves half of
 * it behind. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nntune/csv.h"
#include "nntune/idx.h"
#include "nntune/model.h"
#include "nntune/split.h"

enum { P_MODEL = 1, P_INPUT, P_JSON, P_OUT, P_TOP, P_THREADS, P_HELP };
enum { BATCH = 256 }; // rows per forward pass; the net's workspace size

static const char PREDICT_HELP[] =
    "Usage: nntune predict --model FILE --input FILE [options]\n"
    "Classify new samples with a saved model.\n\n"
    "  --model FILE       a model written by train or tune (required)\n"
    "  --input FILE       the samples (required): an IDX image file, raw or\n"
    "                     .gz (like t10k-images-idx3-ubyte), or a CSV file,\n"
    "                     one sample a line: the model's number of inputs\n"
    "                     as features, or a label then those features; an\n"
    "                     optional header line\n"
    "  --out FILE         write the predictions there (atomically)\n"
    "                     instead of to stdout\n"
    "  --top K            also list the K most likely classes and their\n"
    "                     probabilities                           [off]\n"
    "  --json             a JSON array instead of CSV\n"
    "  --threads N        BLAS threads (0: OpenBLAS's default)       [0]\n"
    "  --help             this text\n\n"
    "Output: a header line, then one line a sample:\n"
    "  index,predicted,probability[,top1_class,top1_probability,...]\n"
    "index counts samples from 0 in file order. If the CSV rows carry labels,\n"
    "the accuracy against them is printed on stderr.\n\n"
    "Scaling: IDX pixels are divided by 255, as in training. A CSV file's\n"
    "features are divided by 255 when all of them are in [0,255] and some\n"
    "are above 1, else kept as they are: the rule training applies to a\n"
    "training CSV. predict cannot know what that rule chose for the training\n"
    "file, so if this file falls on the other side of it (e.g. the training\n"
    "file had values outside [0,255] and this one has none, or this file's\n"
    "pixels never exceed 1), it is scaled differently from the training\n"
    "data and the predictions are wrong. Check that its values look like\n"
    "the training file's.\n";

typedef struct {
    const char *model;
    const char *input;
    const char *out;
    int top;
    int threads;
    bool json;
} predict_opts;

/* Parse argv; EXIT_OK to go on, or the exit code to stop with (help: -1). */
static int parse_options(int argc, char **argv, predict_opts *o)
{
    const char *cmd = "predict";
    static const struct option longopts[] = {
        {"model", required_argument, 0, P_MODEL},
        {"input", required_argument, 0, P_INPUT},
        {"json", no_argument, 0, P_JSON},
        {"out", required_argument, 0, P_OUT},
        {"top", required_argument, 0, P_TOP},
        {"threads", required_argument, 0, P_THREADS},
        {"help", no_argument, 0, P_HELP},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    int code;
    optind = 1;
    opterr = 0;
    while ((code = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (code) {
        case P_HELP: fputs(PREDICT_HELP, stdout); return -1;
        case P_MODEL: o->model = optarg; break;
        case P_INPUT: o->input = optarg; break;
        case P_JSON: o->json = true; break;
        case P_OUT: o->out = optarg; break;
        case P_TOP:
            if (!cli_int(cmd, "top", optarg, 1, 65536, &o->top)) return EXIT_USAGE;
            break;
        case P_THREADS:
            if (!cli_int(cmd, "threads", optarg, 0, 1024, &o->threads)) return EXIT_USAGE;
            break;
        default:
            return cli_usage_error(cmd, "unknown or incomplete option '%s' (see "
                                   "nntune predict --help)", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (!o->model) return cli_usage_error(cmd, "--model FILE is required");
    if (!o->input) return cli_usage_error(cmd, "--input FILE is required");
    if (!o->model[0]) return cli_usage_error(cmd, "--model: empty file name");
    if (!o->input[0]) return cli_usage_error(cmd, "--input: empty file name");
    if (o->out && !o->out[0]) return cli_usage_error(cmd, "--out: empty file name");
    return EXIT_OK;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* IDX if the name says so (idx3, .gz, -ubyte) or the file starts with the
 * IDX image magic 00 00 08 03 or the gzip magic 1f 8b; CSV otherwise (a
 * missing file goes to the CSV loader, which names it). */
static bool looks_like_idx(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (strstr(name, "idx3") || ends_with(name, ".gz") || ends_with(name, "-ubyte"))
        return true;
    unsigned char head[4] = {0};
    FILE *fp = fopen(path, "rb");
    if (!fp) return false;
    size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) return true;
    return got == 4 && head[0] == 0 && head[1] == 0 && head[2] == 8 && head[3] == 3;
}

/* Load --input for a model of n_in inputs; false after printing the error. */
static bool load_input(const predict_opts *o, int n_in, nt_dataset *ds)
{
    const char *cmd = "predict";
    if (looks_like_idx(o->input)) {
        if (nt_idx_load_images(o->input, ds) != NT_OK) {
            cli_fail(cmd, "%s", nt_last_error());
            return false;
        }
        if (ds->d != (size_t)n_in) {
            cli_fail(cmd, "%s: %zu features per sample, the model takes %d (%s)",
                     o->input, ds->d, n_in, o->model);
            return false;
        }
        return true;
    }
    nt_status rc = nt_csv_load_features(o->input, (size_t)n_in, ds);
    if (rc == NT_ERR_MISMATCH)
        cli_fail(cmd, "%s, for %s", nt_last_error(), o->model);
    else if (rc != NT_OK)
        cli_fail(cmd, "%s", nt_last_error());
    return rc == NT_OK;
}

/* order[0..k) = the k most probable classes of p (n_out), best first; ties
 * go to the lower class. */
static void top_classes(const float *p, int n_out, int k, int *order)
{
    for (int c = 0; c < n_out; c++) order[c] = c;
    for (int i = 0; i < k; i++) {
        int best = i;
        for (int j = i + 1; j < n_out; j++)
            if (p[order[j]] > p[order[best]]) best = j;
        int t = order[i];
        order[i] = order[best];
        order[best] = t;
    }
}

/* A probability rounded to 6 significant digits, as the CSV prints it. */
static double round6(float p)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.6g", (double)p);
    return strtod(buf, NULL);
}

/* Where the predictions go while they are being made. */
typedef struct {
    bool json;
    int top;
    FILE *csv;    // memory stream (CSV)
    cJSON *array; // (JSON)
} sink;

static void emit(sink *s, size_t index, const float *p, const int *order)
{
    if (!s->json) {
        fprintf(s->csv, "%zu,%d,%.6g", index, order[0], (double)p[order[0]]);
        for (int k = 0; k < s->top; k++)
            fprintf(s->csv, ",%d,%.6g", order[k], (double)p[order[k]]);
        fputc('\n', s->csv);
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", (double)index);
    cJSON_AddNumberToObject(o, "predicted", order[0]);
    cJSON_AddNumberToObject(o, "probability", round6(p[order[0]]));
    if (s->top > 0) {
        cJSON *t = cJSON_AddArrayToObject(o, "top");
        for (int k = 0; k < s->top; k++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "class", order[k]);
            cJSON_AddNumberToObject(e, "probability", round6(p[order[k]]));
            cJSON_AddItemToArray(t, e);
        }
    }
    cJSON_AddItemToArray(s->array, o);
}

/* Classify every row of ds in batches, each gathered into xb (BATCH, d);
 * *correct counts hits against ds->y. */
static void predict_all(nt_net *net, const nt_dataset *ds, float *xb, sink *s,
                        int *order, size_t *correct)
{
    int n_out = net->arch.n_out, k = s->top > 1 ? s->top : 1;
    nt_view all = nt_view_all(ds);
    *correct = 0;
    for (size_t i = 0; i < ds->n; i += BATCH) {
        int B = ds->n - i < BATCH ? (int)(ds->n - i) : BATCH;
        // xb is rows i .. i + B - 1 as floats; probs is (B, n_out)
        nt_view_gather(&all, NULL, i, (size_t)B, xb, NULL);
        const float *probs = nt_net_forward(net, xb, B, false, NULL);
        for (int r = 0; r < B; r++) {
            const float *p = probs + (size_t)r * n_out;
            top_classes(p, n_out, k, order);
            *correct += ds->y[i + r] == order[0];
            emit(s, i + r, p, order);
        }
    }
}

/* Write the text to --out atomically, or to stdout; false after an error. */
static bool write_output(const predict_opts *o, const char *text, size_t len)
{
    const char *cmd = "predict";
    if (o->out) {
        if (!cli_make_parent(cmd, o->out)) return false;
        if (nt_write_file_atomic(o->out, text, len) != NT_OK) {
            cli_fail(cmd, "--out: %s", nt_last_error());
            return false;
        }
        return true;
    }
    if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        cli_fail(cmd, "stdout: write error");
        return false;
    }
    return true;
}

int cmd_predict(int argc, char **argv)
{
    const char *cmd = "predict";
    predict_opts o;
    int rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK) return rc < 0 ? EXIT_OK : rc;
    cli_set_threads(o.threads);

    nt_net net = {0};
    nt_dataset ds = {0};
    int *order = NULL;
    float *xb = NULL;
    char *text = NULL;
    size_t len = 0;
    sink s = {.json = o.json, .top = o.top};
    rc = EXIT_FAIL;
    if (nt_model_load(o.model, BATCH, &net, NULL) != NT_OK) {
        cli_fail(cmd, "%s", nt_last_error());
        goto done;
    }
    if (o.top > net.arch.n_out) {
        rc = cli_usage_error(cmd, "--top: %d is more than the %d classes of %s",
                             o.top, net.arch.n_out, o.model);
        goto done;
    }
    if (!load_input(&o, net.arch.n_in, &ds)) goto done;

    order = malloc((size_t)net.arch.n_out * sizeof *order);
    xb = nt_alloc((size_t)BATCH * ds.d * sizeof *xb);
    if (o.json)
        s.array = cJSON_CreateArray();
    else
        s.csv = open_memstream(&text, &len);
    if (!order || !xb || (o.json ? !s.array : !s.csv)) {
        cli_fail(cmd, "out of memory for %zu predictions", ds.n);
        goto done;
    }
    if (!o.json) {
        fputs("index,predicted,probability", s.csv);
        for (int k = 1; k <= o.top; k++)
            fprintf(s.csv, ",top%d_class,top%d_probability", k, k);
        fputc('\n', s.csv);
    }
    size_t correct;
    predict_all(&net, &ds, xb, &s, order, &correct);
    if (o.json) {
        text = cJSON_Print(s.array);
        len = text ? strlen(text) : 0;
        if (text) {
            // cJSON_Print has no final newline; a text file wants one
            char *t = realloc(text, len + 2);
            if (t) { text = t; text[len++] = '\n'; text[len] = '\0'; }
        }
    } else if (fclose(s.csv) != 0) {
        free(text);
        text = NULL;
    }
    s.csv = NULL;
    if (!text) {
        cli_fail(cmd, "out of memory for %zu predictions", ds.n);
        goto done;
    }
    if (!write_output(&o, text, len)) goto done;
    if (o.out) fprintf(stderr, "%zu predictions written to %s\n", ds.n, o.out);
    if (ds.n_classes > 0) {
        fprintf(stderr, "accuracy %.2f%% (%zu of %zu) against the labels in %s\n",
                100.0 * (double)correct / (double)ds.n, correct, ds.n, o.input);
        if (ds.n_classes > net.arch.n_out)
            fprintf(stderr, "note: %s has labels up to %d, the model knows %d "
                    "classes (0..%d)\n", o.input, ds.n_classes - 1,
                    net.arch.n_out, net.arch.n_out - 1);
    }
    rc = EXIT_OK;
done:
    if (s.csv) fclose(s.csv);
    free(text);
    cJSON_Delete(s.array);
    free(order);
    nt_free(xb);
    nt_dataset_free(&ds);
    nt_net_free(&net);
    return rc;
}
