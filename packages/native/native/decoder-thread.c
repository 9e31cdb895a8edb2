/*
 * A decoder on its own thread: it decodes batch after batch without waiting
 * for the event loop between them, and stops only when its input runs out
 * or enough of its output waits unconsumed. (One libuv job per batch, the
 * decoderRun this replaced, left the decoder idle until the main thread had
 * finished whatever it was hashing: 0.6-0.7 s of 2.3 s in the bench .zst
 * copy.)
 *
 *   decoderStart(handle, piece, batch, ahead, zeroAhead, skipLimit, onOutput[, fd])
 *       starts the thread. With fd (a regular file open for reading), the
 *       thread reads the compressed data itself, from offset 0 to the end,
 *       and nothing is fed: no chunk passes through the event loop.
 *       onOutput(events) is called on the main thread with the batches
 *       decoded since the last call, each
 *       {data, length, zero, skipped, consumed, done, error}: data is the
 *       batch (its own memory, freed by the GC) or null when it was all
 *       zeros; zero[i] says piece i is all zeros; skipped = leading zero
 *       bytes not in the batch (see decode_batch); consumed = 1 when the
 *       oldest fed chunk was used up; done = 1 at the end of the data, 2
 *       when the input ended inside it (cut off); error = an Error (code
 *       EDATA, ETRUNC, ENOMEM, or an errno name when reading fd fails) after
 *       which nothing more comes.
 *   decoderFeed(handle, chunk | null)   queues input (null: no more comes);
 *       the chunk must not change until its event says consumed.
 *   decoderAck(handle, dataBytes, zeroBytes)   output taken downstream; the
 *       thread waits while more than `ahead` data bytes (or `zeroAhead`
 *       zero bytes) are out and not acknowledged.
 *   decoderHold(handle, wait)   wait = true while the main thread waits
 *       for output: only then does the decoder keep the event loop alive
 *       (an abandoned decoder must not keep the process from exiting).
 *   decoderClose(handle) stops the thread (decoders.c calls
 *       decoder_thread_stop).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <pthread.h>
#include <errno.h>
#include <stdbool.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "decoders-internal.h"
#include "decoders-napi.h"
#include "errno-name.h"

#define IN_MAX 16
/* Reads of the compressed file, when the thread reads it itself. */
#define READ_SIZE (1u << 20)

typedef struct event {
  struct event *next;
  uint8_t *buf; /* the batch, when it holds data */
  size_t len, npieces, skipped;
  napi_ref consumed; /* the fed chunk used up with this batch */
  int done;
  const char *error_code, *error;
  uint8_t zero[];
} event;

typedef struct {
  uint8_t *p;
  size_t len;
  napi_ref ref;
} input;

struct decoder_thread {
  decoder *d;
  size_t piece, batch, ahead, zero_ahead, skip_limit;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  input in[IN_MAX];
  int in_head, in_count, in_end;
  size_t in_pos, data_out, zero_out;
  int fd; /* -1: input is fed */
  uint8_t *rbuf;
  int64_t roff;
  event *head, *tail;
  event *reserve; /* set aside at start: reports running out of memory */
  int stop, joined;
  napi_threadsafe_function tsfn;
};

static uint8_t no_input[1];

/* Hands an event to the main thread. */
static void post(decoder_thread *t, event *e) {
  pthread_mutex_lock(&t->mu);
  if (t->tail != NULL) t->tail->next = e;
  else t->head = e;
  t->tail = e;
  pthread_mutex_unlock(&t->mu);
  napi_call_threadsafe_function(t->tsfn, NULL, napi_tsfn_nonblocking);
}

/*
 * No memory for an event: the one set aside at start carries the error, so
 * that the main thread hears of it instead of waiting forever. The thread
 * stops after it.
 */
static void post_no_memory(decoder_thread *t, const char *what) {
  event *e = t->reserve;
  t->reserve = NULL;
  if (e == NULL) return;
  e->error_code = "ENOMEM";
  e->error = what;
  post(t, e);
}

