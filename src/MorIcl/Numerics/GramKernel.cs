using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Numerics;

/// <summary>
/// The weighted Gram of the exact M-step (docs/math.md §2): G_k = Σ_i γ_ik x_i x_iᵀ and h_k = Σ_i γ_ik y_i x_i,
/// the normal equations G_k β_k = h_k, accumulated block by block with the register-tiled
/// <see cref="TiledCrossProducts"/>.
/// </summary>
/// <remarks>
/// With W_a = γ ⊙ x_a (a &lt; d) and W_d = γ ⊙ y, G[a, b] = Σ_i W_a[i] x_b[i] and h[b] = Σ_i W_d[i] x_b[i]:
/// rows 0..d−1 of the lower-triangular (d+1)×d product W Xᵀ are G's lower triangle and row d is h.
/// </remarks>
internal static class GramKernel
{
    /// <summary>Running sums for one component's G and h with d features.</summary>
    public static TiledCrossProducts CreateAccumulator(int d) => new(d + 1, d, lowerTriangle: true);

    /// <summary>Rows of W formed at a time (one row strip of tiles); the scratch needs StripRows·count doubles.</summary>
    public const int StripRows = TiledCrossProducts.TileSize;

    /// <summary>
    /// Adds one block's share Σ_i γ_i x_i x_iᵀ, Σ_i γ_i y_i x_i over the rows i &lt; <paramref name="gamma"/>.Length.
    /// </summary>
    /// <param name="gram">From <see cref="CreateAccumulator"/>.</param>
    /// <param name="gamma">The weights γ_i of the block's rows.</param>
    /// <param name="x">Column a of the block at [a·<paramref name="xStride"/>, a·xStride + count).</param>
    /// <param name="xStride">Distance between columns of <paramref name="x"/> (N for a data set's columns).</param>
    /// <param name="y">The block's responses.</param>
    /// <param name="weighted">Scratch of at least <see cref="StripRows"/>·count doubles; best 64-byte aligned (<see cref="AlignedBuffer"/>).</param>
    public static void Accumulate(TiledCrossProducts gram, ReadOnlySpan<double> gamma, ReadOnlySpan<double> x, int xStride,
        ReadOnlySpan<double> y, Span<double> weighted)
    {
        int d = gram.Columns, count = gamma.Length;
        if (count == 0) return;
        if (weighted.Length < StripRows * count) throw new ArgumentException("scratch too small", nameof(weighted));
        // Row strip by row strip: W_a = γ ⊙ x_a (W_d = γ ⊙ y) for the strip's ≤ 4 rows, written to a
        // scratch small enough to stay in L1 while the strip's tiles sweep it against the columns of x.
        for (int a0 = 0; a0 <= d; a0 += StripRows)
        {
            int rows = Math.Min(StripRows, d + 1 - a0);
            for (int r = 0; r < rows; r++)
            {
                int a = a0 + r;
                var column = a < d ? x.Slice(a * xStride, count) : y[..count];
                TensorPrimitives.Multiply(gamma, column, weighted.Slice(r * count, count));
            }
            gram.AccumulateStrip(a0, weighted, count, x, xStride, count);
        }
    }

    /// <summary>Writes the accumulated G (lower triangle of the d×d row-major <paramref name="g"/>) and h.</summary>
    public static void Read(TiledCrossProducts gram, Span<double> g, Span<double> h)
    {
        int d = gram.Columns;
        for (int a = 0; a < d; a++)
            for (int b = 0; b <= a; b++) g[a * d + b] = gram.Sum(a, b);
        for (int b = 0; b < d; b++) h[b] = gram.Sum(d, b);
    }
}

