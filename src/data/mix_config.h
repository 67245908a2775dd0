/* mix_config.h — configs of `olmo data dedup|mix|tokens` the way Dolma's CLI takes them: `-c FILE` (JSON or YAML;
 * JSON is read as YAML, OmegaConf-style, so ${oc.env:...} works in both) plus dotted flags that override it
 * (`--bloom_filter.read_only=true`, `--processes 4`, `--documents a.gz b.gz` for a list).
 *
 * Every key is checked against the command's schema: an unknown key is an error naming the file, the line and
 * the key (a misspelt `bloom_filter.read_onyl` silently ignored would build a different filter). */
#ifndef OLMO_DATA_MIX_CONFIG_H
#define OLMO_DATA_MIX_CONFIG_H

#include "formats/yaml_config.h"

/* schema: NULL-terminated dotted keys; "*" stands for any list index ("streams.*.name"); a key ending in ".**"
 * allows anything below it. list_keys: NULL-terminated dotted keys that take several command-line values.
 * Loads cfg from -c/--config (if given) and the flags in argv[1..argc); a bare "--help" returns 1. */
int dcfg_load(struct ycfg *cfg, int argc, char **argv, const char *const *schema, const char *const *list_keys);

/* Readers with defaults: an absent or null key gives def. Errors name file:line and key. */
int dcfg_int(const struct ycfg *c, const char *key, int64_t def, int64_t *out);
int dcfg_double(const struct ycfg *c, const char *key, double def, double *out);
int dcfg_bool(const struct ycfg *c, const char *key, int def, int *out);
/* A string (NULL when absent and def is NULL). */
int dcfg_str(const struct ycfg *c, const char *key, const char *def, const char **out);
/* A list of strings (a single string counts as a one-element list). *out is malloc'ed, NULL-terminated; the
 * strings live as long as the tree. Absent: *n = 0. */
int dcfg_strs(const struct ycfg *c, const char *key, const char ***out, size_t *n);
/* The same on a node (for list elements such as streams[i]). */
int dcfg_node_strs(const struct ycfg_node *n, const char *key, const char ***out, size_t *count);

#endif
