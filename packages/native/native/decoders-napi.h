/* The N-API side of the decoders (decoders-napi.c, decoder-thread.c). */
#ifndef BMAPKIT_DECODERS_NAPI_H
#define BMAPKIT_DECODERS_NAPI_H
#include <node_api.h>
#include "decoders-internal.h"

/* Throws an Error with this code; returns NULL (decoders-napi.c). */
napi_value throw_code(napi_env env, const char *code, const char *msg);

/* decoder-thread.c: stops a decoder's thread (if any) and frees what it held. */
void decoder_thread_stop(napi_env env, decoder *d);
void decoder_thread_register(napi_env env, napi_value exports);
#endif
