// CUDA kernels of the tiffstream GPU backend: what nvcomp does not do for TIFF chunks (LZW is in lzw.cu).
// Every kernel takes per-chunk descriptors (device arrays indexed by chunk) and works in place or
// between per-chunk buffers given by pointer. blockIdx.y (times gridDim.z) selects the chunk.
#include "common.cuh"

// Swap the bytes of every item of each chunk (big-endian files on a little-endian GPU).
extern "C" __global__ void byteswap(const u64* ptrs, const i64* nbytes, int itemsize, long long nchunks) {
    long long c = chunk_index();
    if (c >= nchunks) return;
    u8* data = (u8*)ptrs[c];
    long long items = nbytes[c] / itemsize;
    for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < items; i += (long long)gridDim.x * blockDim.x) {
        u8* p = data + i * itemsize;
        for (int a = 0, b = itemsize - 1; a < b; ++a, --b) { u8 t = p[a]; p[a] = p[b]; p[b] = t; }
    }
}

// Predictor 2: each row's samples are differences from the sample one pixel to the left. One warp per row:
// each lane sums its stretch of the row, a warp scan gives every stretch its starting value, then each lane
// rewrites its stretch (modular integer arithmetic, so wider accumulators give the same low bits).
template <typename T, typename A>
__device__ void undo_horizontal(const u64* ptrs, const i64* rows, int width, int samples, long long nchunks) {
    long long c = chunk_index();
    if (c >= nchunks) return;
    int lane = threadIdx.x & 31;
    long long row = blockIdx.x * (long long)(blockDim.x >> 5) + (threadIdx.x >> 5);
    if (row >= rows[c]) return;
    T* p = (T*)ptrs[c] + row * (long long)width * samples;
    int stretch = (width + 31) >> 5;
    int x0 = lane * stretch, x1 = min(width, x0 + stretch);
    for (int s = 0; s < samples; ++s) {
        A total = 0;
        for (int x = x0; x < x1; ++x) total += (A)p[(long long)x * samples + s];
        A inclusive = total;
        for (int offset = 1; offset < 32; offset <<= 1) {
            A v = __shfl_up_sync(0xffffffffu, inclusive, offset);
            if (lane >= offset) inclusive += v;
        }
        A run = inclusive - total;
        for (int x = x0; x < x1; ++x) {
            run += (A)p[(long long)x * samples + s];
            p[(long long)x * samples + s] = (T)run;
        }
    }
}
extern "C" __global__ void undo_horizontal_1(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u8, u32>(p, r, w, s, n); }
extern "C" __global__ void undo_horizontal_2(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u16, u32>(p, r, w, s, n); }
extern "C" __global__ void undo_horizontal_4(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u32, u32>(p, r, w, s, n); }
extern "C" __global__ void undo_horizontal_8(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u64, u64>(p, r, w, s, n); }

// Rows each chunk decoded: min(capacity rows, decoded bytes / row bytes); -1 where decoding failed.
extern "C" __global__ void decoded_rows(const i64* sizes, const i64* row_bytes, const i64* capacity_rows, i64* rows,
                                        long long nchunks) {
    long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (c >= nchunks) return;
    long long size = sizes[c];
    if (size < 0) { rows[c] = -1; return; }
    long long got = row_bytes[c] > 0 ? size / row_bytes[c] : 0;
    rows[c] = got < capacity_rows[c] ? got : capacity_rows[c];
}

// Predictor 3 (floating point): per row, byte differences one pixel apart, then byte planes (most significant first)
// back into native little-endian items. Reads src, writes dst (both per-chunk buffers).
extern "C" __global__ void undo_float_predictor(const u64* src, const u64* dst, const i64* rows, int row_items,
                                                int itemsize, int samples, long long nchunks) {
    long long c = chunk_index();
    if (c >= nchunks) return;
    long long row = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (row >= rows[c]) return;
    long long row_bytes = (long long)row_items * itemsize;
    u8* in = (u8*)src[c] + row * row_bytes;
    u8* out = (u8*)dst[c] + row * row_bytes;
    for (long long i = samples; i < row_bytes; ++i) in[i] = (u8)(in[i] + in[i - samples]);  // differences span a pixel
    for (int k = 0; k < row_items; ++k)
        for (int b = 0; b < itemsize; ++b) out[(long long)k * itemsize + (itemsize - 1 - b)] = in[(long long)b * row_items + k];
}

// Place decoded chunks into their outputs: rows [first_row, first_row + copy_rows) of copy_bytes bytes each,
// starting src_skip bytes into the chunk, to the absolute address dst with that output's row pitch. Rows the
// chunk did not decode (src_rows counts those it did) are left alone (the output was filled or is filled later).
extern "C" __global__ void scatter(const u64* src, const i64* src_row_bytes, const i64* src_rows, const i64* first_row,
                                   const i64* src_skip, const u64* dst, const i64* dst_row_bytes, const i64* copy_rows,
                                   const i64* copy_bytes, long long nchunks) {
    long long c = chunk_index();
    if (c >= nchunks) return;
    long long available = src_rows[c] - first_row[c];
    long long rows = copy_rows[c] < available ? copy_rows[c] : available;
    long long width = copy_bytes[c];
    const u8* base = (const u8*)src[c] + src_skip[c];
    u8* out = (u8*)dst[c];
    long long pitch = dst_row_bytes[c], src_pitch = src_row_bytes[c];
    bool aligned = ((((u64)base) | ((u64)out) | (u64)width | (u64)src_pitch | (u64)pitch) & 3) == 0;
    for (long long r = blockIdx.x; r < rows; r += gridDim.x) {
        const u8* s = base + r * src_pitch;
        u8* d = out + r * pitch;
        if (aligned) {
            for (long long i = threadIdx.x; i < width / 4; i += blockDim.x) ((u32*)d)[i] = ((const u32*)s)[i];
        } else {
            for (long long i = threadIdx.x; i < width; i += blockDim.x) d[i] = s[i];
        }
    }
}

// PackBits, one thread per chunk.
extern "C" __global__ void packbits_decode(const u64* src, const i64* src_size, const u64* dst, const i64* dst_capacity,
                                           i64* written, long long nchunks) {
    long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x;
    if (c >= nchunks) return;
    const signed char* in = (const signed char*)src[c];
    long long n = src_size[c], capacity = dst_capacity[c], i = 0, pos = 0;
    u8* out = (u8*)dst[c];
    while (i < n && pos < capacity) {
        int header = in[i++];
        if (header >= 0) {
            for (int k = 0; k <= header && i < n && pos < capacity; ++k) out[pos++] = (u8)in[i++];
        } else if (header != -128) {
            if (i >= n) break;
            u8 value = (u8)in[i++];
            for (int k = 0; k < 1 - header && pos < capacity; ++k) out[pos++] = value;
        }
    }
    written[c] = pos;
}
