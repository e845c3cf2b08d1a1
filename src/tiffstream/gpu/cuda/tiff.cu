// CUDA kernels of the tiffstream GPU backend: what nvcomp does not do for TIFF chunks.
// Every kernel takes per-chunk descriptors (device arrays indexed by chunk) and works in place or
// between per-chunk buffers given by pointer. blockIdx.y (times gridDim.z) selects the chunk.

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long i64;

__device__ __forceinline__ long long chunk_index() { return (long long)blockIdx.z * gridDim.y + blockIdx.y; }

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

// Predictor 2: each row's samples are differences from the sample one pixel to the left.
template <typename T>
__device__ void undo_horizontal(const u64* ptrs, const i64* rows, int width, int samples, long long nchunks) {
    long long c = chunk_index();
    if (c >= nchunks) return;
    long long lane = blockIdx.x * (long long)blockDim.x + threadIdx.x;  // one thread per (row, sample)
    if (lane >= rows[c] * samples) return;
    long long row = lane / samples;
    int s = (int)(lane % samples);
    T* p = (T*)ptrs[c] + row * (long long)width * samples + s;
    T acc = p[0];
    for (int x = 1; x < width; ++x) { acc = (T)(acc + p[(long long)x * samples]); p[(long long)x * samples] = acc; }
}
extern "C" __global__ void undo_horizontal_1(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u8>(p, r, w, s, n); }
extern "C" __global__ void undo_horizontal_2(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u16>(p, r, w, s, n); }
extern "C" __global__ void undo_horizontal_4(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u32>(p, r, w, s, n); }
extern "C" __global__ void undo_horizontal_8(const u64* p, const i64* r, int w, int s, long long n) { undo_horizontal<u64>(p, r, w, s, n); }

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

// Place decoded chunks into their outputs: rows [0, copy_rows) of copy_bytes bytes each, starting
// src_skip bytes into the chunk, to the absolute address dst with that output's row pitch. Rows past
// what a chunk decoded (src_rows) are left alone (the caller filled them).
extern "C" __global__ void scatter(const u64* src, const i64* src_row_bytes, const i64* src_rows, const i64* src_skip,
                                   const u64* dst, const i64* dst_row_bytes, const i64* copy_rows,
                                   const i64* copy_bytes, long long nchunks) {
    long long c = chunk_index();
    if (c >= nchunks) return;
    long long rows = copy_rows[c] < src_rows[c] ? copy_rows[c] : src_rows[c];
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

// TIFF LZW (MSB-first codes of 9 to 12 bits, Clear 256, EOI 257, "early change"): one block of one
// thread per chunk, its string table (4096 x (u16 prefix, u16 length, u8 suffix, u8 first) = 24 KiB)
// in shared memory, where lookups are cheap.
extern "C" __global__ void lzw_decode(const u64* src, const i64* src_size, const u64* dst, const i64* dst_capacity,
                                      i64* written, long long nchunks) {
    extern __shared__ u8 table[];
    long long c = blockIdx.x;
    if (c >= nchunks || threadIdx.x != 0) return;
    const u8* in = (const u8*)src[c];
    long long in_bits = src_size[c] * 8;
    u8* out = (u8*)dst[c];
    long long capacity = dst_capacity[c];
    u16* prefix = (u16*)table;
    u16* length = prefix + 4096;
    u8* suffix = (u8*)(length + 4096);
    u8* first = suffix + 4096;
    long long bitpos = 0, pos = 0;
    int bits = 9, next = 258, prev = -1;
    bool error = false;
    while (bitpos + bits <= in_bits) {
        int code = 0;
        for (int b = 0; b < bits; ++b, ++bitpos) code = (code << 1) | ((in[bitpos >> 3] >> (7 - (bitpos & 7))) & 1);
        if (code == 257) break;
        if (code == 256) { bits = 9; next = 258; prev = -1; continue; }
        int emit_code = code;
        int len;
        u8 head;
        if (prev < 0) {
            if (code > 255) { error = true; break; }
            len = 1; head = (u8)code;
        } else if (code < next) {
            len = code < 256 ? 1 : length[code];
            head = code < 256 ? (u8)code : first[code];
        } else if (code == next) {
            emit_code = prev;
            len = (prev < 256 ? 1 : length[prev]) + 1;
            head = prev < 256 ? (u8)prev : first[prev];
        } else { error = true; break; }
        // write the string of emit_code (plus its first byte again for code == next) backwards
        long long end = pos + len;
        long long p = end - 1;
        if (code == next && prev >= 0) { if (p < capacity) out[p] = head; --p; }
        int k = emit_code;
        while (p >= pos) {
            u8 ch = k < 256 ? (u8)k : suffix[k];
            if (p < capacity) out[p] = ch;
            --p;
            k = k < 256 ? 0 : prefix[k];
        }
        pos = end;
        if (prev >= 0 && next < 4096) {
            prefix[next] = (u16)prev;
            suffix[next] = head;
            length[next] = (u16)((prev < 256 ? 1 : length[prev]) + 1);
            first[next] = prev < 256 ? (u8)prev : first[prev];
            ++next;
        }
        prev = code;
        if (next + 1 >= (1 << bits) && bits < 12) ++bits;
        if (pos >= capacity) break;
    }
    written[c] = error ? -1 : (pos < capacity ? pos : capacity);
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
