{
  "targets": [
    {
      "target_name": "bmapkit_extents",
      "sources": ["native/extents.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
