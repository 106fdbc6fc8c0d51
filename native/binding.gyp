{
  "targets": [
    {
      "target_name": "spotdiff",
      "sources": [
        "src/addon.cc",
        "src/blas_threads.cc",
        "src/malloc_tuning.cc",
        "src/guard.cc",
        "src/integers.cc",
        "src/tensor_handle.cc",
        "src/op_table.cc",
        "src/autocast.cc",
        "src/ops/creation.cc",
        "src/ops/random.cc",
        "src/ops/pointwise.cc",
        "src/ops/reduce.cc",
        "src/ops/shape.cc",
        "src/ops/nn.cc",
        "src/ops/loss.cc",
        "src/ops/linalg.cc",
        "src/ops/inplace.cc",
        "src/ops/optim.cc",
        "src/ops/selftest.cc",
        "src/ops/distributed.cc",
        "src/ops/sync_batchnorm.cc",
        "src/ops/grad_reducer.cc",
        "src/ops/cuda_device.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(node configure.mjs --include)"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "<!@(node configure.mjs --defines)"
      ],
      "libraries": ["<!@(node configure.mjs --libs)"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-frtti", "-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"]
    }
  ]
}
