/* cli_env.c — a subcommand re-executing `olmo <cmd> ...` with OMP_WAIT_POLICY=passive (see cli_env.h); the
 * mechanism is train_threads_passive's, this file only rebuilds the full command line from the subcommand's. */
#include "cli/cli_env.h"
#include "base/error.h"
#include "train/train_threads.h"

#include <stdlib.h>

void cli_prefer_passive_threads(const char *cmd, int argc, char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    char **nv = calloc((size_t)argc + 2, sizeof *nv);
    if (!nv) return;
    nv[0] = (char *)"olmo";
    nv[1] = (char *)cmd;
    for (int i = 1; i < argc; i++) nv[i + 1] = argv[i];
    if (train_threads_passive(nv) != 0) olmo_err_clear();   /* no /proc: carry on with spinning waits */
    free(nv);
}
