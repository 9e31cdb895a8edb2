/*
 * Hashing a byte range of a file on a libuv pool thread, with the OpenSSL
 * that Node itself carries (its EVP functions found with dlsym at first use,
 * so an addon loaded into a Node without them still loads, and says
 * digestAvailable() false): no worker thread, no second JavaScript heap, no
 * copy of the data for a regular file.
 *
 *   digestRanges(fd, spans, algorithm, done, callback, cancel)
 *       hashes each byte range [spans[2i], spans[2i+1]) of fd (a
 *       Float64Array) in one pool job, and calls callback(error, hexes):
 *       the digests in order, up to the range that failed (its index in
 *       error.index). Small neighbouring ranges share one mapping, so a
 *       million 4 KiB ranges cost a few thousand jobs, not a million.
 *       cancel (or null): an Int32Array(1) on a SharedArrayBuffer; once it
 *       is non-zero the job stops within one window (8 MiB mapped, 1 MiB
 *       read) with code ECANCELED. Nothing is written: copying is
 *       range-writer's (one write policy). chain (or absent): a context
 *       from hashBegin, with one span: the span is one step of a longer
 *       range, hashed into that context (so that no job holds a thread
 *       for more than one step of work); finish (a boolean) ends the
 *       hash and gives its digest, else hexes is empty.
 *       A regular file is read through 8 MiB read-only mappings (the page
 *       cache hashed in place); anything else with pread into a buffer.
 *       A mapped page that cannot be read (the file shrank meanwhile, or an
 *       I/O error) raises SIGBUS: a handler returns from it to this job,
 *       which fails with ESHORT (or EIO when the file did not shrink)
 *       instead of the process being killed.
 *       done: a BigInt64Array(1) on a SharedArrayBuffer that receives the
 *       bytes hashed as it goes (or null). Errors: code ESHORT with
 *       `offset` where the file ended early, else the errno name.
 *   digestAvailable(algorithm) -> true when OpenSSL knows the algorithm
 *   (hash-chains.c has hashBegin/hashRun: incremental hashing on the pool)
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "digest.h"
#include "errno-name.h"
#include "evp.h"
#include "hash-chains.h"

struct evp_api evp;

void to_hex(const unsigned char *md, unsigned int n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (unsigned int i = 0; i < n; i++) {
    out[2 * i] = digits[md[i] >> 4];
    out[2 * i + 1] = digits[md[i] & 15];
  }
  out[2 * n] = 0;
}

int load_evp(void) {
  if (evp.tried) return evp.ok;
  evp.tried = 1;
  evp.get_digestbyname = (const EVP_MD *(*)(const char *))dlsym(RTLD_DEFAULT, "EVP_get_digestbyname");
  evp.ctx_new = (EVP_MD_CTX * (*)(void)) dlsym(RTLD_DEFAULT, "EVP_MD_CTX_new");
  evp.ctx_free = (void (*)(EVP_MD_CTX *))dlsym(RTLD_DEFAULT, "EVP_MD_CTX_free");
  evp.init = (int (*)(EVP_MD_CTX *, const EVP_MD *, void *))dlsym(RTLD_DEFAULT, "EVP_DigestInit_ex");
  evp.update = (int (*)(EVP_MD_CTX *, const void *, size_t))dlsym(RTLD_DEFAULT, "EVP_DigestUpdate");
  evp.final = (int (*)(EVP_MD_CTX *, unsigned char *, unsigned int *))dlsym(RTLD_DEFAULT, "EVP_DigestFinal_ex");
  evp.ok = evp.get_digestbyname && evp.ctx_new && evp.ctx_free && evp.init && evp.update && evp.final;
  return evp.ok;
}

#define WINDOW (8u << 20)
#define READ_CHUNK (1u << 20)

/*
 * SIGBUS from a mapped read: a thread hashing a mapping sets bus_jump; the
 * handler jumps back to it. A SIGBUS anywhere else goes to whatever handled
 * it before (by default: the process ends, as it would have).
 */
static __thread sigjmp_buf *bus_jump;
static struct sigaction previous_bus;
static pthread_once_t bus_once = PTHREAD_ONCE_INIT;

