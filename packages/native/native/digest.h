/* Hashing file ranges on the libuv pool with Node's OpenSSL (digest.c). */
#ifndef BMAPKIT_DIGEST_H
#define BMAPKIT_DIGEST_H
#include <node_api.h>
void digest_register(napi_env env, napi_value exports);
/* The errno's name ("EIO"), as Node's error codes (bmapkit.c). */
const char *errno_name(int e);
#endif
