using MorIcl.Numerics.Simd;
using System.Numerics.Tensors;
using MorIcl.Construction.Model;
using MorIcl.Mixture;

namespace MorIcl.Training.Constructed;

/// <summary>
/// Scratch memory of one forward/backward pass: the residual stream before every layer (kept for
/// the backward pass), two gradient buffers, and one head's or MLP's intermediates (recomputed in
/// the backward pass from the stored layer input, so memory is O(L·N·D + N²) rather than
/// O(heads·N²)). Grown only when a longer prompt arrives; reused by every layer and prompt.
/// </summary>
internal sealed class PassWorkspace
{
    public int Tokens;
    public double[] Stream = Array.Empty<double>();
    public double[] GradOut = Array.Empty<double>(), GradIn = Array.Empty<double>();
    public double[] Q = Array.Empty<double>(), K = Array.Empty<double>(), V = Array.Empty<double>();
    public double[] Scores = Array.Empty<double>(), Weights = Array.Empty<double>(), GradWeights = Array.Empty<double>();
    public double[] GradQ = Array.Empty<double>(), GradK = Array.Empty<double>(), GradV = Array.Empty<double>();
    public double[] Hidden = Array.Empty<double>(), GradHidden = Array.Empty<double>();
    public double[] X = Array.Empty<double>();
    /// <summary>When set, the forward pass hashes the sign pattern of every ReLU argument into <see cref="Pattern"/>.</summary>
    public bool TrackPattern;
    public ulong Pattern;

    public void Ensure(ConstructedArchitecture arch, int tokens)
    {
        if (tokens <= Tokens) return;
        int D = arch.Dimension, L = arch.Layers.Length, dk = Math.Max(1, arch.MaxHeadDimension), H = Math.Max(1, arch.MaxHidden);
        Tokens = tokens;
        Stream = new double[checked((long)(L + 1) * tokens * D)];
        GradOut = new double[tokens * D]; GradIn = new double[tokens * D];
        Q = new double[tokens * dk]; K = new double[tokens * dk]; V = new double[tokens * D];
        GradQ = new double[tokens * dk]; GradK = new double[tokens * dk]; GradV = new double[tokens * D];
        Scores = new double[tokens * tokens]; Weights = new double[tokens * tokens]; GradWeights = new double[tokens * tokens];
        Hidden = new double[tokens * H]; GradHidden = new double[tokens * H];
        if (X.Length < arch.Template.Embedding.InputDimension) X = new double[arch.Template.Embedding.InputDimension];
    }
}

