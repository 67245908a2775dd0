/* filter.h — one mixer filter or span selector in either of Dolma's syntaxes, evaluated on a jansson document.
 *
 *   jsonpath  (default)  jsonpath.h's subset: a match is a non-null result.
 *   jq                   a plain path (`.attributes?.pii?.email?`) runs on jsonpath.h's walker (measured ~40×
 *                        faster than a libjq round trip, bench/bench_data_mix.c); every other jq program runs in
 *                        Debian's libjq 1.6 (the document is handed over as JSON text). Where the walker meets a
 *                        type error (`.a` of a number) it defers to libjq, so errors are jq's own.
 *
 * Outputs are made truthy as Dolma's mixer does (src/filters.rs): bool as is; null false; number ≠ 0; string,
 * array, object non-empty. A filter is not thread-safe (libjq state): give each thread its own. */
#ifndef OLMO_DATA_FILTER_H
#define OLMO_DATA_FILTER_H

#include <jansson.h>

enum dfilter_syntax { DFILTER_JSONPATH = 0, DFILTER_JQ = 1 };

struct dfilter;

/* NULL with a message naming the expression on a syntax error. */
struct dfilter *dfilter_compile(const char *expr, enum dfilter_syntax syntax);
/* The same expression and syntax, compiled again (a copy for another thread). */
struct dfilter *dfilter_clone(const struct dfilter *f);
void dfilter_free(struct dfilter *f);
const char *dfilter_expr(const struct dfilter *f);

/* Runs the filter: *n_out outputs, *n_truthy of them truthy. -1 with a message on a jq runtime error. */
int dfilter_eval(struct dfilter *f, json_t *doc, int *n_out, int *n_truthy);
/* The first output (new reference) or NULL when there is none or it is null; -1 on error. */
int dfilter_select(struct dfilter *f, json_t *doc, json_t **out);

/* Forces the libjq engine even for plain paths (benchmark and tests compare the two). */
void dfilter_force_libjq(struct dfilter *f);

#endif
