/* Hash chains on the libuv pool (hash-chains.c), registered on the addon's exports. */
#ifndef BMAPKIT_HASH_CHAINS_H
#define BMAPKIT_HASH_CHAINS_H
#include <node_api.h>
void chains_register(napi_env env, napi_value exports);
#endif
