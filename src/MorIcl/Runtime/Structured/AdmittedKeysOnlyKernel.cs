using System.Numerics;
using System.Numerics.Tensors;
using MorIcl.Numerics.Simd;
using MorIcl.Construction.Model;

namespace MorIcl.Runtime.Structured;

/// <summary>
/// <see cref="HeadPattern.AdmittedKeysOnly"/> (docs/math.md §9). For each query i only its admitted keys are
/// formed — itself (Self) and the admitted single-token roles — as the dense kernel forms them: the exact
/// positional part P(i, j) from the block's <see cref="PositionalForm"/>, then the content dimensions by
/// products then sums (unfused), in order. Every other block is bounded by <see cref="ScoreBound"/> from its
/// positional maximum and the O(N) maxima of |q_a| over the block's queries and |k_a| over its keys.
/// ReLU: when every bound is ≤ 0, no unformed score is positive, so (1/N)·Σ over the formed positive
/// scores of s·v_j (ascending j, as the dense sparse sum) is the head's output; margin = −max bound.
/// Softmax: when every bound lies below the row's best formed score m_i, the row maximum is m_i and the
/// unformed keys carry weight ≤ Σ_b |b|·e^{U_b − m_i} / Σ_formed, reported as the leakage; margin =
/// m_i − max_b U_b. When the bound does not prove the head's domain (margin &lt; 0, leakage above the
/// tolerance, NaN, or a prompt past the positional scheme) nothing is written and the caller runs the
/// head densely, so the certificate is then the dense one. O(N·(d_k + d_v)) per formed key.
/// </summary>
internal static class AdmittedKeysOnlyKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>What the kernel needs besides the plan: the content rows of Q and K, and the formed key roles per query role.</summary>
    internal sealed class Compiled
    {
        public required CompiledModel<T>.SparseRows QContent, KContent;
        /// <summary>Per query role, its formed key roles (ascending, so keys come in ascending token order).</summary>
        public required int[][] Formed;
        public required int PositionBase, Digits;
    }

    public static Compiled Compile(HeadPlan plan, CompiledModel<T>.Head head, EmbeddingRows rows)
    {
        int R = plan.Roles;
        return new Compiled
        {
            QContent = Rows(head.QRows, plan.PositionalDims), KContent = Rows(head.KRows, plan.PositionalDims),
            Formed = Enumerable.Range(0, R).Select(qr => Enumerable.Range(0, R).Where(kr => plan.Blocks![qr * R + kr] != BlockTreatment.Bounded).ToArray()).ToArray(),
            PositionBase = rows.PositionBase, Digits = rows.Digits,
        };
    }

    /// <summary>Rows [from, Rows) of a sparse matrix.</summary>
    private static CompiledModel<T>.SparseRows Rows(CompiledModel<T>.SparseRows m, int from)
    {
        int e0 = m.Start[from];
        return new CompiledModel<T>.SparseRows
        {
            Start = m.Start.Skip(from).Select(e => e - e0).ToArray(),
            Cols = m.Cols[e0..], Values = m.Values[e0..],
        };
    }

    /// <summary>False (nothing written) when the bound does not prove the head's domain on this prompt.</summary>
    public static bool Run(CompiledModel<T>.Head head, HeadPlan plan, Compiled c, in HeadStream<T> s, long maxPosition, out double margin, out double leak)
    {
        margin = double.PositiveInfinity; leak = 0;
        if (s.Examples > maxPosition) return false;             // positions wrap: distinct tokens may share one
        int R = plan.Roles, ld = s.Ld, dc = head.Dk - plan.PositionalDims, dk = head.Dk;
        var sc = s.Scratch;
        ModelExecutor<T>.Project(c.QContent, s.H, ld, s.QT);
        ModelExecutor<T>.Project(c.KContent, s.H, ld, s.KT);
        if (head.OutRows.Length > 0) ModelExecutor<T>.Project(head.VRows, s.H, ld, s.VT);
        for (int r = 0; r < R; r++)
        {
            var (start, count) = s.Range(r);
            for (int a = 0; a < dc; a++)
            {
                sc.MaxQ[r * dk + a] = FixedOrder<T>.MaxAbs(s.QT.AsSpan(a * ld + start, count));
                sc.MaxK[r * dk + a] = FixedOrder<T>.MaxAbs(s.KT.AsSpan(a * ld + start, count));
            }
        }
        Span<double> bound = stackalloc double[R * R];
        Span<long> pairs = stackalloc long[R * R];
        double worst = Bounds(plan, s, dc, dk, bound, pairs);
        bool softmax = head.Activation == Activation.Softmax;
        if (!softmax && !(worst <= 0)) return false;            // some unformed score may be positive (or NaN)
        for (int qr = 0; qr < R; qr++)
        {
            var (start, count) = s.Range(qr);
            if (count == 0) continue;
            foreach (int kr in c.Formed[qr]) FormScores(plan, c, s, qr, kr, Slot(c, qr, kr), start, count, dc);
        }
        if (!softmax)
        {
            margin = worst == double.NegativeInfinity ? double.PositiveInfinity : -worst;
            for (int qr = 0; qr < R; qr++) ReluOutputs(head, c, s, qr);
            return true;
        }
        for (int qr = 0; qr < R; qr++)
        {
            var (m, l) = SoftmaxWeights(plan, c, s, qr, bound, pairs);
            margin = Math.Min(margin, m); leak = Math.Max(leak, l);
        }
        if (!(margin >= 0) || !(leak <= Certificate.LeakageTolerance)) return false;
        for (int qr = 0; qr < R; qr++) SoftmaxOutputs(head, c, s, qr);
        return true;
    }

    /// <summary>U_b and the number of unformed pairs per query for every block; returns max_b U_b (−∞ when none).</summary>
    private static double Bounds(HeadPlan plan, in HeadStream<T> s, int dc, int dk, Span<double> bound, Span<long> pairs)
    {
        int R = plan.Roles;
        bool single = typeof(T) == typeof(float);
        double worst = double.NegativeInfinity;
        for (int qr = 0; qr < R; qr++)
            for (int kr = 0; kr < R; kr++)
            {
                int b = qr * R + kr;
                long keys = s.Range(kr).Count;
                pairs[b] = s.Range(qr).Count == 0 ? 0 : plan.Blocks![b] switch
                {
                    BlockTreatment.Bounded => keys,
                    BlockTreatment.SelfFormedRestBounded => keys - 1,
                    _ => 0,
                };
                bound[b] = double.NegativeInfinity;
                if (pairs[b] <= 0) continue;
                bound[b] = ScoreBound.Upper(plan.Forms![b].Max(plan.DistinctPositions![b]),
                    s.Scratch.MaxQ.AsSpan(qr * dk, dc), s.Scratch.MaxK.AsSpan(kr * dk, dc), single);
                worst = double.IsNaN(bound[b]) ? double.NaN : Math.Max(worst, bound[b]);
            }
        return worst;
    }

    private static int Slot(Compiled c, int qr, int kr) => Array.IndexOf(c.Formed[qr], kr);

    /// <summary>Token of the key of block (qr, kr) for query i: itself within its own role, else the role's single token.</summary>
    private static int Key(in HeadStream<T> s, int qr, int kr, int i) => kr == qr ? i : s.Range(kr).Start;

    /// <summary>Scores of the formed block (qr, kr) for the queries [start, start + count) into slot row <paramref name="slot"/>.</summary>
    private static void FormScores(HeadPlan plan, Compiled c, in HeadStream<T> s, int qr, int kr, int slot, int start, int count, int dc)
    {
        int ld = s.Ld, R = plan.Roles;
        var score = s.Scratch.Scores.AsSpan(slot * ld + start, count);
        var form = plan.Forms![qr * R + kr];
        bool self = kr == qr;
        int key = Key(s, qr, kr, start);
        int a = 0;
        if (plan.PositionalDims == 0)
        {
            // No positional part: the first dimension is a plain product, as in the dense kernel.
            if (dc == 0) { score.Clear(); return; }
            if (self) TensorPrimitives.Multiply(s.QT.AsSpan(start, count), s.KT.AsSpan(start, count), score);
            else TensorPrimitives.Multiply(s.QT.AsSpan(start, count), s.KT[key], score);
            a = 1;
        }
        else if (self || form.Kind == PositionalFormKind.Constant) score.Fill(T.CreateChecked(form.Constant));
        else
            // Positioned tokens: example i has position i, the query position n — their token indices.
            for (int i = 0; i < count; i++) score[i] = T.CreateChecked(form.At(start + i, key, c.PositionBase, c.Digits));
        for (; a < dc; a++)
        {
            var q = s.QT.AsSpan(a * ld + start, count);
            if (self) TensorPrimitives.MultiplyAdd(q, s.KT.AsSpan(a * ld + start, count), score, score);
            else TensorPrimitives.MultiplyAdd(q, s.KT[a * ld + key], score, score);
        }
    }

    /// <summary>delta_i += (1/N)·Σ over formed keys with s &gt; 0 (or NaN), ascending, of s·v_j; nothing when none is positive.</summary>
    private static void ReluOutputs(CompiledModel<T>.Head head, Compiled c, in HeadStream<T> s, int qr)
    {
        var (start, count) = s.Range(qr);
        var formed = c.Formed[qr];
        int ld = s.Ld, dv = head.OutRows.Length;
        if (count == 0 || formed.Length == 0 || dv == 0) return;
        T invN = T.One / T.CreateChecked(s.N);
        var scores = s.Scratch.Scores;
        for (int i = start; i < start + count; i++)
        {
            bool any = false;
            for (int t = 0; t < formed.Length; t++) any |= !(scores[t * ld + i] <= T.Zero);
            if (!any) continue;
            for (int v = 0; v < dv; v++)
            {
                T acc = T.Zero;
                for (int t = 0; t < formed.Length; t++)
                {
                    T x = scores[t * ld + i];
                    if (!(x <= T.Zero)) acc += x * s.VT[v * ld + Key(s, qr, formed[t], i)];
                }
                s.Delta[head.OutRows[v] * ld + i] += acc * invN;
            }
        }
    }

    /// <summary>
    /// Softmax weights of the formed keys in place (e^{s − m_i}), their sum per token; returns the role's
    /// (margin, leakage bound). A row with no formed key has margin −∞ and leakage 1 (as the dense kernel says).
    /// </summary>
    private static (double Margin, double Leak) SoftmaxWeights(HeadPlan plan, Compiled c, in HeadStream<T> s, int qr, ReadOnlySpan<double> bound, ReadOnlySpan<long> pairs)
    {
        var (start, count) = s.Range(qr);
        if (count == 0) return (double.PositiveInfinity, 0);
        var formed = c.Formed[qr];
        if (formed.Length == 0) return (double.NegativeInfinity, 1);
        int ld = s.Ld, R = plan.Roles;
        double top = double.NegativeInfinity;
        for (int kr = 0; kr < R; kr++) top = double.IsNaN(bound[qr * R + kr]) ? double.NaN : Math.Max(top, bound[qr * R + kr]);
        var scores = s.Scratch.Scores; var sums = s.Scratch.Sum;
        double margin = double.PositiveInfinity, leak = 0;
        for (int i = start; i < start + count; i++)
        {
            T max = T.NegativeInfinity;
            for (int t = 0; t < formed.Length; t++) max = T.Max(max, scores[t * ld + i]);
            T sum = T.Zero;
            for (int t = 0; t < formed.Length; t++)
            {
                T w = SimdSpan.Exp(scores[t * ld + i] - max);
                scores[t * ld + i] = w;
                sum += w;
            }
            sums[i] = sum;
            double m = double.CreateChecked(max);
            margin = Math.Min(margin, top == double.NegativeInfinity ? double.PositiveInfinity : m - top);
            double unformed = 0;
            for (int kr = 0; kr < R; kr++)
                if (pairs[qr * R + kr] > 0) unformed += pairs[qr * R + kr] * Math.Exp(bound[qr * R + kr] - m);
            // The exp of the bound and the division round: one part in 2^50 more covers them.
            leak = Math.Max(leak, unformed / double.CreateChecked(sum) * (1 + Math.ScaleB(1, -50)));
        }
        return (margin, leak);
    }

    /// <summary>delta_i += Σ_formed w_j v_j / Σ_formed w_j.</summary>
    private static void SoftmaxOutputs(CompiledModel<T>.Head head, Compiled c, in HeadStream<T> s, int qr)
    {
        var (start, count) = s.Range(qr);
        var formed = c.Formed[qr];
        int ld = s.Ld, dv = head.OutRows.Length;
        if (count == 0 || formed.Length == 0) return;
        var w = s.Scratch.Scores; var sums = s.Scratch.Sum;
        for (int i = start; i < start + count; i++)
            for (int v = 0; v < dv; v++)
            {
                T acc = T.Zero;
                for (int t = 0; t < formed.Length; t++) acc += w[t * ld + i] * s.VT[v * ld + Key(s, qr, formed[t], i)];
                s.Delta[head.OutRows[v] * ld + i] += acc / sums[i];
            }
    }
}
