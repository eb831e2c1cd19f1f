/* cmd_predict.c - `nntune predict`: placeholder until unlabeled input lands. */
#include "cli.h"

int cmd_predict(int argc, char **argv)
{
    return cli_fail("predict", "not built yet");
}
