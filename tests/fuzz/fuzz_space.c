/* fuzz_space.c - libFuzzer harness for nt_space_parse.
 *
 * Input: the space text (NUL-terminated copy). A space that parses is then
 * formatted, decoded at a point from the input's bytes, encoded back, and
 * the assignment formatted, and the formatted text must parse again. */
#include "fuzz_common.h"

#include "nntune/space.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    static nt_space s, again;   /* big: keep off the stack */
    if (nt_space_parse(text, "fuzz.txt", &s) == NT_OK) {
        if (s.n < 0 || s.n > NT_MAX_PARAMS || s.dims < 0 || s.dims > s.n) abort();
        static char buf[65536];
        nt_space_format(&s, buf, sizeof buf);
        if (nt_space_parse(buf, "formatted", &again) != NT_OK) {
            fprintf(stderr, "formatted space does not parse again:\n%s\n", buf);
            abort();
        }
        double u[NT_MAX_PARAMS], back[NT_MAX_PARAMS];
        for (int i = 0; i < s.dims; i++)
            u[i] = size ? data[(size_t)i % size] / 255.0 : 0.5;
        nt_assignment a;
        nt_space_decode(&s, u, &a);
        nt_space_encode(&s, &a, back);
        for (int i = 0; i < s.n; i++) (void)nt_space_active(&s, u, i);
        nt_assign_format(&s, &a, buf, sizeof buf);
    }
    free(text);
    return 0;
}