static void on_sigbus(int sig, siginfo_t *info, void *context) {
  if (bus_jump != NULL) siglongjmp(*bus_jump, 1);
  if (previous_bus.sa_flags & SA_SIGINFO) {
    previous_bus.sa_sigaction(sig, info, context);
  } else if (previous_bus.sa_handler != SIG_DFL && previous_bus.sa_handler != SIG_IGN) {
    previous_bus.sa_handler(sig);
  } else {
    sigaction(SIGBUS, &previous_bus, NULL); /* returning re-runs the access: the default action */
  }
}

static void install_bus_handler(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigbus;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGBUS, &sa, &previous_bus);
}


typedef struct {
  int fd;
  /* the ranges: [start, end) pairs; the one being hashed is start, end, current */
  const double *spans;
  size_t nspans, current;
  napi_ref spans_ref;
  int64_t start, end;
  /* one mapping reused by neighbouring ranges */
  uint8_t *map;
  int64_t map_base, map_len;
  const EVP_MD *md;
  int64_t *done;
  int32_t *cancel;
  napi_ref done_ref, cancel_ref, callback;
  napi_async_work work;
  /* results */
  int error;            /* errno, or -1: the file ended at short_at */
  const char *failed;   /* the call that failed */
  int64_t short_at;
  /* the digests of ranges [0, current), hex_len characters each */
  char *hexes;
  unsigned hex_len;
  /* a step of a longer range (one span): hashed into this context (hashBegin's), finished only if `finish` */
  hash_ctx *chain;
  int finish;
  napi_ref chain_ref;
} digest_job;

/* The caller gave up: stop before the next window. */
static int cancelled(digest_job *j) {
  if (j->cancel == NULL || __atomic_load_n(j->cancel, __ATOMIC_RELAXED) == 0) return 0;
  j->error = ECANCELED;
  j->failed = "digest";
  return 1;
}

/* A mapped read of [.., stop) failed: short when the file now ends before `stop`, else an I/O error. */
static void mapped_read_failed(digest_job *j, int64_t stop) {
  struct stat st;
  if (fstat(j->fd, &st) == 0 && (int64_t)st.st_size < stop) {
    j->error = -1;
    j->short_at = (int64_t)st.st_size;
  } else {
    j->error = EIO;
    j->failed = "read";
  }
}

/* One window of the mapping hashed; a SIGBUS on the way returns 1 instead of killing the process. */
static int update_guarded(EVP_MD_CTX *ctx, const uint8_t *p, size_t n) {
  sigjmp_buf here;
  if (sigsetjmp(here, 1) != 0) {
    bus_jump = NULL;
    return 1;
  }
  bus_jump = &here;
  evp.update(ctx, p, n);
  bus_jump = NULL;
  return 0;
}

/*
 * The mapping covering [off, ...): the current one when it holds off, else a
 * new window from off's page. A window the range fills is populated at once
 * (no page faults); one that reaches past the range is not, so that the
 * bytes between ranges are never read: the range's own pages are asked for
 * ahead (MADV_WILLNEED), and the next ranges in the window reuse it.
 */
static const uint8_t *window_at(digest_job *j, int64_t off, int64_t size, int64_t *limit) {
  if (j->map == NULL || off < j->map_base || off >= j->map_base + j->map_len) {
    if (j->map != NULL) munmap(j->map, (size_t)j->map_len);
    j->map = NULL;
    long page = sysconf(_SC_PAGESIZE);
    int64_t base = off - off % page;
    int64_t len = size - base < (int64_t)WINDOW ? size - base : (int64_t)WINDOW;
    int filled = j->end >= base + len;
    void *p = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED | (filled ? MAP_POPULATE : 0), j->fd, (off_t)base);
    if (p == MAP_FAILED) {
      j->error = errno;
      j->failed = "mmap";
      return NULL;
    }
    madvise(p, (size_t)len, MADV_SEQUENTIAL);
    j->map = p;
    j->map_base = base;
    j->map_len = len;
  }
  *limit = j->map_base + j->map_len;
  int64_t want = (j->end < *limit ? j->end : *limit) - off;
  if (j->end < *limit) {
    long page = sysconf(_SC_PAGESIZE);
    int64_t from = off - off % page;
    madvise(j->map + (from - j->map_base), (size_t)(want + (off - from)), MADV_WILLNEED);
  }
  return j->map + (off - j->map_base);
}

