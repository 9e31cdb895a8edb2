/* In-process zstd, xz and gzip decoding (decoders.c), registered on the addon's exports. */
#ifndef BMAPKIT_DECODERS_H
#define BMAPKIT_DECODERS_H
#include <node_api.h>
void decoders_register(napi_env env, napi_value exports);
#endif
