using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MorIcl.Training.Gpt;

/// <summary>
/// The GPT encoder's element-wise and row-wise layers with their backward passes: LayerNorm
/// (ε = 1e-5, biased variance, two-pass), row softmax (max subtracted), GELU in its tanh approximation
/// gelu(u) = ½u(1 + tanh(√(2/π)(u + 0.044715u³))), bias rows, column sums and small transposes. All
/// run on spans through TensorPrimitives or Vector512 loops and allocate nothing.
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
            T mean = TensorPrimitives.Sum(xr) * invW;
            TensorPrimitives.Subtract(xr, mean, hr);
            T variance = TensorPrimitives.Dot(hr, hr) * invW;
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
            T m1 = TensorPrimitives.Sum(g) * invW;
            T m2 = TensorPrimitives.Dot(g, hr) * invW;
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
            T max = TensorPrimitives.Max(row);
            TensorPrimitives.Subtract(row, max, row);
            TensorPrimitives.Exp(row, row);
            T sum = TensorPrimitives.Sum(row);
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
            T dot = TensorPrimitives.Dot(pr, dr);
            TensorPrimitives.Subtract(dr, dot, dr);
            TensorPrimitives.Multiply(dr, pr, dr);
            TensorPrimitives.Multiply(dr, scale, dr);
        }
    }

    /// <summary>t = tanh(√(2/π)(u + 0.044715u³)) and g = ½u(1 + t), element-wise over the spans.</summary>
    public static void GeluForward(ReadOnlySpan<T> u, Span<T> t, Span<T> g)
    {
        int n = u.Length, i = 0;
        ref T ur = ref MemoryMarshal.GetReference(u); ref T tr = ref MemoryMarshal.GetReference(t);
        if (t.Length < n || g.Length < n) throw new ArgumentException("GELU spans differ in length");
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var c = Vector512.Create(GeluC); var a = Vector512.Create(GeluA);
            for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
            {
                var v = Vector512.LoadUnsafe(ref ur, (nuint)i);
                (c * (v + a * v * v * v)).StoreUnsafe(ref tr, (nuint)i);
            }
        }
        for (; i < n; i++) { T v = Unsafe.Add(ref ur, i); Unsafe.Add(ref tr, i) = GeluC * (v + GeluA * v * v * v); }
        TensorPrimitives.Tanh(t.Slice(0, n), t.Slice(0, n));
        // g = ½u(1 + t) = ½u + ½u·t
        TensorPrimitives.Multiply(u, Half, g.Slice(0, n));
        TensorPrimitives.MultiplyAdd(g.Slice(0, n), t.Slice(0, n), g.Slice(0, n), g.Slice(0, n));
    }

    /// <summary>
    /// In place: dg ← dg · gelu'(u), gelu'(u) = ½(1 + t) + ½u(1 − t²)·√(2/π)(1 + 3·0.044715u²).
    /// </summary>
    public static void GeluBackward(ReadOnlySpan<T> u, ReadOnlySpan<T> t, Span<T> dg)
    {
        int n = u.Length, i = 0;
        if (t.Length < n || dg.Length < n) throw new ArgumentException("GELU spans differ in length");
        ref T ur = ref MemoryMarshal.GetReference(u); ref T tr = ref MemoryMarshal.GetReference(t); ref T dr = ref MemoryMarshal.GetReference(dg);
        T a3 = T.CreateTruncating(3) * GeluA;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported)
        {
            var c = Vector512.Create(GeluC); var a = Vector512.Create(a3); var h = Vector512.Create(Half); var one = Vector512<T>.One;
            for (; i + Vector512<T>.Count <= n; i += Vector512<T>.Count)
            {
                var v = Vector512.LoadUnsafe(ref ur, (nuint)i);
                var th = Vector512.LoadUnsafe(ref tr, (nuint)i);
                var deriv = h * (one + th) + h * v * (one - th * th) * c * (one + a * v * v);
                (Vector512.LoadUnsafe(ref dr, (nuint)i) * deriv).StoreUnsafe(ref dr, (nuint)i);
            }
        }
        for (; i < n; i++)
        {
            T v = Unsafe.Add(ref ur, i), th = Unsafe.Add(ref tr, i);
            T deriv = Half * (T.One + th) + Half * v * (T.One - th * th) * GeluC * (T.One + a3 * v * v);
            Unsafe.Add(ref dr, i) *= deriv;
        }
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
