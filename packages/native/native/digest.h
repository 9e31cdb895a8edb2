/* Hashing file ranges on the libuv pool with Node's OpenSSL (digest.c). */
#ifndef BMAPKIT_DIGEST_H
#define BMAPKIT_DIGEST_H
#include <node_api.h>
void digest_register(napi_env env, napi_value exports);
#endif
