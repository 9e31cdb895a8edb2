/*
 * libFuzzer harness for the FIEMAP code (native/extents.c), built with
 * AddressSanitizer by tools/fuzz.mjs. Input: a layout of written and
 * skipped blocks (one byte a run: its length, and whether it holds data),
 * then a window and an extent count. The harness writes that sparse file
 * (in the directory BMAPKIT_FUZZ_DIR, on a filesystem with FIEMAP) and
 * checks what fiemap_extents returns: never more extents than asked for,
 * ascending, inside the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../native/extents.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 6) return 0;
  const char *dir = getenv("BMAPKIT_FUZZ_DIR");
  char path[4096];
  snprintf(path, sizeof path, "%s/fiemap-%d.img", dir != NULL ? dir : ".", (int)getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) abort();
  unlink(path);
  uint32_t max = data[0] | (uint32_t)data[1] << 8;  /* 0 .. 65535 extents */
  uint64_t start = (uint64_t)data[2] * 4096 * 3;
  uint64_t length = data[3] == 0xff ? UINT64_MAX - start : (uint64_t)data[3] * 4096 * 5;
  int sync = data[4] & 1;
  static uint8_t block[4096];
  memset(block, 0xa5, sizeof block);
  uint64_t off = 0;
  for (size_t i = 5; i < size && i < 5 + 192 && off < (16u << 20); i++) {
    uint64_t run = 1 + (data[i] & 0x7f);
    if (data[i] & 0x80)
      for (uint64_t b = 0; b < run; b++)
        if (pwrite(fd, block, sizeof block, (off_t)(off + b * 4096)) != (ssize_t)sizeof block) abort();
    off += run * 4096;
  }
  if (ftruncate(fd, (off_t)off) != 0) abort();
  double *ext;
  uint32_t n;
  int e = fiemap_extents(fd, start, length, max, sync, &ext, &n);
  if (e == 0) {
    if (n > max) abort();
    for (uint32_t k = 0; k < n; k++) {
      if (ext[3 * k + 1] <= 0) abort();
      if (k > 0 && ext[3 * k] < ext[3 * (k - 1)] + ext[3 * (k - 1) + 1]) abort();
      if (ext[3 * k] >= (double)off + 4096 * 16) abort(); /* nothing past the end (with room for preallocation) */
    }
    free(ext);
  } else if (e != EOPNOTSUPP && e != EINVAL && e != EFBIG) {
    abort();
  }
  close(fd);
  return 0;
}