static int hash_mapped(digest_job *j, EVP_MD_CTX *ctx, int64_t size) {
  pthread_once(&bus_once, install_bus_handler);
  for (int64_t off = j->start; off < j->end;) {
    if (cancelled(j)) return -1;
    if (off >= size) {
      j->error = -1;
      j->short_at = size;
      return -1;
    }
    int64_t limit;
    const uint8_t *p = window_at(j, off, size, &limit);
    if (p == NULL) return -1;
    int64_t stop = j->end < limit ? j->end : limit;
    if (update_guarded(ctx, p, (size_t)(stop - off))) {
      mapped_read_failed(j, stop);
      return -1;
    }
    if (j->done != NULL) __atomic_add_fetch(j->done, stop - off, __ATOMIC_RELAXED);
    off = stop;
  }
  return 0;
}

static int hash_read(digest_job *j, EVP_MD_CTX *ctx) {
  uint8_t *buf = malloc(READ_CHUNK);
  if (buf == NULL) {
    j->error = ENOMEM;
    j->failed = "malloc";
    return -1;
  }
  int rc = 0;
  for (int64_t off = j->start; off < j->end;) {
    if (cancelled(j)) {
      rc = -1;
      break;
    }
    size_t want = j->end - off < (int64_t)READ_CHUNK ? (size_t)(j->end - off) : READ_CHUNK;
    ssize_t got = pread(j->fd, buf, want, (off_t)off);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      j->error = errno;
      j->failed = "read";
      rc = -1;
      break;
    }
    if (got == 0) {
      j->error = -1;
      j->short_at = off;
      rc = -1;
      break;
    }
    evp.update(ctx, buf, (size_t)got);
    if (j->done != NULL) __atomic_add_fetch(j->done, got, __ATOMIC_RELAXED);
    off += got;
  }
  free(buf);
  return rc;
}

static void digest_execute(napi_env env, void *data) {
  (void)env;
  digest_job *j = data;
  EVP_MD_CTX *ctx = j->chain != NULL ? j->chain->ctx : evp.ctx_new();
  if (ctx == NULL) {
    j->error = ENOMEM;
    j->failed = "EVP_MD_CTX_new";
    return;
  }
  struct stat st;
  if (fstat(j->fd, &st) != 0) {
    j->error = errno;
    j->failed = "fstat";
    if (j->chain == NULL) evp.ctx_free(ctx);
    return;
  }
  for (j->current = 0; j->current < j->nspans; j->current++) {
    j->start = (int64_t)j->spans[2 * j->current];
    j->end = (int64_t)j->spans[2 * j->current + 1];
    if (j->chain == NULL && evp.init(ctx, j->md, NULL) != 1) {
      j->error = ENOMEM;
      j->failed = "EVP_DigestInit_ex";
      break;
    }
    int rc = S_ISREG(st.st_mode) ? hash_mapped(j, ctx, (int64_t)st.st_size) : hash_read(j, ctx);
    if (rc != 0) break;
    if (j->chain != NULL && !j->finish) continue; /* more steps of this range follow */
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    evp.final(ctx, md, &n);
    char hex[EVP_MAX_MD_SIZE * 2 + 1];
    to_hex(md, n, hex);
    memcpy(j->hexes + j->current * j->hex_len, hex, j->hex_len);
  }
  if (j->map != NULL) munmap(j->map, (size_t)j->map_len);
  j->map = NULL;
  if (j->chain == NULL) evp.ctx_free(ctx);
}

