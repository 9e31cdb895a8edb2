// Vector A of bmap-format.md §9.1, for the tests of every package that uses it.

/** The 1 MiB image of vector A: data in blocks 0, 10-11, 100, 101 and 200. */
export function vectorAImage() {
  const img = new Uint8Array(1 << 20);
  img.set(new TextEncoder().encode('HELLO-BMAP'), 0);
  img.fill(0x41, 10 * 4096, 12 * 4096);
  img[100 * 4096] = 0x58;
  img[101 * 4096] = 0x59;
  img[200 * 4096] = 0x5a;
  return img;
}
