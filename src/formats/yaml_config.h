/* yaml_config.h — OLMo's YAML training configs as a tree with line numbers, the way OLMo's trainer reads them.
 *
 * OLMo loads its configs with OmegaConf: a YAML file (PyYAML's YAML 1.1 typing, with OmegaConf's fix that makes
 * `1e-6` a float), `${…}` interpolation, and dotted command-line overrides (`--model.d_model=256`). This module
 * reproduces that much in C on top of libyaml:
 *
 *   ycfg_load()      parse a file into a tree (maps, lists, scalars), every node remembering its line
 *   ycfg_override()  apply one `--a.b.c=VALUE` (VALUE parsed as YAML: `8`, `1e-4`, `true`, `[a.npy, b.npy]`)
 *   ycfg_resolve()   replace every `${…}` (call after all overrides, as OmegaConf resolves on access):
 *                      ${a.b}                 absolute key         ${.x} / ${..x}   relative to the holding map
 *                      ${oc.env:VAR}          environment (error if unset)   ${oc.env:VAR,default}
 *                      ${path.choose:a,b,…}   first argument that exists as a path or is a URL (OLMo's resolver)
 *                      ${path.glob:pattern}   sorted matches, as a list (OLMo's resolver)
 *                    A scalar that is exactly one `${…}` takes the referenced node (number, list, map); text with
 *                    interpolations inside becomes a string. `\${` is a literal `${`. Cycles are errors.
 *   ycfg_get() and the typed readers below: lookups whose errors name the file, line and dotted key.
 *
 * Scalars keep their source text; the typed readers parse it on request (an `int` field given "8" from
 * ${oc.env:…} converts, as OmegaConf's schema merge does). The tree owns all its memory (ycfg_free). */
#ifndef OLMO_FORMATS_YAML_CONFIG_H
#define OLMO_FORMATS_YAML_CONFIG_H

#include <stddef.h>
#include <stdint.h>

enum ycfg_kind { YCFG_SCALAR = 1, YCFG_MAP = 2, YCFG_LIST = 3 };

struct ycfg_node {
    enum ycfg_kind kind;
    int line;                  /* 1-based line in the source; 0 for values given on the command line */
    const char *src;           /* file name, or "command line" (points into the owning struct ycfg) */
    char *text;                /* SCALAR: the text as written (without quotes) */
    int quoted;                /* SCALAR: 0 plain; 1 written in quotes (always a string: "null" is not null);
                                  2 a string produced by interpolation (never interpolated again) */
    size_t n, cap;             /* MAP / LIST: number of entries */
    char **keys;               /* MAP: keys[i] names vals[i] (insertion order kept) */
    struct ycfg_node **vals;   /* MAP / LIST entries */
};

struct ycfg {
    struct ycfg_node *root;    /* always a MAP once loaded */
    char *path;                /* the file name used in messages */
    char **srcs;               /* owned strings that nodes' ->src point to */
    size_t n_srcs;
};

/* Parses a YAML file / string. The root must be a mapping. Errors name file and line. */
int ycfg_load(struct ycfg *c, const char *path);
int ycfg_load_string(struct ycfg *c, const char *text, const char *name);
void ycfg_free(struct ycfg *c);

/* Applies one override "KEY=VALUE" (leading "--" allowed; KEY dotted, intermediate maps created as needed;
 * KEY "a.b.2" addresses list element 2). VALUE is parsed as a YAML value. */
int ycfg_override(struct ycfg *c, const char *arg);

/* Resolves every interpolation in place. Idempotent. */
int ycfg_resolve(struct ycfg *c);

/* The node at a dotted path ("model.d_model", "data.paths.0"), or NULL if absent (no error set). */
const struct ycfg_node *ycfg_get(const struct ycfg *c, const char *dotted);
const struct ycfg_node *ycfg_child(const struct ycfg_node *map, const char *key);

/* Typed reading of a node; `key` is the dotted name used in messages ("file.yaml:12: model.d_model: expected
 * an integer, found 'abc'"). All return 0 or -1 after olmo_err. */
int ycfg_is_null(const struct ycfg_node *n);   /* unquoted null, ~, Null, NULL, or empty */
int ycfg_as_int(const struct ycfg_node *n, const char *key, int64_t *out);   /* 739_328, 0x10, 8 */
int ycfg_as_double(const struct ycfg_node *n, const char *key, double *out); /* 1e-6, 4.0e-4, 5e12, .inf */
int ycfg_as_bool(const struct ycfg_node *n, const char *key, int *out);      /* true/false, yes/no, on/off */
/* A scalar's text (not null). The pointer lives as long as the tree. */
int ycfg_as_str(const struct ycfg_node *n, const char *key, const char **out);

/* "file.yaml:12" (or "command line") for messages; static per-thread buffer. */
const char *ycfg_where(const struct ycfg_node *n);

/* Writes the (resolved) tree back as YAML to a newly allocated string, e.g. to store beside a checkpoint. */
char *ycfg_dump(const struct ycfg *c);

#endif
