/* test_hf_config.c — config.json ↔ struct olmo_config, tokenizer_config.json, generation_config.json. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "formats/hf_config.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int parse_str(struct olmo_config *c, const char *s) { return hf_config_parse(c, s, strlen(s), "config.json"); }

#define BASE "\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":100"

TEST(cfg_three_architectures) {
    struct olmo_config c;
    CHECK_MSG(parse_str(&c, "{\"model_type\":\"olmo\"," BASE ",\"clip_qkv\":8.0,\"tie_word_embeddings\":true,\"eos_token_id\":50279,\"pad_token_id\":1,\"bos_token_id\":null}") == 0, "%s", olmo_errmsg());
    CHECK(c.arch == ARCH_OLMO1 && c.norm_type == NORM_LAYERNORM_NOAFFINE && !c.norm_after && !c.qk_norm);
    CHECK(c.head_dim == 16 && c.n_kv_heads == 4 && c.clip_qkv == 8.0f && c.tie_embeddings && c.norm_eps == 1e-5f);
    CHECK(c.eos_token_id == 50279 && c.pad_token_id == 1 && c.bos_token_id == -1 && c.rope_theta == 10000.0f);
    CHECK(parse_str(&c, "{\"model_type\":\"olmo2\"," BASE ",\"num_key_value_heads\":2,\"rms_norm_eps\":1e-6,\"rope_theta\":500000}") == 0);
    CHECK(c.arch == ARCH_OLMO2 && c.norm_type == NORM_RMSNORM && c.norm_after && c.qk_norm && c.n_kv_heads == 2);
    CHECK(c.norm_eps == 1e-6f && c.rope_theta == 500000.0f && c.clip_qkv == 0 && !c.tie_embeddings);
    CHECK(parse_str(&c, "{\"model_type\":\"llama\"," BASE ",\"head_dim\":32,\"rope_scaling\":null}") == 0);
    CHECK(c.arch == ARCH_LLAMA && !c.norm_after && !c.qk_norm && c.head_dim == 32 && c.norm_eps == 1e-6f);
    /* a list-valued eos (newer configs) uses the first id */
    CHECK(parse_str(&c, "{\"model_type\":\"olmo2\"," BASE ",\"eos_token_id\":[100265,100257]}") == 0 && c.eos_token_id == 100265);
}

#define EXPECT_CFG_ERR(json, needle)                                                                    \
    do {                                                                                                \
        struct olmo_config c_;                                                                          \
        CHECK_MSG(parse_str(&c_, json) == -1, "accepted: %s", json);                                    \
        CHECK_MSG(strstr(olmo_errmsg(), needle), "%s: got '%s', wanted '%s'", json, olmo_errmsg(), needle); \
    } while (0)

TEST(cfg_bad_input) {
    EXPECT_CFG_ERR("{\"model_type\":\"gemma\"," BASE "}", "not supported");
    EXPECT_CFG_ERR("{\"model_type\":\"gpt2\"," BASE "}", "\"gpt2\" is not supported");
    EXPECT_CFG_ERR("{" BASE "}", "model_type");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\",\"hidden_size\":64}", "intermediate_size");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"num_key_value_heads\":3}", "multiple of num_key_value_heads");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\",\"hidden_size\":66,\"intermediate_size\":1,\"num_hidden_layers\":1,\"num_attention_heads\":4,\"vocab_size\":9}", "not divisible");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"rms_norm_eps\":\"small\"}", "rms_norm_eps");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"rms_norm_eps\":-1}", "outside");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\",\"hidden_size\":-64,\"intermediate_size\":1,\"num_hidden_layers\":1,\"num_attention_heads\":4,\"vocab_size\":9}", "hidden_size");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":8}}", "yarn");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"attention_bias\":true}", "bias");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"hidden_act\":\"gelu\"}", "silu");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"eos_token_id\":-5}", "eos_token_id");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE ",\"hidden_size\":64}", "duplicate");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\"," BASE, "line 1");
    EXPECT_CFG_ERR("[]", "JSON object");
    EXPECT_CFG_ERR("{\"model_type\":\"olmo2\",\"hidden_size\":64,\"intermediate_size\":1,\"num_hidden_layers\":1,\"num_attention_heads\":4.5,\"vocab_size\":9}", "num_attention_heads\" must be an integer");
}

/* Our writer's output parses back to the same struct and carries the keys transformers' config classes write. */
TEST(cfg_write_round_trip) {
    const char *fixtures[] = {"olmo1_f32_tied_clip", "olmo2_f32_gqa", "llama_f32_gqa"};
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "tests/fixtures/model/%s/config.json", fixtures[i]);
        struct olmo_config a, b;
        CHECK_MSG(hf_config_load(&a, path) == 0, "%s", olmo_errmsg());
        char *out = olmo_path_join(th_tmpdir(), "config.json");
        CHECK(hf_config_write(&a, "float32", out) == 0);
        CHECK_MSG(hf_config_load(&b, out) == 0, "%s", olmo_errmsg());
        CHECK(!memcmp(&a, &b, sizeof a));
        /* same key set as the reference-script config (which follows transformers' to_dict) */
        json_t *mine = json_load_file(out, 0, NULL), *ref = json_load_file(path, 0, NULL);
        const char *k;
        json_t *v;
        int same = json_object_size(mine) == json_object_size(ref);
        json_object_foreach(ref, k, v) {
            json_t *w = json_object_get(mine, k);
            if (!w || (!json_is_number(v) && !json_equal(v, w)) ||
                (json_is_number(v) && fabs(json_number_value(v) - json_number_value(w)) > 1e-12 * fabs(json_number_value(v))))
                same = 0;
        }
        json_decref(mine);
        json_decref(ref);
        free(out);
        CHECK_MSG(same, "%s: written config.json differs from the HF-layout reference", fixtures[i]);
    }
}

