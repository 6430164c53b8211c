# The cutlass-sm90 kernels that Auto can choose (src/cutlass_sm90/tile_choice.h: choose_tile with choose_epilogue),
# as regular expressions over the kernel files' names, <dtype>_<operands>_<tile>[_store]. This is the one list:
#  - a release build (the default) compiles these kernels only; the others are reachable only through the tuning
#    knobs GG_SM90_TILE / GG_SM90_EPILOGUE and are compiled with -DGG_SM90_TUNING=ON (bench/tune_sm90.py);
#  - native/tests/tile_choice_test.cpp walks choose_tile and choose_epilogue over a grid of shapes and fails when
#    they pick a kernel outside it (it reads the generated sm90_release_kernels.h).
# Change it together with tile_choice.h.
set(GG_SM90_RELEASE_KERNELS
  # Forwards and trans_b: the narrow-n and few-tile ping-pong tile, the large-expert ping-pong 1x2 and cluster-free
  # 128x256 tiles, and the 256x128 tile for n = 1408 when our contiguous kernel cannot take the call (accumulate,
  # more than 1024 experts). Store-only epilogue unless accumulating, source epilogue when accumulating.
  "^(bf16|fp16)_(forward|transb)_(pingpong128x128|pingpong128x128c1x2|coop128x256c1x1|coop256x128)(_store)?$"
  # Weight gradients: the ping-pong tile always with the source epilogue; the cluster-free cooperative tiles
  # (128x256, its 32-deep-k variant for small experts, 256x128 for n = 1408) with either.
  "^(bf16|fp16)_transa_pingpong128x128$"
  "^(bf16|fp16)_transa_(coop128x256c1x1|coop128x256k32c1x1|coop256x128)(_store)?$")
