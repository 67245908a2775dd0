/* commands.h — the `olmo` subcommands. Each lives in its own src/cli/cmd_<name>.c, parses its flags,
 * calls the library and returns the process exit status. main.c dispatches by name. */
#ifndef OLMO_CLI_COMMANDS_H
#define OLMO_CLI_COMMANDS_H

struct olmo_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);   /* argv[0] is the subcommand name */
};

int cmd_tokenizer(int argc, char **argv);
int cmd_tokenizer_train(int argc, char **argv);   /* `olmo tokenizer train`, called by cmd_tokenizer */
int cmd_generate(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_inspect(int argc, char **argv);           /* `olmo inspect batch CONFIG --step N` */
int cmd_perplexity(int argc, char **argv);
int cmd_data(int argc, char **argv);              /* `olmo data <subcommand>`: table in cmd_data.c */
int cmd_data_from_text(int argc, char **argv);    /* `olmo data from-text` */
int cmd_data_tag(int argc, char **argv);          /* `olmo data tag` */
int cmd_data_list_taggers(int argc, char **argv); /* `olmo data list-taggers` */
int cmd_data_stats(int argc, char **argv);        /* `olmo data stats` */
int cmd_data_dedup(int argc, char **argv);        /* `olmo data dedup` (src/data/dedup.h) */
int cmd_data_mix(int argc, char **argv);          /* `olmo data mix` (src/data/mix.h) */
int cmd_data_tokens(int argc, char **argv);       /* `olmo data tokens` (src/data/tokens.h) */
int cmd_eval(int argc, char **argv);              /* `olmo eval ppl|tasks` (cmd_eval.c) */
int cmd_serve(int argc, char **argv);             /* `olmo serve`: OpenAI-compatible HTTP server */
int cmd_quantize(int argc, char **argv);          /* `olmo quantize -m DIR -o OUT --quant q8|q4` */
int cmd_data_index(int argc, char **argv);        /* `olmo data index`: suffix-array index (src/index/) */
int cmd_data_count(int argc, char **argv);
int cmd_data_search(int argc, char **argv);
int cmd_data_ngram(int argc, char **argv);
int cmd_trace(int argc, char **argv);             /* `olmo trace`: OLMoTrace spans of a text in an index */
int cmd_export(int argc, char **argv);            /* `olmo export gguf -m DIR -o FILE [--type T]` */

/* Prints the library's last error as "olmo <cmd>: <message>" and returns exit status 1. */
int cli_fail(const char *cmd);

#endif