TEST(cfg_tokenizer_config) {
    struct hf_tokenizer_config tc;
    const char *j = "{\"bos_token\":{\"content\":\"<s>\",\"lstrip\":false},\"eos_token\":\"<|endoftext|>\","
                    "\"add_bos_token\":true,\"chat_template\":\"{{ bos_token }}\"}";
    CHECK(hf_tokenizer_config_parse(&tc, j, strlen(j), "t") == 0);
    CHECK(!strcmp(tc.bos_token, "<s>") && !strcmp(tc.eos_token, "<|endoftext|>") && tc.add_bos_token && !tc.add_eos_token);
    CHECK(!strcmp(tc.chat_template, "{{ bos_token }}"));
    hf_tokenizer_config_free(&tc);
    j = "{\"chat_template\":[{\"name\":\"tool_use\",\"template\":\"x\"},{\"name\":\"default\",\"template\":\"y\"}]}";
    CHECK(hf_tokenizer_config_parse(&tc, j, strlen(j), "t") == 0 && !strcmp(tc.chat_template, "y") && !tc.bos_token);
    hf_tokenizer_config_free(&tc);
    j = "{\"chat_template\":5}";
    CHECK(hf_tokenizer_config_parse(&tc, j, strlen(j), "t") == -1 && strstr(olmo_errmsg(), "chat_template"));
    j = "{\"eos_token\":[1]}";
    CHECK(hf_tokenizer_config_parse(&tc, j, strlen(j), "t") == -1 && strstr(olmo_errmsg(), "eos_token"));
    /* chat_template.jinja beside tokenizer_config.json wins */
    const char *dir = th_tmpdir();
    char *p = olmo_path_join(dir, "tokenizer_config.json"), *q = olmo_path_join(dir, "chat_template.jinja");
    olmo_write_file_atomic(p, "{\"chat_template\":\"old\"}", 23);
    olmo_write_file_atomic(q, "new", 3);
    CHECK(hf_tokenizer_config_load(&tc, dir) == 0 && !strcmp(tc.chat_template, "new"));
    hf_tokenizer_config_free(&tc);
    free(p);
    free(q);
}

TEST(cfg_generation_config) {
    struct hf_generation_config g;
    const char *j = "{\"eos_token_id\":[100265,100257],\"temperature\":0.6,\"top_p\":0.95,\"do_sample\":true,\"max_new_tokens\":32}";
    CHECK(hf_generation_config_parse(&g, j, strlen(j), "g") == 0);
    CHECK(g.n_eos == 2 && g.eos_token_ids[0] == 100265 && g.eos_token_ids[1] == 100257 && g.bos_token_id == -1);
    CHECK(g.has_temperature && g.has_top_p && !g.has_top_k && g.do_sample && g.max_new_tokens == 32);
    CHECK_NEAR(g.temperature, 0.6, 1e-6);
    j = "{\"eos_token_id\":50279}";
    CHECK(hf_generation_config_parse(&g, j, strlen(j), "g") == 0 && g.n_eos == 1 && g.eos_token_ids[0] == 50279);
    j = "{\"eos_token_id\":[1,\"x\"]}";
    CHECK(hf_generation_config_parse(&g, j, strlen(j), "g") == -1 && strstr(olmo_errmsg(), "eos_token_id"));
    j = "{\"top_p\":2}";
    CHECK(hf_generation_config_parse(&g, j, strlen(j), "g") == -1 && strstr(olmo_errmsg(), "top_p"));
    CHECK(hf_generation_config_load(&g, th_tmpdir()) == 0 && g.n_eos == 0);
}

/* The three parsers share one loader: a document that is valid JSON but not an object, or not JSON, is refused. */
TEST(cfg_not_an_object) {
    struct olmo_config c;
    struct hf_tokenizer_config tc;
    struct hf_generation_config g;
    const char *arr = "[1]", *bad = "{\"a\":";
    CHECK(hf_config_parse(&c, arr, strlen(arr), "c") == -1 && strstr(olmo_errmsg(), "c: expected a JSON object"));
    CHECK(hf_tokenizer_config_parse(&tc, arr, strlen(arr), "t") == -1 && strstr(olmo_errmsg(), "t: expected a JSON object"));
    CHECK(hf_generation_config_parse(&g, arr, strlen(arr), "g") == -1 && strstr(olmo_errmsg(), "g: expected a JSON object"));
    CHECK(hf_config_parse(&c, bad, strlen(bad), "c") == -1 && strstr(olmo_errmsg(), "c: line 1"));
    CHECK(hf_tokenizer_config_parse(&tc, bad, strlen(bad), "t") == -1 && strstr(olmo_errmsg(), "t: line 1"));
    CHECK(hf_generation_config_parse(&g, bad, strlen(bad), "g") == -1 && strstr(olmo_errmsg(), "g: line 1"));
}
