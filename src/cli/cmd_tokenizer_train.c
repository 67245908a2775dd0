/* cmd_tokenizer_train.c — `olmo tokenizer train` (implementation in progress). */
#include "cli/commands.h"
#include "base/error.h"

int cmd_tokenizer_train(int argc, char **argv) {
    (void)argc; (void)argv;
    olmo_err("not built yet");
    return cli_fail("tokenizer train");
}
