/* Hash chains on the libuv pool (hash-chains.c), registered on the addon's exports. */
#ifndef BMAPKIT_HASH_CHAINS_H
#define BMAPKIT_HASH_CHAINS_H
#include <node_api.h>
#include "evp.h"
/* A hash context as JS holds it (hashBegin's external). busy: in a running job (hashRun, or a digestRanges step). */
typedef struct {
  EVP_MD_CTX *ctx;
  int busy;
} hash_ctx;
void chains_register(napi_env env, napi_value exports);
#endif