/// <summary>
/// A scratch buffer whose first element is 64-byte aligned (a pinned array with an offset), so
/// whole-vector loads from it never split a cache line. Pinned arrays live on the pinned object
/// heap and cost a few microseconds more to allocate and collect, which only pays off for long
/// passes; with <c>aligned: false</c> the buffer is a plain array (alignment left to chance).
/// </summary>
internal readonly struct AlignedBuffer
{
    private readonly double[] _array;
    private readonly int _offset;

    public AlignedBuffer(int length, bool aligned = true)
    {
        if (aligned)
        {
            _array = GC.AllocateArray<double>(length + 8, pinned: true);
            _offset = AlignmentOffset(_array);
        }
        else _array = new double[length];
        Length = length;
    }

    public int Length { get; }

    public Span<double> Span => _array.AsSpan(_offset, Length);

    public Span<double> Slice(int start, int length) => Span.Slice(start, length);

    private static unsafe int AlignmentOffset(double[] pinned)
    {
        long address = (long)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinned));
        return (int)((64 - (address & 63)) & 63) / sizeof(double);
    }
}

/// <summary>
/// Running cross products S[r, c] = Σ_i A_r[i] B_c[i] of feature-major columns, accumulated over
/// blocks of rows, with a register-tiled kernel; optionally only the lower triangle c ≤ r.
/// <para>
/// The rows × columns are cut into tiles of up to 4×4. For each block, each tile sweeps the block's
/// rows once: per chunk of rows it loads each of its (at most) eight columns once into a SIMD register
/// and issues up to 16 fused multiply-adds into 16 independent accumulators, so the pass is bound by
/// the FMA units rather than by cache bandwidth (one dot product per entry needs two loads per FMA).
/// Tiles are swept row strip by row strip (4 rows of A against successive 4-column blocks of B), so
/// the strip's rows of A stay in L1 across its tiles. The accumulators are kept as whole vectors
/// across blocks (16 × 8 doubles per tile, about 8× the size of S itself) and reduced across lanes
/// only in <see cref="Sum"/>, so a block costs no horizontal sums.
/// </para>
/// <para>
/// Width-independent: each entry's accumulator is a 64-byte virtual vector (<see cref="IWideLanes{TSelf, T}"/>,
/// 8 doubles: one Vector512, two Vector256 or four Vector128 registers), row i of a block goes to lane
/// i mod 8 (the last rows of a block as one zero-padded chunk), each product is rounded and then added,
/// and <see cref="Sum"/> adds the 8 lanes in order. The order depends only on the shapes and
/// the block boundaries, never on the SIMD width or timing. On the narrower widths a tile is swept in
/// blocks of 2 × 2 or 1 × 2 entries, so its accumulators fit in the 16 registers. No threading;
/// no allocation after construction.
/// </para>
/// </summary>
internal sealed class TiledCrossProducts
{
    /// <summary>Rows and columns of one register tile.</summary>
    public const int TileSize = 4;
    /// <summary>Accumulator lanes kept per entry: one 64-byte virtual vector of doubles.</summary>
    private const int Lanes = 8;
    /// <summary>Doubles of accumulator storage per tile (entry r·4 + c at (r·4 + c)·Lanes).</summary>
    private const int TileAccumulators = TileSize * TileSize * Lanes;

    private readonly Strip[] _strips;
    private readonly double[] _accumulators;
    private readonly double[] _tailA, _tailB;   // a block's last rows, zero-padded to one chunk of Lanes

    public int Rows { get; }
    public int Columns { get; }
    public bool LowerTriangle { get; }