static void digest_complete(napi_env env, napi_status status, void *data) {
  digest_job *j = data;
  napi_value callback, global, argv[2];
  napi_get_reference_value(env, j->callback, &callback);
  napi_get_global(env, &global);
  napi_get_null(env, &argv[0]);
  napi_get_null(env, &argv[1]);
  if (status != napi_ok && j->error == 0) {
    j->error = ECANCELED;
    j->failed = "digest";
  }
  if (j->error != 0) {
    napi_value code, msg;
    char text[256];
    if (j->error == -1) {
      snprintf(text, sizeof text, "the file ends at byte %lld", (long long)j->short_at);
      napi_create_string_utf8(env, "ESHORT", NAPI_AUTO_LENGTH, &code);
    } else {
      snprintf(text, sizeof text, "%s: %s", j->failed, strerror(j->error));
      napi_create_string_utf8(env, errno_name(j->error), NAPI_AUTO_LENGTH, &code);
    }
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &argv[0]);
    napi_value at;
    napi_create_double(env, (double)j->short_at, &at);
    napi_set_named_property(env, argv[0], "offset", at);
    napi_value index;
    napi_create_double(env, (double)j->current, &index);
    napi_set_named_property(env, argv[0], "index", index);
  }
  /* the digests of the ranges done (all of them, or those before the one that failed; none for a step that does not finish its range) */
  size_t hexes = j->chain != NULL && !j->finish ? 0 : j->current;
  if (j->chain != NULL) j->chain->busy = 0;
  napi_create_array_with_length(env, hexes, &argv[1]);
  for (size_t i = 0; i < hexes; i++) {
    napi_value hex;
    napi_create_string_latin1(env, j->hexes + i * j->hex_len, j->hex_len, &hex);
    napi_set_element(env, argv[1], (uint32_t)i, hex);
  }
  if (j->spans_ref != NULL) napi_delete_reference(env, j->spans_ref);
  if (j->done_ref != NULL) napi_delete_reference(env, j->done_ref);
  if (j->cancel_ref != NULL) napi_delete_reference(env, j->cancel_ref);
  if (j->chain_ref != NULL) napi_delete_reference(env, j->chain_ref);
  napi_delete_reference(env, j->callback);
  napi_delete_async_work(env, j->work);
  free(j->hexes);
  free(j);
  napi_call_function(env, global, callback, 2, argv, NULL);
}

const EVP_MD *digest_named(napi_env env, napi_value v) {
  char name[32];
  size_t len;
  if (!load_evp() || napi_get_value_string_utf8(env, v, name, sizeof name, &len) != napi_ok) return NULL;
  return evp.get_digestbyname(name);
}

/* Bytes of the algorithm's digest (that of no data), 0 if it cannot be made. */
static unsigned digest_size(const EVP_MD *md) {
  EVP_MD_CTX *ctx = evp.ctx_new();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (ctx != NULL && evp.init(ctx, md, NULL) == 1) evp.final(ctx, out, &n);
  if (ctx != NULL) evp.ctx_free(ctx);
  return n;
}

/* Frees a job that was not queued, with its references. */
static void discard_job(napi_env env, digest_job *j) {
  if (j->spans_ref != NULL) napi_delete_reference(env, j->spans_ref);
  if (j->done_ref != NULL) napi_delete_reference(env, j->done_ref);
  if (j->cancel_ref != NULL) napi_delete_reference(env, j->cancel_ref);
  if (j->chain_ref != NULL) napi_delete_reference(env, j->chain_ref);
  if (j->callback != NULL) napi_delete_reference(env, j->callback);
  free(j->hexes);
  free(j);
}

/* A typed array argument of the given type and at least `min` elements, referenced by the job. */
static int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void **data, size_t *length, napi_ref *ref) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, data, NULL, NULL) != napi_ok || type != want || *length < min) return 0;
  return napi_create_reference(env, v, 1, ref) == napi_ok;
}

