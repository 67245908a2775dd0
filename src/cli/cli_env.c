/* cli_env.c — re-executing the program with OMP_WAIT_POLICY=passive (see cli_env.h). */
#include "cli/cli_env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cli_prefer_passive_threads(const char *cmd, int argc, char **argv) {
    if (getenv("OMP_WAIT_POLICY")) return;
    if (setenv("OMP_WAIT_POLICY", "PASSIVE", 1) != 0) return;
    char **nv = calloc((size_t)argc + 2, sizeof *nv);
    if (!nv) return;
    nv[0] = (char *)"olmo";
    nv[1] = (char *)cmd;
    for (int i = 1; i < argc; i++) nv[i + 1] = argv[i];
    execv("/proc/self/exe", nv);
    /* exec failed (no /proc): carry on with the default policy */
    free(nv);
}
