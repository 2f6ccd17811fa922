using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using MorIcl.Numerics.Simd;

namespace MorIcl.Training.Gpt;

/// <summary>
/// The GPT encoder's element-wise and row-wise layers with their backward passes: LayerNorm
/// (ε = 1e-5, biased variance, two-pass), row softmax (max subtracted), GELU in its tanh approximation
/// gelu(u) = ½u(1 + tanh(√(2/π)(u + 0.044715u³))), bias rows, column sums and small transposes. All
/// run on spans and allocate nothing: element-wise TensorPrimitives calls, and for sums, dot products, maxima,
/// exp and tanh <see cref="SimdSpan"/> and <see cref="LaneMath{TL, T}"/>, so every result is the same on every SIMD width.
/// </summary>
internal static class GptRowOps<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static readonly T Epsilon = T.CreateTruncating(1e-5);
    private static readonly T GeluC = T.CreateTruncating(Math.Sqrt(2 / Math.PI));
    private static readonly T GeluA = T.CreateTruncating(0.044715);
    private static readonly T Half = T.CreateTruncating(0.5);

    /// <summary>
    /// LayerNorm of each of the <paramref name="rows"/> rows of x (width D): xhat = (x − mean)·rstd,
    /// rstd = 1/√(var + ε), out = γ ⊙ xhat + β. Stores xhat and rstd for the backward pass.
    /// </summary>
    public static void LayerNormForward(ReadOnlySpan<T> x, int rows, int width, ReadOnlySpan<T> gamma, ReadOnlySpan<T> beta,
        Span<T> xhat, Span<T> rstd, Span<T> output)
    {
        T invW = T.One / T.CreateTruncating(width);
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * width, width);
            var hr = xhat.Slice(r * width, width);
            T mean = SimdSpan.Sum<T>(xr) * invW;
            TensorPrimitives.Subtract(xr, mean, hr);
            T variance = SimdSpan.Dot<T>(hr, hr) * invW;
            T s = T.One / T.Sqrt(variance + Epsilon);
            rstd[r] = s;
            TensorPrimitives.Multiply(hr, s, hr);
            TensorPrimitives.MultiplyAdd(hr, gamma, beta, output.Slice(r * width, width));
        }
    }

    /// <summary>
    /// Backward of LayerNorm for the rows [0, rows): given dout, accumulates dγ += Σ dout ⊙ xhat,
    /// dβ += Σ dout and dx += rstd·(g − mean(g) − xhat·mean(g ⊙ xhat)) with g = γ ⊙ dout.
    /// <paramref name="scratch"/> has at least D elements.
    /// </summary>
    public static void LayerNormBackward(ReadOnlySpan<T> dout, ReadOnlySpan<T> xhat, ReadOnlySpan<T> rstd, int rows, int width,
        ReadOnlySpan<T> gamma, Span<T> dGamma, Span<T> dBeta, Span<T> dx, Span<T> scratch)
    {
        T invW = T.One / T.CreateTruncating(width);
        var g = scratch.Slice(0, width);
        for (int r = 0; r < rows; r++)
        {
            var dr = dout.Slice(r * width, width);
            var hr = xhat.Slice(r * width, width);
            TensorPrimitives.MultiplyAdd(dr, hr, dGamma, dGamma);
            TensorPrimitives.Add(dr, dBeta, dBeta);
            TensorPrimitives.Multiply(dr, gamma, g);
            T m1 = SimdSpan.Sum<T>(g) * invW;
            T m2 = SimdSpan.Dot<T>(g, hr) * invW;
            TensorPrimitives.Subtract(g, m1, g);
            TensorPrimitives.MultiplyAdd(hr, -m2, g, g);
            var xr = dx.Slice(r * width, width);
            TensorPrimitives.MultiplyAdd(g, rstd[r], xr, xr);
        }
    }

    /// <summary>Row softmax of s·scale for each of the rows (width = cols), in place.</summary>
    public static void SoftmaxRows(Span<T> s, int rows, int cols, T scale)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = s.Slice(r * cols, cols);
            TensorPrimitives.Multiply(row, scale, row);
            T max = SimdSpan.Max<T>(row);
            TensorPrimitives.Subtract(row, max, row);
            SimdSpan.Exp<T>(row, row);
            T sum = SimdSpan.Sum<T>(row);
            TensorPrimitives.Multiply(row, T.One / sum, row);
        }
    }

    /// <summary>
    /// Backward of a scaled row softmax: on entry dS holds dL/dP, on exit dL/dS_raw =
    /// scale · P ⊙ (dP − ⟨P_row, dP_row⟩).
    /// </summary>
    public static void SoftmaxBackwardRows(ReadOnlySpan<T> p, Span<T> dS, int rows, int cols, T scale)
    {
        for (int r = 0; r < rows; r++)
        {
            var pr = p.Slice(r * cols, cols);
            var dr = dS.Slice(r * cols, cols);
            T dot = SimdSpan.Dot<T>(pr, dr);
            TensorPrimitives.Subtract(dr, dot, dr);
            TensorPrimitives.Multiply(dr, pr, dr);
            TensorPrimitives.Multiply(dr, scale, dr);
        }
    }

    /// <summary>t = tanh(√(2/π)(u + 0.044715u³)) and g = ½u(1 + t) = ½u·t + ½u, element-wise over the spans.</summary>
    public static void GeluForward(ReadOnlySpan<T> u, Span<T> t, Span<T> g)
    {
        if (t.Length < u.Length || g.Length < u.Length) throw new ArgumentException("GELU spans differ in length");
        ref T ur = ref MemoryMarshal.GetReference(u); ref T tr = ref MemoryMarshal.GetReference(t); ref T gr = ref MemoryMarshal.GetReference(g);
        nint i = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => GeluForward<Lanes512<T>>(ref ur, ref tr, ref gr, 0, u.Length),
            SimdWidth.Vector256 => GeluForward<Lanes256<T>>(ref ur, ref tr, ref gr, 0, u.Length),
            _ => GeluForward<Lanes128<T>>(ref ur, ref tr, ref gr, 0, u.Length),
        };
        GeluForward<Lanes1<T>>(ref ur, ref tr, ref gr, i, u.Length);
    }

    private static nint GeluForward<TL>(ref T u, ref T t, ref T g, nint i, nint n) where TL : struct, ILanes<TL, T>
    {
        TL c = TL.Broadcast(GeluC), a = TL.Broadcast(GeluA), h = TL.Broadcast(Half);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var v = TL.Load(ref u, i);
            var th = LaneMath<TL, T>.Tanh(c * (v + a * v * v * v));
            TL.Store(th, ref t, i);
            var hv = h * v;
            TL.Store(hv * th + hv, ref g, i);
        }
        return i;
    }

    /// <summary>
    /// In place: dg ← dg · gelu'(u), gelu'(u) = ½(1 + t) + ½u(1 − t²)·√(2/π)(1 + 3·0.044715u²).
    /// </summary>
    public static void GeluBackward(ReadOnlySpan<T> u, ReadOnlySpan<T> t, Span<T> dg)
    {
        if (t.Length < u.Length || dg.Length < u.Length) throw new ArgumentException("GELU spans differ in length");
        ref T ur = ref MemoryMarshal.GetReference(u); ref T tr = ref MemoryMarshal.GetReference(t); ref T dr = ref MemoryMarshal.GetReference(dg);
        nint i = SimdSpan.Width switch
        {
            SimdWidth.Vector512 => GeluBackward<Lanes512<T>>(ref ur, ref tr, ref dr, 0, u.Length),
            SimdWidth.Vector256 => GeluBackward<Lanes256<T>>(ref ur, ref tr, ref dr, 0, u.Length),
            _ => GeluBackward<Lanes128<T>>(ref ur, ref tr, ref dr, 0, u.Length),
        };
        GeluBackward<Lanes1<T>>(ref ur, ref tr, ref dr, i, u.Length);
    }

    private static nint GeluBackward<TL>(ref T u, ref T t, ref T dg, nint i, nint n) where TL : struct, ILanes<TL, T>
    {
        TL c = TL.Broadcast(GeluC), a = TL.Broadcast(T.CreateTruncating(3) * GeluA), h = TL.Broadcast(Half), one = TL.Broadcast(T.One);
        for (; i <= n - TL.Count; i += TL.Count)
        {
            var v = TL.Load(ref u, i);
            var th = TL.Load(ref t, i);
            var deriv = h * (one + th) + h * v * (one - th * th) * c * (one + a * v * v);
            TL.Store(TL.Load(ref dg, i) * deriv, ref dg, i);
        }
        return i;
    }

    /// <summary>Each of the rows (stride ld) from column 0 set to <paramref name="bias"/>.</summary>
    public static void FillRows(Span<T> x, int rows, int ld, ReadOnlySpan<T> bias)
    {
        for (int r = 0; r < rows; r++) bias.CopyTo(x.Slice(r * ld, bias.Length));
    }

    /// <summary>Adds <paramref name="bias"/> to each of the rows (stride ld).</summary>
    public static void AddRows(Span<T> x, int rows, int ld, ReadOnlySpan<T> bias)
    {
        for (int r = 0; r < rows; r++) { var xr = x.Slice(r * ld, bias.Length); TensorPrimitives.Add(xr, bias, xr); }
    }

    /// <summary>sum += Σ_r x[r·ld + offset .. + sum.Length).</summary>
    public static void AddColumnSums(ReadOnlySpan<T> x, int rows, int ld, int offset, Span<T> sum)
    {
        for (int r = 0; r < rows; r++) TensorPrimitives.Add(x.Slice(r * ld + offset, sum.Length), sum, sum);
    }

    /// <summary>dst (cols × rows, row-major) = srcᵀ for the rows × cols block of src with stride ld.</summary>
    public static void Transpose(ReadOnlySpan<T> src, int rows, int cols, int ld, Span<T> dst)
    {
        for (int r = 0; r < rows; r++)
        {
            var sr = src.Slice(r * ld, cols);
            for (int c = 0; c < cols; c++) dst[c * rows + r] = sr[c];
        }
    }
}