    public TiledCrossProducts(int rows, int columns, bool lowerTriangle)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        Rows = rows; Columns = columns; LowerTriangle = lowerTriangle;
        _strips = new Strip[(rows + TileSize - 1) / TileSize];
        int tiles = 0;
        for (int s = 0; s < _strips.Length; s++)
        {
            int a0 = s * TileSize;
            // Column tiles b0 = 0, 4, … (up to the diagonal for a lower triangle). All but the last are
            // full and off the diagonal; the last may be narrower, or on the diagonal, where it
            // accumulates only its c ≤ r entries.
            int columnTiles = lowerTriangle ? Math.Min(s + 1, (columns + TileSize - 1) / TileSize) : (columns + TileSize - 1) / TileSize;
            int lastB0 = (columnTiles - 1) * TileSize;
            int lastColumns = Math.Min(TileSize, columns - lastB0);
            bool lastDiagonal = lowerTriangle && lastB0 == a0;
            bool lastIsFull = lastColumns == TileSize && !lastDiagonal;
            _strips[s] = new Strip(Math.Min(TileSize, rows - a0), lastIsFull ? columnTiles : columnTiles - 1,
                lastIsFull ? 0 : lastColumns, lastDiagonal, tiles);
            tiles += columnTiles;
        }
        _accumulators = new double[tiles * TileAccumulators];
        _tailA = new double[TileSize * Lanes];
        _tailB = new double[columns * Lanes];
    }

    /// <summary>Restarts all sums at zero.</summary>
    public void Clear() => Array.Clear(_accumulators);

    /// <summary>
    /// S[r, c] += Σ_{i &lt; count} A_r[i] B_c[i], where A_r is at a[r·aStride, r·aStride + count) and
    /// B_c at b[c·bStride, c·bStride + count).
    /// </summary>
    public void Accumulate(ReadOnlySpan<double> a, int aStride, ReadOnlySpan<double> b, int bStride, int count)
    {
        if (count <= 0) return;
        CheckColumns(a.Length, aStride, Rows, count, nameof(a));
        for (int r0 = 0; r0 < Rows; r0 += TileSize)
            AccumulateStrip(r0, a[(r0 * aStride)..], aStride, b, bStride, count);
    }

    /// <summary>
    /// The part of <see cref="Accumulate"/> for the row strip r0 ≤ r &lt; r0 + 4 (r0 a multiple of 4),
    /// with A_r at a[(r − r0)·aStride, …). Lets a caller form those rows of A just before they are
    /// used, in a scratch that stays in L1 while the strip's tiles sweep it.
    /// </summary>
    public void AccumulateStrip(int r0, ReadOnlySpan<double> a, int aStride, ReadOnlySpan<double> b, int bStride, int count)
    {
        if (count <= 0) return;
        if (r0 < 0 || r0 >= Rows || r0 % TileSize != 0) throw new ArgumentOutOfRangeException(nameof(r0));
        var strip = _strips[r0 / TileSize];
        CheckColumns(a.Length, aStride, strip.Rows, count, nameof(a));
        CheckColumns(b.Length, bStride, Columns, count, nameof(b));
        ref double acc = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(_accumulators), (nint)strip.FirstTile * TileAccumulators);
        int full = count / Lanes * Lanes;
        if (full > 0) Sweep(strip, ref MemoryMarshal.GetReference(a), aStride, ref MemoryMarshal.GetReference(b), bStride, full, ref acc);
        if (full == count) return;
        // The last rows as one chunk, padded with zeros (a zero product adds +0 to a lane on every width).
        Array.Clear(_tailA); Array.Clear(_tailB);
        for (int r = 0; r < strip.Rows; r++) a.Slice(r * aStride + full, count - full).CopyTo(_tailA.AsSpan(r * Lanes));
        for (int c = 0; c < Columns; c++) b.Slice(c * bStride + full, count - full).CopyTo(_tailB.AsSpan(c * Lanes));
        Sweep(strip, ref _tailA[0], Lanes, ref _tailB[0], Lanes, Lanes, ref acc);
    }

    /// <summary>S[r, c] so far (lanes summed in order). For a lower triangle, c ≤ r.</summary>
    public double Sum(int r, int c)
    {
        if ((uint)r >= (uint)Rows || (uint)c >= (uint)Columns || (LowerTriangle && c > r))
            throw new ArgumentOutOfRangeException(nameof(r), $"no accumulated entry ({r}, {c})");
        int tile = _strips[r / TileSize].FirstTile + c / TileSize;
        var lanes = _accumulators.AsSpan(tile * TileAccumulators + (r % TileSize * TileSize + c % TileSize) * Lanes, Lanes);
        double s = 0;
        foreach (double v in lanes) s += v;
        return s;
    }

    /// <summary>
    /// A row strip: <see cref="Rows"/> (≤ 4) rows; <see cref="FullTiles"/> full 4-wide off-diagonal
    /// column tiles from column 0, then, when <see cref="LastColumns"/> &gt; 0, one narrower or diagonal
    /// tile. Its tiles' accumulators follow each other from tile index <see cref="FirstTile"/>.
    /// </summary>
    internal readonly record struct Strip(int Rows, int FullTiles, int LastColumns, bool LastDiagonal, int FirstTile);

    /// <summary>Column j of a span with <paramref name="stride"/> must hold count values.</summary>
    private static void CheckColumns(int length, int stride, int columns, int count, string name)
    {
        if (columns > 1 && stride < count) throw new ArgumentException("column stride shorter than the block", name);
        if ((long)(columns - 1) * stride + count > length) throw new ArgumentException("span too short for its columns", name);
    }

    // ---- Dispatch: the tile shape and the diagonal flag become type arguments, so the JIT compiles
    // ---- one straight-line kernel per shape with exactly the accumulators and loads it needs.

    /// <summary>Rows [0, count) of a block (count a multiple of <see cref="Lanes"/>) for every tile of the strip.</summary>
    private static void Sweep(Strip strip, ref double a, nint aStride, ref double b, nint bStride, int count, ref double acc)
    {
        switch (SimdSpan.Width)
        {
            case SimdWidth.Vector512: Sweep<Lanes512<double>>(strip, ref a, aStride, ref b, bStride, count, ref acc); break;
            case SimdWidth.Vector256: Sweep<Lanes256x2<double>>(strip, ref a, aStride, ref b, bStride, count, ref acc); break;
            default: Sweep<Lanes128x4<double>>(strip, ref a, aStride, ref b, bStride, count, ref acc); break;
        }
    }

    internal static void Sweep<TW>(Strip strip, ref double a, nint aStride, ref double b, nint bStride, int count, ref double acc)
        where TW : struct, IWideLanes<TW, double>
    {
        for (int t = 0; t < strip.FullTiles; t++)
            Tile<TW>(strip.Rows, TileSize, false, ref a, aStride, ref Unsafe.Add(ref b, (nint)t * TileSize * bStride), bStride, count,
                ref Unsafe.Add(ref acc, (nint)t * TileAccumulators));
        if (strip.LastColumns > 0)
            Tile<TW>(strip.Rows, strip.LastColumns, strip.LastDiagonal, ref a, aStride, ref Unsafe.Add(ref b, (nint)strip.FullTiles * TileSize * bStride), bStride,
                count, ref Unsafe.Add(ref acc, (nint)strip.FullTiles * TileAccumulators));
    }

    /// <summary>
    /// One tile: whole with one register per accumulator (Vector512); otherwise in blocks of 2 × 2
    /// entries (two Vector256 each) or 1 × 2 (four Vector128 each), so the accumulators fit in the 16
    /// registers. A block on the diagonal keeps only its c ≤ r entries. Each entry sees the same sums.
    /// </summary>
    private static void Tile<TW>(int rows, int cols, bool diagonal, ref double a, nint aStride, ref double b, nint bStride, int count, ref double acc)
        where TW : struct, IWideLanes<TW, double>
    {
        if (typeof(TW) == typeof(Lanes512<double>))
        {
            Run<TW>(rows, cols, diagonal, ref a, aStride, ref b, bStride, count, ref acc);
            return;
        }
        int rowStep = typeof(TW) == typeof(Lanes256x2<double>) ? 2 : 1;
        for (int r0 = 0; r0 < rows; r0 += rowStep)
        {
            int blockRows = Math.Min(rowStep, rows - r0);
            int end = diagonal ? Math.Min(cols, r0 + blockRows) : cols;
            for (int c0 = 0; c0 < end; c0 += 2)
                Run<TW>(blockRows, Math.Min(2, end - c0), diagonal && c0 == r0, ref Unsafe.Add(ref a, r0 * aStride), aStride,
                    ref Unsafe.Add(ref b, c0 * bStride), bStride, count, ref Unsafe.Add(ref acc, (nint)(r0 * TileSize + c0) * Lanes));
        }
    }

    private static void Run<TW>(int rows, int cols, bool diagonal, ref double a, nint aStride, ref double b, nint bStride, int count, ref double acc)
        where TW : struct, IWideLanes<TW, double>
    {
        switch (rows)
        {
            case 1: Run<TW, N1>(cols, diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
            case 2: Run<TW, N2>(cols, diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
            case 3: Run<TW, N3>(cols, diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
            default: Run<TW, N4>(cols, diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
        }
    }

    private static void Run<TW, TR>(int cols, bool diagonal, ref double a, nint aStride, ref double b, nint bStride, int count, ref double acc)
        where TW : struct, IWideLanes<TW, double> where TR : struct, IConstant
    {
        switch (cols)
        {
            case 1: Run<TW, TR, N1>(diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
            case 2: Run<TW, TR, N2>(diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
            case 3: Run<TW, TR, N3>(diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
            default: Run<TW, TR, N4>(diagonal, ref a, aStride, ref b, bStride, count, ref acc); break;
        }
    }

    private static void Run<TW, TR, TC>(bool diagonal, ref double a, nint aStride, ref double b, nint bStride, int count, ref double acc)
        where TW : struct, IWideLanes<TW, double> where TR : struct, IConstant where TC : struct, IConstant
    {
        if (diagonal) Kernel<TW, TR, TC, N1>(ref a, aStride, ref b, bStride, 0, count, ref acc);
        else Kernel<TW, TR, TC, N0>(ref a, aStride, ref b, bStride, 0, count, ref acc);
    }

    /// <summary>
    /// The micro-kernel: s_rc += Σ A_r[i] B_c[i] over the whole chunks of <typeparamref name="TV"/>
    /// lanes in rows [from, to), for r &lt; TR, c &lt; TC, and c ≤ r on a diagonal tile (TD = 1).
    /// The accumulators s_rc live in registers for the sweep and in <paramref name="acc"/> (entry
    /// r·4 + c, <see cref="Lanes"/> doubles each) between blocks. Returns the first row not processed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nint Kernel<TV, TR, TC, TD>(ref double a, nint aStride, ref double b, nint bStride, nint from, nint to, ref double acc)
        where TV : struct, IWideLanes<TV, double> where TR : struct, IConstant where TC : struct, IConstant where TD : struct, IConstant
    {
        // Which columns are used by some row: all of them off the diagonal; on it, column c by rows ≥ c.
        bool diag = TD.Value != 0;
        bool c1 = TC.Value > 1 && (!diag || TR.Value > 1);
        bool c2 = TC.Value > 2 && (!diag || TR.Value > 2);
        bool c3 = TC.Value > 3 && (!diag || TR.Value > 3);
        bool r1 = TR.Value > 1, r2 = TR.Value > 2, r3 = TR.Value > 3;
        // Entry s_rc exists when row r and column c are used and (off the diagonal or c ≤ r).
        bool e01 = c1 && !diag, e02 = c2 && !diag, e03 = c3 && !diag;
        bool e11 = r1 && c1, e12 = r1 && c2 && !diag, e13 = r1 && c3 && !diag;
        bool e21 = r2 && c1, e22 = r2 && c2, e23 = r2 && c3 && !diag;
        bool e31 = r3 && c1, e32 = r3 && c2, e33 = r3 && c3;

        TV s00 = TV.Load(ref acc, 0 * Lanes);
        TV s01 = e01 ? TV.Load(ref acc, 1 * Lanes) : TV.Zero;
        TV s02 = e02 ? TV.Load(ref acc, 2 * Lanes) : TV.Zero;
        TV s03 = e03 ? TV.Load(ref acc, 3 * Lanes) : TV.Zero;
        TV s10 = r1 ? TV.Load(ref acc, 4 * Lanes) : TV.Zero;
        TV s11 = e11 ? TV.Load(ref acc, 5 * Lanes) : TV.Zero;
        TV s12 = e12 ? TV.Load(ref acc, 6 * Lanes) : TV.Zero;
        TV s13 = e13 ? TV.Load(ref acc, 7 * Lanes) : TV.Zero;
        TV s20 = r2 ? TV.Load(ref acc, 8 * Lanes) : TV.Zero;
        TV s21 = e21 ? TV.Load(ref acc, 9 * Lanes) : TV.Zero;
        TV s22 = e22 ? TV.Load(ref acc, 10 * Lanes) : TV.Zero;
        TV s23 = e23 ? TV.Load(ref acc, 11 * Lanes) : TV.Zero;
        TV s30 = r3 ? TV.Load(ref acc, 12 * Lanes) : TV.Zero;
        TV s31 = e31 ? TV.Load(ref acc, 13 * Lanes) : TV.Zero;
        TV s32 = e32 ? TV.Load(ref acc, 14 * Lanes) : TV.Zero;
        TV s33 = e33 ? TV.Load(ref acc, 15 * Lanes) : TV.Zero;

        ref double a1 = ref Unsafe.Add(ref a, aStride);
        ref double a2 = ref Unsafe.Add(ref a1, aStride);
        ref double a3 = ref Unsafe.Add(ref a2, aStride);
        ref double b1 = ref Unsafe.Add(ref b, bStride);
        ref double b2 = ref Unsafe.Add(ref b1, bStride);
        ref double b3 = ref Unsafe.Add(ref b2, bStride);

        nint i = from;
        for (; i <= to - TV.Count; i += TV.Count)
        {
            TV x0 = TV.Load(ref b, i);
            TV x1 = c1 ? TV.Load(ref b1, i) : TV.Zero;
            TV x2 = c2 ? TV.Load(ref b2, i) : TV.Zero;
            TV x3 = c3 ? TV.Load(ref b3, i) : TV.Zero;

            TV w = TV.Load(ref a, i);
            s00 = s00 + w * x0;
            if (e01) s01 = s01 + w * x1;
            if (e02) s02 = s02 + w * x2;
            if (e03) s03 = s03 + w * x3;
            if (r1)
            {
                w = TV.Load(ref a1, i);
                s10 = s10 + w * x0;
                if (e11) s11 = s11 + w * x1;
                if (e12) s12 = s12 + w * x2;
                if (e13) s13 = s13 + w * x3;
            }
            if (r2)
            {
                w = TV.Load(ref a2, i);
                s20 = s20 + w * x0;
                if (e21) s21 = s21 + w * x1;
                if (e22) s22 = s22 + w * x2;
                if (e23) s23 = s23 + w * x3;
            }
            if (r3)
            {
                w = TV.Load(ref a3, i);
                s30 = s30 + w * x0;
                if (e31) s31 = s31 + w * x1;
                if (e32) s32 = s32 + w * x2;
                if (e33) s33 = s33 + w * x3;
            }
        }

        TV.Store(s00, ref acc, 0 * Lanes);
        if (e01) TV.Store(s01, ref acc, 1 * Lanes);
        if (e02) TV.Store(s02, ref acc, 2 * Lanes);
        if (e03) TV.Store(s03, ref acc, 3 * Lanes);
        if (r1) TV.Store(s10, ref acc, 4 * Lanes);
        if (e11) TV.Store(s11, ref acc, 5 * Lanes);
        if (e12) TV.Store(s12, ref acc, 6 * Lanes);
        if (e13) TV.Store(s13, ref acc, 7 * Lanes);
        if (r2) TV.Store(s20, ref acc, 8 * Lanes);
        if (e21) TV.Store(s21, ref acc, 9 * Lanes);
        if (e22) TV.Store(s22, ref acc, 10 * Lanes);
        if (e23) TV.Store(s23, ref acc, 11 * Lanes);
        if (r3) TV.Store(s30, ref acc, 12 * Lanes);
        if (e31) TV.Store(s31, ref acc, 13 * Lanes);
        if (e32) TV.Store(s32, ref acc, 14 * Lanes);
        if (e33) TV.Store(s33, ref acc, 15 * Lanes);
        return i;
    }
}

/// <summary>
/// Residuals r = y − X b of a linear model on one block of feature-major rows (the r_ik of docs/math.md §2 for
/// one component). Rows are processed in chunks of eight vectors held in registers while all d
/// columns stream past, so r is written once instead of being read and written once per feature.
/// Width-independent: r_i = y_i − b_0 x_i0 − b_1 x_i1 − … in that order, each product rounded and then
/// subtracted, on every SIMD width and in the scalar tail.
/// </summary>
internal static class LinearResidual
{
    /// <summary>r[i] = y[i] − Σ_a b[a] x_a[i] for i &lt; count, with x_a at x[a·xStride, a·xStride + count).</summary>
    public static void Compute(ReadOnlySpan<double> x, int xStride, ReadOnlySpan<double> b, ReadOnlySpan<double> y, Span<double> r)
    {
        int d = b.Length, count = r.Length;
        if (count == 0) return;
        if (y.Length < count) throw new ArgumentException("y is shorter than the block", nameof(y));
        if (d > 0 && ((d > 1 && xStride < count) || (long)(d - 1) * xStride + count > x.Length))
            throw new ArgumentException("x too short for its columns", nameof(x));
        ref double xr = ref MemoryMarshal.GetReference(x);
        ref double br = ref MemoryMarshal.GetReference(b);
        ref double yr = ref MemoryMarshal.GetReference(y);
        ref double rr = ref MemoryMarshal.GetReference(r);
        nint done = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => Kernel<Lanes512<double>>(ref xr, xStride, ref br, d, ref yr, ref rr, 0, count),
            SimdWidth.Vector256 => Kernel<Lanes256<double>>(ref xr, xStride, ref br, d, ref yr, ref rr, 0, count),
            _ => Kernel<Lanes128<double>>(ref xr, xStride, ref br, d, ref yr, ref rr, 0, count),
        };
        if (done < count) Kernel<Lanes1<double>>(ref xr, xStride, ref br, d, ref yr, ref rr, done, count);
    }

    /// <summary>
    /// Rows [from, to) in chunks of 8 vectors (8 independent FMA chains hide the latency), then single
    /// vectors. Returns the first row not processed.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static nint Kernel<TV>(ref double x, nint xStride, ref double b, int d, ref double y, ref double r, nint from, nint to)
        where TV : struct, ILanes<TV, double>
    {
        nint w = TV.Count, i = from;
        for (; i <= to - 8 * w; i += 8 * w)
        {
            TV r0 = TV.Load(ref y, i), r1 = TV.Load(ref y, i + w), r2 = TV.Load(ref y, i + 2 * w), r3 = TV.Load(ref y, i + 3 * w);
            TV r4 = TV.Load(ref y, i + 4 * w), r5 = TV.Load(ref y, i + 5 * w), r6 = TV.Load(ref y, i + 6 * w), r7 = TV.Load(ref y, i + 7 * w);
            ref double column = ref x;
            for (int a = 0; a < d; a++, column = ref Unsafe.Add(ref column, xStride))
            {
                TV minusB = TV.Broadcast(-Unsafe.Add(ref b, a));
                r0 = r0 + TV.Load(ref column, i) * minusB;
                r1 = r1 + TV.Load(ref column, i + w) * minusB;
                r2 = r2 + TV.Load(ref column, i + 2 * w) * minusB;
                r3 = r3 + TV.Load(ref column, i + 3 * w) * minusB;
                r4 = r4 + TV.Load(ref column, i + 4 * w) * minusB;
                r5 = r5 + TV.Load(ref column, i + 5 * w) * minusB;
                r6 = r6 + TV.Load(ref column, i + 6 * w) * minusB;
                r7 = r7 + TV.Load(ref column, i + 7 * w) * minusB;
            }
            TV.Store(r0, ref r, i); TV.Store(r1, ref r, i + w); TV.Store(r2, ref r, i + 2 * w); TV.Store(r3, ref r, i + 3 * w);
            TV.Store(r4, ref r, i + 4 * w); TV.Store(r5, ref r, i + 5 * w); TV.Store(r6, ref r, i + 6 * w); TV.Store(r7, ref r, i + 7 * w);
        }
        for (; i <= to - w; i += w)
        {
            TV r0 = TV.Load(ref y, i);
            ref double column = ref x;
            for (int a = 0; a < d; a++, column = ref Unsafe.Add(ref column, xStride))
                r0 = r0 + TV.Load(ref column, i) * TV.Broadcast(-Unsafe.Add(ref b, a));
            TV.Store(r0, ref r, i);
        }
        return i;
    }
}
