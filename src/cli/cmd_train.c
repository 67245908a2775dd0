/* cmd_train.c — `olmo train CONFIG.yaml [--key=value ...] [--resume] [--init-from DIR]`: pretraining with an OLMo
 * YAML config; under `mpirun -np P` data parallel. The loop itself is src/train/trainer.c. */
#include "cli/commands.h"
#include "base/error.h"
#include "base/log.h"
#include "train/mpi.h"
#include "train/trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo train CONFIG.yaml [--key.sub=value ...] [--resume] [--init-from DIR] [--max-seconds S] [-q]\n\n"
            "Trains an OLMo / OLMo-2 model with an OLMo training YAML (OLMo's own configs work as they are once\n"
            "data.paths point at local token files). Under `mpirun -np P` it runs data parallel.\n\n"
            "  --key.sub=value   override a config value, as OLMo's trainer does (--model.d_model=256,\n"
            "                    --global_train_batch_size=8, --max_duration=100, --save_folder=runs/a)\n"
            "  --resume          continue from the newest complete checkpoint in save_folder (bit for bit)\n"
            "  --init-from DIR   start from a Hugging Face olmo / olmo2 / llama checkpoint (optimizer fresh)\n"
            "  --max-seconds S   stop with a checkpoint once S seconds of training have passed\n"
            "  -q, --quiet       no progress line\n\n"
            "Writes save_folder/step-N/ (Hugging Face layout + optimizer + trainer state), metrics.jsonl and\n"
            "loss.png. docs/training.md describes all of it.\n");
}

int cmd_train(int argc, char **argv) {
    struct trainer_opts o = {0};
    char **ovr = calloc((size_t)argc + 1, sizeof *ovr);
    if (!ovr) return 1;
    int n_ovr = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            free(ovr);
            return 0;
        } else if (!strcmp(a, "--resume")) {
            o.resume = 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o.quiet = 1;
        } else if (!strcmp(a, "--init-from") || !strcmp(a, "--init_from")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "olmo train: --init-from needs a folder\n");
                free(ovr);
                return 2;
            }
            o.init_from = argv[++i];
        } else if (!strcmp(a, "--max-seconds") && i + 1 < argc) {
            o.max_seconds = atof(argv[++i]);
        } else if (!strncmp(a, "--init-from=", 12)) {
            o.init_from = a + 12;
        } else if (a[0] == '-' && a[1] == '-' && strchr(a, '=')) {
            ovr[n_ovr++] = argv[i];
        } else if (a[0] != '-' && !o.config_path) {
            o.config_path = a;
        } else if (a[0] != '-' && strchr(a, '=')) {
            ovr[n_ovr++] = argv[i];   /* OLMo also accepts overrides without the dashes */
        } else {
            fprintf(stderr, "olmo train: unexpected argument '%s' (overrides are --key=value)\n\n", a);
            usage(stderr);
            free(ovr);
            return 2;
        }
    }
    if (!o.config_path) {
        usage(stderr);
        free(ovr);
        return 2;
    }
    if (o.resume && o.init_from) {
        fprintf(stderr, "olmo train: --resume and --init-from exclude each other\n");
        free(ovr);
        return 2;
    }
    o.n_overrides = n_ovr;
    o.overrides = ovr;
    if (dist_init(&argc, &argv) != 0) {
        free(ovr);
        return cli_fail("train");
    }
    struct trainer_result r;
    int rc = trainer_run(&o, &r);
    int status = 0;
    if (rc != 0 && r.stopped_nonfinite) {
        /* every rank saw the same all-reduced loss and stopped at the same step: one message, a clean exit */
        status = dist_rank() == 0 ? cli_fail("train") : 1;
    } else if (rc != 0) {
        if (dist_rank() == 0) status = cli_fail("train");
        else {
            fprintf(stderr, "olmo train (rank %d): %s\n", dist_rank(), olmo_errmsg());
            status = 1;
        }
        dist_abort(status);   /* a failure on one rank: the others may be waiting in a collective */
    }
    dist_finalize();
    free(ovr);
    return status;
}
