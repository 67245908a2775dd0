/* jsonpath.h — the JSONPath subset Dolma's configs use (jsonpath-rust 0.3.5 as the mixer and deduper call it), and
 * the plain-path subset of jq, evaluated on jansson values.
 *
 *   $.a.b[0]['c d'][-1]          select: the first match, or NULL        (dedupe keys, span_replacement spans)
 *   $.attributes[?( EXPR )]      filter: the document matches when the result is not null (mixer include/exclude)
 *   $@.attributes[?( EXPR )]     the same (a spelling jsonpath-rust accepts)
 *   EXPR := EXPR || EXPR | EXPR && EXPR | !EXPR | ( EXPR ) | OPERAND [ OP OPERAND ]
 *   OPERAND := @.path | @['key'] | number | 'string' | "string" | true | false | null
 *   OP := < <= > >= == !=
 *
 * As in jsonpath-rust, a filter applied to an object tests the object itself (so `$.attributes[?(@.x > 1)]`
 * tests attributes.x), and applied to an array tests each element. An operand alone is true when its path exists
 * and is not null; a comparison with a missing path is false (so Dolma's `@.x && @.x[0] && ...` guard idiom
 * works, and is not needed).
 *
 *   .a.b?[0]?.c                  jq_path: a jq expression that is only a path (optional `?` anywhere); select
 *                                returns the value or NULL where jq would give null. Anything else: filter_jq.h. */
#ifndef OLMO_DATA_JSONPATH_H
#define OLMO_DATA_JSONPATH_H

#include <jansson.h>

struct jpath;

/* Compiles a JSONPath; on error returns NULL with a message naming the expression and the column. */
struct jpath *jpath_compile(const char *expr);
/* Compiles a jq path expression (`.a?.b[0]`); NULL with a message if it is not a plain path (no error then when
 * quiet is set: the caller falls back to libjq). */
struct jpath *jpath_compile_jq(const char *expr, int quiet);
void jpath_free(struct jpath *p);

/* The first value the path selects (borrowed), or NULL. A filter step yields the value it filtered when it
 * matched (an object) or the first matching element (an array). */
json_t *jpath_select(const struct jpath *p, json_t *doc);
/* 1 when the path selects a non-null value. */
int jpath_matches(const struct jpath *p, json_t *doc);
/* 1 when a key step meets a value that is neither an object nor null, or an index step one that is neither an
 * array nor null: where jq raises an error instead of giving null. */
int jpath_type_error(const struct jpath *p, json_t *doc);

#endif
