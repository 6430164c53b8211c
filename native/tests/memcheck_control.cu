// A deliberate out-of-bounds write, run under compute-sanitizer by `scripts/gpu-host.sh memcheck` before the suite.
// The step fails unless memcheck reports it, so that "0 errors" for the suite means the sanitizer was watching
// (an .NET apphost or a Python interpreter in between must not hide the kernels from it).
// Not part of the CMake build: the step compiles it with the host's nvcc.
#include <cstdio>

#include <cuda_runtime.h>

__global__ void write_one_past_the_end(int* p, int n) {
    if (threadIdx.x == 0 && blockIdx.x == 0) p[n] = 1;  // the element after the last one
}

int main() {
    constexpr int n = 64;
    int* p = nullptr;
    if (cudaMalloc(&p, n * sizeof(int)) != cudaSuccess) return 2;
    write_one_past_the_end<<<1, 32>>>(p, n);
    const cudaError_t status = cudaDeviceSynchronize();
    std::printf("memcheck control: kernel finished with %s\n", cudaGetErrorString(status));
    cudaFree(p);
    return 0;
}
