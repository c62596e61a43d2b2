/*
 * tunables.c — the list of every tunable the library declares; each
 * declaration lives beside the code that uses it.
 */
#include "seqk_config.h"
#include "tune.h"

const seqk_tunable *const seqk_tunables[] = {
    NULL
};
