/* test_yaml_config.c — the YAML config tree: YAML 1.1 typing as OLMo's loader sees it, ${…} interpolation
 * (absolute, relative, oc.env with defaults, path.choose, path.glob, escapes, cycles), dotted overrides, and
 * errors that name the file, line and key. The official configs' loading is in test_train_config.c. */
#include "harness.h"
#include "formats/yaml_config.h"
#include "base/error.h"
#include "base/file.h"

#include <stdlib.h>
#include <string.h>

static int load(struct ycfg *c, const char *text) {
    return ycfg_load_string(c, text, "t.yaml");
}

static const char *str_at(const struct ycfg *c, const char *key) {
    const struct ycfg_node *n = ycfg_get(c, key);
    return n && n->kind == YCFG_SCALAR ? n->text : NULL;
}

TEST(yaml_scalars_typed_as_olmo_reads_them) {
    struct ycfg c;
    CHECK(load(&c, "a: 739_328\nb: 1e-6\nc: 4.0e-4\nd: 5e12\ne: true\nf: null\ng: '8'\nh: 4e12T\ni: 0x10\n"
                   "j: ~\nk: off\nl: -.inf\nm: \"null\"\n") == 0);
    int64_t i;
    double d;
    int b;
    CHECK(ycfg_as_int(ycfg_get(&c, "a"), "a", &i) == 0 && i == 739328);
    CHECK(ycfg_as_double(ycfg_get(&c, "b"), "b", &d) == 0 && d == 1e-6);
    CHECK(ycfg_as_double(ycfg_get(&c, "c"), "c", &d) == 0 && d == 4e-4);
    CHECK(ycfg_as_double(ycfg_get(&c, "d"), "d", &d) == 0 && d == 5e12);
    CHECK(ycfg_as_bool(ycfg_get(&c, "e"), "e", &b) == 0 && b == 1);
    CHECK(ycfg_is_null(ycfg_get(&c, "f")) && ycfg_is_null(ycfg_get(&c, "j")));
    CHECK(!ycfg_is_null(ycfg_get(&c, "m")));   /* quoted "null" is a string */
    CHECK(ycfg_as_int(ycfg_get(&c, "g"), "g", &i) == 0 && i == 8);   /* "8" converts, as OmegaConf's schema does */
    CHECK(ycfg_as_double(ycfg_get(&c, "h"), "h", &d) < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:8: h: expected a number, found '4e12T'"));
    CHECK(ycfg_as_int(ycfg_get(&c, "i"), "i", &i) == 0 && i == 16);
    CHECK(ycfg_as_bool(ycfg_get(&c, "k"), "k", &b) == 0 && b == 0);
    CHECK(ycfg_as_double(ycfg_get(&c, "l"), "l", &d) == 0 && d < -1e308);
    CHECK(ycfg_as_int(ycfg_get(&c, "c"), "c", &i) < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:3: c: expected an integer, found '4.0e-4'"));
    ycfg_free(&c);
}

TEST(yaml_interpolation_absolute_relative_nested) {
    struct ycfg c;
    CHECK(load(&c, "run_name: tiny\n"
                   "wandb:\n  name: ${run_name}\n  group: ${.name}-g\n"
                   "model:\n  d: 64\n  sub:\n    up: ${..d}\n"
                   "save_folder: runs/${run_name}/x\n"
                   "batch: 16\neval_batch: ${batch}\n"
                   "m2: ${model}\n"
                   "lit: 'a\\${b}'\n") == 0);
    CHECK(ycfg_resolve(&c) == 0);
    CHECK(!strcmp(str_at(&c, "wandb.name"), "tiny"));
    CHECK(!strcmp(str_at(&c, "wandb.group"), "tiny-g"));
    CHECK(!strcmp(str_at(&c, "model.sub.up"), "64"));
    CHECK(!strcmp(str_at(&c, "save_folder"), "runs/tiny/x"));
    int64_t v;
    CHECK(ycfg_as_int(ycfg_get(&c, "eval_batch"), "eval_batch", &v) == 0 && v == 16);
    CHECK(ycfg_get(&c, "m2.sub") && ycfg_get(&c, "m2.sub")->kind == YCFG_MAP);   /* a whole map copied */
    CHECK(!strcmp(str_at(&c, "lit"), "a${b}"));
    CHECK(ycfg_resolve(&c) == 0);   /* idempotent */
    CHECK(!strcmp(str_at(&c, "lit"), "a${b}"));
    ycfg_free(&c);
}

TEST(yaml_oc_env_and_path_resolvers) {
    struct ycfg c;
    setenv("OLMO_TEST_YCFG", "from-env", 1);
    unsetenv("OLMO_TEST_YCFG_UNSET");
    const char *dir = th_tmpdir();
    char *f1 = olmo_path_join(dir, "b.npy"), *f2 = olmo_path_join(dir, "a.npy");
    CHECK(olmo_write_file_atomic(f1, "x", 1) == 0 && olmo_write_file_atomic(f2, "x", 1) == 0);
    char text[2048];
    snprintf(text, sizeof text,
             "run_name: r\n"
             "a: ${oc.env:OLMO_TEST_YCFG}\n"
             "b: ${oc.env:OLMO_TEST_YCFG_UNSET,${run_name}}\n"
             "c: ${path.choose:${oc.env:OLMO_TEST_YCFG_UNSET,no_exist}/checkpoints,%s}/${oc.env:OLMO_TEST_YCFG_UNSET,${run_name}}\n"
             "d: ${path.glob:%s/*.npy}\n"
             "e: ${path.choose:s3://bucket/x,/nope}\n",
             dir, dir);
    CHECK(load(&c, text) == 0);
    CHECK(ycfg_resolve(&c) == 0);
    CHECK(!strcmp(str_at(&c, "a"), "from-env"));
    CHECK(!strcmp(str_at(&c, "b"), "r"));
    char want[1024];
    snprintf(want, sizeof want, "%s/r", dir);
    CHECK(!strcmp(str_at(&c, "c"), want));
    const struct ycfg_node *d = ycfg_get(&c, "d");
    CHECK(d && d->kind == YCFG_LIST && d->n == 2);
    CHECK(!strcmp(d->vals[0]->text, f2) && !strcmp(d->vals[1]->text, f1));   /* sorted */
    CHECK(!strcmp(str_at(&c, "e"), "s3://bucket/x"));
    ycfg_free(&c);
    free(f1);
    free(f2);

    CHECK(load(&c, "x: 1\ny: ${oc.env:OLMO_TEST_YCFG_UNSET}\n") == 0);
    CHECK(ycfg_resolve(&c) < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:2") && strstr(olmo_errmsg(), "OLMO_TEST_YCFG_UNSET is not set"));
    ycfg_free(&c);
}

TEST(yaml_interpolation_errors_name_line) {
    struct ycfg c;
    CHECK(load(&c, "a: 1\nb:\n  c: ${nope.x}\n") == 0);
    CHECK(ycfg_resolve(&c) < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:3") && strstr(olmo_errmsg(), "'nope' not found"));
    ycfg_free(&c);
    CHECK(load(&c, "a: ${b}\nb: ${c}\nc: ${a}\n") == 0);
    CHECK(ycfg_resolve(&c) < 0);
    CHECK(strstr(olmo_errmsg(), "cycle"));
    ycfg_free(&c);
    CHECK(load(&c, "a: ${b\n") == 0);
    CHECK(ycfg_resolve(&c) < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:1") && strstr(olmo_errmsg(), "unterminated"));
    ycfg_free(&c);
    CHECK(load(&c, "a: ${oc.decode:1}\n") == 0);
    CHECK(ycfg_resolve(&c) < 0);
    CHECK(strstr(olmo_errmsg(), "unknown resolver 'oc.decode'"));
    ycfg_free(&c);
    CHECK(load(&c, "m:\n  x: 1\na: pre-${m}\n") == 0);
    CHECK(ycfg_resolve(&c) < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:3") && strstr(olmo_errmsg(), "mapping"));
    ycfg_free(&c);
}

TEST(yaml_overrides_dotted_typed_lists) {
    struct ycfg c;
    CHECK(load(&c, "model:\n  d_model: 2048\n  n_heads: 16\nglobal_train_batch_size: 512\ncompile: null\n"
                   "data:\n  paths:\n    - a.npy\n    - b.npy\nsave_folder: runs/${model.d_model}\n") == 0);
    CHECK(ycfg_override(&c, "--model.d_model=256") == 0);
    CHECK(ycfg_override(&c, "--global_train_batch_size=8") == 0);
    CHECK(ycfg_override(&c, "--data.paths=[x.npy, y.npy, z.npy]") == 0);
    CHECK(ycfg_override(&c, "--compile.mode=default") == 0);
    CHECK(ycfg_override(&c, "optimizer.learning_rate=1e-3") == 0);   /* new section, no dashes */
    CHECK(ycfg_override(&c, "--model.n_heads=") == 0);               /* empty: null */
    CHECK(ycfg_resolve(&c) == 0);
    int64_t v;
    double d;
    CHECK(ycfg_as_int(ycfg_get(&c, "model.d_model"), "model.d_model", &v) == 0 && v == 256);
    CHECK(ycfg_as_int(ycfg_get(&c, "global_train_batch_size"), "g", &v) == 0 && v == 8);
    const struct ycfg_node *p = ycfg_get(&c, "data.paths");
    CHECK(p && p->kind == YCFG_LIST && p->n == 3 && !strcmp(p->vals[2]->text, "z.npy"));
    CHECK(!strcmp(str_at(&c, "compile.mode"), "default"));
    CHECK(ycfg_as_double(ycfg_get(&c, "optimizer.learning_rate"), "lr", &d) == 0 && d == 1e-3);
    CHECK(ycfg_is_null(ycfg_get(&c, "model.n_heads")));
    CHECK(!strcmp(str_at(&c, "save_folder"), "runs/256"));   /* interpolation sees the override */
    CHECK(ycfg_override(&c, "--data.paths.1=w.npy") == 0);
    CHECK(!strcmp(str_at(&c, "data.paths.1"), "w.npy"));
    /* errors */
    CHECK(ycfg_override(&c, "--model.d_model") < 0);
    CHECK(strstr(olmo_errmsg(), "expected --KEY=VALUE"));
    CHECK(ycfg_override(&c, "--model..d_model=1") < 0);
    CHECK(strstr(olmo_errmsg(), "empty key segment"));
    CHECK(ycfg_override(&c, "--model.d_model.x=1") < 0);
    CHECK(strstr(olmo_errmsg(), "not a mapping"));
    CHECK(ycfg_override(&c, "--model.d_model=[1, 2") < 0);
    CHECK(strstr(olmo_errmsg(), "--model.d_model=[1, 2"));
    /* a bad override value is reported as coming from the command line */
    CHECK(ycfg_override(&c, "--model.d_model=abc") == 0);
    CHECK(ycfg_as_int(ycfg_get(&c, "model.d_model"), "model.d_model", &v) < 0);
    CHECK(strstr(olmo_errmsg(), "command line (--model.d_model=abc): model.d_model: expected an integer, found 'abc'"));
    ycfg_free(&c);
}

TEST(yaml_syntax_errors_name_line) {
    struct ycfg c;
    CHECK(load(&c, "a: 1\nb: [1, 2\nc: 3\n") < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:") && strstr(olmo_errmsg(), "YAML syntax error"));
    CHECK(load(&c, "a: 1\na: 2\n") < 0);
    CHECK(strstr(olmo_errmsg(), "t.yaml:2: duplicate key 'a'"));
    CHECK(load(&c, "- 1\n- 2\n") < 0);
    CHECK(strstr(olmo_errmsg(), "must be a mapping"));
    CHECK(load(&c, "") < 0);
    CHECK(strstr(olmo_errmsg(), "empty"));
    CHECK(load(&c, "a: &x [*x]\n") < 0);   /* a recursive alias stops at the depth guard */
    CHECK(strstr(olmo_errmsg(), "t.yaml:1: nesting deeper than") && strstr(olmo_errmsg(), "recursive alias"));
    CHECK(ycfg_load(&c, "/nonexistent/config.yaml") < 0);
    CHECK(strstr(olmo_errmsg(), "/nonexistent/config.yaml"));
}

TEST(yaml_dump_round_trips) {
    struct ycfg c, d;
    CHECK(load(&c, "a: 1\nb:\n  c: [x, 'y: z', '']\n  e: {}\ns: 'true'\n") == 0);
    char *text = ycfg_dump(&c);
    CHECK(text != NULL);
    CHECK(ycfg_load_string(&d, text, "dump") == 0);
    CHECK(!strcmp(str_at(&d, "b.c.1"), "y: z"));
    CHECK(!strcmp(str_at(&d, "b.c.2"), "") && !ycfg_is_null(ycfg_get(&d, "b.c.2")));
    CHECK(ycfg_get(&d, "b.e")->kind == YCFG_MAP);
    CHECK(ycfg_get(&d, "s")->quoted);
    free(text);
    ycfg_free(&c);
    ycfg_free(&d);
    /* a resolved config dumps to text that resolves to the same values (a literal ${ stays literal) */
    CHECK(load(&c, "r: x\na: ${r}-y\nlit: 'p\\${q}'\nn: ${oc.env:OLMO_TEST_YCFG_UNSET2,7}\n") == 0);
    CHECK(ycfg_resolve(&c) == 0);
    text = ycfg_dump(&c);
    CHECK(text != NULL);
    CHECK(ycfg_load_string(&d, text, "dump") == 0 && ycfg_resolve(&d) == 0);
    CHECK(!strcmp(str_at(&d, "a"), "x-y") && !strcmp(str_at(&d, "lit"), "p${q}") && !strcmp(str_at(&d, "n"), "7"));
    free(text);
    ycfg_free(&c);
    ycfg_free(&d);
}
