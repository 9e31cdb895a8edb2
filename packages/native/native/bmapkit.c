/*
 * bmapkit's only native code (package @bmapkit/native): the Linux calls Node cannot make.
 *   fiemap(fd, start, length, maxExtents, sync) -> Float64Array of
 *       [logical, length, flags] triples (FS_IOC_FIEMAP)
 *   seek(fd, offset, whence)    -> new offset, or -1 at ENXIO (lseek with
 *       SEEK_DATA = 3 / SEEK_HOLE = 4)
 *   blockSize(fd)               -> FIGETBSZ, 0 if unsupported
 *   deviceSize(fd)              -> BLKGETSIZE64
 *   sectorSize(fd)              -> BLKSSZGET (the O_DIRECT alignment of a block device)
 *   dropCache(fd, offset, len)  -> posix_fadvise(POSIX_FADV_DONTNEED)
 *   addressMod(view, align)     -> the address of a typed array's first byte
 *       modulo `align` (a power of two), to cut aligned buffers for O_DIRECT
 * Failures throw an Error whose `code` is the errno name ("EOPNOTSUPP").
 * decoders.c adds in-process zstd, xz and gzip decoding (decoderOpen/Close,
 * and decoder-thread.c's decoderStart/Feed/Ack/Hold); digest.c hashing of file ranges on the libuv pool (digestRange), and
 * hash-chains.c incremental hashing there (hashBegin/hashRun).
 */
#define _GNU_SOURCE
#include <node_api.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/fs.h>
#include "decoders.h"
#include "extents.h"
#include "errno-name.h"
#include "digest.h"
#include "hash-chains.h"

const char *errno_name(int e) {
  switch (e) {
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENOTTY: return "ENOTTY";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ENXIO: return "ENXIO";
    case EIO: return "EIO";
    case EFAULT: return "EFAULT";
    case ENOMEM: return "ENOMEM";
    case EFBIG: return "EFBIG";
    case EOVERFLOW: return "EOVERFLOW";
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case EBUSY: return "EBUSY";
    case EINTR: return "EINTR";
    case ENOSPC: return "ENOSPC";
    case ENOMEDIUM: return "ENOMEDIUM";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EROFS: return "EROFS";
    case ECANCELED: return "ECANCELED";
    default: return "EUNKNOWN";
  }
}

static napi_value throw_errno(napi_env env, const char *what, int e) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(e));
  napi_throw_error(env, errno_name(e), msg);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "wrong number of arguments");
    return 0;
  }
  return 1;
}

