// fp8lab's CUDA side: for now, only whether a usable GPU is present.
// The tensor-core kernels that are cross-checked against lib/'s models land
// here next to this file.
#include <cuda_runtime.h>

extern "C" int fp8lab_cuda_device_count(void) {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}
