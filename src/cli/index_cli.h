/* index_cli.h — what `olmo data count|search|ngram` and `olmo trace` share: opening the index and its tokenizer,
 * turning a query (text or --ids) into token ids, AND/OR parsing, decoding snippets and JSON output. */
#ifndef OLMO_CLI_INDEX_CLI_H
#define OLMO_CLI_INDEX_CLI_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "index/idx.h"
#include "tokenizer/tokenizer.h"

struct index_cli {
    struct olmo_index ix;
    struct olmo_tokenizer *tok;   /* NULL when neither -t nor the manifest names one */
};

/* Opens INDEX_DIR and the tokenizer (tok_path, else the one recorded at build time; need_tok: fail without;
 * INDEX_CLI_NO_TOK: only an explicit tok_path, e.g. for a count of --ids, which needs none). */
#define INDEX_CLI_NO_TOK 2
int index_cli_open(struct index_cli *c, const char *dir, const char *tok_path, int need_tok);
void index_cli_close(struct index_cli *c);
/* Query ids from text (tokenized without BOS/EOS) or from "1,2,3" (ids != NULL). Empty query: *m = 0. */
int index_cli_query(const struct index_cli *c, const char *text, const char *ids, uint32_t **q, size_t *m);
/* Decoded text of shard tokens [a, b) (EOS shown as-is; ids without a tokenizer). Caller frees. */
char *index_cli_decode(const struct index_cli *c, uint32_t shard, uint64_t a, uint64_t b);
/* A hit as a JSON object: shard, doc, file, offsets, metadata id/src/loc, and a window of `context` tokens on
 * each side clipped to the document (text before / match / after) when context >= 0. */
json_t *index_cli_hit_json(const struct index_cli *c, const struct idx_hit *h, size_t m, long context);
/* Prints a JSON value on one line to stdout. */
void index_cli_print_json(json_t *v);
/* Splits "a AND b OR c" into CNF clauses (AND binds loosest, as in infini-gram). Returns clause count; *clauses
 * gets arrays of term strings (free with index_cli_free_cnf). */
size_t index_cli_split_cnf(const char *text, char ****clauses, size_t **n_terms);
void index_cli_free_cnf(char ***clauses, size_t *n_terms, size_t n);

/* Options shared by count/search/ngram: -t, --ids, --json. Returns 1 when argv[*i] was one (advancing *i). */
int index_cmd_common(int argc, char **argv, int *i, const char **tok, const char **ids, int *json);
/* Is text an AND/OR query ("a AND b", "a OR b")? */
int index_cmd_is_cnf(const char *text);
/* Evaluates an AND/OR text query (idx_cnf): *count, and the matches in *hits when hits != NULL. */
int index_cmd_cnf(const struct index_cli *c, const char *text, uint64_t max_diff, uint64_t max_occ, int64_t *count,
                  struct idx_hit **hits);

#endif
