/* cmd_demo.c — `olmo demo`: the README's first command, OLMo's whole open chain on real text that Debian packages
 * ship, with no download and nothing from ../shared:
 *
 *    1 corpus     Debian packages -> Dolma documents, one source per package, held-out documents set aside
 *    2 tag        olmo data tag      Gopher statistics, PII spans, language (cld2), lengths
 *    3 dedup      olmo data dedup    duplicate paragraphs, one Bloom filter
 *    4 mix        olmo data mix      quality and language filters, duplicate paragraphs removed, PII masked
 *    5 stats      olmo data stats    what went in and came out, per source
 *    6 tokenizer  olmo tokenizer train   a byte-level BPE on the curated text
 *    7 tokens     olmo data tokens   the training token files (and the held-out ones for in-loop evaluation)
 *    8 train      olmo train         a small OLMo-2 sized to the time budget, checkpoints, metrics, loss plot
 *    9 eval       olmo eval ppl / tasks   bits per byte per source on held-out text, a multiple-choice task
 *   10 generate   olmo generate      samples from the trained checkpoint
 *   11 index      olmo data index / olmo trace   the training tokens made searchable, a sample traced back
 *   12 report     OUT/report.md with every figure, the plots, the energy and carbon estimate
 *
 * Every step except 1 and 12 runs as a child `olmo` command, printed before it runs and kept in OUT/commands.sh, so
 * each is a command a user can run alone on their own data. --quick shrinks everything to seconds (the suite). */
#include "cli/commands.h"
#include "cli/demo.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *fp) {
    fprintf(fp,
            "usage: olmo demo [--out DIR] [--train-seconds S] [--quick] [--watts-per-core W] [--grid-intensity G]\n\n"
            "The whole open chain on text that Debian packages ship (installed by scripts/install-deps.sh):\n"
            "corpus -> olmo data tag / dedup / mix / stats -> tokenizer -> olmo data tokens -> olmo train ->\n"
            "olmo eval -> olmo generate -> olmo data index + olmo trace -> DIR/report.md. Every step is printed as\n"
            "the `olmo` command it runs (DIR/commands.sh keeps them).\n"
            "  --out DIR            where everything goes (default ./demo-out; emptied first)\n"
            "  --train-seconds S    training time to aim for (default 420; the step count is sized to this\n"
            "                       machine, and training stops at 1.5 S in any case)\n"
            "  --quick              seconds in all: a small corpus, a tiny model (the test suite runs this)\n"
            "  --watts-per-core W   power of one busy core for the energy estimate when the machine has no RAPL\n"
            "                       counters (default %.1f)\n"
            "  --grid-intensity G   kg CO2e per kWh of the electricity used (default %.3f)\n",
            DEMO_WATTS_PER_CORE, DEMO_GRID_KG_PER_KWH);
}

static int parse_num(const char *flag, const char *s, double *out) {
    char *end;
    double v = s ? strtod(s, &end) : 0;
    if (!s || end == s || *end || !(v >= 0))
        return olmo_err("%s: expected a non-negative number, found '%s'", flag, s ? s : "the end of the arguments");
    *out = v;
    return 0;
}

int cmd_demo(int argc, char **argv) {
    struct demo_opts o = {.out = "demo-out", .train_seconds = 420, .watts_per_core = DEMO_WATTS_PER_CORE,
                          .grid_kg_per_kwh = DEMO_GRID_KG_PER_KWH};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        else if (!strcmp(a, "--quick")) o.quick = 1;
        else if (!strcmp(a, "--out") && i + 1 < argc) o.out = argv[++i];
        else if (!strncmp(a, "--out=", 6)) o.out = a + 6;
        else if (!strcmp(a, "--train-seconds") || !strcmp(a, "--seconds")) {
            if (parse_num(a, i + 1 < argc ? argv[++i] : NULL, &o.train_seconds) < 0) return cli_fail("demo");
        } else if (!strcmp(a, "--watts-per-core")) {
            if (parse_num(a, i + 1 < argc ? argv[++i] : NULL, &o.watts_per_core) < 0) return cli_fail("demo");
        } else if (!strcmp(a, "--grid-intensity")) {
            if (parse_num(a, i + 1 < argc ? argv[++i] : NULL, &o.grid_kg_per_kwh) < 0) return cli_fail("demo");
        } else { usage(stderr); return 2; }
    }
    if (!(o.train_seconds > 0)) { usage(stderr); return 2; }
    return demo_run_chain(&o) == 0 ? 0 : cli_fail("demo");
}