/*
 * Reading the file itself: once the current read is used up, the next one
 * (or the end of input). Returns -1 after posting a read error.
 */
static int read_more(decoder_thread *t) {
  if (t->in_count > 0 || t->in_end) return 0;
  ssize_t n;
  do n = pread(t->fd, t->rbuf, READ_SIZE, (off_t)t->roff);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    event *e = calloc(1, sizeof *e);
    if (e == NULL) {
      post_no_memory(t, "out of memory reporting a read error");
      return -1;
    }
    errno = err;
    e->error_code = errno_name(errno);
    e->error = strerror(errno);
    post(t, e);
    return -1;
  }
  pthread_mutex_lock(&t->mu);
  if (n == 0) t->in_end = 1;
  else t->in[(t->in_head + t->in_count++) % IN_MAX] = (input){t->rbuf, (size_t)n, NULL};
  t->roff += n;
  pthread_mutex_unlock(&t->mu);
  return 0;
}

/* The thread: decode while there is input and room ahead; hand each batch to the main thread. */
static void *thread_main(void *arg) {
  decoder_thread *t = arg;
  pthread_setname_np(pthread_self(), "bmapkit-decode"); /* as top and ps show it */
  size_t npieces = (t->batch + t->piece - 1) / t->piece;
  uint8_t *out = NULL;
  for (;;) {
    if (t->fd >= 0 && read_more(t) != 0) break;
    pthread_mutex_lock(&t->mu);
    while (!t->stop && ((t->in_count == 0 && !t->in_end) || t->data_out >= t->ahead || t->zero_out >= t->zero_ahead)) pthread_cond_wait(&t->cv, &t->mu);
    int stop = t->stop;
    int have = t->in_count > 0;
    input cur = have ? t->in[t->in_head] : (input){no_input, 0, NULL};
    size_t in_pos = t->in_pos;
    pthread_mutex_unlock(&t->mu);
    if (stop) break;

    event *e = calloc(1, sizeof *e + npieces);
    if (out == NULL) out = malloc(t->batch);
    if (e != NULL && out == NULL) {
      e->error_code = "ENOMEM";
      e->error = "out of memory for decoded data";
    } else if (e != NULL) {
      batch b = {.d = t->d, .in = cur.p, .in_len = cur.len, .in_pos = in_pos, .out = out, .out_len = t->batch,
                 .piece = t->piece, .zero = e->zero, .finish = !have, .skip_limit = t->skip_limit};
      decode_batch(&b);
      e->len = b.out_pos;
      e->npieces = (b.out_pos + t->piece - 1) / t->piece;
      e->skipped = b.skipped;
      in_pos = b.in_pos;
      if (b.error != NULL) {
        e->error_code = b.error_code;
        e->error = b.error;
      } else if (b.ended) {
        e->done = 1;
      } else if (!b.progress) {
        if (have) {
          e->error_code = "EDATA";
          e->error = "the decoder made no progress";
        } else {
          e->done = t->d->last_end ? 1 : 2; /* all input given, nothing more out: the end only if the last frame ended */
        }
      }
    }
    if (e == NULL) {
      post_no_memory(t, "out of memory for decoded data");
      break;
    }

    size_t data = 0, zeros = e->skipped;
    for (size_t i = 0; i < e->npieces; i++) {
      size_t n = i + 1 < e->npieces ? t->piece : e->len - i * t->piece;
      if (e->zero[i]) zeros += n;
      else data += n;
    }
    if (data > 0) {
      e->buf = out; /* handed on; the next batch gets fresh memory */
      out = NULL;
    }
    int last = e->done != 0 || e->error != NULL;
    pthread_mutex_lock(&t->mu);
    if (have && in_pos >= cur.len) {
      e->consumed = cur.ref;
      t->in_head = (t->in_head + 1) % IN_MAX;
      t->in_count--;
      t->in_pos = 0;
    } else {
      t->in_pos = in_pos;
    }
    t->data_out += data;
    t->zero_out += zeros;
    pthread_mutex_unlock(&t->mu);
    post(t, e);
    if (last) break;
  }
  free(out);
  return NULL;
}

