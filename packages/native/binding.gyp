{
  "targets": [
    {
      "target_name": "bmapkit_native",
      "sources": ["native/bmapkit.c", "native/decoders.c", "native/decoders-napi.c", "native/extents.c", "native/decoder-thread.c", "native/gzip-decoder.c", "native/digest.c", "native/hash-chains.c"],
      "libraries": ["-ldl", "-lpthread"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