static int get_int64(napi_env env, napi_value v, int64_t *out) {
  if (napi_get_value_int64(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a number");
    return 0;
  }
  return 1;
}

/* The one argument of the fd-only calls. */
static int get_fd(napi_env env, napi_callback_info info, int64_t *fd) {
  napi_value argv[1];
  return get_args(env, info, 1, argv) && get_int64(env, argv[0], fd);
}

static napi_value make_number(napi_env env, double d) {
  napi_value r;
  napi_create_double(env, d, &r);
  return r;
}

static napi_value Fiemap(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  int64_t fd, start, length, max;
  bool sync = false;
  if (!get_args(env, info, 5, argv) || !get_int64(env, argv[0], &fd) || !get_int64(env, argv[1], &start) ||
      !get_int64(env, argv[2], &length) || !get_int64(env, argv[3], &max))
    return NULL;
  napi_get_value_bool(env, argv[4], &sync);
  if (max < 0 || max > 1000000 || start < 0 || length < 0) {
    napi_throw_range_error(env, NULL, "fiemap: bad window or extent count");
    return NULL;
  }
  double *triples;
  uint32_t n;
  int e = fiemap_extents((int)fd, (uint64_t)start, (uint64_t)length, (uint32_t)max, sync, &triples, &n);
  if (e != 0) return throw_errno(env, e == ENOMEM ? "fiemap" : "FIEMAP ioctl", e);
  napi_value buffer, array;
  void *data;
  if (napi_create_arraybuffer(env, (size_t)n * 3 * sizeof(double), &data, &buffer) != napi_ok) {
    free(triples);
    return NULL;
  }
  memcpy(data, triples, (size_t)n * 3 * sizeof(double));
  free(triples);
  napi_create_typedarray(env, napi_float64_array, (size_t)n * 3, buffer, 0, &array);
  return array;
}

static napi_value Seek(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t fd, offset, whence;
  if (!get_args(env, info, 3, argv) || !get_int64(env, argv[0], &fd) || !get_int64(env, argv[1], &offset) ||
      !get_int64(env, argv[2], &whence))
    return NULL;
  if (whence != SEEK_DATA && whence != SEEK_HOLE) {
    napi_throw_range_error(env, NULL, "seek: whence must be SEEK_DATA (3) or SEEK_HOLE (4)");
    return NULL;
  }
  off_t r = lseek((int)fd, (off_t)offset, (int)whence);
  if (r < 0) {
    if (errno == ENXIO) return make_number(env, -1);
    return throw_errno(env, whence == SEEK_DATA ? "lseek(SEEK_DATA)" : "lseek(SEEK_HOLE)", errno);
  }
  return make_number(env, (double)r);
}

static napi_value BlockSize(napi_env env, napi_callback_info info) {
  int64_t fd;
  if (!get_fd(env, info, &fd)) return NULL;
  int bs = 0;
  if (ioctl((int)fd, FIGETBSZ, &bs) < 0) bs = 0; /* the caller falls back to st_blksize */
  return make_number(env, bs);
}

static napi_value DeviceSize(napi_env env, napi_callback_info info) {
  int64_t fd;
  if (!get_fd(env, info, &fd)) return NULL;
  uint64_t size = 0;
  if (ioctl((int)fd, BLKGETSIZE64, &size) < 0) return throw_errno(env, "BLKGETSIZE64 ioctl", errno);
  return make_number(env, (double)size);
}

static napi_value SectorSize(napi_env env, napi_callback_info info) {
  int64_t fd;
  if (!get_fd(env, info, &fd)) return NULL;
  int size = 0;
  if (ioctl((int)fd, BLKSSZGET, &size) < 0) return throw_errno(env, "BLKSSZGET ioctl", errno);
  return make_number(env, size);
}

static napi_value DropCache(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int64_t fd, offset, length;
  if (!get_args(env, info, 3, argv) || !get_int64(env, argv[0], &fd) || !get_int64(env, argv[1], &offset) ||
      !get_int64(env, argv[2], &length))
    return NULL;
  int e = posix_fadvise((int)fd, (off_t)offset, (off_t)length, POSIX_FADV_DONTNEED);
  if (e != 0) return throw_errno(env, "posix_fadvise(DONTNEED)", e);
  return NULL;
}

static napi_value AddressMod(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int64_t align;
  if (!get_args(env, info, 2, argv) || !get_int64(env, argv[1], &align)) return NULL;
  if (align <= 0 || (align & (align - 1)) != 0 || align > (1 << 20)) {
    napi_throw_range_error(env, NULL, "addressMod: alignment must be a power of two up to 1 MiB");
    return NULL;
  }
  void *data = NULL;
  size_t length;
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "addressMod: expected a typed array");
    return NULL;
  }
  return make_number(env, (double)((uintptr_t)data & (uintptr_t)(align - 1)));
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"fiemap", NULL, Fiemap, NULL, NULL, NULL, napi_enumerable, NULL},
    {"seek", NULL, Seek, NULL, NULL, NULL, napi_enumerable, NULL},
    {"blockSize", NULL, BlockSize, NULL, NULL, NULL, napi_enumerable, NULL},
    {"deviceSize", NULL, DeviceSize, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sectorSize", NULL, SectorSize, NULL, NULL, NULL, napi_enumerable, NULL},
    {"dropCache", NULL, DropCache, NULL, NULL, NULL, napi_enumerable, NULL},
    {"addressMod", NULL, AddressMod, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  decoders_register(env, exports);
  digest_register(env, exports);
  chains_register(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
