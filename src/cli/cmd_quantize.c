/* cmd_quantize.c — `olmo quantize -m DIR -o OUT --quant q8|q4`: a quantized copy of a checkpoint.
 *
 * Loads DIR quantizing every projection (as --quant does at load), writes OUT/model.safetensors in the kernels'
 * own layout (model/quant_file.h, docs/quantization.md) and copies the other files of DIR (config.json, the
 * tokenizer files, generation_config.json) unchanged. OUT then loads with no flag, memory-mapped, without
 * quantizing again. */
#include "cli/commands.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "model/kernels/pool.h"
#include "model/model.h"
#include "model/quant_file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *usage_line = "usage: olmo quantize -m DIR -o OUT --quant q8|q4 [-t N]\n";

/* Copies every regular file of src except the weights (*.safetensors, the shard index) into dst. */
static int copy_side_files(const char *src, const char *dst) {
    DIR *d = opendir(src);
    if (!d) return olmo_err_errno("cannot list %s", src);
    struct dirent *e;
    int rc = 0;
    while (rc == 0 && (e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        if (n[0] == '.' || (len > 12 && !strcmp(n + len - 12, ".safetensors")) ||
            !strcmp(n, "model.safetensors.index.json"))
            continue;
        char *from = olmo_path_join(src, n), *to = olmo_path_join(dst, n);
        struct stat sb;
        if (!from || !to) rc = -1;
        else if (stat(from, &sb) == 0 && S_ISREG(sb.st_mode)) {
            size_t sz;
            char *data = olmo_read_file(from, &sz);
            rc = data && olmo_write_file_atomic(to, data, sz) == 0 ? 0 : -1;
            free(data);
        }
        free(from);
        free(to);
    }
    closedir(d);
    return rc;
}

int cmd_quantize(int argc, char **argv) {
    const char *dir = NULL, *out = NULL;
    enum olmo_quant q = OLMO_QUANT_NONE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("%s\nWrites a quantized copy of the checkpoint in DIR to the directory OUT: model.safetensors with every\n"
                   "projection matrix in olmo.c's q8 (int8) or q4 (4-bit) block format, stored in the order the kernels\n"
                   "read (docs/quantization.md), and DIR's other files (config, tokenizer) copied. `olmo generate -m OUT`\n"
                   "then maps it without quantizing again.\n\n"
                   "  -m, --model DIR   source checkpoint (F32, BF16 or F16 safetensors)\n"
                   "  -o OUT            output directory (created; must not be DIR)\n"
                   "  --quant q8|q4     the format\n"
                   "  -t, --threads N   threads for quantizing\n", usage_line);
            return 0;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "olmo quantize: '%s' needs a value or is unknown\n%s", a, usage_line);
            return 2;
        }
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) dir = argv[++i];
        else if (!strcmp(a, "-o")) out = argv[++i];
        else if (!strcmp(a, "--quant")) {
            if (olmo_quant_parse(argv[++i], &q) != 0) return cli_fail("quantize");
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            int n = atoi(argv[++i]);
            if (n < 1 || n > OLMO_POOL_MAX_THREADS) {
                fprintf(stderr, "olmo quantize: --threads '%s' is not in [1, %d]\n", argv[i], OLMO_POOL_MAX_THREADS);
                return 2;
            }
            olmo_pool_set_threads(n);
        } else {
            fprintf(stderr, "olmo quantize: unknown argument '%s'\n%s", a, usage_line);
            return 2;
        }
    }
    if (!dir || !out || q == OLMO_QUANT_NONE) {
        fprintf(stderr, "olmo quantize: -m, -o and --quant q8|q4 are required\n%s", usage_line);
        return 2;
    }
    struct stat sa, sb;
    if (stat(dir, &sa) == 0 && stat(out, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) {
        fprintf(stderr, "olmo quantize: -o %s is the source directory; choose another\n", out);
        return 2;
    }
    double t0 = olmo_now();
    struct olmo_model m;
    struct model_load_opts lo = {.quant = q};
    if (model_load(&m, dir, &lo) != 0) return cli_fail("quantize");
    double tq = olmo_now() - t0;
    char *path = NULL;
    int rc = olmo_mkdir_p(out) == 0 && copy_side_files(dir, out) == 0 && (path = olmo_path_join(out, "model.safetensors")) &&
                     quant_file_write(&m, q, path) == 0
                 ? 0 : -1;
    if (rc == 0)
        olmo_log_info("quantized %s to %s (%s): %.2f GB of projection weights, quantizing %.1f s, total %.1f s", dir,
                      path, olmo_quant_name(q), m.weight_bytes / 1e9, tq, olmo_now() - t0);
    free(path);
    model_free(&m);
    return rc == 0 ? 0 : cli_fail("quantize");
}
