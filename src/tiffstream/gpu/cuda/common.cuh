// Shared by the .cu files of the tiffstream GPU backend (kernels.py puts it in front of each of them).
#ifndef TIFFSTREAM_COMMON_CUH
#define TIFFSTREAM_COMMON_CUH

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

__device__ __forceinline__ long long chunk_index() { return (long long)blockIdx.z * gridDim.y + blockIdx.y; }

#endif
