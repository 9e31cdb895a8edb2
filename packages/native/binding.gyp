{
  "targets": [
    {
      "target_name": "bmapkit_native",
      "sources": ["native/bmapkit.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-std=gnu11"]
    }
  ]
}
