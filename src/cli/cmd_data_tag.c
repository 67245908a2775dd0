/* cmd_data_tag.c — `olmo data tag`: Dolma's tagger command (library: data/tag_run.h; guide: docs/data.md).
 * Under `mpirun -np N` the files are split over the ranks (file i -> rank i mod N); each file's output does not
 * depend on the split, and the totals are summed over ranks. */
#include "cli/commands.h"

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/docs_args.h"
#include "data/tag_run.h"
#include "train/mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo data tag --documents GLOB... --taggers NAME[,NAME...] [--experiment EXP]\n"
            "                     [--destination DIR] [--processes N] [--skip_bad_lines] [-c CONFIG.json|yaml]\n\n"
            "Runs Dolma taggers over documents (JSONL, plain/.gz/.zst) and writes, for each documents file, an\n"
            "attributes file line for line: .../documents/X -> .../attributes/EXP/X (Dolma's path rule), keys\n"
            "EXP__TAGGER__TYPE, spans [start, end, score] in characters. 'olmo data list-taggers' lists the taggers.\n\n"
            "  --documents GLOB...    documents files ('*', '?', '[..]' and '**' globs)\n"
            "  --taggers NAME...      taggers (comma-separated or several values)\n"
            "  --experiment EXP       one attribute set for all taggers (default: one per tagger, named after it)\n"
            "  --destination DIR      write DIR/EXP/<path under the glob's base> instead of the attributes/ rule\n"
            "  --processes N          threads, one documents file at a time each (default 1)\n"
            "  --skip_bad_lines       skip malformed document lines (counted and reported) instead of failing\n"
            "  --profile.enable       print the time spent in each tagger\n"
            "  --dryrun               list the files that would be tagged and stop\n"
            "  -c CONFIG              Dolma's tagger config (the same keys, JSON or YAML); flags override it\n"
            "Under 'mpirun -np N olmo data tag ...' the files are split over the N processes.\n");
}

static const char *const k_keys[] = {"documents", "taggers", "experiment", "destination", "processes",
                                     "skip_bad_lines", "ignore_existing", "debug", "dryrun", "tagger_modules",
                                     "profile.enable", "profile.output", "profile.steps", "profile.sort_key",
                                     "profile.lines", "work_dir.input", "work_dir.output", NULL};
static const char *const k_lists[] = {"documents", "taggers", "tagger_modules", NULL};
static const char *const k_bools[] = {"skip_bad_lines", "ignore_existing", "debug", "dryrun", "profile.enable", NULL};

int cmd_data_tag(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    if (dist_init(&argc, &argv) != 0) return cli_fail("data tag");
    struct ycfg cfg;
    struct tag_opts o;
    memset(&o, 0, sizeof o);
    const char **docs = NULL, **taggers = NULL, **modules = NULL;
    char *names_buf = NULL;
    size_t ndocs = 0, ntag = 0, nmod = 0;
    int rc = 1, have_cfg = 0, profile = 0, dryrun = 0;
    long processes = 1;
    if (docs_args_parse(&cfg, argc, argv, k_keys, k_lists, k_bools) != 0) goto out;
    have_cfg = 1;
    if (docs_args_strings(&cfg, "documents", &docs, &ndocs) || docs_args_strings(&cfg, "taggers", &taggers, &ntag) ||
        docs_args_strings(&cfg, "tagger_modules", &modules, &nmod) ||
        docs_args_str(&cfg, "experiment", NULL, &o.experiment) ||
        docs_args_str(&cfg, "destination", NULL, &o.destination) || docs_args_int(&cfg, "processes", 1, &processes) ||
        docs_args_bool(&cfg, "skip_bad_lines", 0, &o.skip_bad) || docs_args_bool(&cfg, "profile.enable", 0, &profile) ||
        docs_args_bool(&cfg, "dryrun", 0, &dryrun))
        goto out;
    if (nmod) {
        olmo_err("tagger_modules: custom Python tagger modules are not supported; the built-in taggers are listed "
                 "by 'olmo data list-taggers'");
        goto out;
    }
    if (!ndocs) { olmo_err("--documents: expected at least one documents path or glob"); goto out; }
    if (processes < 1 || processes > 256) { olmo_err("--processes: expected 1..256, found %ld", processes); goto out; }
    o.processes = (int)processes;
    /* taggers: each value may hold several comma-separated names */
    size_t total = 0;
    for (size_t i = 0; i < ntag; i++) total += strlen(taggers[i]) + 1;
    names_buf = olmo_malloc(total + 1);
    if (!names_buf) goto out;
    char *p = names_buf;
    for (size_t i = 0; i < ntag; i++) {
        strcpy(p, taggers[i]);
        for (char *tok = strtok(p, ","); tok; tok = strtok(NULL, ",")) {
            if (!*tok) continue;
            if (o.ntaggers == TAG_MAX_TAGGERS) { olmo_err("--taggers: at most %d", TAG_MAX_TAGGERS); goto out; }
            o.taggers[o.ntaggers++] = tok;
        }
        p += strlen(taggers[i]) + 1;
    }
    if (!o.ntaggers) { olmo_err("--taggers: expected at least one tagger name (olmo data list-taggers)"); goto out; }
    o.rank = dist_rank();
    o.world = dist_size();
    if (dryrun) {
        for (size_t g = 0; g < ndocs; g++) {
            size_t n;
            char **v = docs_glob(docs[g], &n);
            if (!v) goto out;
            for (size_t i = 0; i < n; i++) printf("%s\n", v[i]);
            docs_paths_free(v);
        }
        rc = 0;
        goto out;
    }
    double t0 = olmo_now();
    struct tag_stats st;
    int failed = tag_run(docs, ndocs, &o, &st) != 0;
    if (failed) fprintf(stderr, "olmo data tag: %s\n", olmo_errmsg());
    int32_t any_failed = failed;
    dist_allreduce_max_i32(&any_failed);
    double sums[4] = {(double)st.files, (double)st.docs, (double)st.skipped, st.text_bytes};
    double secs[TAG_MAX_TAGGERS];
    memcpy(secs, st.seconds, sizeof secs);
    dist_allreduce_sum_f64(sums, 4);
    dist_allreduce_sum_f64(secs, TAG_MAX_TAGGERS);
    double dt = olmo_now() - t0;
    if (!any_failed && dist_rank() == 0) {
        olmo_log_info("tagged %.0f documents (%.1f MB of text) in %.0f files with %zu taggers in %.2f s "
                      "(%.1f MB/s); %.0f bad lines skipped",
                      sums[1], sums[3] / 1e6, sums[0], o.ntaggers, dt, dt > 0 ? sums[3] / 1e6 / dt : 0.0, sums[2]);
        if (profile)
            for (size_t k = 0; k < o.ntaggers; k++)
                fprintf(stderr, "  %-40s %8.3f s  %8.1f MB/s\n", o.taggers[k], secs[k],
                        secs[k] > 0 ? sums[3] / 1e6 / secs[k] : 0.0);
    }
    rc = any_failed ? 1 : 0;
    if (!failed && any_failed) fprintf(stderr, "olmo data tag: rank %d stops: another rank failed\n", dist_rank());
    free(docs), free(taggers), free(modules), free(names_buf);
    ycfg_free(&cfg);
    dist_finalize();
    return rc;
out:
    if (rc) fprintf(stderr, "olmo data tag: %s\n", olmo_errmsg());
    free(docs), free(taggers), free(modules), free(names_buf);
    if (have_cfg) ycfg_free(&cfg);
    dist_finalize();
    return rc;
}
