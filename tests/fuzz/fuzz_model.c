/* fuzz_model.c - libFuzzer harness for nt_model_load.
 *
 * Input: byte 0, then the model file. The file ends in a CRC32 of the rest,
 * which random mutations almost never match; so when byte 0 is odd the
 * harness rewrites the last 4 bytes to the correct CRC32 (little-endian)
 * before loading, letting the fuzzer reach the header, JSON and
 * architecture checks behind it. Even: the bytes as they are. */
#include <zlib.h>

#include "fuzz_common.h"

#include "nntune/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int fix_crc = data[0] & 1;
    data++;
    size--;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (fix_crc && size >= 4) {
        uLong c = crc32(0L, Z_NULL, 0);
        c = crc32(c, copy, (uInt)(size - 4));
        for (int i = 0; i < 4; i++) copy[size - 4 + i] = (uint8_t)(c >> (8 * i));
    }
    const char *path = fuzz_write_temp(0, ".nnt", copy, size);
    free(copy);

    nt_net net;
    char *meta = NULL;
    if (nt_model_load(path, 4, &net, &meta) == NT_OK) {
        if (!meta) abort();
    }
    free(meta);
    nt_net_free(&net);
    return 0;
}
