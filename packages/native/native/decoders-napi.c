/*
 * The decoders on the addon's exports (decoders.c does the decoding):
 *   decoderOpen(kind, threads)   -> handle ("zstd", "xz" or "gzip"); throws ENOLIB
 *       when the library cannot be loaded
 *   decoderClose(handle)         frees the decoder, stopping its thread
 *       (also done by the GC)
 */
#include <node_api.h>
#include <stdlib.h>
#include <string.h>
#include "decoders.h"
#include "decoders-internal.h"
#include "decoders-napi.h"

static void close_decoder(napi_env env, decoder *d) {
  decoder_thread_stop(env, d);
  decoder_release(d);
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  decoder *d = data;
  close_decoder(env, d);
  free(d);
}

napi_value throw_code(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static napi_value DecoderOpen(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  char kind[8];
  size_t len;
  uint32_t threads = 1;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_string_utf8(env, argv[0], kind, sizeof kind, &len) != napi_ok || napi_get_value_uint32(env, argv[1], &threads) != napi_ok)
    return throw_code(env, "EINVAL", "decoderOpen(kind, threads)");
  decoder *d = calloc(1, sizeof *d);
  if (d == NULL) return throw_code(env, "ENOMEM", "out of memory");
  const char *code, *msg;
  if (decoder_init(d, kind, threads, &code, &msg) != 0) {
    free(d);
    return throw_code(env, code, msg);
  }
  napi_value handle;
  if (napi_create_external(env, d, finalize, NULL, &handle) != napi_ok) {
    close_decoder(env, d);
    free(d);
    return throw_code(env, "ENOMEM", "napi_create_external failed");
  }
  return handle;
}

static napi_value DecoderClose(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  decoder *d;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], (void **)&d) != napi_ok)
    return throw_code(env, "EINVAL", "decoderClose(handle)");
  close_decoder(env, d);
  return NULL;
}

void decoders_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"decoderOpen", NULL, DecoderOpen, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decoderClose", NULL, DecoderClose, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  decoder_thread_register(env, exports);
}
