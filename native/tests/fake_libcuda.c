/* A libcuda.so.1 without any driver entry point, to test how the library reports a missing driver. */
int gg_fake_libcuda_marker(void) { return 0; }
