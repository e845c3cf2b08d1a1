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

// TIFF LZW (MSB-first codes of 9 to 12 bits, Clear 256, EOI 257, "early change"). A chunk's stream is
// sequential, so one thread decodes one chunk, and what bounds speed is how many chunks run at once on an
// SM (their tables share its 228 KiB of shared memory) and how little each code costs. Codes come from a
// 64-bit bit buffer refilled 4 bytes at a time. On an H100, 10,752 256x256 tiles: 87 ms with the first
// kernel (u16/u8 table arrays, bit-by-bit reads), 67 ms lzw_decode, 54 ms lzw_decode_small.
#define LZW_ENTRIES 3840

// MSB-first codes from a chunk: a 64-bit buffer refilled 4 bytes at a time (bytewise at the end).
struct LzwCodes {
    const u8* in;
    const u8* end;
    u64 buffer = 0;
    int buffered = 0;
    __device__ LzwCodes(const u8* data, long long size) : in(data), end(data + size) {}
    __device__ __forceinline__ bool next(int bits, int& code) {
        if (buffered < 32) {
            if (in + 4 <= end) {
                u32 w = ((u32)__ldg(in) << 24) | ((u32)__ldg(in + 1) << 16) | ((u32)__ldg(in + 2) << 8) | (u32)__ldg(in + 3);
                buffer |= (u64)w << (32 - buffered);
                buffered += 32;
                in += 4;
            } else {
                while (buffered <= 56 && in < end) { buffer |= (u64)__ldg(in++) << (56 - buffered); buffered += 8; }
            }
        }
        if (buffered < bits) return false;
        code = (int)(buffer >> (64 - bits));
        buffer <<= bits;
        buffered -= bits;
        return true;
    }
};

// Any chunk size: the table is 3,840 packed words (15 KiB): prefix code in bits 0-11, last byte in 12-19,
// string length in 20-31 (a string is at most 3,839 bytes); a string is written backwards along its prefixes.
extern "C" __global__ void lzw_decode(const u64* src, const i64* src_size, const u64* dst, const i64* dst_capacity,
                                   i64* written, long long nchunks) {
    extern __shared__ u32 lzw_tables[];
    long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= nchunks) return;
    u32* table = lzw_tables + threadIdx.x * LZW_ENTRIES - 256;
    LzwCodes codes((const u8*)src[c], src_size[c]);
    u8* out = (u8*)dst[c];
    long long cap64 = dst_capacity[c];
    int capacity = cap64 > 0x7fffffff ? 0x7fffffff : (int)cap64;
    int pos = 0;
    int bits = 9, next = 258, prev = -1, prev_len = 0;
    u32 prev_head = 0;
    bool error = false;
    while (true) {
        int code;
        if (!codes.next(bits, code)) break;
        if (code == 257) break;
        if (code == 256) { bits = 9; next = 258; prev = -1; continue; }
        int len, walk, end;
        u32 head;
        if (code < 256) {
            len = 1; walk = code; end = pos + 1;
        } else if (prev < 0 || code > next) {
            error = true; break;
        } else {
            bool repeat = code == next;
            walk = repeat ? prev : code;
            len = repeat ? prev_len + 1 : (int)(table[code] >> 20);
            end = pos + len;
            int p = end - 1;
            if (repeat) { if (p < capacity) out[p] = (u8)prev_head; --p; }
            if (end <= capacity) {
                while (walk >= 256) { u32 e = table[walk]; out[p--] = (u8)(e >> 12); walk = e & 0xFFF; }
            } else {
                while (walk >= 256) { u32 e = table[walk]; if (p < capacity) out[p] = (u8)(e >> 12); --p; walk = e & 0xFFF; }
            }
        }
        head = (u32)walk;
        if (pos < capacity) out[pos] = (u8)head;
        pos = end;
        if (prev >= 0 && next < 4096) { table[next] = (u32)prev | (head << 12) | ((u32)(prev_len + 1) << 20); ++next; }
        prev_head = head; prev = code; prev_len = len;
        if (next + 1 >= (1 << bits) && bits < 12) ++bits;
        if (pos >= capacity) break;
    }
    written[c] = error ? -1 : (pos < capacity ? pos : capacity);
}

// Chunks up to 64 KiB: the table holds only where each entry's string starts in the output, as 16-bit
// offsets (7.5 KiB a chunk, so twice as many chunks per SM). Entry k is out[off[k] : off[k+1] + 1], because
// consecutive entries are made by consecutive codes, so a string is a copy of earlier output.
template <typename O>
__device__ void lzw_copying(const u64* src, const i64* src_size, const u64* dst, const i64* dst_capacity, i64* written,
                       long long nchunks, O* tables) {
    long long c = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= nchunks) return;
    O* off = tables + threadIdx.x * 3840 - 258;  // off[258..4096]
    LzwCodes codes((const u8*)src[c], src_size[c]);
    u8* out = (u8*)dst[c];
    long long cap64 = dst_capacity[c];
    long long limit = sizeof(O) == 2 ? 65536 : 0x7fffffff;
    int capacity = (int)(cap64 < limit ? cap64 : limit);
    int pos = 0;
    int bits = 9, next = 258, prev = -1;
    bool error = false;
    while (true) {
        int code;
        if (!codes.next(bits, code)) break;
        if (code == 257) break;
        if (code == 256) { bits = 9; next = 258; prev = -1; continue; }
        int start = pos, len;
        if (code < 256) {
            len = 1;
            if (pos < capacity) out[pos] = (u8)code;
        } else if (prev < 0 || code > next) {
            error = true; break;
        } else {
            int from = off[code];
            len = (code == next ? pos : (int)off[code + 1]) - from + 1;
            int n = len - (code == next);
            if (pos + len <= capacity) {
                for (int i = 0; i < n; ++i) out[pos + i] = out[from + i];
                if (code == next) out[pos + n] = out[from];
            } else {
                for (int i = 0; i < n; ++i) if (pos + i < capacity) out[pos + i] = out[from + i];
                if (code == next && pos + n < capacity) out[pos + n] = out[from];
            }
        }
        pos += len;
        if (prev < 0) off[next] = (O)start;
        else if (next < 4096) { ++next; off[next] = (O)start; }
        prev = code;
        if (next + 1 >= (1 << bits) && bits < 12) ++bits;
        if (pos >= capacity) break;
    }
    written[c] = error ? -1 : (pos < capacity ? pos : capacity);
}
extern "C" __global__ void lzw_decode_small(const u64* s, const i64* ss, const u64* d, const i64* dc, i64* w, long long n) {
    extern __shared__ u16 lzw_small_tables[];
    lzw_copying<u16>(s, ss, d, dc, w, n, lzw_small_tables);
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