/// <summary>
/// Forward and hand-written backward pass of the dense constructed architecture on one prompt, in
/// double. Layer semantics are those of <c>ScalarExecutor</c>: ReLU heads h_i += (1/N) Σ_j ReLU(q_i·k_j) v_j
/// over all N tokens, linear heads h_i += (1/N) Σ_j (q_i·k_j) v_j over all N tokens, softmax heads
/// h_i += Σ_j softmax_j(q_i·k_j) v_j (maximum subtracted), every head
/// of a layer reading the layer's input; MLPs h_i += W2 ReLU(W1 h_i + b1) + b2. Scores are summed over
/// head dimensions in order (positional dimensions first), as the construction's exactness needs.
/// ReLU'(0) = 0.
/// </summary>
internal static class ConstructedPass
{
    /// <summary>Embeds the prompt into layer 0 of the stream, runs every layer and returns ŷ (the prediction row of the query token).</summary>
    public static double Forward(ConstructedArchitecture arch, double[] parameters, RegressionData examples, double[] query, PassWorkspace ws)
    {
        var e = arch.Template.Embedding;
        int n = examples.N, N = e.TokenCount(n), D = arch.Dimension;
        ws.Ensure(arch, N);
        ws.Pattern = 14695981039346656037UL;
        var stream = ws.Stream;
        Array.Clear(stream, 0, N * D);
        var x = ws.X;
        for (int i = 0; i < N; i++)
        {
            int role = e.RoleOf(i, n);
            double[]? xi = null;
            double y = 0;
            if (role == TokenRoles.Example)
            {
                for (int a = 0; a < examples.D; a++) x[a] = examples.X(i, a);
                xi = x; y = examples.Y[i];
            }
            else if (role == TokenRoles.Query) xi = query;
            e.WriteToken(stream, i * D, i, n, xi, y);
        }
        var p = parameters;
        for (int l = 0; l < arch.Layers.Length; l++)
        {
            var input = new ReadOnlySpan<double>(stream, l * N * D, N * D);
            var output = new Span<double>(stream, (l + 1) * N * D, N * D);
            input.CopyTo(output);
            switch (arch.Layers[l])
            {
                case AttentionShape a:
                    foreach (var head in a.Heads)
                    {
                        HeadForward(head, p, input, N, D, ws);
                        var w = ws.Weights; var v = ws.V;
                        for (int i = 0; i < N; i++)
                        {
                            var yi = output.Slice(i * D, D);
                            for (int j = 0; j < N; j++)
                            {
                                double aij = w[i * N + j];
                                if (aij != 0) TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(v, j * D, D), aij, yi, yi);
                            }
                        }
                    }
                    break;
                case MlpShape m:
                    for (int i = 0; i < N; i++)
                    {
                        var xi = input.Slice(i * D, D);
                        var r = new Span<double>(ws.Hidden, i * m.Hidden, m.Hidden);
                        MlpHidden(m, p, xi, r, D, ws);
                        var yi = output.Slice(i * D, D);
                        for (int c = 0; c < D; c++)
                        {
                            double o = SimdSpan.Dot(new ReadOnlySpan<double>(p, m.W2Offset + c * m.Hidden, m.Hidden), r) + p[m.B2Offset + c];
                            yi[c] += o;
                        }
                    }
                    break;
            }
        }
        return stream[arch.Layers.Length * N * D + n * D + arch.Template.ReadOut.Prediction];
    }

    /// <summary>
    /// Back-propagates dŷ = <paramref name="seed"/> through the pass last run by <see cref="Forward"/> in
    /// <paramref name="ws"/>. Adds the parameter gradient into <paramref name="gradient"/> (skipped when null);
    /// leaves ∂(seed·ŷ)/∂(embedding) in <c>ws.GradOut</c> (N × D, token-major).
    /// </summary>
    public static void Backward(ConstructedArchitecture arch, double[] parameters, int n, double seed, double[]? gradient, PassWorkspace ws)
    {
        int N = arch.Template.Embedding.TokenCount(n), D = arch.Dimension;
        var p = parameters;
        bool track = ws.TrackPattern;
        ws.TrackPattern = false;
        var gOut = ws.GradOut; var gIn = ws.GradIn;
        Array.Clear(gOut, 0, N * D);
        gOut[n * D + arch.Template.ReadOut.Prediction] = seed;
        for (int l = arch.Layers.Length - 1; l >= 0; l--)
        {
            var input = new ReadOnlySpan<double>(ws.Stream, l * N * D, N * D);
            var dY = new ReadOnlySpan<double>(gOut, 0, N * D);
            var dX = new Span<double>(gIn, 0, N * D);
            dY.CopyTo(dX);
            switch (arch.Layers[l])
            {
                case AttentionShape a:
                    foreach (var head in a.Heads) HeadBackward(head, p, input, dY, dX, N, D, gradient, ws);
                    break;
                case MlpShape m:
                    MlpBackward(m, p, input, dY, dX, N, D, gradient, ws);
                    break;
            }
            (gOut, gIn) = (gIn, gOut);
        }
        ws.GradOut = gOut; ws.GradIn = gIn;
        ws.TrackPattern = track;
    }

    /// <summary>q, k, v for every token, scores s_ij and weights a_ij (ReLU: max(s, 0)/N; linear: s/N; softmax: normalised).</summary>
    private static void HeadForward(HeadShape head, double[] p, ReadOnlySpan<double> input, int N, int D, PassWorkspace ws)
    {
        int dk = head.HeadDimension;
        var q = ws.Q; var k = ws.K; var v = ws.V; var s = ws.Scores; var w = ws.Weights;
        for (int i = 0; i < N; i++)
        {
            var xi = input.Slice(i * D, D);
            for (int a = 0; a < dk; a++)
            {
                q[i * dk + a] = SimdSpan.Dot(new ReadOnlySpan<double>(p, head.QOffset + a * D, D), xi);
                k[i * dk + a] = SimdSpan.Dot(new ReadOnlySpan<double>(p, head.KOffset + a * D, D), xi);
            }
            for (int r = 0; r < D; r++) v[i * D + r] = SimdSpan.Dot(new ReadOnlySpan<double>(p, head.VOffset + r * D, D), xi);
        }
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
            {
                // In order over head dimensions: the positional ones come first and cancel to an exact 0.
                double sij = 0;
                for (int a = 0; a < dk; a++) sij += q[i * dk + a] * k[j * dk + a];
                s[i * N + j] = sij;
            }
        if (head.Activation == Activation.Linear)
        {
            double invN = 1.0 / N;
            for (int t = 0; t < N * N; t++) w[t] = s[t] * invN;
        }
        else if (head.Activation == Activation.Relu)
        {
            double invN = 1.0 / N;
            for (int t = 0; t < N * N; t++)
            {
                double st = s[t];
                w[t] = st > 0 ? st * invN : double.IsNaN(st) ? st : 0;
            }
            if (ws.TrackPattern)
                for (int t = 0; t < N * N; t++) ws.Pattern = (ws.Pattern ^ (s[t] > 0 ? 1UL : 0UL)) * 1099511628211UL;
        }
        else
        {
            for (int i = 0; i < N; i++)
            {
                var row = new Span<double>(s, i * N, N);
                var wr = new Span<double>(w, i * N, N);
                double max = double.NegativeInfinity;
                for (int j = 0; j < N; j++) max = Math.Max(max, row[j]);
                double sum = 0;
                for (int j = 0; j < N; j++) { wr[j] = SimdSpan.Exp(row[j] - max); sum += wr[j]; }   // the executor's exp (LaneMath)
                for (int j = 0; j < N; j++) wr[j] /= sum;
            }
        }
    }

    private static void HeadBackward(HeadShape head, double[] p, ReadOnlySpan<double> input, ReadOnlySpan<double> dY, Span<double> dX, int N, int D, double[]? gradient, PassWorkspace ws)
    {
        // A head whose output gradient is zero contributes nothing (common in the last layers, where only the query token matters).
        if (TensorPrimitives.MaxMagnitude(dY) == 0) return;
        HeadForward(head, p, input, N, D, ws);
        int dk = head.HeadDimension;
        var q = ws.Q; var k = ws.K; var v = ws.V; var s = ws.Scores; var w = ws.Weights; var dw = ws.GradWeights;
        var dq = ws.GradQ; var dkk = ws.GradK; var dv = ws.GradV;
        // dA_ij = ⟨dY_i, v_j⟩; dV_j = Σ_i a_ij dY_i.
        bool linear = head.Activation == Activation.Linear;
        Array.Clear(dv, 0, N * D);
        for (int i = 0; i < N; i++)
        {
            var dyi = dY.Slice(i * D, D);
            bool zero = TensorPrimitives.MaxMagnitude(dyi) == 0;
            for (int j = 0; j < N; j++)
            {
                // Where a_ij = 0 the score gradient is 0 whatever dA_ij is (ReLU: s_ij ≤ 0; softmax: ds_ij = a_ij(…),
                // and a_ij·dA_ij adds nothing to the row's Σ a dA), so dA_ij is only computed where a_ij ≠ 0.
                // Linear heads are the exception: a_ij = s_ij/N = 0 still has ds_ij = dA_ij/N.
                double aij = w[i * N + j];
                if (zero || (aij == 0 && !linear)) { dw[i * N + j] = 0; continue; }
                dw[i * N + j] = SimdSpan.Dot(dyi, new ReadOnlySpan<double>(v, j * D, D));
                var dvj = new Span<double>(dv, j * D, D);
                TensorPrimitives.MultiplyAdd(dyi, aij, dvj, dvj);
            }
        }
        // dS from dA: linear: 1/N; ReLU: (s > 0)/N; softmax: a_ij (dA_ij − Σ_j' a_ij' dA_ij').
        var ds = dw;
        if (linear)
        {
            double invN = 1.0 / N;
            for (int t = 0; t < N * N; t++) ds[t] = dw[t] * invN;
        }
        else if (head.Activation == Activation.Relu)
        {
            double invN = 1.0 / N;
            for (int t = 0; t < N * N; t++) ds[t] = s[t] > 0 ? dw[t] * invN : 0;
        }
        else
        {
            for (int i = 0; i < N; i++)
            {
                var wr = new ReadOnlySpan<double>(w, i * N, N);
                var dr = new Span<double>(dw, i * N, N);
                double dot = SimdSpan.Dot(wr, dr);
                for (int j = 0; j < N; j++) dr[j] = wr[j] * (dr[j] - dot);
            }
        }
        // dq_i = Σ_j ds_ij k_j; dk_j = Σ_i ds_ij q_i.
        Array.Clear(dq, 0, N * dk); Array.Clear(dkk, 0, N * dk);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
            {
                double g = ds[i * N + j];
                if (g == 0) continue;
                for (int a = 0; a < dk; a++)
                {
                    dq[i * dk + a] += g * k[j * dk + a];
                    dkk[j * dk + a] += g * q[i * dk + a];
                }
            }
        // Parameter gradients (outer products with the layer input) and the input gradient.
        for (int i = 0; i < N; i++)
        {
            var xi = input.Slice(i * D, D);
            var dxi = dX.Slice(i * D, D);
            for (int a = 0; a < dk; a++)
            {
                double gq = dq[i * dk + a], gk = dkk[i * dk + a];
                if (gq != 0)
                {
                    if (gradient is not null) { var row = new Span<double>(gradient, head.QOffset + a * D, D); TensorPrimitives.MultiplyAdd(xi, gq, row, row); }
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(p, head.QOffset + a * D, D), gq, dxi, dxi);
                }
                if (gk != 0)
                {
                    if (gradient is not null) { var row = new Span<double>(gradient, head.KOffset + a * D, D); TensorPrimitives.MultiplyAdd(xi, gk, row, row); }
                    TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(p, head.KOffset + a * D, D), gk, dxi, dxi);
                }
            }
            for (int r = 0; r < D; r++)
            {
                double gv = dv[i * D + r];
                if (gv == 0) continue;
                if (gradient is not null) { var row = new Span<double>(gradient, head.VOffset + r * D, D); TensorPrimitives.MultiplyAdd(xi, gv, row, row); }
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(p, head.VOffset + r * D, D), gv, dxi, dxi);
            }
        }
    }

    /// <summary>r = ReLU(W1 x + b1) (the pre-activation's sign is hashed when tracking).</summary>
    private static void MlpHidden(MlpShape m, double[] p, ReadOnlySpan<double> x, Span<double> r, int D, PassWorkspace ws)
    {
        for (int u = 0; u < m.Hidden; u++)
        {
            double z = SimdSpan.Dot(new ReadOnlySpan<double>(p, m.W1Offset + u * D, D), x) + p[m.B1Offset + u];
            r[u] = z > 0 ? z : double.IsNaN(z) ? z : 0;
            if (ws.TrackPattern) ws.Pattern = (ws.Pattern ^ (z > 0 ? 1UL : 0UL)) * 1099511628211UL;
        }
    }

    private static void MlpBackward(MlpShape m, double[] p, ReadOnlySpan<double> input, ReadOnlySpan<double> dY, Span<double> dX, int N, int D, double[]? gradient, PassWorkspace ws)
    {
        int H = m.Hidden;
        for (int i = 0; i < N; i++)
        {
            var dyi = dY.Slice(i * D, D);
            if (TensorPrimitives.MaxMagnitude(dyi) == 0) continue;
            var xi = input.Slice(i * D, D);
            var r = new Span<double>(ws.Hidden, 0, H);
            var dr = new Span<double>(ws.GradHidden, 0, H);
            MlpHidden(m, p, xi, r, D, ws);
            dr.Clear();
            for (int c = 0; c < D; c++)
            {
                double g = dyi[c];
                if (g == 0) continue;
                if (gradient is not null)
                {
                    gradient[m.B2Offset + c] += g;
                    var row = new Span<double>(gradient, m.W2Offset + c * H, H);
                    TensorPrimitives.MultiplyAdd(r, g, row, row);
                }
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(p, m.W2Offset + c * H, H), g, dr, dr);
            }
            var dxi = dX.Slice(i * D, D);
            for (int u = 0; u < H; u++)
            {
                double dz = r[u] > 0 ? dr[u] : 0;
                if (dz == 0) continue;
                if (gradient is not null)
                {
                    gradient[m.B1Offset + u] += dz;
                    var row = new Span<double>(gradient, m.W1Offset + u * D, D);
                    TensorPrimitives.MultiplyAdd(xi, dz, row, row);
                }
                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<double>(p, m.W1Offset + u * D, D), dz, dxi, dxi);
            }
        }
    }
}