/* The GC frees a batch; V8 is told of its size both ways, so garbage batches are collected as soon as Buffers would be. */
static void free_batch(napi_env env, void *data, void *hint) {
  int64_t ignored;
  napi_adjust_external_memory(env, -(int64_t)(uintptr_t)hint, &ignored);
  free(data);
}

static napi_value event_object(napi_env env, event *e) {
  napi_value o, v;
  napi_create_object(env, &o);
  if (e->buf != NULL) {
    napi_value ab;
    int64_t ignored;
    if (napi_create_external_arraybuffer(env, e->buf, e->len, free_batch, (void *)(uintptr_t)e->len, &ab) != napi_ok) {
      free(e->buf); /* not handed over: the event becomes an error */
      e->error_code = "ENOMEM";
      e->error = "cannot hand decoded data over";
      napi_get_null(env, &v);
    } else {
      napi_adjust_external_memory(env, (int64_t)e->len, &ignored);
      napi_create_typedarray(env, napi_uint8_array, e->len, ab, 0, &v);
    }
    e->buf = NULL;
  } else {
    napi_get_null(env, &v);
  }
  napi_set_named_property(env, o, "data", v);
  napi_create_double(env, (double)e->len, &v);
  napi_set_named_property(env, o, "length", v);
  void *flags;
  napi_value ab;
  napi_create_arraybuffer(env, e->npieces, &flags, &ab);
  if (e->npieces > 0) memcpy(flags, e->zero, e->npieces);
  napi_create_typedarray(env, napi_uint8_array, e->npieces, ab, 0, &v);
  napi_set_named_property(env, o, "zero", v);
  napi_create_double(env, (double)e->skipped, &v);
  napi_set_named_property(env, o, "skipped", v);
  napi_create_uint32(env, e->consumed != NULL, &v);
  napi_set_named_property(env, o, "consumed", v);
  napi_create_uint32(env, (uint32_t)e->done, &v);
  napi_set_named_property(env, o, "done", v);
  if (e->error != NULL) {
    napi_value code, msg;
    napi_create_string_utf8(env, e->error_code, NAPI_AUTO_LENGTH, &code);
    napi_create_string_utf8(env, e->error, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, code, msg, &v);
  } else {
    napi_get_null(env, &v);
  }
  napi_set_named_property(env, o, "error", v);
  return o;
}

/* On the main thread: everything decoded since the last call, as one array. */
static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)data;
  decoder_thread *t = context;
  if (env == NULL || t->stop) return;
  pthread_mutex_lock(&t->mu);
  event *e = t->head;
  t->head = t->tail = NULL;
  pthread_mutex_unlock(&t->mu);
  if (e == NULL) return; /* taken by an earlier call */
  napi_value list, global;
  napi_create_array(env, &list);
  for (uint32_t i = 0; e != NULL; i++) {
    event *next = e->next;
    if (e->consumed != NULL) napi_delete_reference(env, e->consumed);
    napi_set_element(env, list, i, event_object(env, e));
    free(e);
    e = next;
  }
  napi_get_global(env, &global);
  napi_call_function(env, global, callback, 1, &list, NULL);
}

/* Frees the batches not handed over yet; with env (not at teardown) also the references they hold. */
static void drop_events(napi_env env, decoder_thread *t) {
  for (event *e = t->head, *next; e != NULL; e = next) {
    next = e->next;
    if (env != NULL && e->consumed != NULL) napi_delete_reference(env, e->consumed);
    free(e->buf);
    free(e);
  }
  t->head = t->tail = NULL;
}

