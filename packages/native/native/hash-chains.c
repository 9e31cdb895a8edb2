/*
 * Hash chains fed in place on a libuv pool thread, with the OpenSSL inside
 * Node (evp.h): the verifier's NativeHashPool.
 *
 *   hashBegin(algorithm)         -> a hash context (freed by the GC)
 *   hashRun(items, callback)     hashes on a pool thread, in order, each
 *       item [context, Uint8Array] (an update) or [context, null] (the end:
 *       its hex digest is produced); calls callback(error, hexes) with the
 *       digests of the ended contexts in item order. The bytes must not
 *       change until the callback (they are not copied), and a context must
 *       not be in two runs at once.
 */
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include "evp.h"
#include "hash-chains.h"

static void finalize_hash(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  hash_ctx *h = data;
  if (h->ctx != NULL) evp.ctx_free(h->ctx);
  free(h);
}

static napi_value HashBegin(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  const EVP_MD *md = argc >= 1 ? digest_named(env, argv[0]) : NULL;
  if (md == NULL) {
    napi_throw_error(env, "EINVAL", "hashBegin: unknown digest algorithm");
    return NULL;
  }
  hash_ctx *h = calloc(1, sizeof *h);
  if (h == NULL || (h->ctx = evp.ctx_new()) == NULL || evp.init(h->ctx, md, NULL) != 1) {
    if (h != NULL && h->ctx != NULL) evp.ctx_free(h->ctx);
    free(h);
    napi_throw_error(env, "ENOMEM", "hashBegin: cannot start the hash");
    return NULL;
  }
  napi_create_external(env, h, finalize_hash, NULL, &result);
  return result;
}

typedef struct {
  hash_ctx *h;
  const uint8_t *data; /* NULL: the end */
  size_t length;
  char hex[EVP_MAX_MD_SIZE * 2 + 1];
} hash_item;

typedef struct {
  size_t count;
  hash_item *items;
  napi_ref items_ref, callback;
  napi_async_work work;
} hash_job;

static void hash_execute(napi_env env, void *data) {
  (void)env;
  hash_job *j = data;
  for (size_t i = 0; i < j->count; i++) {
    hash_item *it = &j->items[i];
    if (it->data != NULL) {
      evp.update(it->h->ctx, it->data, it->length);
    } else {
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int n = 0;
      evp.final(it->h->ctx, md, &n);
      to_hex(md, n, it->hex);
    }
  }
}

static void hash_complete(napi_env env, napi_status status, void *data) {
  hash_job *j = data;
  napi_value callback, global, argv[2];
  napi_get_reference_value(env, j->callback, &callback);
  napi_get_global(env, &global);
  napi_get_null(env, &argv[0]);
  napi_create_array(env, &argv[1]);
  uint32_t k = 0;
  for (size_t i = 0; i < j->count; i++) {
    j->items[i].h->busy = 0;
    if (j->items[i].data == NULL) {
      napi_value hex;
      napi_create_string_utf8(env, j->items[i].hex, NAPI_AUTO_LENGTH, &hex);
      napi_set_element(env, argv[1], k++, hex);
    }
  }
  if (status != napi_ok) {
    napi_value code, msg;
    napi_create_string_utf8(env, "ECANCELED", NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, "the hashing job was cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &argv[0]);
  }
  napi_delete_reference(env, j->items_ref);
  napi_delete_reference(env, j->callback);
  napi_delete_async_work(env, j->work);
  free(j->items);
  free(j);
  napi_call_function(env, global, callback, 2, argv, NULL);
}

static napi_value HashRun(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool is_array;
  uint32_t count;
  napi_valuetype cb_type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array ||
      napi_get_array_length(env, argv[0], &count) != napi_ok || napi_typeof(env, argv[1], &cb_type) != napi_ok || cb_type != napi_function) {
    napi_throw_type_error(env, "EINVAL", "hashRun(items, callback)");
    return NULL;
  }
  hash_job *j = calloc(1, sizeof *j);
  hash_item *items = calloc(count == 0 ? 1 : count, sizeof *items);
  if (j == NULL || items == NULL) {
    free(j);
    free(items);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  j->items = items;
  j->count = count;
  for (uint32_t i = 0; i < count; i++) {
    napi_value item, ctx, bytes;
    napi_valuetype t;
    hash_ctx *h;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok || napi_get_element(env, item, 0, &ctx) != napi_ok ||
        napi_get_value_external(env, ctx, (void **)&h) != napi_ok || napi_get_element(env, item, 1, &bytes) != napi_ok ||
        napi_typeof(env, bytes, &t) != napi_ok) {
      free(items);
      free(j);
      napi_throw_type_error(env, "EINVAL", "hashRun: each item is [context, Uint8Array | null]");
      return NULL;
    }
    items[i].h = h;
    if (t != napi_null) {
      napi_typedarray_type type;
      void *p;
      if (napi_get_typedarray_info(env, bytes, &type, &items[i].length, &p, NULL, NULL) != napi_ok || type != napi_uint8_array) {
        free(items);
        free(j);
        napi_throw_type_error(env, "EINVAL", "hashRun: bytes must be a Uint8Array");
        return NULL;
      }
      items[i].data = p != NULL ? p : (const uint8_t *)"";
    }
  }
  for (uint32_t i = 0; i < count; i++) {
    if (items[i].h->busy) {
      free(items);
      free(j);
      napi_throw_error(env, "EINVAL", "hashRun: a context is already in a running job");
      return NULL;
    }
  }
  for (uint32_t i = 0; i < count; i++) items[i].h->busy = 1;
  napi_create_reference(env, argv[0], 1, &j->items_ref);
  napi_create_reference(env, argv[1], 1, &j->callback);
  napi_value name;
  napi_create_string_utf8(env, "bmapkit:hash", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, hash_execute, hash_complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    for (uint32_t i = 0; i < count; i++) items[i].h->busy = 0;
    napi_delete_reference(env, j->items_ref);
    napi_delete_reference(env, j->callback);
    free(items);
    free(j);
    napi_throw_error(env, "ENOMEM", "cannot queue the hashing job");
  }
  return NULL;
}

void chains_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"hashBegin", NULL, HashBegin, NULL, NULL, NULL, napi_enumerable, NULL},
    {"hashRun", NULL, HashRun, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
