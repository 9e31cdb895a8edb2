/* FS_IOC_FIEMAP, kept apart from N-API (see extents.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <linux/fiemap.h>
#include "extents.h"

int fiemap_extents(int fd, uint64_t start, uint64_t length, uint32_t max, int sync, double **out, uint32_t *count) {
  *out = NULL;
  *count = 0;
  struct fiemap *fm = calloc(1, sizeof(struct fiemap) + (size_t)max * sizeof(struct fiemap_extent));
  if (fm == NULL) return ENOMEM;
  fm->fm_start = start;
  fm->fm_length = length;
  fm->fm_flags = sync ? FIEMAP_FLAG_SYNC : 0;
  fm->fm_extent_count = max;
  if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
    int e = errno;
    free(fm);
    return e;
  }
  /* With fm_extent_count 0 the kernel only counts the extents; never read
   * more entries than were allocated. */
  uint32_t n = fm->fm_mapped_extents < fm->fm_extent_count ? fm->fm_mapped_extents : fm->fm_extent_count;
  double *triples = malloc((size_t)(n > 0 ? n : 1) * 3 * sizeof(double));
  if (triples == NULL) {
    free(fm);
    return ENOMEM;
  }
  for (uint32_t i = 0; i < n; i++) {
    triples[3 * i] = (double)fm->fm_extents[i].fe_logical;
    triples[3 * i + 1] = (double)fm->fm_extents[i].fe_length;
    triples[3 * i + 2] = (double)fm->fm_extents[i].fe_flags;
  }
  free(fm);
  *out = triples;
  *count = n;
  return 0;
}