/* Stops the thread and waits for it (it finishes the batch in hand: at most skip_limit bytes of decoding). */
static void join_thread(decoder_thread *t) {
  pthread_mutex_lock(&t->mu);
  t->stop = 1;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  pthread_join(t->thread, NULL);
  t->joined = 1;
}

/*
 * The threadsafe function is gone: after decoder_thread_stop, or when Node
 * tears the environment down (the process exits) with the decoder still
 * running, e.g. an error found after the image was opened. Then the thread
 * is stopped here first: freeing t under it crashed the exit (SIGSEGV).
 * The handle may be finalized after this: it must not see the thread.
 */
static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  decoder_thread *t = data;
  if (!t->joined) {
    join_thread(t);
    if (t->d->thread == t) t->d->thread = NULL;
    drop_events(NULL, t);
  }
  free(t->rbuf);
  free(t->reserve);
  pthread_mutex_destroy(&t->mu);
  pthread_cond_destroy(&t->cv);
  free(t);
}

/* Stops and joins the thread, frees what it left; t itself goes with the threadsafe function. */
void decoder_thread_stop(napi_env env, decoder *d) {
  decoder_thread *t = d->thread;
  if (t == NULL) return;
  d->thread = NULL;
  join_thread(t);
  drop_events(env, t);
  for (int i = 0; i < t->in_count; i++)
    if (t->in[(t->in_head + i) % IN_MAX].ref != NULL) napi_delete_reference(env, t->in[(t->in_head + i) % IN_MAX].ref);
  t->in_count = 0;
  napi_release_threadsafe_function(t->tsfn, napi_tsfn_abort);
}

static decoder_thread *thread_of(napi_env env, napi_value handle) {
  decoder *d;
  if (napi_get_value_external(env, handle, (void **)&d) != napi_ok || d->thread == NULL) return NULL;
  return d->thread;
}

static napi_value DecoderStart(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  decoder *d;
  double n[5];
  int32_t fd = -1;
  napi_valuetype cb_type;
  int ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc >= 7 && napi_get_value_external(env, argv[0], (void **)&d) == napi_ok;
  if (ok && argc >= 8) ok = napi_get_value_int32(env, argv[7], &fd) == napi_ok && fd >= 0;
  for (int i = 0; ok && i < 5; i++) ok = napi_get_value_double(env, argv[i + 1], &n[i]) == napi_ok && n[i] >= 0;
  if (!ok || napi_typeof(env, argv[6], &cb_type) != napi_ok || cb_type != napi_function || n[0] < 1 || n[1] < n[0])
    return throw_code(env, "EINVAL", "decoderStart(handle, piece, batch, ahead, zeroAhead, skipLimit, onOutput[, fd])");
  if (!d->open || d->thread != NULL) return throw_code(env, "EINVAL", "the decoder is closed or already running");
  decoder_thread *t = calloc(1, sizeof *t);
  if (t == NULL) return throw_code(env, "ENOMEM", "out of memory");
  t->d = d;
  t->piece = (size_t)n[0];
  t->batch = (size_t)n[1];
  t->ahead = n[2] < 1 ? 1 : (size_t)n[2];
  t->zero_ahead = n[3] < 1 ? 1 : (size_t)n[3];
  t->skip_limit = (size_t)n[4];
  t->fd = fd;
  t->reserve = calloc(1, sizeof *t->reserve);
  if (t->reserve == NULL || (fd >= 0 && (t->rbuf = malloc(READ_SIZE)) == NULL)) {
    free(t->reserve);
    free(t);
    return throw_code(env, "ENOMEM", "out of memory");
  }
  pthread_mutex_init(&t->mu, NULL);
  pthread_cond_init(&t->cv, NULL);
  napi_value name;
  napi_create_string_utf8(env, "bmapkit:decoder", NAPI_AUTO_LENGTH, &name);
  if (napi_create_threadsafe_function(env, argv[6], NULL, name, 0, 1, t, tsfn_finalize, t, call_js, &t->tsfn) != napi_ok) {
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    free(t->rbuf);
    free(t->reserve);
    free(t);
    return throw_code(env, "ENOMEM", "cannot create the decoder's callback");
  }
  napi_unref_threadsafe_function(env, t->tsfn);
  if (pthread_create(&t->thread, NULL, thread_main, t) != 0) {
    t->joined = 1; /* there is no thread: the finalizer must not join one */
    napi_release_threadsafe_function(t->tsfn, napi_tsfn_abort); /* frees t */
    return throw_code(env, "ENOMEM", "cannot start the decoding thread");
  }
  d->thread = t;
  return NULL;
}