static napi_value DigestRanges(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  int64_t fd;
  napi_valuetype cb_type = napi_undefined, done_type = napi_undefined, cancel_type = napi_undefined, chain_type = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5 || napi_get_value_int64(env, argv[0], &fd) != napi_ok ||
      napi_typeof(env, argv[3], &done_type) != napi_ok || napi_typeof(env, argv[4], &cb_type) != napi_ok || cb_type != napi_function) {
    napi_throw_type_error(env, "EINVAL", "digestRanges(fd, spans, algorithm, done, callback[, cancel[, chain, finish]])");
    return NULL;
  }
  if (argc >= 6) napi_typeof(env, argv[5], &cancel_type);
  if (argc >= 7) napi_typeof(env, argv[6], &chain_type);
  const EVP_MD *md = digest_named(env, argv[2]);
  if (md == NULL) {
    napi_throw_error(env, "EINVAL", "digestRanges: unknown digest algorithm");
    return NULL;
  }
  digest_job *j = calloc(1, sizeof *j);
  if (j == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  j->fd = (int)fd;
  j->md = md;
  void *p;
  size_t length;
  if (!typed_arg(env, argv[1], napi_float64_array, 0, &p, &length, &j->spans_ref) || length % 2 != 0) {
    discard_job(env, j);
    napi_throw_type_error(env, "EINVAL", "digestRanges: spans must be a Float64Array of [start, end) pairs");
    return NULL;
  }
  j->spans = p;
  j->nspans = length / 2;
  for (size_t i = 0; i < j->nspans; i++) {
    if (!(j->spans[2 * i] >= 0 && j->spans[2 * i + 1] >= j->spans[2 * i])) {
      discard_job(env, j);
      napi_throw_range_error(env, "EINVAL", "digestRanges: a span ends before it starts");
      return NULL;
    }
  }
  j->hex_len = 2 * digest_size(md);
  j->hexes = malloc(j->nspans * j->hex_len + 1);
  if (j->hex_len == 0 || j->hexes == NULL) {
    discard_job(env, j);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if (done_type == napi_object) {
    if (!typed_arg(env, argv[3], napi_bigint64_array, 1, &p, &length, &j->done_ref)) {
      discard_job(env, j);
      napi_throw_type_error(env, "EINVAL", "digestRanges: done must be a BigInt64Array");
      return NULL;
    }
    j->done = p;
  }
  if (cancel_type == napi_object) {
    if (!typed_arg(env, argv[5], napi_int32_array, 1, &p, &length, &j->cancel_ref)) {
      discard_job(env, j);
      napi_throw_type_error(env, "EINVAL", "digestRanges: cancel must be an Int32Array");
      return NULL;
    }
    j->cancel = p;
  }
  if (chain_type == napi_external) {
    bool finish = false;
    if (j->nspans != 1 || napi_get_value_external(env, argv[6], (void **)&j->chain) != napi_ok || j->chain == NULL || argc < 8 ||
        napi_get_value_bool(env, argv[7], &finish) != napi_ok) {
      j->chain = NULL;
      discard_job(env, j);
      napi_throw_type_error(env, "EINVAL", "digestRanges: a step takes one span, a context from hashBegin and finish (a boolean)");
      return NULL;
    }
    if (j->chain->busy) {
      j->chain = NULL;
      discard_job(env, j);
      napi_throw_error(env, "EINVAL", "digestRanges: the context is already in a running job");
      return NULL;
    }
    j->finish = finish;
    napi_create_reference(env, argv[6], 1, &j->chain_ref);
  }
  napi_create_reference(env, argv[4], 1, &j->callback);
  napi_value name;
  napi_create_string_utf8(env, "bmapkit:digest", NAPI_AUTO_LENGTH, &name);
  if (napi_create_async_work(env, NULL, name, digest_execute, digest_complete, j, &j->work) != napi_ok || napi_queue_async_work(env, j->work) != napi_ok) {
    discard_job(env, j);
    napi_throw_error(env, "ENOMEM", "cannot queue the digest job");
    return NULL;
  }
  if (j->chain != NULL) j->chain->busy = 1;
  return NULL;
}

static napi_value DigestAvailable(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  napi_get_boolean(env, argc >= 1 && digest_named(env, argv[0]) != NULL, &result);
  return result;
}

void digest_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"digestRanges", NULL, DigestRanges, NULL, NULL, NULL, napi_enumerable, NULL},
    {"digestAvailable", NULL, DigestAvailable, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
