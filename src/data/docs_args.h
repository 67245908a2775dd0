/* docs_args.h — options of the `olmo data` commands the way Dolma takes them: `-c CONFIG.json|yaml` and
 * dotted flags (`--documents a.gz b.gz`, `--bloom_filter.file f.bin`, `--processes=4`), merged into one tree
 * (flags override the file). Every key is checked against the command's list, so a misspelt key is an error
 * naming where it was found, not a silently ignored setting.
 *
 *   struct ycfg c;
 *   static const char *const keys[] = {"documents", "taggers", "profile.enable", NULL};
 *   static const char *const lists[] = {"documents", "taggers", NULL};   // flags taking several values
 *   static const char *const bools[] = {"profile.enable", NULL};         // flags taking no value
 *   if (docs_args_parse(&c, argc, argv, keys, lists, bools) != 0) ...    // argv[0] is the command name
 *   docs_args_strings(&c, "documents", &v, &n);   // a list (or one scalar) as strings
 */
#ifndef OLMO_DATA_DOCS_ARGS_H
#define OLMO_DATA_DOCS_ARGS_H

#include "formats/yaml_config.h"

#include <stddef.h>

int docs_args_parse(struct ycfg *c, int argc, char **argv, const char *const *known, const char *const *lists,
                    const char *const *bools);
/* The strings of a list key (a scalar counts as a list of one; "a,b" is not split). *v is allocated (free it;
 * the strings belong to the tree). Absent: *n = 0, *v = NULL. */
int docs_args_strings(const struct ycfg *c, const char *key, const char ***v, size_t *n);
/* A scalar string / int / bool, or the default when absent. */
int docs_args_str(const struct ycfg *c, const char *key, const char *dflt, const char **out);
int docs_args_int(const struct ycfg *c, const char *key, long dflt, long *out);
int docs_args_bool(const struct ycfg *c, const char *key, int dflt, int *out);

#endif