static napi_value DecoderFeed(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2) return throw_code(env, "EINVAL", "decoderFeed(handle, chunk | null)");
  decoder_thread *t = thread_of(env, argv[0]);
  if (t == NULL) return throw_code(env, "EINVAL", "the decoder is not running");
  if (t->fd >= 0) return throw_code(env, "EINVAL", "the decoder reads its file itself");
  napi_typeof(env, argv[1], &type);
  input item = {NULL, 0, NULL};
  if (type != napi_null) {
    napi_typedarray_type ta;
    void *p;
    if (napi_get_typedarray_info(env, argv[1], &ta, &item.len, &p, NULL, NULL) != napi_ok || ta != napi_uint8_array || item.len == 0)
      return throw_code(env, "EINVAL", "decoderFeed: the chunk must be a non-empty Uint8Array");
    item.p = p;
    napi_create_reference(env, argv[1], 1, &item.ref);
  }
  pthread_mutex_lock(&t->mu);
  const char *problem = t->in_end ? "decoderFeed after the end of input" : item.p != NULL && t->in_count == IN_MAX ? "decoderFeed: too many chunks queued" : NULL;
  if (problem == NULL) {
    if (item.p == NULL) t->in_end = 1;
    else t->in[(t->in_head + t->in_count++) % IN_MAX] = item;
    pthread_cond_broadcast(&t->cv);
  }
  pthread_mutex_unlock(&t->mu);
  if (problem != NULL) {
    if (item.ref != NULL) napi_delete_reference(env, item.ref);
    return throw_code(env, "EINVAL", problem);
  }
  return NULL;
}

static napi_value DecoderAck(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  double data, zeros;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 3 || napi_get_value_double(env, argv[1], &data) != napi_ok ||
      napi_get_value_double(env, argv[2], &zeros) != napi_ok || data < 0 || zeros < 0)
    return throw_code(env, "EINVAL", "decoderAck(handle, dataBytes, zeroBytes)");
  decoder_thread *t = thread_of(env, argv[0]);
  if (t == NULL) return NULL; /* closed meanwhile: nothing waits */
  pthread_mutex_lock(&t->mu);
  t->data_out -= (size_t)data < t->data_out ? (size_t)data : t->data_out;
  t->zero_out -= (size_t)zeros < t->zero_out ? (size_t)zeros : t->zero_out;
  pthread_cond_broadcast(&t->cv);
  pthread_mutex_unlock(&t->mu);
  return NULL;
}

static napi_value DecoderHold(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool wait;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 2 || napi_get_value_bool(env, argv[1], &wait) != napi_ok)
    return throw_code(env, "EINVAL", "decoderHold(handle, wait)");
  decoder_thread *t = thread_of(env, argv[0]);
  if (t == NULL) return NULL;
  if (wait) napi_ref_threadsafe_function(env, t->tsfn);
  else napi_unref_threadsafe_function(env, t->tsfn);
  return NULL;
}

void decoder_thread_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"decoderStart", NULL, DecoderStart, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decoderFeed", NULL, DecoderFeed, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decoderAck", NULL, DecoderAck, NULL, NULL, NULL, napi_enumerable, NULL},
    {"decoderHold", NULL, DecoderHold, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
}
